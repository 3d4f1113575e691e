"""`incidents bulletin` is a read command (README: read commands never write): it neither migrates an
older-release store, nor keeps spike verdicts for days not judged yet (they are judged in memory, as the
TUI does), nor waits for another process's write lock. Real store files, CliRunner and subprocesses."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from incidents.migrations import MIGRATIONS
from tests.test_bulletin import incident_rows, seed
from tests.test_spikes_old_store import version
from tests.test_store_busy import run_cli, write_lock_held
from tests.test_store_opening import release1_store

runner = CliRunner()
MONTH = ["bulletin", "--month", "2020-10", "--issued", "2020-11-05"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def unjudged(tmp_path_factory) -> Path:
    """A current store, two years of steady counts plus 80 phishing incidents on 2020-10-14, whose days
    `incidents spikes` has never judged (no kept verdict)."""
    path = tmp_path_factory.mktemp("unjudged") / "store.db"
    db = store.open_db(path)
    seed(db)
    with db.atomic():
        store.add_incidents(db, incident_rows({("2020-10-14", "phishing"): 80}, salt="spike"))
    db.close()
    return path


def fresh_copy(src: Path, folder: Path) -> Path:
    folder.mkdir()
    return Path(shutil.copy2(src, folder / src.name))


def kept_rows(path: Path, table: str) -> int:
    import sqlite3

    # immutable=1: this look creates no -wal/-shm of its own (nobody writes the copy meanwhile)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("old", [len(MIGRATIONS) - 1, 1], ids=["previous-release", "release-1"])
def test_bulletin_leaves_an_older_store_byte_identical(tmp_path, old):
    path = release1_store(tmp_path / "old.db", version=old)
    before, listing = digest(path), files(tmp_path)
    r = runner.invoke(app, [*MONTH, "--lang", "en", "--db", str(path)])
    assert digest(path) == before and files(tmp_path) == listing == ["old.db"], r.output
    assert version(path) == old
    if old == len(MIGRATIONS) - 1:  # the last release's store is read as it is
        assert r.exit_code == 0, r.output
        assert "1 cyber-attack incident" in r.stdout


def test_bulletin_judges_new_days_in_memory_and_says_what_kept_verdicts_say(tmp_path, unjudged):
    path = fresh_copy(unjudged, tmp_path / "read")
    before, listing = digest(path), files(path.parent)
    assert kept_rows(path, "spike_feed_days") == 0 and kept_rows(path, "spike_targets") == 0
    md = runner.invoke(app, [*MONTH, "--lang", "en", "--db", str(path)])
    js = runner.invoke(app, [*MONTH, "--format", "json", "--edition", "internal", "--db", str(path)])
    assert md.exit_code == 0 and js.exit_code == 0, md.output + js.output
    assert digest(path) == before and files(path.parent) == listing == ["store.db"]
    assert kept_rows(path, "spike_feed_days") == 0 and kept_rows(path, "spike_targets") == 0

    kept = fresh_copy(unjudged, tmp_path / "kept")
    r = runner.invoke(app, ["spikes", "--db", str(kept), "--since", "2020-10-01"])
    assert r.exit_code == 0, r.output
    assert kept_rows(kept, "spike_feed_days") > 0  # the copy now holds fresh kept verdicts
    md_kept = runner.invoke(app, [*MONTH, "--lang", "en", "--db", str(kept)])
    js_kept = runner.invoke(app, [*MONTH, "--format", "json", "--edition", "internal", "--db", str(kept)])
    assert md_kept.exit_code == 0 and js_kept.exit_code == 0, md_kept.output + js_kept.output

    spikes, spikes_kept = json.loads(js.stdout)["spikes"], json.loads(js_kept.stdout)["spikes"]
    assert spikes == spikes_kept
    assert "2020-10-14" in {a["date"] for a in spikes["values"]}
    assert md.stdout == md_kept.stdout  # figures and spike text alike


def test_bulletin_reads_while_another_process_holds_the_write_lock(tmp_path, unjudged):
    path = fresh_copy(unjudged, tmp_path / "busy")
    with write_lock_held(path):
        r, _ = run_cli([*MONTH, "--lang", "en", "--db", str(path)], timeout_s="2")
    assert r.returncode == 0, r.stderr
    assert "582" not in r.stderr and "busy" not in r.stderr
    assert "cyber-attack incidents" in r.stdout and "phishing" in r.stdout
    assert kept_rows(path, "spike_feed_days") == 0
