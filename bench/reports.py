"""Report benchmark: the read commands' queries at 10^5, 10^6 and 10^7 incidents, beside bare SQL.

    uv run python bench/reports.py [--sizes 100000,1000000,10000000] [--keep DIR]

For each size a store is generated with a fixed seed (two years, seven categories, realistic targets:
domains, URLs and IP addresses, ~40% of them repeated) by bench/bulk.py (the rows, then the store's own
indexes, triggers and derived tables), then, in CPU milliseconds of this process (median of 5 runs,
warm cache):
- `stats --month` as the command computes it (stats.month_report on a read-only connection) against
  the reference: the month's bare `GROUP BY category` (target: within 3x, issue 14 point 4); the first
  and last day as one `min(day), max(day)` SELECT (what stats did) beside two index searches;
- `list`'s first page with its "of N" count, `list --month --category`, `show ID`, `rejects`;
- `list --target X` with no match through the FTS5 trigram index (target: under 50 ms at 10^7) and,
  up to 10^6, the `LIKE '%X%'` it replaced; a common substring (many matches) as well;
- each read command as a whole process (CPU of the child) minus the same command on a store of 2,000
  incidents (its start-up), with `stats --month` against the bare GROUP BY: the issue's measure, and
  per stored incident, for the growth from 10^5 to 10^7 (README "How costs grow");
- the cost of building the store (µs per row).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np

from incidents import search, stats, store
from incidents.taxonomy import rsit

CATEGORIES = ("phishing", "deface", "malware", "intrusion", "ddos", "scanning", "other")
WEIGHTS = (30, 25, 25, 10, 3, 5, 2)
SECTORS = ("government", "education", "finance", "healthcare", "energy", "telecom", "commerce")
PROVINCES = ("hanoi", "hcm", "danang", "haiphong", "cantho", "hue", "nghean", "thanhhoa", "gialai")


def target_pool(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` targets: domains, URLs and IP addresses, ~40% of them repeats of earlier ones (at most
    100,000 distinct repeated), from a seeded generator."""
    kind = rng.random(n)
    a, b, c = rng.integers(0, 10**5, n), rng.integers(0, 10**6, n), rng.integers(0, 256, (n, 3))
    prefix = np.array(("so", "ubnd", "truong", "benhvien", "cty"))[rng.integers(0, 5, n)]
    host = np.array(("shop", "login", "secure", "www"))[rng.integers(0, 4, n)]
    path = np.array(("wp-admin", "index.php", "login", "hacked.html"))[rng.integers(0, 4, n)]
    province = np.array(PROVINCES)[rng.integers(0, len(PROVINCES), n)]
    out = np.empty(n, dtype=object)
    for i in range(n):
        if kind[i] < 0.45:
            out[i] = f"{prefix[i]}{a[i]}.{province[i]}.gov.vn"
        elif kind[i] < 0.85:
            out[i] = f"http://{host[i]}{b[i]}.example.vn/{path[i]}"
        else:
            out[i] = f"203.{c[i, 0]}.{c[i, 1]}.{c[i, 2]}"
    repeat = rng.random(n) < 0.4
    repeat[0] = False
    # a repeat copies one of the (at most 100,000) earliest targets seen before it
    earlier = np.minimum(np.arange(n), 100_000)
    pick = (rng.random(n) * np.maximum(earlier, 1)).astype(np.int64)
    out[repeat] = out[pick[repeat]]
    return out


def batch_rows(rng: np.random.Generator, first_id: int, n: int) -> list[tuple]:
    """`n` incidents over 2019-2020 (UTC times, local days in UTC+7), in INCIDENT_COLUMNS order."""
    start = np.datetime64("2019-01-01T00:00:00", "s")
    t = start + rng.integers(0, 2 * 365 * 86400, n).astype("timedelta64[s]")
    stamps = np.char.add(t.astype(str), "Z")
    days = (t + np.timedelta64(7, "h")).astype("datetime64[D]").astype(str)
    p = np.array(WEIGHTS, dtype=float) / sum(WEIGHTS)
    cats = np.array(CATEGORIES)[rng.choice(len(CATEGORIES), size=n, p=p)]
    sectors = np.array(SECTORS)[rng.integers(0, len(SECTORS), n)]
    taxonomy = {c: rsit(c) for c in CATEGORIES}
    target = target_pool(rng, n)
    return [
        (f"{first_id + i:012x}", stamps[i], days[i], cats[i], *taxonomy[cats[i]], target[i], "domain",
         f"198.51.100.{(first_id + i) % 250}", sectors[i], "bench", "high", "new", None, None, "{}")
        for i in range(n)
    ]  # fmt: skip


def build(path: Path, n: int, *, seed: int = 14) -> float:
    """Generate `n` incidents into a new store at `path` (bench/bulk.py); returns CPU seconds per row."""
    from bulk import bulk_load

    rng = np.random.default_rng(seed)
    cpu = time.process_time()
    bulk_load(path, (batch_rows(rng, first, min(500_000, n - first)) for first in range(0, n, 500_000)))
    db = store.open_db(path)
    run = store.start_run(db, file="bench.csv", sha256="0" * 64, kind="ingest")
    store.add_rejects(db, run, [(i, f"bad row {i}", "wrong field count") for i in range(1000)])
    store.finish_run(db, run, read=n, accepted=n, duplicate=0, rejected=1000, status="ok")
    db.conn.commit()
    db.close()
    return (time.process_time() - cpu) / n


def cpu_ms(fn, repeat: int = 5) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times) * 1000


def child_cpu(args: list[str]) -> float:
    """CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def process_ms(args: list[str], repeat: int = 5) -> float:
    child_cpu(args)  # warm: page cache, .pyc files
    return statistics.median(child_cpu(args) for _ in range(repeat)) * 1000


def whole_processes(path: Path, tiny: Path, n: int) -> None:
    """Each read command as a whole process, minus the same command on a store of 5 incidents (its
    start-up: Python, imports, opening the store), beside the bare SQL it is built on."""
    cli = [sys.executable, "-m", "incidents.cli"]
    conn = store.open_read(path)
    first, last = stats.month_days("2020-10")
    bare = cpu_ms(lambda: conn.execute(
        "SELECT category, count(*) FROM incidents WHERE day BETWEEN ? AND ? GROUP BY category", [first, last]
    ).fetchall())  # fmt: skip
    conn.close()
    for name, args, ref in (
        ("stats --month 2020-10", ["stats", "--month", "2020-10"], bare),
        ("list (first page)", ["list"], None),
        ("list --category deface", ["list", "--category", "deface"], None),
        ("list --sector finance", ["list", "--sector", "finance"], None),
        ("list --target no-such-host", ["list", "--target", "no-such-host.example"], None),
    ):
        big = process_ms([*cli, *args, "--db", str(path)])
        small = process_ms([*cli, *args, "--db", str(tiny)])
        line = f"  whole process {name:28s} {big:8.1f} ms CPU, minus start-up ({small:6.1f} ms) {big - small:8.1f} ms"
        if ref:
            line += f"   bare GROUP BY {ref:6.1f} ms   ratio {(big - small) / ref:4.1f}x (target <= 3x)"
        print(line + f"   per incident {(big - small) * 1e6 / n:7.3f} ns")


def measure(path: Path, n: int) -> None:
    conn = store.open_read(path)
    month = "2020-10"
    first, last = stats.month_days(month)
    bare = cpu_ms(lambda: conn.execute(
        "SELECT category, count(*) FROM incidents WHERE day BETWEEN ? AND ? GROUP BY category", [first, last]
    ).fetchall())  # fmt: skip
    report = cpu_ms(lambda: stats.month_report(conn, month))
    one_select = cpu_ms(lambda: conn.execute("SELECT min(day), max(day) FROM incidents").fetchone(), 3)
    two = cpu_ms(lambda: store.data_span(conn))
    print(f"  stats --month {month}: {report:8.2f} ms   reference bare GROUP BY {bare:7.2f} ms   "
          f"ratio {report / bare:4.1f}x (target <= 3x)")  # fmt: skip
    print(
        f"    first/last day: two index searches {two:6.3f} ms; one min(),max() SELECT {one_select:8.2f} ms"
    )
    page = search.IncidentFilter()
    print(f"  list (first page + 'of N'): "
          f"{cpu_ms(lambda: (search.find_incidents(conn, page), search.count_incidents(conn, page))):8.2f} ms")  # fmt: skip
    flt = search.IncidentFilter(since=first, until=last, category="deface")
    print(f"  list --month --category deface (page + count): "
          f"{cpu_ms(lambda: (search.find_incidents(conn, flt), search.count_incidents(conn, flt))):8.2f} ms")  # fmt: skip
    some_id = conn.execute("SELECT id FROM incidents LIMIT 1 OFFSET 77").fetchone()[0]
    print(f"  show ID: {cpu_ms(lambda: search.get_incident(conn, some_id)):8.3f} ms")
    from incidents.ingest import rejects_of

    print(f"  rejects (first 50): {cpu_ms(lambda: rejects_of(conn, None, 50)):8.2f} ms")
    nothing = search.IncidentFilter(target="no-such-host.example")
    fts = cpu_ms(lambda: (search.find_incidents(conn, nothing), search.count_incidents(conn, nothing)))
    line = f"  list --target (no match), FTS5 trigram: {fts:8.2f} ms (target < 50 ms)"
    if n <= 1_000_000:
        like = cpu_ms(lambda: conn.execute(
            "SELECT count(*) FROM incidents WHERE target LIKE '%no-such-host.example%'").fetchone(), 1)  # fmt: skip
        line += f"   LIKE '%X%' over the table {like:9.1f} ms"
    print(line)
    common = search.IncidentFilter(target="hacked.html")
    hits = search.count_incidents(conn, common)
    print(f"  list --target hacked.html ({hits:,} matches, page + count): "
          f"{cpu_ms(lambda: (search.find_incidents(conn, common), search.count_incidents(conn, common)), 3):8.1f} ms")  # fmt: skip
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument(
        "--keep", type=Path, help="Keep the generated stores in this folder (and reuse them)."
    )
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            path = folder / f"reports-{n}.db"
            if path.exists():
                print(f"{n:,} incidents (store reused: {path})")
            else:
                per_row = build(path, n)
                size = path.stat().st_size
                print(f"{n:,} incidents: built in {per_row * 1e6:.1f} µs CPU per row (bulk: "
                      f"indexes, target index and counts made after the rows); {size / 1e6:,.0f} MB, {size / n:.0f} bytes per incident")  # fmt: skip
            measure(path, n)
            tiny = folder / "reports-tiny.db"
            if not tiny.exists():
                build(tiny, 2000)
            whole_processes(path, tiny, n)
            print(f"  load average: {os.getloadavg()[0]:.2f} (2 cores shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
