"""Ingest benchmark: REALISTIC feed rows (bench/feedgen.py, fixed seed), measured beside plain sqlite3.

    uv run python bench/ingest.py [--rows 1000000] [--keep DIR]      (also --rows 100000, 10000000)

Prints, from one run on one machine (with the load average, as six jobs share two cores):
- "bare": csv.reader + sqlite3 executemany of the CSV rows into a plain table (no parsing, no
  validation, no dedup key, no index, no JSON of the original) -- the physical floor of "CSV into SQLite";
- "same rows": sqlite3 executemany of the very incident rows ingest stores (prepared beforehand in chunks,
  not timed) into the store's schema with its indexes and per-row triggers -- what the writing alone
  costs when each row is written on its own;
- `ingest_file` on the same file (read, validate, RSIT mapping, target normalisation, dedup, corrections,
  quarantine, JSON of the original row, batch commits): CPU us per row and the ratio to "bare", peak
  memory (ru_maxrss of a child process) and peak extra disk (store growth + WAL, sampled at every batch);
- `stats.month_report` on the resulting store (the query part of `incidents stats`).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import feedgen

HEADER = feedgen.HEADER
CHUNK = 50_000


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def reference_same_rows(path: Path, db_path: Path) -> float:
    """CPU seconds of executemany of the prepared incident tuples into the store's schema (per CHUNK)."""
    from zoneinfo import ZoneInfo

    from incidents import store
    from incidents.ingest.records import BadRecord, Plan, latest_allowed, to_row
    from incidents.ingest.writer import RECORD_COLUMNS

    zone = ZoneInfo(store.DEFAULT_ZONE)
    latest = latest_allowed()
    db = store.open_db(db_path)
    sql = (
        f"INSERT OR IGNORE INTO incidents ({', '.join(RECORD_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in RECORD_COLUMNS)})"
    )
    cpu = 0.0

    def write(rows: list) -> None:
        nonlocal cpu
        c0 = time.process_time()
        with db.atomic():
            db.conn.executemany(sql, rows)
        cpu += time.process_time() - c0
        rows.clear()

    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        plan = Plan.for_names(header)
        rows: list = []
        for r in reader:
            try:
                rows.append(
                    to_row(
                        dict(zip(header, r)),
                        plan,
                        naive_zone=zone,
                        zone=zone,
                        default_feed="bench",
                        run_id=None,
                        latest=latest,
                    )
                )
            except BadRecord:
                continue
            if len(rows) >= CHUNK:
                write(rows)
        write(rows)
    db.close()
    return cpu


def reference(path: Path, db_path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of csv.reader + executemany into a plain table of TEXT columns."""
    conn = sqlite3.connect(db_path)
    conn.execute(f"CREATE TABLE plain ({', '.join(f'c{i} TEXT' for i in range(len(HEADER)))})")
    c0 = time.process_time()
    t0 = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        with conn:
            conn.executemany(f"INSERT INTO plain VALUES ({', '.join('?' for _ in HEADER)})", reader)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    conn.close()
    return seconds, cpu


CHILD = """
import os, resource, sys, time
from incidents import store
from incidents.ingest import ingest_file
path = sys.argv[2]
db = store.open_db(path)
def size():
    return sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
base = size()
peak = [base, 0]
every = int(os.environ.get("BENCH_PROGRESS_EVERY", "0"))
mark = [0, time.process_time()]
def progress(read):
    if every and read - mark[0] >= every:
        cpu = time.process_time()
        print(f"  {read:>11,} rows: {(cpu - mark[1]) / (read - mark[0]) * 1e6:.1f} us/row CPU over the last "
              f"{read - mark[0]:,}; store+WAL {size() / 1e6:,.0f} MB; RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.1f}",
              file=sys.stderr, flush=True)
        mark[:] = [read, cpu]
    peak[0] = max(peak[0], size())
    if os.path.exists(path + "-wal"):
        peak[1] = max(peak[1], os.path.getsize(path + "-wal"))
t0, c0 = time.perf_counter(), time.process_time()
r = ingest_file(db, sys.argv[1], on_progress=progress)
s, cpu = time.perf_counter() - t0, time.process_time() - c0
progress(r.read)
print(s, r.read, r.accepted, r.duplicate, r.rejected, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, cpu,
      peak[0] - base, peak[1], os.path.getsize(path), r.corrected)
"""

BASELINE = """
import resource
import incidents.ingest, incidents.store
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", help="keep the files in this folder")
    ap.add_argument("--skip-same", action="store_true", help="skip the same-rows reference")
    args = ap.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="incidents-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"feed-{args.rows}.csv"
    if not src.exists():
        print(f"generating {args.rows:,} rows ...", flush=True)
        feedgen.write_csv(src, args.rows)
    print(f"file: {src} ({src.stat().st_size / 1e6:.0f} MB); {load()}", flush=True)

    for f in folder.glob("*.db*"):
        f.unlink()
    # The children run first: Linux keeps ru_maxrss across fork+exec, so a child of a parent that
    # already holds the reference's rows would report the parent's peak.
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), str(folder / "store.db")],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        env={**os.environ, "BENCH_PROGRESS_EVERY": str(max(100_000, args.rows // 10))},
    ).stdout.split()
    ours_s, ours_cpu = float(out[0]), float(out[6])
    read, accepted, duplicate, rejected, maxrss_kb, extra_disk, wal_peak, store_bytes, corrected = map(
        int, out[1:6] + out[7:]
    )
    print(f"ingest done; {load()}", flush=True)
    base_kb = int(
        subprocess.run([sys.executable, "-c", BASELINE], capture_output=True, text=True, check=True).stdout
    )
    ref_s, ref_cpu = reference(src, folder / "plain.db")
    same_cpu = "" if args.skip_same else reference_same_rows(src, folder / "same.db")
    n = args.rows

    print()
    print(f"{'':42}{'CPU s':>9}{'us/row':>9}{'ratio':>8}")
    print(f"{'reference, bare: csv -> plain table':42}{ref_cpu:9.2f}{ref_cpu / n * 1e6:9.1f}{1:8.2f}")
    if same_cpu != "":
        print(
            f"{'reference, same rows: store schema':42}{same_cpu:9.2f}{same_cpu / n * 1e6:9.1f}"
            f"{same_cpu / ref_cpu:8.2f}"
        )
    print(
        f"{'incidents ingest (read .. store)':42}{ours_cpu:9.2f}{ours_cpu / n * 1e6:9.1f}"
        f"{ours_cpu / ref_cpu:8.2f}   (goal: <= 2x bare)"
    )
    print(f"wall seconds: ingest {ours_s:.1f}, bare reference {ref_s:.1f}")
    print(
        f"accounting: read {read:,} = accepted {accepted:,} (corrected {corrected:,}) + duplicate "
        f"{duplicate:,} + rejected {rejected:,}"
    )
    print(
        f"peak memory of the ingest process: {maxrss_kb / 1024:.0f} MB (imports alone: {base_kb / 1024:.0f} MB)"
    )
    print(
        f"disk: store {store_bytes / 1e6:.0f} MB for a {src.stat().st_size / 1e6:.0f} MB file; peak extra disk "
        f"(store growth + WAL) {extra_disk / 1e6:.0f} MB; peak WAL {wal_peak / 1e6:.0f} MB; {load()}"
    )

    from incidents import stats, store

    db = store.open_db(folder / "store.db")
    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        report = stats.month_report(db, "2020-10")
        timings.append(time.perf_counter() - t0)
    print(
        f"stats.month_report(2020-10) on {store.count_incidents(db):,} incidents: "
        f"best {min(timings) * 1000:.0f} ms, first {timings[0] * 1000:.0f} ms (promise: < 500 ms); "
        f"total {report.total.count:,}"
    )

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "incidents.cli", "--help"], capture_output=True, check=True)
    help_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare_s = time.perf_counter() - t0
    print(
        f"incidents --help: {help_s * 1000:.0f} ms (bare python start: {bare_s * 1000:.0f} ms; promise: < 500 ms)"
    )
    print(f"reference process peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
