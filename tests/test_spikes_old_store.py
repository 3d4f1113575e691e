"""`incidents spikes` keeps verdicts, so on an older-release store it is a writing command (issue 15
probe finding 10): it migrates after the `VACUUM INTO` backup, as ingest does (store.open_db), or, when it
cannot write the store, judges in memory and leaves the file as it was."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents.cli import app
from incidents.migrations import MIGRATIONS
from tests.test_store_opening import pragma, release1_store

runner = CliRunner()
# The last release before this one: its store already has the kept-verdict tables, so judging could write
# into it directly; it must be upgraded (after a backup copy) first.
PREVIOUS = len(MIGRATIONS) - 1


def version(path: Path) -> int:
    return pragma(path, "user_version")


def test_spikes_on_an_older_store_backs_it_up_then_migrates_it(tmp_path):
    path = release1_store(tmp_path / "old.db", version=PREVIOUS)
    r = runner.invoke(app, ["spikes", "--db", str(path), "--since", "2020-10-01"])
    assert r.exit_code == 0, r.output
    backup = tmp_path / f"old.db.v{PREVIOUS}-backup.db"
    assert backup.exists(), sorted(p.name for p in tmp_path.iterdir())
    assert version(backup) == PREVIOUS and version(path) == len(MIGRATIONS)
    conn = sqlite3.connect(backup)
    assert (
        conn.execute("SELECT count(*) FROM spike_days").fetchone()[0] == 0
    )  # the copy is the store as it was
    conn.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM spike_days").fetchone()[0] > 0
    conn.close()


def test_spikes_on_an_older_store_it_cannot_write_judges_in_memory(tmp_path):
    path = release1_store(tmp_path / "old.db", version=PREVIOUS)
    path.chmod(0o444)
    if os.access(path, os.W_OK) and os.geteuid() != 0:
        pytest.skip("this user writes through a 0444 mode")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = runner.invoke(app, ["spikes", "--db", str(path), "--since", "2020-10-01"])
    assert r.exit_code == 0, r.output
    assert "judged in memory and not kept" in r.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before and version(path) == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]
