"""Readers never count the rows of an ingest run that did not complete (issue 15 points 1 and 6).

A large file is committed in batches under a run marked `ok` only at its end. A real `incidents ingest`
is killed with SIGKILL after some of its batches were committed (one of them a correction of a stored
record, one a rejected row); until the next writer undoes the run, every reader (`stats`, `list` with
and without the target search, `show`, `rejects`, `bulletin`, `spikes`, the TUI's StoreReader) shows
exactly what it showed before the run began. The raw store is checked to hold the dead run's rows, so
the test cannot pass by a kill that came too early.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents.cli import app
from incidents.search import IncidentFilter
from incidents.tui.data import StoreReader

pytestmark = [pytest.mark.crash, pytest.mark.slow]
HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description\n"
runner = CliRunner()


def feed(path: Path, prefix: str, name: str, rows: int, first: str = "") -> Path:
    with open(path, "w") as fh:
        fh.write(HEADER + first)
        for i in range(rows):
            category = ("phishing", "deface", "malware")[i % 3]
            fh.write(
                f"{prefix}{i},2020-10-{1 + i % 28:02d}T0{i % 9}:00:00Z,{category},{prefix}host{i}.example.vn,"
                f"government,{name},high,new,203.0.113.{i % 250},record {i}\n"
            )
    return path


def invoke(*args: str) -> str:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, (args, r.stderr, r.exception)
    return r.stdout


def views(db: Path, corrected: str) -> dict:
    """What every reader shows."""
    d = str(db)
    out = {
        "stats": json.loads(invoke("stats", "--db", d, "--month", "2020-10", "--json")),
        "list": invoke("list", "--db", d, "--all", "--csv"),
        "list_json": json.loads(invoke("list", "--db", d, "--json", "--limit", "5"))["total"],
        "target": invoke("list", "--db", d, "--target", "ahost1", "--all", "--csv"),
        "show": json.loads(invoke("show", corrected, "--db", d, "--json")),
        "rejects": json.loads(invoke("rejects", "--db", d, "--json")),
        "bulletin": json.loads(invoke("bulletin", "--db", d, "--month", "2020-10", "--lang", "en", "--format", "json")),
        "spikes": json.loads(invoke("spikes", "--db", d, "--since", "2020-10-01", "--days", "--json")),
    }  # fmt: skip
    for key in ("generated_at", "issued", "judged_at"):
        out["bulletin"].pop(key, None)
    for key in ("judged_at", "source"):  # judged now or read as kept: the same verdicts either way
        out["spikes"].get("verdicts", {}).pop(key, None)
    reader = StoreReader(db)
    try:
        out["tui_month"] = reader.month_report("2020-10").as_dict()
        out["tui_count"] = reader.count_incidents(IncidentFilter())
        out["tui_page"] = [r["id"] for r in reader.find_incidents(IncidentFilter(), limit=1000)]
        out["tui_target"] = reader.count_incidents(IncidentFilter(target="ahost1"))
        out["tui_incident"] = reader.get_incident(corrected)["target"]
        out["tui_span"] = reader.data_span()
    finally:
        reader.close()
    return out


def raw(db: Path) -> dict:
    conn = sqlite3.connect(db)
    try:
        running = [r[0] for r in conn.execute("SELECT id FROM ingest_runs WHERE status = 'running'")]
        marks = ",".join("?" * len(running))
        rows = conn.execute(f"SELECT count(*) FROM incidents WHERE run_id IN ({marks})", running).fetchone()[
            0
        ]
        history = conn.execute(
            f"SELECT count(*) FROM incident_history WHERE run_id IN ({marks})", running
        ).fetchone()[0]
        return {"running": running, "rows": rows, "history": history}
    finally:
        conn.close()


def test_readers_do_not_count_a_killed_runs_committed_batches(tmp_path):
    db = tmp_path / "store.db"
    first = feed(tmp_path / "a.csv", "a", "feedA", 300)
    invoke("ingest", "--db", str(db), str(first))
    corrected = json.loads(invoke("list", "--db", str(db), "--target", "ahost1.example.vn", "--json"))
    corrected = next(r["id"] for r in corrected["incidents"] if r["target"] == "ahost1.example.vn")
    before = views(db, corrected)
    assert before["stats"] and before["list_json"] == 300

    # The big file: a correction of a1 (same feed and record id, another target), a bad row, then rows.
    head = (
        "a1,2020-10-02T01:00:00Z,deface,corrected.example.vn,government,feedA,high,new,203.0.113.1,fixed\n"
        "bad,not a time,deface,x.example.vn,government,feedB,high,new,203.0.113.1,bad\n"
    )
    big = feed(tmp_path / "b.csv", "b", "feedB", 60_000, first=head)
    env = {**os.environ, "INCIDENTS_INGEST_COMMIT_ROWS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidents.cli", "ingest", "--db", str(db), str(big)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            state = raw(db)
            if state["rows"] >= 1000 and state["history"]:
                break
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    state = raw(db)
    assert len(state["running"]) == 1 and state["rows"] >= 1000 and state["history"] >= 1, state

    after_kill = views(db, corrected)
    for key, value in before.items():
        assert after_kill[key] == value, key
    assert raw(db) == state, "readers left the store as it was"

    # The next writer undoes the dead run; readers still see the same.
    invoke("ingest", "--db", str(db), str(first))
    assert raw(db)["running"] == [] and raw(db)["rows"] == 0
    final = views(db, corrected)
    for key, value in before.items():
        assert final[key] == value, (key, final[key], value)
