"""The TUI driven headless with App.run_test() and Pilot, on a real SQLite store."""

from __future__ import annotations

import sqlite3

from textual.widgets import DataTable, Input, Select

from incidents import stats, store
from incidents.tui.app import IncidentsApp
from incidents.tui.data import IncidentFilter
from incidents.tui.screens.detail import DetailScreen
from incidents.tui.screens.incidents import IncidentsScreen
from tests.tui_helpers import HOSTILE_TARGET, SPIKE_DAY, make_app, screen_text, settle


def sql(path, query, *args):
    with sqlite3.connect(path) as conn:
        return conn.execute(query, args).fetchall()


def run(coro):
    import asyncio

    return asyncio.run(coro)


def test_overview_shows_the_figures_of_incidents_stats(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            text = screen_text(app)
            with store.open_db(tui_store, create=False) as db:
                report = stats.month_report(db, "2020-10")
            assert f"October 2020: {report.total.count:,} incidents" in text
            table = app.screen.query_one("#figures", DataTable)
            total = [str(c) for c in table.get_row("total")]
            assert total[1] == f"{report.total.count:,}"
            assert total[2] == f"{report.total.month_over_month:+.2f}%"
            assert total[4] == f"{report.total.year_to_date:,}"
            # as `incidents stats`: a category with nothing in any compared period has no row
            assert [k.value for k in table.rows] == ["phishing", "deface", "malware", "total"]
            phishing = [str(c) for c in table.get_row("phishing")]
            assert phishing[1] == f"{report.categories['phishing'].count:,}"
            assert "Last 13 months (Oct 2019 – Oct 2020)" in text
            # ] and [ move the month
            await pilot.press("right_square_bracket")
            await settle(app, pilot)
            assert "November 2020:" in screen_text(app)
            await pilot.press("left_square_bracket", "left_square_bracket")
            await settle(app, pilot)
            assert "September 2020:" in screen_text(app)

    run(go())


def test_a_count_on_the_overview_opens_its_incidents(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            table = app.screen.query_one("#figures", DataTable)
            table.move_cursor(row=table.get_row_index("deface"), column=1)
            await pilot.press("enter")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, IncidentsScreen)
            assert screen.flt == IncidentFilter(category="deface", since="2020-10-01", until="2020-10-31")
            expected = sql(
                tui_store, "SELECT count(*) FROM incidents WHERE category = 'deface' AND day LIKE '2020-10-%'"
            )[0][0]
            assert screen.total == expected == int(table.get_row("deface")[1].plain)
            assert screen.query_one("#incidents", DataTable).row_count == expected  # under one page
            assert all(r["category"] == "deface" and r["day"].startswith("2020-10") for r in screen.rows)
            assert f"rows 1–{expected} of {expected}" in screen_text(app)
            await pilot.press("escape")
            assert not isinstance(app.screen, IncidentsScreen)

    run(go())


async def open_incidents(app, pilot):
    await pilot.press("2")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, IncidentsScreen)
    return screen


async def type_into(app, pilot, selector: str, text: str):
    app.screen.query_one(selector, Input).focus()
    await pilot.press(*text)
    await settle(app, pilot)  # the filter applies when typing rests, and its rows come


def test_filters_show_the_rows_they_select(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_incidents(app, pilot)
            assert screen.total == sql(tui_store, "SELECT count(*) FROM incidents")[0][0]
            screen.query_one("#f-category", Select).value = "malware"
            await settle(app, pilot)
            await type_into(app, pilot, "#f-since", "2020-03-01")
            await type_into(app, pilot, "#f-until", "2020-03-31")
            await type_into(app, pilot, "#f-sector", "finance")
            screen.query_one("#f-severity", Select).value = "high"
            await settle(app, pilot)
            expected = sql(
                tui_store,
                "SELECT id FROM incidents WHERE category = 'malware' AND day BETWEEN '2020-03-01' AND '2020-03-31' "
                "AND sector = 'finance' AND severity = 'high' ORDER BY day DESC, occurred_at DESC, id DESC",
            )
            assert expected, "the fixture should have rows for this filter"
            assert [r["id"] for r in screen.rows] == [e[0] for e in expected]
            assert screen.total == len(expected)
            # free text on the target (case-insensitive substring), and the feed
            await pilot.press("escape", "x")
            await settle(app, pilot)
            await type_into(app, pilot, "#f-target", "EVIL[/RED]")
            assert [r["target"] for r in screen.rows] == [HOSTILE_TARGET]
            await pilot.press("escape", "x")
            await settle(app, pilot)
            await type_into(app, pilot, "#f-feed", "partner")
            assert (
                screen.total == sql(tui_store, "SELECT count(*) FROM incidents WHERE feed = 'partner'")[0][0]
            )
            # a day that is not a day says so and keeps the rows
            await pilot.press("escape", "x")
            await settle(app, pilot)
            await type_into(app, pilot, "#f-since", "2020-13")
            assert "is not a day" in screen_text(app)

    run(go())


def test_paging_and_sorting_query_one_page_at_a_time(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_incidents(app, pilot)
            everything = [
                r[0]
                for r in sql(
                    tui_store, "SELECT id FROM incidents ORDER BY day DESC, occurred_at DESC, id DESC"
                )
            ]
            assert [r["id"] for r in screen.rows] == everything[:50]
            await pilot.press("n")
            await settle(app, pilot)
            assert [r["id"] for r in screen.rows] == everything[50:100]
            assert f"rows 51–100 of {len(everything):,}" in screen_text(app)
            await pilot.press("p")
            await settle(app, pilot)
            assert [r["id"] for r in screen.rows] == everything[:50]
            await pilot.press("p")  # no page before the first
            await settle(app, pilot)
            assert screen.page_offset == 0
            await pilot.press("s")  # sort by category
            await settle(app, pilot)
            assert screen.order == "category"
            cats = [r["category"] for r in screen.rows]
            assert cats == sorted(cats, reverse=True)
            await pilot.press("r")
            await settle(app, pilot)
            assert screen.rows[0]["category"] == "deface"

    run(go())


def test_enter_opens_the_incident_with_its_original_record_printed_literally(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_incidents(app, pilot)
            await type_into(app, pilot, "#f-target", "evil")
            app.screen.query_one("#incidents", DataTable).focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            text = screen_text(app)
            assert "evil[/red]\\x1b[31m.example.vn" in text  # markup shown as typed, ESC escaped
            assert "\x1b[31m" not in text
            assert "Original record" in text
            assert '"note": "[bold]x[/]"' in text
            await pilot.press("escape")
            assert isinstance(app.screen, IncidentsScreen)

    run(go())


def test_spikes_screen_shows_alarms_and_opens_their_incidents(tui_store):
    async def go():
        app = make_app(tui_store, month="2020-11")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert SPIKE_DAY in screen_text(app)  # the overview's latest alarms
            await pilot.press("3")
            await settle(app, pilot)
            screen = app.screen
            alarm = next(a for a in screen.alarms if a.series == "phishing" and a.day == SPIKE_DAY)
            assert alarm.count == 40 and alarm.upper < 40 and alarm.expected < 10
            table = screen.query_one("#alarms", DataTable)
            table.move_cursor(row=screen.alarms.index(alarm))
            await settle(app, pilot)
            text = screen_text(app)
            assert f"Phishing around {SPIKE_DAY}" in text
            assert "▲" in text and "─" in text
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, IncidentsScreen)
            assert app.screen.flt == IncidentFilter(category="phishing", since=SPIKE_DAY, until=SPIKE_DAY)
            assert app.screen.total == 40

    run(go())


def test_quarantine_shows_runs_and_their_rejected_rows(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("4")
            await settle(app, pilot)
            text = screen_text(app)
            assert "Rejected rows of run 2" in text
            rejects = app.screen.query_one("#rejects", DataTable)
            assert [str(c) for c in rejects.get_row_at(0)][:2] == ["7", "wrong field count"]
            assert [str(c) for c in rejects.get_row_at(1)] == [
                "9",
                "impossible date",
                "2021-02-30,phishing,[red]a[/red]",
            ]
            await pilot.press("down")
            await settle(app, pilot)
            assert "This run rejected no row." in screen_text(app)

    run(go())


def test_alerts_screen_says_when_there_is_no_outbox(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("5")
            await settle(app, pilot)
            text = screen_text(app)
            assert "outbox" in text

    run(go())


def test_help_lists_every_key_of_the_app_and_its_screens():
    from textual.app import App
    from textual.screen import Screen

    from incidents.tui.screens import alerts, base, detail, help, incidents, overview, quarantine, spikes

    classes = (
        App, Screen, IncidentsApp, base.StoreScreen, overview.OverviewScreen, incidents.IncidentsScreen,
        detail.DetailScreen, spikes.SpikesScreen, quarantine.QuarantineScreen, alerts.AlertsScreen,
    )  # fmt: skip
    shown = {k for keys, _ in help.KEYS for k in keys.split()}
    names = {"question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]"}
    for cls in classes:
        for b in cls.BINDINGS:
            for key in b.key.split(","):
                if key.startswith("super+"):  # macOS's copy key, beside ctrl+c
                    continue
                assert names.get(key, key) in shown, f"{cls.__name__}: {key} ({b.action}) is not in the help"
    assert IncidentsApp.COMMAND_PALETTE_BINDING in shown


async def palette_offers(app, pilot, name: str, timeout: float = 30.0) -> None:
    """Wait until the command palette's highlighted command is `name` (the search runs in a worker)."""
    from textual.command import CommandList

    for _ in range(int(timeout / 0.05)):
        await pilot.pause(0.05)
        lists = app.screen.query(CommandList)
        if lists:
            found = lists.first()
            index = found.highlighted
            if (
                index is not None
                and found.option_count
                and name in str(found.get_option_at_index(index).prompt)
            ):
                return
    raise AssertionError(f"the command palette never offered {name!r}")


def test_help_and_command_palette(tui_store):
    async def go():
        app = make_app(tui_store)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await pilot.press("question_mark")
            await pilot.pause(0.1)
            assert "command palette" in screen_text(app)
            await pilot.press("escape")
            await pilot.press("ctrl+p")
            await pilot.press(*"Quarantine")
            await palette_offers(app, pilot, "Quarantine")
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.current_mode == "quarantine"
            # the month moves are commands too
            await pilot.press("1")
            await settle(app, pilot)
            await pilot.press("ctrl+p")
            await pilot.press(*"Next month")
            await palette_offers(app, pilot, "Next month")
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.month == "2020-11" and "November 2020:" in screen_text(app)

    run(go())
