"""The "store floor" references of bench/ingest.py: the very rows ingest stores, written the way ingest writes.

The rows come from `to_row` (prepared beforehand, one batch at a time, NOT timed). Every variant gets the
same batches in lock step and is timed on its own (CPU seconds of its writes and commits only):

- "store floor": `writer.write_batch` into a full store (search index, day_counts, incident_count and
  the record support kept per batch by `upkeep.insert_batch`), ingest's batch size and commit size, under
  ingest's connection settings (`writer.tuned`): what writing the store costs at the least;
- the floor broken down: the same rows into the `incidents` table alone (its primary key, no secondary
  index, no trigger, no search index, no record support), + the secondary indexes, + the batch upkeep
  (`upkeep.insert_batch`: search index, day_counts, incident_count), the full floor adding the record
  support (incident_records and its two indexes);
- "same rows, per-row triggers" (the earlier reference): executemany with every trigger per row.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

INDEXES = (
    "incidents_day_category_filters",
    "incidents_run",
    "incidents_category_day",
    "incidents_sector_day",
    "incidents_feed_day",
    "incidents_severity_day",
    "incidents_target_day",
)
FULL = "store floor: + record support (write_batch)"
TRIGGERS = ("incidents_target_ai", "day_counts_ai", "incident_count_ai")


def batches(path: Path, run_id: int, size: int, limit: int | None = None) -> Iterator[list[tuple]]:
    """The rows ingest_file would store from the CSV at `path` (RECORD_COLUMNS order), `size` at a time."""
    from zoneinfo import ZoneInfo

    from incidents import store
    from incidents.ingest.records import BadRecord, Plan, latest_allowed, to_row

    zone = ZoneInfo(store.DEFAULT_ZONE)
    latest = latest_allowed()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        plan = Plan.for_names(header)
        rows: list[tuple] = []
        for n, r in enumerate(reader):
            if limit is not None and n >= limit:
                break
            try:
                rows.append(
                    to_row(
                        dict(zip(header, r)),
                        plan,
                        naive_zone=zone,
                        zone=zone,
                        default_feed=path.stem,
                        run_id=run_id,
                        latest=latest,
                    )
                )
            except BadRecord:
                continue
            if len(rows) >= size:
                yield rows
                rows = []
        if rows:
            yield rows


class Variant:
    """One store written batch by batch with `write(conn, rows)`; `cpu` sums its timed work."""

    def __init__(
        self,
        name: str,
        db_path: Path,
        write: Callable,
        *,
        drop: tuple[str, ...] = (),
        commit_rows: int,
        tuned: bool = True,
    ) -> None:
        from incidents import store
        from incidents.ingest import runs
        from incidents.ingest.writer import tuned as tuned_connection

        self.name, self.write, self.commit_rows, self.cpu, self.pending = name, write, commit_rows, 0.0, 0
        self.db = store.open_db(db_path)
        conn = self.db.conn
        for what in drop:
            conn.execute(f"DROP {'TRIGGER' if what in TRIGGERS else 'INDEX'} IF EXISTS {what}")
        with self.db.conn:
            self.run_id = runs.start(self.db, file=str(db_path), sha256=name, fmt="csv")
        self._tuned = tuned_connection(conn) if tuned else contextlib.nullcontext()
        self._tuned.__enter__()

    def add(self, rows: list[tuple]) -> None:
        conn = self.db.conn
        c0 = time.process_time()
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
        self.write(conn, rows, self.run_id)
        self.pending += len(rows)
        if self.pending >= self.commit_rows:
            conn.commit()
            self.pending = 0
        self.cpu += time.process_time() - c0

    def close(self) -> None:
        c0 = time.process_time()
        if self.db.conn.in_transaction:
            self.db.conn.commit()
        self.cpu += time.process_time() - c0
        self._tuned.__exit__(None, None, None)
        self.db.close()


def measure(
    path: Path, folder: Path, *, limit: int | None = None, same_rows: bool = True, every: int = 0
) -> dict[str, float]:
    """CPU seconds of each variant's writes for the first `limit` rows of `path` (all when None)."""
    from incidents.ingest import BATCH, COMMIT_ROWS
    from incidents.ingest.writer import _INSERT, RECORD_COLUMNS, write_batch
    from incidents.upkeep import insert_batch

    bare_insert = _INSERT.replace(", record_key)", ")").replace(", ?)", ")")
    assert bare_insert.count("?") == len(RECORD_COLUMNS) - 1

    def table_only(conn, rows, run_id):
        conn.executemany(bare_insert, [r[:-1] for r in rows])

    def upkeep_only(conn, rows, run_id):
        insert_batch(conn, bare_insert, [r[:-1] for r in rows])

    variants = [
        Variant(
            "incidents table + primary key only",
            folder / "floor-table.db",
            table_only,
            drop=INDEXES + TRIGGERS,
            commit_rows=COMMIT_ROWS,
        ),
        Variant(
            "+ secondary indexes",
            folder / "floor-indexes.db",
            table_only,
            drop=TRIGGERS,
            commit_rows=COMMIT_ROWS,
        ),
        Variant(
            "+ batch upkeep (FTS, day_counts, count)",
            folder / "floor-upkeep.db",
            upkeep_only,
            commit_rows=COMMIT_ROWS,
        ),
        Variant(
            FULL,
            folder / "floor.db",
            lambda conn, rows, run_id: write_batch(conn, rows, run_id),
            commit_rows=COMMIT_ROWS,
        ),
    ]
    if same_rows:
        variants.append(
            Variant(
                "same rows, per-row triggers (executemany)",
                folder / "same.db",
                lambda conn, rows, run_id: conn.executemany(_INSERT, rows),
                commit_rows=COMMIT_ROWS,
                tuned=False,
            )
        )
    run_id = variants[0].run_id
    done, last, marks = 0, 0, [0.0] * len(variants)
    for rows in batches(path, run_id, BATCH, limit):
        for v in variants:
            v.add(rows)
        done += len(rows)
        if every and done - last >= every:
            # CPU per row of each variant over the last `every` rows: where the writing cost grows.
            print(
                f"  floor at {done:>11,} rows, us/row over the last {done - last:,}: "
                + "; ".join(
                    f"{v.name.split(':')[0]} {(v.cpu - m) / (done - last) * 1e6:.1f}"
                    for v, m in zip(variants, marks)
                )
                + f"; load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )
            marks, last = [v.cpu for v in variants], done
    out = {}
    for v in variants:
        v.close()
        out[v.name] = v.cpu
    return out


if __name__ == "__main__":
    sys.exit(
        f"{Path(__file__).name} is a module of the benchmarks, not one itself: run bench/ingest.py, bench/reports.py or bench/spikes_store.py (see the README's Benchmarks)"
    )
