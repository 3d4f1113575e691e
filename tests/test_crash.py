"""kill -9 at random moments of `incidents ingest` and `incidents scan` (issue 15 point 1).

Each writing command runs as a real process on inputs large enough to take seconds, and is killed with
SIGKILL after a random delay within its clean running time. After every kill:
- `PRAGMA integrity_check` and FTS5's own integrity check pass;
- each input file is in completely or not at all (compared with what each file stores on its own), and
  nothing else is stored beside the rows of the run the kill interrupted (which the next run undoes);
and the next run that completes ends with exactly the clean run's incidents (none lost, none doubled).
Kills are counted only when the process was still running; the figures are in the run's summary ("figures").
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description"
pytestmark = [pytest.mark.crash, pytest.mark.slow]

CMD = [sys.executable, "-m", "incidents.cli"]


def make_feed(path: Path, k: int, rows: int) -> Path:
    rng = random.Random(k)
    categories = ("phishing", "deface", "malware", "intrusion")
    with open(path, "w") as fh:
        fh.write(HEADER + "\n")
        fh.writelines(
            f"f{k}-{i},2020-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z,"
            f"{rng.choice(categories)},f{k}-host{i}.example.vn,government,feed{k},high,new,"
            f"203.0.113.{i % 250},Mô tả sự cố {i}\n"
            for i in range(rows)
        )
    return path


def state(db: Path) -> dict:
    """Integrity, the files stored (ok runs, in order), runs left running, and the incident ids.

    `ids` are the incidents of completed runs; `pending` those of a run a kill left 'running' (ingest
    commits a large file in batches under one run, and the next ingest undoes such a run).
    """
    conn = sqlite3.connect(db, timeout=30)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "ingest_runs" not in tables:  # killed before the first migration committed: nothing stored
            return {"integrity": integrity, "files": [], "running": 0, "ids": [], "pending": []}
        if "incidents_target" in tables:
            conn.execute("INSERT INTO incidents_target(incidents_target, rank) VALUES ('integrity-check', 1)")
        status = dict(conn.execute("SELECT id, status FROM ingest_runs"))
        rows = conn.execute("SELECT id, run_id FROM incidents").fetchall()
        return {
            "integrity": integrity,
            "files": [
                r[0] for r in conn.execute("SELECT file FROM ingest_runs WHERE status = 'ok' ORDER BY id")
            ],
            "running": sum(1 for s in status.values() if s == "running"),
            "ids": [i for i, run in rows if status.get(run) != "running"],
            "pending": [i for i, run in rows if status.get(run) == "running"],
        }
    finally:
        conn.close()


def run_or_kill(args: list[str], delay: float | None, *, ok: tuple[int, ...] = (0, 1)) -> bool:
    """Run `incidents ARGS`; with `delay`, SIGKILL it after that many seconds. True if it was killed
    running. Run to its end, it must exit with a code in `ok` and print no traceback."""
    proc = subprocess.Popen([*CMD, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if delay is None:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode in ok, err.decode()[-2000:]
        assert b"Traceback" not in err, err.decode()[-2000:]
        return False
    try:
        proc.wait(timeout=delay)
        proc.communicate()
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        return True


def kill_loop(tmp_path: Path, args_for, files: list[Path], kills_wanted: int, seed: int) -> dict:
    """Kill the command `kills_wanted` times; check the store after each kill and after each completion."""
    clean = tmp_path / "clean.db"
    started = time.monotonic()
    run_or_kill([*args_for(clean), *map(str, files)], None)
    duration = time.monotonic() - started
    clean_state = state(clean)
    # What each file stores on its own (a clean run of that file alone): after a kill, every file with a
    # completed run is in completely, and nothing else is stored beside the interrupted run's rows.
    file_ids = {}
    for k, f in enumerate(files):
        alone = tmp_path / f"alone{k}.db"
        run_or_kill([*args_for(alone), str(f)], None)
        file_ids[str(f)] = set(state(alone)["ids"])
    assert set().union(*file_ids.values()) == set(clean_state["ids"])

    rng = random.Random(seed)
    figures = {
        "kills": 0,
        "completed_reruns": 0,
        "lost": 0,
        "doubled": 0,
        "mid_file": 0,
        "left_running": 0,
        "stale_running": 0,
    }
    store_n = 0
    db = tmp_path / "s0.db"
    while figures["kills"] < kills_wanted:
        delay = rng.uniform(0.1, 0.9) * duration
        killed = run_or_kill([*args_for(db), *map(str, files)], delay)
        s = (
            state(db)
            if db.exists()
            else {"integrity": "ok", "files": [], "running": 0, "ids": [], "pending": []}
        )
        assert s["integrity"] == "ok"
        assert s["running"] <= 1, "at most the run the kill interrupted is left running"
        figures["left_running"] += s["running"]
        done = set(s["files"])
        assert done <= set(map(str, files))
        ids = s["ids"]
        figures["doubled"] += len(ids) - len(set(ids))
        for f in done:
            assert file_ids[f] <= set(ids) | set(s["pending"]), f"{f} has a completed run: all of it is in"
        allowed = set().union(*(file_ids[f] for f in done)) if done else set()
        assert set(ids) <= allowed, "no incident stored outside the completed files and the interrupted run"
        if killed:
            figures["kills"] += 1
            figures["mid_file"] += len(done) < len(files)
        else:  # a completed re-run: the clean totals, then a fresh store for the next kills
            # A completed run undoes an interrupted one (counted, asserted at the end).
            figures["stale_running"] += s["running"]
            figures["completed_reruns"] += 1
            figures["lost"] += len(set(clean_state["ids"]) - set(ids))
            assert set(ids) == set(clean_state["ids"])
            store_n += 1
            db = tmp_path / f"s{store_n}.db"
    # The last killed store, finished by a re-run, ends with the clean totals.
    run_or_kill([*args_for(db), *map(str, files)], None)
    final = state(db)
    figures["lost"] += len(set(clean_state["ids"]) - set(final["ids"]))
    figures["doubled"] += len(final["ids"]) - len(set(final["ids"]))
    assert sorted(final["ids"]) == sorted(clean_state["ids"]) and final["integrity"] == "ok"
    figures["stale_running"] += final["running"]
    figures["clean_seconds"] = round(duration, 1)
    return figures


def test_kill_9_during_ingest(tmp_path, monkeypatch, figures):
    # Batches of 1,000 rows, so that kills land between the committed batches of one file's run too.
    monkeypatch.setenv("INCIDENTS_INGEST_COMMIT_ROWS", "1000")
    files = [make_feed(tmp_path / f"feed{k}.csv", k, 5_000) for k in range(3)]
    counts = kill_loop(tmp_path, lambda db: ["ingest", "--db", str(db)], files, kills_wanted=12, seed=15)
    figures(f"kill -9 during ingest: {counts}")
    assert counts["kills"] == 12 and counts["lost"] == 0 and counts["doubled"] == 0
    assert counts["stale_running"] == 0, "a completed run left an interrupted run 'running'"


def auth_generator():
    spec = importlib.util.spec_from_file_location(
        "make_sample_logs", ROOT / "scripts" / "make_sample_logs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kill_9_during_scan(tmp_path, figures):
    gen = auth_generator()
    files = []
    for k in range(2):
        path = tmp_path / f"auth{k}.log"
        with open(path, "w") as fh:
            fh.writelines(gen.auth_lines(20_000, seed=k + 1))
        files.append(path)
    counts = kill_loop(
        tmp_path, lambda db: ["scan", "--year", "2020", "--db", str(db)], files, kills_wanted=10, seed=16
    )
    figures(f"kill -9 during scan: {counts}")
    assert counts["kills"] == 10 and counts["lost"] == 0 and counts["doubled"] == 0
    assert counts["stale_running"] == 0, "a completed run left an interrupted run 'running'"
