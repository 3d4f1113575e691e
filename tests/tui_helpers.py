"""A small store with known contents for the TUI tests, and helpers to drive the app headless."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from textual.worker import WorkerState

from incidents import store
from incidents.taxonomy import rsit

FIRST_DAY = date(2019, 10, 1)
DAYS = 425  # 2019-10-01 .. 2020-11-28
SPIKE_DAY = "2020-11-20"
SECTORS = ("government", "education", "finance")
FEEDS = ("ncsc", "partner")
SEVERITIES = ("low", "medium", "high", "critical")
HOSTILE_TARGET = "evil[/red]\x1b[31m.example.vn"


def build_store(path, *, keep_verdicts: bool = True) -> None:
    """Incidents on every day: phishing 3 + (day % 3), deface 2 (odd days 1), malware 1 every other
    day; 40 phishing on SPIKE_DAY. Two ingest runs with fixed times; the second rejected 2 rows."""
    db = store.open_db(path)
    rows = []
    day = FIRST_DAY
    for k in range(DAYS):
        d = day.isoformat()
        plan = {"phishing": 3 + k % 3, "deface": 2 if k % 2 == 0 else 1, "malware": 1 if k % 2 == 0 else 0}
        if d == SPIKE_DAY:
            plan["phishing"] = 40
        for category, n in plan.items():
            taxonomy, type_ = rsit(category)
            for i in range(n):
                target = (
                    HOSTILE_TARGET
                    if (d == "2020-10-15" and category == "deface" and i == 0)
                    else (f"{category}-{k}-{i}.example.vn")
                )
                raw = {"time": f"{d}T03:00:00Z", "category": category, "target": target, "note": "[bold]x[/]"}
                rows.append(
                    (
                        f"{d}-{category}-{i}",
                        f"{d}T03:{i % 60:02d}:00Z",
                        d,
                        category,
                        taxonomy,
                        type_,
                        target,
                        "domain",
                        f"198.51.100.{i % 250}",
                        SECTORS[(k + i) % 3],
                        FEEDS[i % 2],
                        SEVERITIES[(k + i) % 4],
                        "new",
                        "test incident",
                        1 if d < "2020-11-01" else 2,
                        json.dumps(raw),
                    )
                )
        day += timedelta(days=1)
    with db.atomic():
        db.execute(
            "INSERT INTO ingest_runs(id, kind, file, sha256, format, started_at, finished_at, rows_read, accepted, "
            "duplicate, rejected, status) VALUES (1, 'ingest', 'feeds/ncsc-2019.csv', 'a', 'csv', "
            "'2020-11-01T00:00:00Z', '2020-11-01T00:00:05Z', 10, 10, 0, 0, 'ok'), (2, 'ingest', "
            "'feeds/broken.csv', 'b', 'csv', '2020-11-29T00:00:00Z', '2020-11-29T00:00:01Z', 5, 3, 0, 2, 'ok')"
        )
        db.execute(
            "INSERT INTO rejects(run_id, line, raw, reason) VALUES (2, 7, 'x,y', 'wrong field count'), "
            "(2, 9, '2021-02-30,phishing,[red]a[/red]', 'impossible date')"
        )
        store.add_incidents(db, rows)
    if keep_verdicts:  # as the alert job does after each ingest
        from incidents.spikes.kept import judge_new_days

        judge_new_days(db)
    db.close()


def shared_store(tmp_path_factory) -> Path:
    """One store built (and its spike verdicts kept) per test session, shared by the TUI test modules,
    which only read it."""
    path = tmp_path_factory.getbasetemp() / "tui-shared" / "tui.db"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        partial = path.with_suffix(".partial")
        build_store(partial)
        partial.rename(path)
    return path


def screen_text(app) -> str:
    """What the terminal shows, as plain text (the SVG screenshot's content without styles)."""
    width, height = app.size
    console = Console(width=width, height=height, record=True, file=io.StringIO(), force_terminal=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def settle(app, pilot, timeout: float = 60.0) -> None:
    """Wait until the screen shows its data (`StoreScreen.ready`: every part on screen for the store's
    current version) and no worker runs, then let one frame render. Fails, with what it still waits
    for and what the screen shows, after `timeout` seconds (a screen that never fills is a bug)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await pilot.pause(0.02)
        screen = app.screen
        running = [w.name for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if getattr(screen, "ready", True) and not running:
            break
        if loop.time() > deadline:
            waiting = getattr(screen, "waiting_for", [])
            raise AssertionError(
                f"{type(screen).__name__} not ready after {timeout} s: parts {waiting} not shown, "
                f"workers {running} running; the screen shows:\n{screen_text(app)}"
            )
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def make_app(path, **kwargs):
    """The TUI on the store at `path`: October 2020, no polling, unless `kwargs` say otherwise."""
    from incidents.tui.app import IncidentsApp
    from incidents.tui.data import StoreReader

    kwargs.setdefault("month", "2020-10")
    kwargs.setdefault("poll", 0)
    return IncidentsApp(StoreReader(path), **kwargs)
