"""Ingest under a busy store, crashes and concurrent runs: batches committed under a run that counts
only when complete; a file is all in or all out; a busy store gives exit 75, never a traceback."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents import ingest, store
from incidents.cli import app
from incidents.ingest import ingest_file

HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description"


def big_csv(path: Path, n: int, *, bad_last: bool = False, prefix: str = "h") -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER + "\n")
        fh.writelines(
            f"{prefix}{i},2020-10-{1 + i % 28:02d}T10:00:00+07:00,deface,{prefix}{i}.example.vn,gov,feedA,high,new,,x\n"
            for i in range(n)
        )
        if bad_last:
            fh.write("bad,2020-10-01T10:00:00+07:00,nosuchcategory,z.example.vn,gov,feedA,high,new,,x\n")
    return path


def hold_write_lock(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, timeout=0.1, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_busy_store_gives_one_error_line_per_file_and_exit_75(tmp_path):
    db_path = tmp_path / "t.db"
    store.open_db(db_path).close()
    a, b = big_csv(tmp_path / "a.csv", 3), big_csv(tmp_path / "b.csv", 4, prefix="k")
    blocker = hold_write_lock(db_path)
    try:
        result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), "--wait", "0.5", str(a), str(b)])
    finally:
        blocker.rollback()
    assert result.exit_code == 75, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 2 and all("the store is busy" in e for e in errors)
    assert "Note:" in result.stderr and "waiting up to 0 s" not in result.stderr
    assert "Traceback" not in result.output
    # Later, with the store free, the same command does the work.
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(a), str(b)])
    assert result.exit_code == 0 and store.count_incidents(store.open_db(db_path)) == 7


def test_a_writer_waits_for_the_other_and_says_so(db, db_path, tmp_path):
    blocker = hold_write_lock(db_path)
    threading.Timer(3.0, blocker.rollback).start()  # longer than one 2 s attempt
    told = []
    r = ingest_file(db, big_csv(tmp_path / "a.csv", 5), wait=30, on_wait=told.append)
    assert r.status == "ok" and r.accepted == 5
    assert len(told) == 1 and "busy" in told[0]


def test_batches_are_committed_yet_a_strict_refusal_leaves_nothing(db, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "COMMIT_ROWS", 10)
    monkeypatch.setattr(ingest, "BATCH", 7)
    r = ingest_file(db, big_csv(tmp_path / "a.csv", 100, bad_last=True), strict=True)
    assert r.status == "refused"
    assert store.count_incidents(db) == 0
    assert db.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0


def test_undoing_a_run_puts_back_what_its_corrections_replaced(db, shared_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "COMMIT_ROWS", 5)
    monkeypatch.setattr(ingest, "BATCH", 3)
    ingest_file(db, shared_dir / "cases" / "hostile" / "36-A.csv")
    corrected = tmp_path / "corrected.csv"
    text = (shared_dir / "cases" / "hostile" / "36-A-day-corrected.csv").read_text(encoding="utf-8")
    corrected.write_text(
        text + "bad,2020-10-01T10:00:00+07:00,nosuch,z.vn,gov,feedA,high,new,,x\n", encoding="utf-8"
    )
    r = ingest_file(db, corrected, strict=True)
    assert r.status == "refused"
    assert store.count_incidents(db) == 100
    (day,) = db.execute("SELECT day FROM incidents WHERE target = 't0.example.vn'").fetchone()
    assert day == "2020-10-01"
    assert db.execute("SELECT count(*) FROM incident_history").fetchone()[0] == 0


def run_ingest(db_path: Path, *files: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "incidents.cli", "ingest", "--db", str(db_path), "--json", *map(str, files)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_kill_9_mid_file_then_the_next_ingest_undoes_it(tmp_path):
    db_path = tmp_path / "t.db"
    store.open_db(db_path).close()
    big = big_csv(tmp_path / "big.csv", 40_000)
    proc = run_ingest(db_path, big, env={"INCIDENTS_INGEST_COMMIT_ROWS": "2000"})
    conn = sqlite3.connect(db_path, timeout=5)
    deadline = time.monotonic() + 60
    partial = 0
    while time.monotonic() < deadline and proc.poll() is None:
        partial = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        if partial:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < partial < 40_000, "the kill came too late to test a partial file"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    small = big_csv(tmp_path / "small.csv", 3, prefix="s")
    done = run_ingest(db_path, small)
    assert done.wait(60) == 0, done.stderr.read()
    # The dead run's batches are gone: the store holds the small file's 3 rows only.
    assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 3
    assert conn.execute("SELECT status FROM ingest_runs ORDER BY id").fetchall() == [("aborted",), ("ok",)]
    again = run_ingest(db_path, big)
    assert again.wait(120) == 0, again.stderr.read()
    assert (
        conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 40_003
    )  # as a clean run: big + small


@pytest.mark.slow
def test_the_same_file_twice_at_once_is_ingested_once(tmp_path):
    db_path = tmp_path / "t.db"
    store.open_db(db_path).close()
    big = big_csv(tmp_path / "big.csv", 20_000)
    env = {"INCIDENTS_INGEST_COMMIT_ROWS": "1000"}
    first, second = run_ingest(db_path, big, env=env), run_ingest(db_path, big, env=env)
    assert first.wait(120) == 0 and second.wait(120) == 0
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT status FROM ingest_runs").fetchall() == [("ok",)]
    assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 20_000
    notes = first.stderr.read() + second.stderr.read()
    assert "being ingested right now" in notes and "Traceback" not in notes


@pytest.mark.parametrize("value", ["abc", "", "-5", "1e3"])
def test_a_mistyped_commit_rows_setting_is_ignored_not_a_traceback(tmp_path, value):
    """Probe finding: INCIDENTS_INGEST_COMMIT_ROWS=abc made every ingest die with a traceback at import."""
    db_path = tmp_path / "t.db"
    src = big_csv(tmp_path / "small.csv", 3)
    proc = run_ingest(db_path, src, env={"INCIDENTS_INGEST_COMMIT_ROWS": value})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 3
    conn.close()
