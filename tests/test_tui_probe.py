"""Faults an analyst hit at 80x24: a wrong day or range in the filters, a store error cut to one line
over the rows of the previous filter, a spike sentence cut, the highlighted run scrolled out of sight,
and the overview's "no spike" line naming the wrong window."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from textual.widgets import DataTable, Input

from incidents import store
from incidents.tui.screens.incidents import IncidentsScreen
from tests.test_store_opening import release1_store
from tests.tui_helpers import make_app, screen_text, settle


async def set_filter(app, pilot, **values) -> None:
    screen = app.screen
    for name, value in values.items():
        screen.query_one(f"#f-{name}", Input).value = value
    screen.apply_filters()
    await settle(app, pilot)


@pytest.mark.parametrize("day", ["2020-13-45", "2021-02-30"])
def test_an_impossible_day_is_said_to_be_no_day_not_a_store_failure(tui_store, day):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await settle(app, pilot)
            await set_filter(app, pilot, since=day)
            text = screen_text(app)
            assert f"'{day}' is not a day (YYYY-MM-DD)" in text
            assert "Cannot read the store" not in text

    asyncio.run(go())


def test_a_range_that_ends_before_it_starts_is_said_as_incidents_list_says_it(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await settle(app, pilot)
            await set_filter(app, pilot, since="2020-11-30", until="2020-11-01")
            text = screen_text(app)
            assert "From 2020-11-30 is after To 2020-11-01" in text
            assert "No incident matches" not in text

    asyncio.run(go())


def test_a_store_error_is_read_whole_at_80_columns_and_no_row_of_the_last_filter_stays(tmp_path):
    path = release1_store(tmp_path / "old.db", 5)  # as release 5 made it: no target search index

    async def go():
        app = make_app(path)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await settle(app, pilot)
            assert app.screen.query_one("#incidents", DataTable).row_count == 1
            await set_filter(app, pilot, target="x.vn")
            text = " ".join(screen_text(app).split())
            # the remedy, not only the first 80 characters of the message
            assert "was made by an older release" in text
            assert "to upgrade it" in text
            assert app.screen.query_one("#incidents", DataTable).row_count == 0

    asyncio.run(go())


def test_the_highlighted_spike_sentence_is_shown_whole_at_80_columns(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            await settle(app, pilot)
            # The longest sentence the demo store has (197 characters: three lines at 80 columns).
            long = (
                "phishing: 4 incidents on 2020-07-12, 55 over the last 7 days, expected 21, upper bound 45 "
                "(99.967%), highest 7-day total since 2020-02-14, in the run of 2020-07-06 to 2020-07-11"
            )
            screen = app.screen
            app.spikes = replace(app.spikes, alarms=[replace(a, explanation=long) for a in app.spikes.alarms])
            screen.spikes_ready()
            await settle(app, pilot)
            text = " ".join(screen_text(app).split())
            assert long in text

    asyncio.run(go())


def runs_store(path, runs: int = 10):
    """`runs` ingest runs; only the first rejected rows (as in the demo store: the broken CSV)."""
    db = store.open_db(path)
    with db.atomic():
        for i in range(1, runs + 1):
            db.execute(
                "INSERT INTO ingest_runs(id, kind, file, sha256, format, started_at, finished_at, rows_read, "
                "accepted, duplicate, rejected, status) VALUES (?, 'ingest', ?, ?, 'csv', "
                "'2020-11-01T00:00:00Z', '2020-11-01T00:00:05Z', 10, ?, 0, ?, 'ok')",
                [i, f"feeds/file-{i:02d}.csv", str(i), 4 if i == 1 else 10, 6 if i == 1 else 0],
            )
        for line in range(6):
            db.execute(
                "INSERT INTO rejects(run_id, line, raw, reason) VALUES (1, ?, ?, 'wrong field count')",
                [line + 2, "x," * 150],
            )
    db.close()
    return path


def test_the_highlighted_run_stays_in_sight_when_its_rejects_open_under_it(tmp_path):
    path = runs_store(tmp_path / "runs.db")

    async def go():
        app = make_app(path)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("4")
            await settle(app, pilot)
            table = app.screen.query_one("#runs", DataTable)
            for _ in range(table.row_count - 1):  # down to the oldest run, the one with rejects
                await pilot.press("down")
            await settle(app, pilot)
            await pilot.pause(0.3)
            await settle(app, pilot)
            assert table.cursor_row == table.row_count - 1
            assert app.screen.query_one("#reject-pane").display
            visible = table.scrollable_content_region.height - table.header_height
            top = round(table.scroll_y)
            assert top <= table.cursor_row < top + visible, (top, visible, screen_text(app))

    asyncio.run(go())


def test_the_overview_names_the_window_it_found_no_spike_alarm_in(tmp_path):
    path = runs_store(tmp_path / "quiet.db", runs=1)
    db = store.open_db(path)
    row = ("q1", "2020-10-05T03:00:00Z", "2020-10-05", "deface", "a", "b", "quiet.example.vn", "domain")
    with db.atomic():
        store.add_incidents(db, [(*row, None, None, "ncsc", "low", "new", "x", 1, "{}")])
    db.close()

    async def go():
        app = make_app(path)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            text = " ".join(screen_text(app).split())
            assert "No spike alarm in the 90 days to 2020-10-31." in text

    asyncio.run(go())


def test_a_screen_opened_from_a_count_keeps_a_wrong_day_an_input_error(tui_store):
    """The same check on an incidents screen pushed from the overview (Enter on a count)."""

    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, IncidentsScreen)
            await set_filter(app, pilot, until="2020-02-31")
            assert "'2020-02-31' is not a day (YYYY-MM-DD)" in screen_text(app)

    asyncio.run(go())
