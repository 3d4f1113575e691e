"""TUI benchmark on a seeded 1,000,000-incident store, beside the same queries run bare.

    uv run python bench/tui.py [--rows 1000000] [--store PATH]

Builds (or reuses, with --store) a store of `rows` incidents spread over 2019-2020 (seed 11) and keeps
its daily spike verdicts (as the alert job does after an ingest; not timed), then,
driving the real app headless at 80x24 with Textual's Pilot:
- the overview: from creating the app (Textual's start-up included) to the month's figures on screen,
  beside stats.month_report + monthly_counts + the last runs run bare on a sqlite3 connection;
- filter changes on the incidents screen: from setting a filter to its first page of rows on screen,
  beside the page query run bare (the count of all matching rows follows in its own worker and is
  timed separately).
Figures are wall seconds on this machine in this run (2 shared cores), with the ratio to the bare query.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from incidents import stats, store
from incidents.taxonomy import rsit

CATEGORIES = ["phishing", "deface", "malware", "intrusion", "scanning", "ddos", "other"]
WEIGHTS = [30, 25, 20, 10, 8, 4, 3]
SECTORS = ["government", "education", "finance", "healthcare", "energy", "telecom", "commerce"]
FEEDS = ["ncsc", "partner", "intelmq", "scan"]
SEVERITIES = ["low", "medium", "high", "critical"]
MONTH = "2020-10"


def build(path: Path, rows: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    first = date(2019, 1, 1)
    db = store.open_db(path)
    batch = []
    with db.atomic():
        run = store.start_run(db, file="bench/generated", sha256="bench", kind="ingest", fmt="csv")
        for i in range(rows):
            d = first + timedelta(days=rng.randrange(731))
            category = rng.choices(CATEGORIES, WEIGHTS)[0]
            taxonomy, type_ = rsit(category)
            target = f"host{i}.{rng.choice(SECTORS)}.example.vn"
            day = d.isoformat()
            batch.append(
                (
                    f"b{i}",
                    f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
                    day,
                    category,
                    taxonomy,
                    type_,
                    target,
                    "domain",
                    f"203.0.113.{i % 250}",
                    rng.choice(SECTORS),
                    rng.choice(FEEDS),
                    rng.choice(SEVERITIES),
                    "new",
                    "generated for the benchmark",
                    run,
                    json.dumps({"id": f"b{i}", "time": day, "category": category, "target": target}),
                )
            )
            if len(batch) == 50_000:
                store.add_incidents(db, batch)
                batch = []
        store.add_incidents(db, batch)
        store.finish_run(db, run, read=rows, accepted=rows, duplicate=0, rejected=0, status="ok")
    # As `incidents alert` does after each ingest: the daily spike verdicts are kept, so the TUI reads them.
    from incidents.spikes.kept import judge_new_days

    judge_new_days(db)
    db.close()


def bare(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


FILTERS = [
    ("category = deface", {"category": "deface"}),
    ("category + month", {"category": "malware", "since": "2020-10-01", "until": "2020-10-31"}),
    ("sector (no index)", {"sector": "energy"}),
    ("severity + feed", {"severity": "critical", "feed": "scan"}),
    ("one day", {"since": "2020-06-15", "until": "2020-06-15"}),
    ("target contains", {"target": "host99999."}),
]


async def drive(path: Path) -> dict:
    from textual.widgets import Input, Select

    from incidents.tui import data
    from incidents.tui.app import IncidentsApp
    from incidents.tui.data import StoreReader
    from incidents.tui.screens.incidents import IncidentsScreen

    out: dict = {}
    t0 = time.perf_counter()
    app = IncidentsApp(StoreReader(path), month=MONTH, poll=0)
    async with app.run_test(size=(80, 24)) as pilot:
        while not getattr(app.screen, "report", None):
            await asyncio.sleep(0.002)
        out["overview"] = time.perf_counter() - t0
        await pilot.press("2")
        while not (isinstance(app.screen, IncidentsScreen) and app.screen.rows):
            await asyncio.sleep(0.002)
        screen = app.screen
        while screen.total is None:
            await asyncio.sleep(0.01)
        for label, values in FILTERS:
            await pilot.press("escape", "x")
            while screen.total is None or not data.empty(screen.flt):
                await asyncio.sleep(0.01)
            await pilot.pause(0.05)
            before = screen.rows
            t = time.perf_counter()
            for name, value in values.items():
                widget = screen.query_one(f"#f-{name}")
                if isinstance(widget, Select):
                    widget.value = value
                else:
                    assert isinstance(widget, Input)
                    widget.value = value
            screen.apply_filters()
            while screen.rows is before:
                await asyncio.sleep(0.001)
            rows_at = time.perf_counter() - t
            while screen.total is None:
                await asyncio.sleep(0.005)
            out[label] = (rows_at, time.perf_counter() - t, screen.total)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--store", type=Path, help="reuse (or build once) this store")
    args = parser.parse_args()
    path = args.store or Path(tempfile.mkdtemp()) / "bench-tui.db"
    if not path.exists():
        t = time.perf_counter()
        build(path, args.rows)
        print(f"built {args.rows:,} incidents in {time.perf_counter() - t:.1f} s: {path}", file=sys.stderr)

    from incidents.tui import data

    conn = data.open_read(path)
    n = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]

    def overview_bare():
        stats.month_report(conn, MONTH)
        stats.monthly_counts(conn, stats.shift_month(MONTH, -12), MONTH)
        conn.execute("SELECT * FROM ingest_runs WHERE kind = 'ingest' ORDER BY id DESC LIMIT 1").fetchall()
        conn.execute("SELECT * FROM ingest_runs WHERE kind = 'scan' ORDER BY id DESC LIMIT 1").fetchall()

    ref_overview = bare(overview_bare)
    refs = {}
    for label, values in FILTERS:
        flt = data.IncidentFilter(**values)
        refs[label] = (
            bare(lambda flt=flt: data._find(conn, flt, "day", True, data.PAGE, 0)),
            bare(lambda flt=flt: data._count(conn, flt), repeat=1),
        )
    measured = asyncio.run(drive(path))
    print(f"TUI on {n:,} incidents, 80x24 (wall seconds; bare = the same queries on sqlite3, best of 3)")
    print(f"{'what':<22} {'TUI':>8} {'bare':>8} {'ratio':>6}   target")
    print(f"{'overview appears':<22} {measured['overview']:>8.3f} {ref_overview:>8.3f} "
          f"{measured['overview'] / ref_overview:>6.1f}   < 1 s")  # fmt: skip
    for label, _ in FILTERS:
        rows_at, counted_at, total = measured[label]
        ref_rows, ref_count = refs[label]
        print(f"{'rows: ' + label:<22} {rows_at:>8.3f} {ref_rows:>8.3f} {rows_at / ref_rows:>6.1f}   < 0.3 s")
        print(f"{'  count (' + format(total, ',') + ')':<22} {counted_at:>8.3f} {ref_count:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
