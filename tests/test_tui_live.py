"""The TUI beside a writer: new data appears, the TUI never writes or blocks; sizes, colour, language,
snapshots of the main screens, and the `incidents tui` command's errors."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app as cli_app
from incidents.tui.app import IncidentsApp
from incidents.tui.data import StoreReader, TuiDataError
from incidents.tui.fmt import escape_controls, literal
from tests.conftest import add_counts
from tests.tui_helpers import screen_text, settle

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture
def small_store(db_path):
    db = store.open_db(db_path)
    add_counts(db, {("2020-10-01", "phishing"): 3, ("2020-10-02", "deface"): 2})
    db.close()
    return db_path


def test_new_data_from_another_connection_appears(small_store):
    async def go():
        app = IncidentsApp(StoreReader(small_store), month="2020-10", poll=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            assert "October 2020: 5 incidents" in screen_text(app)
            writer = store.open_db(small_store)
            add_counts(writer, {("2020-10-03", "malware"): 4})
            writer.close()
            for _ in range(40):
                await pilot.pause(0.1)
                if "October 2020: 9 incidents" in screen_text(app):
                    break
            assert "October 2020: 9 incidents" in screen_text(app)
            await pilot.press("2")
            await pilot.pause(0.3)
            assert app.screen.total == 9

    asyncio.run(go())


def test_alerts_screen_shows_the_outbox(small_store):
    db = store.open_db(small_store)
    rows = [
        ("sent", "2020-10-02T01:00:00Z", None, "Spike: phishing 2020-10-01"),
        ("failed", "2020-10-02T02:00:00Z", "550 [red]mailbox unavailable[/red]", "Incident: deface"),
        ("pending", "2020-10-02T03:00:00Z", None, None),
    ]
    with db.atomic():
        for i, (status, created, error, subject) in enumerate(rows):
            db.execute(
                "INSERT INTO alert_outbox(key, kind, subject_key, day, recipient, status, created_at, sent_at, "
                "error, subject, payload) VALUES (?, 'spike', 'k', '2020-10-01', ?, ?, ?, ?, ?, ?, ?)",
                [
                    f"k{i}",
                    f"soc{i}@example.vn",
                    status,
                    created,
                    created if status == "sent" else None,
                    error,
                    subject,
                    '{"headline": "phishing: 3 incidents on 2020-10-01"}',
                ],
            )
        db.execute(
            "INSERT INTO alert_runs(started_at, finished_at, outcome, queued, sent, pending, failed, held) "
            "VALUES ('2020-10-02T03:00:00Z', '2020-10-02T03:00:05Z', 'tempfail', 3, 1, 1, 1, 0)"
        )
    db.close()

    async def go():
        app = IncidentsApp(StoreReader(small_store), month="2020-10", poll=0)
        async with app.run_test(size=(100, 24)) as pilot:
            await settle(app, pilot)
            assert "tempfail" in screen_text(app)  # the overview's last alert run
            await pilot.press("5")
            await settle(app, pilot)
            text = screen_text(app)
            assert "sent 1" in text and "pending 1" in text and "failed 1" in text
            table = app.screen.query_one("#alerts")
            statuses = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
            assert statuses == ["pending", "failed", "sent"]  # newest first
            assert table.get_row_at(1)[4].plain == "550 [red]mailbox unavailable[/red]"
            assert table.get_row_at(0)[2].plain == "phishing: 3 incidents on 2020-10-01"

    asyncio.run(go())


def test_the_tui_only_reads_and_never_blocks_a_writer(small_store):
    before = hashlib.sha256(Path(small_store).read_bytes()).hexdigest()

    async def go():
        app = IncidentsApp(StoreReader(small_store), month="2020-10", poll=0.05)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            # A writer takes the write lock at once while the TUI polls and pages.
            writer = sqlite3.connect(small_store, timeout=0)
            for _ in range(5):
                writer.execute("BEGIN IMMEDIATE")
                writer.execute("INSERT INTO meta(key, value) VALUES ('probe', 'x') ON CONFLICT DO NOTHING")
                writer.rollback()
                await pilot.press("2")
                await pilot.pause(0.05)
                await pilot.press("1")
            writer.close()

    asyncio.run(go())
    assert hashlib.sha256(Path(small_store).read_bytes()).hexdigest() == before


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(TuiDataError, match="without the incidents schema"):
        StoreReader(other)
    with sqlite3.connect(other) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["t"]
    result = CliRunner().invoke(cli_app, ["tui", "--db", str(other)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"Error: {other} is an SQLite database without the incidents"
    )
    result = CliRunner().invoke(cli_app, ["tui", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 1 and result.stderr.startswith("Error: no database at")
    assert not (tmp_path / "missing.db").exists()
    result = CliRunner().invoke(cli_app, ["tui", "--db", str(other), "--month", "2020-13"])
    assert result.exit_code == 2
    result = CliRunner().invoke(cli_app, ["tui", "--lang", "fr"])
    assert result.exit_code == 2


def test_fields_are_text_not_markup_and_controls_are_escaped():
    assert escape_controls("a\x1b[31mb\nc\u202e") == "a\\x1b[31mb\\nc\\u202e"
    assert literal("[/red][link=http://x]y").plain == "[/red][link=http://x]y"
    assert literal(None).plain == "-"


def test_vietnamese_labels_and_number_formats(tui_store):
    async def go():
        app = IncidentsApp(StoreReader(tui_store), month="2020-10", lang="vi", poll=0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            text = screen_text(app)
            assert "Tháng 10/2020:" in text
            assert "Lừa đảo" in text and "Tổng" in text
            ytd = app.screen.query_one("#figures").get_row("total")[4].plain
            assert re.fullmatch(r"\d{1,3}(\.\d{3})+", ytd), ytd  # 1.234, not 1,234
            assert re.search(r"[+-]\d+,\d\d%", text)
            # the notes and the spike sentences in the bulletin's Vietnamese words, not English
            assert "Không có số liệu cùng kỳ năm 2019 để so sánh." in text
            assert "no data for" not in text
            await pilot.press("3")
            await settle(app, pilot)
            text = screen_text(app)
            assert "Lừa đảo: 40 sự cố ngày 20/11/2020, dự kiến 4, ngưỡng trên 12" in text
            # incidents: severities and sectors in Vietnamese; the detail's labels too
            await pilot.press("2")
            await settle(app, pilot)
            row = [c.plain for c in app.screen.query_one("#incidents").get_row_at(0)]
            assert row[2] in ("thấp", "trung bình", "cao", "nghiêm trọng"), row
            assert row[4] in ("Cơ quan nhà nước", "Giáo dục", "Tài chính, ngân hàng"), row
            await pilot.press("enter")
            await settle(app, pilot)
            text = screen_text(app)
            for label in ("Mã", "Kiểu RSIT", "Kiểu mục tiêu", "Lần nạp", "Bản ghi gốc"):
                assert label in text, label
            assert "target kind" not in text and "RSIT type" not in text

    asyncio.run(go())


def test_large_terminal_and_no_color(tui_store, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def go():
        app = IncidentsApp(StoreReader(tui_store), month="2020-11", poll=0)
        async with app.run_test(size=(200, 60)) as pilot:
            await settle(app, pilot)
            assert app.no_color
            text = screen_text(app)
            # everything of the overview fits at once: figures, chart, spikes, runs
            for part in (
                "November 2020:",
                "Last 13 months",
                "Latest spike alarms",
                "Last runs",
                "feeds/broken.csv",
            ):
                assert part in text

    asyncio.run(go())


def normalise(svg: str) -> str:
    """An SVG screenshot without what changes between runs: rich's per-export ids, and the time the
    fixture's spike verdicts were judged (shown as 'judged YYYY-MM-DD HH:MM UTC')."""
    svg = re.sub(r"terminal-\d+", "terminal", svg)
    return re.sub(r"\d{4}-\d\d-\d\d(&#160;| )\d\d:\d\d(&#160;| )UTC", "TIME", svg)


@pytest.mark.parametrize(
    "keys,name",
    [
        ((), "overview"),
        (("2",), "incidents"),
        (("3",), "spikes"),
        (("4",), "quarantine"),
    ],
)
def test_snapshots_of_the_main_screens(tui_store, keys, name):
    async def go():
        app = IncidentsApp(StoreReader(tui_store), month="2020-11", poll=0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            for key in keys:
                await pilot.press(key)
                await settle(app, pilot)
            app.screen.query_one("Footer")  # rendered
            return app.export_screenshot(title=f"incidents tui — {name}")

    svg = normalise(asyncio.run(go()))
    path = SNAPSHOTS / f"tui-{name}.svg"
    if os.environ.get("TUI_SNAPSHOT_UPDATE") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        if not os.environ.get("TUI_SNAPSHOT_UPDATE"):
            pytest.fail(f"wrote the missing snapshot {path}; run again (TUI_SNAPSHOT_UPDATE=1 rewrites them)")
    assert svg == path.read_text(encoding="utf-8"), (
        f"the {name} screen looks different from {path}; if the change is wanted, rerun with TUI_SNAPSHOT_UPDATE=1"
    )
