"""TUI benchmark on a seeded 1,000,000-incident store, beside the same queries run bare.

    uv run python bench/tui.py [--rows 1000000] [--store PATH]

Builds (or reuses, with --store) a store of `rows` incidents spread over 2019-2020 (seed 11) and keeps
its daily spike verdicts (as the alert job does after an ingest; not timed), then,
driving the real app headless at 80x24 with Textual's Pilot:
- the overview: from creating the app (Textual's start-up included) to the month's figures on screen
  (shown, and the screen refreshed after), beside stats.month_report run bare on a sqlite3 connection;
  then to the whole overview (13-month chart, last runs, spike alarms) beside its queries run bare;
- the same from a cold process (Python, imports, the app) as `incidents tui` starts, in wall and CPU
  seconds, beside a cold process that imports incidents.stats and runs stats.month_report;
- filter changes on the incidents screen: from setting a filter to its first page of rows on screen,
  beside the page query run bare (the count of all matching rows follows in its own worker and is
  timed separately).
Figures are wall seconds on this machine in this run (2 shared cores), with the ratio to the bare query
and the load average when each was taken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
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
    zone = store.reporting_zone(db)
    batch = []
    with db.atomic():
        run = store.start_run(db, file="bench/generated", sha256="bench", kind="ingest", fmt="csv")
        for i in range(rows):
            d = first + timedelta(days=rng.randrange(731))
            category = rng.choices(CATEGORIES, WEIGHTS)[0]
            taxonomy, type_ = rsit(category)
            target = f"host{i}.{rng.choice(SECTORS)}.example.vn"
            hour, minute = rng.randrange(24), rng.randrange(60)
            when = f"{d.isoformat()}T{hour:02d}:{minute:02d}:00Z"
            # The day an incident counts on is its local day in the store's zone, as ingest stores it.
            day = (
                datetime(d.year, d.month, d.day, hour, minute, tzinfo=UTC).astimezone(zone).date().isoformat()
            )
            batch.append(
                (
                    f"b{i}",
                    when,
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


def load() -> str:
    """The machine's load averages (1, 5, 15 min), printed beside every figure: 2 cores are shared."""
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


async def figures_on_screen(app) -> None:
    """Return once the overview's figures are on screen: shown, and a refresh of the screen after it."""
    while not (getattr(app.screen, "_shown", None) and "figures" in app.screen._shown):
        await asyncio.sleep(0.001)
    refreshed = asyncio.Event()
    app.call_after_refresh(refreshed.set)
    await refreshed.wait()


async def drive(path: Path) -> dict:
    from textual.widgets import Input, Select

    from incidents.tui import data
    from incidents.tui.app import IncidentsApp
    from incidents.tui.data import StoreReader
    from incidents.tui.screens.incidents import IncidentsScreen

    out: dict = {}
    t0, c0 = time.perf_counter(), time.process_time()
    app = IncidentsApp(StoreReader(path), month=MONTH, poll=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await figures_on_screen(app)
        out["overview"] = (time.perf_counter() - t0, load())
        out["overview cpu"] = time.process_time() - c0
        while not app.screen.ready:  # the chart, the runs and the spike alarms follow
            await asyncio.sleep(0.005)
        out["overview complete"] = (time.perf_counter() - t0, load())
        await pilot.press("2")
        while not (isinstance(app.screen, IncidentsScreen) and app.screen.ready):
            await asyncio.sleep(0.002)
        screen = app.screen
        for label, values in FILTERS:
            await pilot.press("escape", "x")
            while not (screen.ready and data.empty(screen.flt)):
                await asyncio.sleep(0.01)
            await pilot.pause(0.05)
            before = screen.rows
            t = time.perf_counter()
            for name, value in values.items():
                widget = screen.query_one(f"#f-{name}")
                assert isinstance(widget, (Input, Select))
                widget.value = value
            screen.apply_filters()
            while screen.rows is before:
                await asyncio.sleep(0.001)
            rows_at = time.perf_counter() - t
            while screen.total is None:
                await asyncio.sleep(0.005)
            out[label] = (rows_at, time.perf_counter() - t, screen.total, load())
    return out


CHILD = """
import asyncio, resource, sys, time
from pathlib import Path
sys.path.insert(0, {bench!r})
started = {started!r}
if {tui!r}:
    import tui
    from incidents.tui.app import IncidentsApp
    from incidents.tui.data import StoreReader

    async def go():
        app = IncidentsApp(StoreReader({path!r}), month={month!r}, poll=0)
        async with app.run_test(size=(80, 24)):
            await tui.figures_on_screen(app)
            report()
else:
    from incidents import stats, store

    def go():
        conn = store.open_read({path!r})
        stats.month_report(conn, {month!r})
        report()


def report():
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(time.time() - started, r.ru_utime + r.ru_stime, flush=True)


result = go()
if asyncio.iscoroutine(result):
    asyncio.run(result)
"""


def cold_start(path: Path, tui: bool, pycache: Path) -> tuple[float, float]:
    """A fresh Python process, as `incidents tui` starts: wall seconds from launching it to the month's
    figures on screen (tui) or computed (bare: import stats, open the store, stats.month_report), and
    the CPU seconds the process used by then. Modules load from compiled bytecode, as from an
    installed package (here in `pycache`, warmed by a first run), even where PYTHONDONTWRITEBYTECODE
    is set (then every import compiles its source again: about 0.6 s more CPU for Textual alone)."""
    code = CHILD.format(
        bench=str(Path(__file__).parent), started=time.time(), tui=tui, path=str(path), month=MONTH
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    wall, cpu = run.stdout.split()[:2]
    return float(wall), float(cpu)


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

    def overview_rest_bare():
        stats.month_report(conn, MONTH)
        stats.monthly_counts(conn, stats.shift_month(MONTH, -12), MONTH)
        conn.execute("SELECT * FROM ingest_runs WHERE kind = 'ingest' ORDER BY id DESC LIMIT 1").fetchall()
        conn.execute("SELECT * FROM ingest_runs WHERE kind = 'scan' ORDER BY id DESC LIMIT 1").fetchall()

    ref_overview = (bare(overview_bare), load())
    c0 = time.process_time()
    overview_bare()
    ref_overview_cpu = time.process_time() - c0
    ref_rest = (bare(overview_rest_bare), load())
    refs = {}
    for label, values in FILTERS:
        flt = data.IncidentFilter(**values)
        refs[label] = (
            bare(lambda flt=flt: data._find(conn, flt, "day", True, data.PAGE, 0)),
            bare(lambda flt=flt: data._count(conn, flt), repeat=1),
            load(),
        )
    pycache = Path(tempfile.mkdtemp()) / "pycache"
    cold_start(path, True, pycache), cold_start(path, False, pycache)  # compile the bytecode once
    cold = [(cold_start(path, True, pycache), cold_start(path, False, pycache), load()) for _ in range(3)]
    measured = asyncio.run(drive(path))
    print(f"TUI on {n:,} incidents, 80x24 (wall seconds; bare = the same queries on sqlite3, best of 3;")
    print(f"{os.cpu_count()} cores shared with other jobs: the load average is printed beside each figure)")
    print(f"{'what':<30} {'TUI':>7} {'bare':>7} {'ratio':>6}  target   load (TUI | bare)")

    def line(what, tui, ref, target, tui_load, ref_load):
        ratio = f"{tui / ref:>6.1f}" if ref else f"{'':>6}"
        print(f"{what:<30} {tui:>7.3f} {ref:>7.3f} {ratio}  {target:<7}  {tui_load} | {ref_load}")

    (tui_s, tui_load), (bare_s, bare_load) = measured["overview"], ref_overview
    line("overview: figures on screen", tui_s, bare_s, "< 1 s", tui_load, bare_load)
    line("  the same, CPU seconds", measured["overview cpu"], ref_overview_cpu, "", tui_load, bare_load)
    tui_s, tui_load = measured["overview complete"]
    line("  + chart, runs, spike alarms", tui_s, ref_rest[0], "", tui_load, ref_rest[1])
    best = min(cold, key=lambda c: c[0][0])
    (tw, tc), (bw, bc), cold_load = best
    line("new process to figures, wall", tw, bw, "< 1 s", cold_load, cold_load)
    line("  the same, CPU seconds", tc, bc, "", cold_load, cold_load)
    for label, _ in FILTERS:
        rows_at, counted_at, total, tui_load = measured[label]
        ref_rows, ref_count, ref_load = refs[label]
        line(f"rows: {label}", rows_at, ref_rows, "< 0.3 s", tui_load, ref_load)
        line(f"  count ({total:,})", counted_at, ref_count, "", tui_load, ref_load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
