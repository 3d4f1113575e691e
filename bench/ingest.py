"""Ingest and statistics benchmark: 1,000,000 CSV incident rows, measured beside plain sqlite3.

    uv run python bench/ingest.py [--rows 1000000] [--keep DIR]

Prints, from one run on one machine, two references:
- "bare": csv.reader + sqlite3 executemany of the CSV rows into a plain table (no parsing, no
  validation, no dedup key, no index, no JSON of the original) — the physical floor of "CSV into SQLite";
- "same rows": sqlite3 executemany of the very incident rows ingest stores (prepared beforehand, not
  timed) into a table with the store's schema and indexes — what the writing alone costs;
- `incidents ingest` on the same file (parse, validate, zone, dedup key, JSON of the original row, store),
  rows per second and the ratio to the reference; peak memory (ru_maxrss of a child process);
- `stats.month_report` on the resulting 1,000,000-incident store (the query part of `incidents stats`);
- the wall time of `incidents --help`.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from incidents.ingest.records import OWN_COLUMNS

HEADER = list(OWN_COLUMNS)
CATEGORIES = ["phishing", "deface", "malware", "intrusion", "scanning"]
SECTORS = ["government", "education", "finance", "healthcare", "energy", "telecom", "commerce"]


def make_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = 1546300800  # 2019-01-01T00:00:00Z
    span = 2 * 365 * 86400
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(rows):
            t = start + rng.randrange(span)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            w.writerow(
                [
                    f"r{i}",
                    stamp,
                    rng.choice(CATEGORIES),
                    f"host{i}.example.vn",
                    rng.choice(SECTORS),
                    "bench-feed",
                    rng.choice(("low", "medium", "high")),
                    "open",
                    f"203.0.113.{i % 250}",
                    "generated for the benchmark",
                ]
            )


def reference_same_rows(path: Path, db_path: Path) -> float:
    """executemany of the prepared incident tuples into the store's own schema (dedup key and day index)."""
    from zoneinfo import ZoneInfo

    from incidents import store
    from incidents.ingest.records import Plan, latest_allowed, to_row
    from incidents.ingest.writer import RECORD_COLUMNS

    zone = ZoneInfo(store.DEFAULT_ZONE)
    latest = latest_allowed()
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        plan = Plan.for_names(header)
        rows = [
            to_row(
                dict(zip(header, r)),
                plan,
                naive_zone=zone,
                zone=zone,
                default_feed="bench",
                run_id=None,
                latest=latest,
            )
            for r in reader
        ]
    db = store.open_db(db_path)
    t0 = time.perf_counter()
    with db.atomic():
        db.conn.executemany(
            f"INSERT OR IGNORE INTO incidents ({', '.join(RECORD_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in RECORD_COLUMNS)})",
            rows,
        )
    seconds = time.perf_counter() - t0
    db.close()
    return seconds


def reference(path: Path, db_path: Path) -> float:
    conn = sqlite3.connect(db_path)
    conn.execute(f"CREATE TABLE plain ({', '.join(c + ' TEXT' for c in HEADER)})")
    global REF_CPU
    c0 = time.process_time()
    t0 = time.perf_counter()
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        with conn:
            conn.executemany(f"INSERT INTO plain VALUES ({', '.join('?' for _ in HEADER)})", reader)
    seconds = time.perf_counter() - t0
    REF_CPU = time.process_time() - c0
    conn.close()
    return seconds


REF_CPU = 0.0

CHILD = """
import resource, sys, time
from incidents import store
from incidents.ingest import ingest_file
db = store.open_db(sys.argv[2])
t0, c0 = time.perf_counter(), time.process_time()
r = ingest_file(db, sys.argv[1])
s, cpu = time.perf_counter() - t0, time.process_time() - c0
print(s, r.read, r.accepted, r.duplicate, r.rejected, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, cpu)
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
    args = ap.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="incidents-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / "incidents.csv"
    if not src.exists():
        print(f"generating {args.rows:,} rows ...", flush=True)
        make_csv(src, args.rows)
    print(f"file: {src} ({src.stat().st_size / 1e6:.0f} MB)")

    for f in folder.glob("*.db*"):
        f.unlink()
    # The children run first: Linux keeps ru_maxrss across fork+exec, so a child of a parent that
    # already holds the reference's rows would report the parent's peak.
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), str(folder / "store.db")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ours_s, ours_cpu = float(out[0]), float(out[6])
    read, accepted, duplicate, rejected, maxrss_kb = map(int, out[1:6])
    base_kb = int(
        subprocess.run([sys.executable, "-c", BASELINE], capture_output=True, text=True, check=True).stdout
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    ref_s = reference(src, folder / "plain.db")
    ref_rate = args.rows / ref_s
    same_s = reference_same_rows(src, folder / "same.db")
    same_rate = args.rows / same_s

    ours_rate = read / ours_s

    print()
    print(f"{'':34}{'seconds':>9}{'rows/s':>12}")
    print(f"{'reference, bare: csv -> plain table':40}{ref_s:9.2f}{ref_rate:12,.0f}")
    print(f"{'reference, same rows: store schema':40}{same_s:9.2f}{same_rate:12,.0f}")
    print(f"{'incidents ingest (read .. store)':40}{ours_s:9.2f}{ours_rate:12,.0f}")
    print(
        f"CPU seconds: ingest {ours_cpu:.2f} ({ours_cpu / read * 1e6:.1f} µs/row) vs bare reference "
        f"{REF_CPU:.2f} ({REF_CPU / args.rows * 1e6:.1f} µs/row): {ours_cpu / REF_CPU:.2f}x (goal: <= 2x)"
    )
    print(f"ratio ingest / same-rows executemany: {ours_rate / same_rate:.2f} (promise: >= 0.50)")
    print(f"ratio ingest / bare executemany:      {ours_rate / ref_rate:.2f}")
    print(
        f"accounting: read {read:,} = accepted {accepted:,} + duplicate {duplicate:,} + rejected {rejected:,}"
    )
    print(
        f"peak memory of the ingest process: {maxrss_kb / 1024:.0f} MB "
        f"(imports alone: {base_kb / 1024:.0f} MB; promise: < 300 MB)"
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
