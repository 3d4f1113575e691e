"""Report benchmark: the read commands' queries at 10^5, 10^6 and 10^7 incidents, beside bare SQL.

    uv run python bench/reports.py [--sizes 100000,1000000,10000000] [--keep DIR]

For each size a store is generated with a fixed seed (two years, seven categories, realistic targets:
domains, URLs and IP addresses, ~40% of them repeated) through the store's own schema and triggers,
then, in CPU milliseconds of this process (median of 5 runs, warm cache):
- `stats --month` as the command computes it (stats.month_report on a read-only connection) against
  the reference: the month's bare `GROUP BY category` (target: within 3x, issue 14 point 4); the first
  and last day as one `min(day), max(day)` SELECT (what stats did) beside two index searches;
- `list`'s first page with its "of N" count, `list --month --category`, `show ID`, `rejects`;
- `list --target X` with no match through the FTS5 trigram index (target: under 50 ms at 10^7) and,
  up to 10^6, the `LIKE '%X%'` it replaced; a common substring (many matches) as well;
- the cost of building the store (µs per row) with and without the target index triggers.
The whole-process start-up of each command is bench/startup.py's figure.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from incidents import search, stats, store
from incidents.taxonomy import rsit

CATEGORIES = ("phishing", "deface", "malware", "intrusion", "ddos", "scanning", "other")
WEIGHTS = (30, 25, 25, 10, 3, 5, 2)
SECTORS = ("government", "education", "finance", "healthcare", "energy", "telecom", "commerce")
PROVINCES = ("hanoi", "hcm", "danang", "haiphong", "cantho", "hue", "nghean", "thanhhoa", "gialai")


def targets(rng: random.Random):
    pool: list[str] = []
    while True:
        if pool and rng.random() < 0.4:
            yield rng.choice(pool)
            continue
        kind = rng.random()
        if kind < 0.45:
            t = f"{rng.choice(('so', 'ubnd', 'truong', 'benhvien', 'cty'))}{rng.randrange(10**5)}.{rng.choice(PROVINCES)}.gov.vn"
        elif kind < 0.85:
            t = f"http://{rng.choice(('shop', 'login', 'secure', 'www'))}{rng.randrange(10**6)}.example.vn/{rng.choice(('wp-admin', 'index.php', 'login', 'hacked.html'))}"
        else:
            t = f"203.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        if len(pool) < 100_000:
            pool.append(t)
        yield t


def build(path: Path, n: int, *, seed: int = 14) -> float:
    """Generate `n` incidents into a new store at `path`; returns CPU seconds per row."""
    db = store.open_db(path)
    rng = random.Random(seed)
    gen = targets(rng)
    start = 1546300800  # 2019-01-01T00:00:00Z
    span = 2 * 365 * 86400
    cpu = time.process_time()
    batch = []
    for i in range(n):
        t = start + rng.randrange(span)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        day = time.strftime("%Y-%m-%d", time.gmtime(t + 7 * 3600))
        category = rng.choices(CATEGORIES, WEIGHTS)[0]
        taxonomy, type_ = rsit(category)
        batch.append((f"{i:012x}", stamp, day, category, taxonomy, type_, next(gen), "domain",
                      f"198.51.100.{i % 250}", rng.choice(SECTORS), "bench", "high", "new", None, None, "{}"))  # fmt: skip
        if len(batch) == 100_000:
            with db.atomic():
                store.add_incidents(db, batch)
            batch = []
    if batch:
        with db.atomic():
            store.add_incidents(db, batch)
    run = store.start_run(db, file="bench.csv", sha256="0" * 64, kind="ingest")
    store.add_rejects(db, run, [(i, f"bad row {i}", "wrong field count") for i in range(1000)])
    store.finish_run(db, run, read=n, accepted=n, duplicate=0, rejected=1000, status="ok")
    db.conn.commit()
    per_row = (time.process_time() - cpu) / n
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return per_row


def cpu_ms(fn, repeat: int = 5) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times) * 1000


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
                print(f"{n:,} incidents: built in {per_row * 1e6:.1f} µs CPU per row (with the target index "
                      f"triggers); {size / 1e6:,.0f} MB, {size / n:.0f} bytes per incident")  # fmt: skip
            measure(path, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
