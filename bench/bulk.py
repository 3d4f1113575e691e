"""Fill a new store fast for a benchmark: rows inserted without triggers or indexes, then the indexes
built and the derived tables filled by the store's own migration steps, so the store is what ingest
leaves (the incidents' triggers and indexes, the target search index, the incident and day counts).

    from bulk import bulk_load
    bulk_load(path, batches)    # batches: iterable of lists of tuples in store.INCIDENT_COLUMNS order

About 5x faster than inserting through the triggers (bench/reports.py prints the figure): 10^7
incidents in a few minutes. Checks the result: counts agree, every trigger and index is back, and up
to 10^6 rows FTS5's integrity check of the target index.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from incidents import migrations, store


def bulk_load(path: Path, batches: Iterable[list[tuple]]) -> int:
    """A new store at `path` holding the rows of `batches`; returns the number of incidents."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = store.open_db(path)
    conn = db.conn
    saved = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'incidents' "
        "AND type IN ('trigger', 'index') AND sql IS NOT NULL"
    ).fetchall()
    with conn:
        for kind, name, _ in saved:
            conn.execute(f"DROP {kind.upper()} {name}")
    columns = store.INCIDENT_COLUMNS
    insert = (
        f"INSERT OR IGNORE INTO incidents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    for rows in batches:
        with conn:
            conn.executemany(insert, rows)
    with conn:
        for kind, _, sql in saved:
            if kind == "index":
                conn.execute(sql)
    # The steps that create the target search index, the incident count and the day counts fill them
    # from the rows already stored (as for a store upgraded from an older release) and make their
    # triggers again.
    for step in (migrations._v6_target_search, migrations._v8_incident_count, migrations._v9_day_counts):
        with conn:
            step(db)
    with conn:
        for kind, name, sql in saved:  # any other trigger
            made = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [name]).fetchone()
            if kind == "trigger" and not made:
                conn.execute(sql)
    n = store.count_incidents(db)
    after = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'incidents'")}
    assert {name for _, name, _ in saved} <= after, "a trigger or index was not made again"
    assert n == conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    assert n == (conn.execute("SELECT sum(n) FROM day_counts").fetchone()[0] or 0)
    if n <= 1_000_000:
        with conn:
            conn.execute("INSERT INTO incidents_target(incidents_target, rank) VALUES ('integrity-check', 1)")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return n


if __name__ == "__main__":
    sys.exit(
        f"{Path(__file__).name} is a module of the benchmarks, not one itself: run bench/ingest.py, bench/reports.py or bench/spikes_store.py (see the README's Benchmarks)"
    )
