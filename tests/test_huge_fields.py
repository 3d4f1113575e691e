"""A huge field never hangs `show`, `list` or the TUI (issue 15, probe finding 6).

(a) One field limit for every format (incidents.ingest.formats.FIELD_LIMIT, 16 MiB characters): a longer
value quarantines its record with the reason, in CSV, JSON Lines and JSON alike; the other rows go in.
(b) What a screen shows of one value is cut at incidents.controls.DISPLAY_CHARS with "… (N more
characters; use --json for all)"; `--json` prints every character. The commands run in subprocesses
bounded by their own timeout: a hang fails the test, no timing is asserted.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents.cli import app
from incidents.controls import DISPLAY_CHARS
from incidents.ingest.formats import FIELD_LIMIT

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
BIG = 3_000_000
OVER = 20_000_000


def record(n: int, size: int = 10) -> dict:
    return {
        "id": f"r{n}",
        "time": "2020-10-05T01:00:00Z",
        "category": "deface",
        "target": f"site{n}.gov.vn",
        "description": "A" * size,
    }


def write(path: Path, fmt: str, records: list[dict]) -> Path:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    elif fmt == "json":
        path.write_text(json.dumps(records))
    else:
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    return path


def incidents(*args: str, columns: int = 100) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "incidents.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_one_field_limit_for_every_format(tmp_path, fmt):
    assert OVER > FIELD_LIMIT > BIG
    src = write(tmp_path / f"big.{fmt}", fmt, [record(0), record(1, BIG), record(2, OVER), record(3)])
    db = tmp_path / "s.db"
    r = runner.invoke(app, ["ingest", "--db", str(db), "--json", str(src)])
    assert r.exit_code == 0, r.stderr
    (result,) = json.loads(r.stdout)["files"] if "files" in r.stdout else json.loads(r.stdout)
    assert (result["accepted"], result["rejected"]) == (3, 1)
    with sqlite3.connect(db) as conn:
        ((reason, raw_size),) = conn.execute("select reason, length(raw) from rejects").fetchall()
    assert "larger than field limit (16777216" in reason
    assert raw_size <= 1000


@pytest.fixture(scope="module")
def big_store(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("big")
    src = write(folder / "big.jsonl", "jsonl", [record(0), record(1, BIG), record(3)])
    db = folder / "s.db"
    r = runner.invoke(app, ["ingest", "--db", str(db), str(src)])
    assert r.exit_code == 0, r.stderr
    with sqlite3.connect(db) as conn:
        (incident_id,) = conn.execute("select id from incidents where target = 'site1.gov.vn'").fetchone()
    return db, incident_id


def test_show_cuts_a_long_field_and_json_prints_it_all(big_store):
    db, incident_id = big_store
    r = incidents("show", "--db", str(db), incident_id, columns=3 * DISPLAY_CHARS)  # one line a value
    assert r.returncode == 0, r.stderr
    assert f"{'A' * DISPLAY_CHARS}… ({BIG - DISPLAY_CHARS:,} more characters; use --json for all)" in r.stdout
    assert r.stdout.count("more characters; use --json for all)") == 2  # and its line in the original record
    assert len(r.stdout) < 40 * DISPLAY_CHARS
    r = incidents("show", "--db", str(db), incident_id, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data["description"]) == BIG and len(data["record"]["description"]) == BIG


def test_list_with_a_long_field_is_a_page(big_store):
    db, _ = big_store
    r = incidents("list", "--db", str(db), "--all")
    assert r.returncode == 0, r.stderr
    assert "site1.gov.vn" in r.stdout and len(r.stdout) < 20 * DISPLAY_CHARS


def test_the_tui_incident_screen_cuts_a_long_field_and_stays_responsive(big_store):
    from incidents.tui.app import IncidentsApp
    from incidents.tui.data import StoreReader
    from incidents.tui.screens.detail import DetailScreen, record_text
    from tests.tui_helpers import screen_text, settle

    db, incident_id = big_store

    async def go():
        tui = IncidentsApp(StoreReader(db), month="2020-10", poll=0)
        async with tui.run_test(size=(80, 24)) as pilot:
            await settle(tui, pilot)
            home = tui.screen
            tui.push_screen(DetailScreen(incident_id))
            await settle(tui, pilot)
            assert isinstance(tui.screen, DetailScreen)
            assert "site1.gov.vn" in screen_text(tui)
            await pilot.press("escape")
            await pilot.pause()
            assert tui.screen is home

    asyncio.run(asyncio.wait_for(go(), timeout=120))
    with sqlite3.connect(db) as conn:
        (raw,) = conn.execute("select raw from incidents where id = ?", (incident_id,)).fetchone()
    shown = record_text(raw).plain
    assert len(shown) < 2 * DISPLAY_CHARS + 1000
    assert "more characters; `incidents show ID --json` prints all)" in shown
