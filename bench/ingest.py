"""Ingest benchmark: REALISTIC feed rows (bench/feedgen.py, fixed seed), measured beside plain sqlite3.

    uv run python bench/ingest.py [--rows 1000000] [--keep DIR]      (also --rows 100000, 10000000)

Prints, from one run on one machine (with the load average, as six jobs share two cores):
- "bare": csv.reader + sqlite3 executemany of the CSV rows into a plain table (no parsing, no
  validation, no dedup key, no index, no JSON of the original) -- the physical floor of "CSV into SQLite";
- "store floor" (bench/floor.py): the very rows ingest stores, prepared beforehand (not timed), written
  with ingest's own batch path (writer.write_batch, batch upkeep, same batch and commit sizes) -- what
  writing the store costs at the least; broken down (the incidents table with its primary key only,
  + secondary indexes, + batch upkeep of the search index and counts, + record support), beside the
  earlier "same rows" reference (executemany with the per-row triggers);
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
import floor

HEADER = feedgen.HEADER
CHUNK = 50_000


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


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
mark = [0, time.process_time(), os.times().system]
def progress(read):
    if every and read - mark[0] >= every:
        cpu = time.process_time()
        t = os.times()
        print(f"  {read:>11,} rows: {(cpu - mark[1]) / (read - mark[0]) * 1e6:.1f} us/row CPU over the last "
              f"{read - mark[0]:,} (sys {(t.system - mark[2]) / (read - mark[0]) * 1e6:.1f}); store+WAL {size() / 1e6:,.0f} MB; RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.1f}",
              file=sys.stderr, flush=True)
        mark[:] = [read, cpu, t.system]
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
    ap.add_argument(
        "--order",
        choices=feedgen.ORDERS,
        default="random",
        help="times in a feed's order, or drawn at random over two years (the worst case; default)",
    )
    ap.add_argument("--keep", help="keep the files in this folder")
    ap.add_argument(
        "--skip-same", action="store_true", help="skip the same-rows (per-row triggers) reference"
    )
    ap.add_argument("--skip-floor", action="store_true", help="skip the store floor references")
    ap.add_argument(
        "--floor-rows", type=int, help="measure the store floor on the first N rows only (disk: 5 stores)"
    )
    args = ap.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="incidents-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"feed-{args.rows}{'' if args.order == 'random' else '-' + args.order}.csv"
    if not src.exists():
        print(f"generating {args.rows:,} rows ...", flush=True)
        # In a child: Linux keeps ru_maxrss across fork+exec, so generating here would inflate the
        # ingest child's peak memory.
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("feedgen.py")),
                str(src),
                str(args.rows),
                args.order,
            ],
            check=True,
        )
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
        env={**os.environ, "BENCH_PROGRESS_EVERY": "100000"},
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
    (folder / "plain.db").unlink()
    n = args.rows
    floors = {}
    if not args.skip_floor:
        floors = floor.measure(
            src,
            folder,
            limit=args.floor_rows,
            same_rows=not args.skip_same,
            every=100_000,
        )
        for f in folder.glob("*.db*"):
            if f.name.startswith(("floor", "same")):
                f.unlink()
    m = args.floor_rows or n
    full = floors.get(floor.FULL)

    print()
    print(f"{'CPU per row, ' + load():54}{'CPU s':>9}{'us/row':>9}{'/bare':>8}{'/floor':>8}")
    print(f"{'reference, bare: csv -> plain table':54}{ref_cpu:9.2f}{ref_cpu / n * 1e6:9.1f}{1:8.2f}")
    for name, cpu in floors.items():
        per = cpu / m * 1e6
        print(
            f"{'  ' + name:54}{cpu:9.2f}{per:9.1f}{per / (ref_cpu / n * 1e6):8.2f}"
            f"{per / (full / m * 1e6):8.2f}"
        )
    if floors and m != n:
        print(f"  (store floor and its parts measured on the first {m:,} rows)")
    ours = ours_cpu / n * 1e6
    print(
        f"{'incidents ingest (read .. store)':54}{ours_cpu:9.2f}{ours:9.1f}{ours_cpu / ref_cpu:8.2f}"
        + (f"{ours / (full / m * 1e6):8.2f}" if full else "")
        + "   (goal: <= 2x bare)"
    )
    if full:
        print(f"ingest's Python work (ingest - store floor): {ours - full / m * 1e6:.1f} us/row")
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
        f"best {min(timings) * 1000:.0f} ms, first {timings[0] * 1000:.0f} ms (wall clock; the issue's ratio is bench/reports.py's); "
        f"total {report.total.count:,}"
    )

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "incidents.cli", "--help"], capture_output=True, check=True)
    help_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare_s = time.perf_counter() - t0
    print(
        f"incidents --help: {help_s * 1000:.0f} ms (bare python start: {bare_s * 1000:.0f} ms; wall clock: the CPU targets are bench/startup.py's)"
    )
    print(
        f"peak memory of this benchmark process (generation, references): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
