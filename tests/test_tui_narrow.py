"""At 80x24 (analysts work over SSH) nothing an analyst needs is cut off: a reject's whole raw line on the
quarantine screen, the last alert run's outcome on the alerts screen."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable

from incidents import store
from incidents.tui.app import IncidentsApp
from incidents.tui.data import StoreReader
from tests.tui_helpers import screen_text, settle

TAIL = "TAIL-OF-THE-REFUSED-LINE"
# ~300 characters with an ESC and a bidi override in it, and the distinctive tail at the end.
LONG_RAW = "2020-11-05T03:00:00Z,phishing," + "x" * 120 + "\x1b[31m" + "y" * 120 + "\u202e," + TAIL
HUGE_RAW = "z" * 6000


def quarantine_store(path) -> None:
    db = store.open_db(path)
    with db.atomic():
        db.execute(
            "INSERT INTO ingest_runs(id, kind, file, sha256, format, started_at, finished_at, rows_read, "
            "accepted, duplicate, rejected, status) VALUES (1, 'ingest', 'feeds/broken.csv', 'a', 'csv', "
            "'2020-11-01T00:00:00Z', '2020-11-01T00:00:05Z', 4, 1, 0, 3, 'ok')"
        )
        db.execute(
            "INSERT INTO rejects(run_id, line, raw, reason) VALUES (1, 3, ?, 'wrong field count'), "
            "(1, 4, 'short,[red]row[/red]', 'missing timestamp'), (1, 5, ?, 'field larger than field limit')",
            [LONG_RAW, HUGE_RAW],
        )
    db.close()


def test_the_highlighted_reject_is_shown_whole_at_80x24(tmp_path):
    path = tmp_path / "q.db"
    quarantine_store(path)

    async def go():
        app = IncidentsApp(StoreReader(path), month="2020-11", poll=0)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("4")
            await settle(app, pilot)
            text = screen_text(app)
            # The table's raw cell ends at the screen's edge; the pane under it folds the whole line.
            assert TAIL in text, text
            assert "Line 3: wrong field count" in text
            assert "\x1b" not in text and "\u202e" not in text  # escaped, never sent to the terminal
            folded = "".join(line.strip() for line in text.splitlines())
            assert LONG_RAW.replace("\x1b", "\\x1b").replace("\u202e", "\\u202e") in folded

            await pilot.press("enter")  # into the rejects; the pane follows the highlighted row
            await pilot.press("down")
            await settle(app, pilot)
            text = screen_text(app)
            assert "Line 4: missing timestamp" in text and "short,[red]row[/red]" in text
            assert TAIL not in text

            await pilot.press("down")
            await settle(app, pilot)
            pane = app.screen.query_one("#reject-pane")
            assert pane.region.bottom <= 23  # above the footer, on screen
            pane.focus()
            await pilot.press("end")
            await settle(app, pilot)
            assert "6,000" not in screen_text(app)  # the count of the rest, not the length
            assert "`incidents rejects --run 1 --json` prints all" in screen_text(app).replace("\n ", "")
            assert app.screen.query_one("#rejects", DataTable).row_count == 3

    asyncio.run(go())


def outbox_store(path) -> None:
    db = store.open_db(path)
    with db.atomic():
        for i, status in enumerate(("sent", "failed", "pending", "held") * 300):
            db.execute(
                "INSERT INTO alert_outbox(key, kind, subject_key, day, recipient, status, created_at, error, "
                "subject, payload) VALUES (?, 'incident', 'k', '2020-10-01', ?, ?, '2020-10-02T01:00:00Z', "
                "NULL, 'Incident: deface', '{}')",
                [f"k{i}", f"soc{i}@example.vn", status],
            )
        db.execute(
            "INSERT INTO alert_runs(started_at, finished_at, outcome, queued, sent, pending, failed, held) "
            "VALUES ('2020-10-02T03:00:00Z', '2020-10-02T03:00:05Z', 'tempfail', 3, 1, 1, 1, 0)"
        )
    db.close()


def test_the_last_alert_run_and_its_outcome_are_not_cut_at_80x24(tmp_path):
    path = tmp_path / "a.db"
    outbox_store(path)

    async def go(lang: str, outcome: str) -> None:
        app = IncidentsApp(StoreReader(path), month="2020-10", poll=0, lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("5")
            await settle(app, pilot)
            summary = "\n".join(screen_text(app).splitlines()[1:3])
            assert "300" in summary and f"2020-10-02 03:00 {outcome}" in summary, summary

    asyncio.run(go("en", "tempfail"))
    asyncio.run(go("vi", "lỗi tạm thời"))
