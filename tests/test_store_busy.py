"""Every writer waits for a busy store the same way (store_lock, issue 15 probe findings 1 and 2).

scan, alert, published import and spikes (keeping verdicts) wait $INCIDENTS_BUSY_TIMEOUT seconds with a
`Note:` line on stderr, then give one `Error:` line (per file, for commands given several) and exit 75,
never SQLite's "database is locked"; a command given several files goes on with the next ones.
Real processes: one holds the write lock (BEGIN IMMEDIATE), the command runs as the console script does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.smtpd import smtp_table

pytestmark = pytest.mark.concurrency

AUTH = "Oct  5 01:00:{s:02d} web1 sshd[1]: Failed password for root from 198.51.100.{ip} port 22 ssh2\n"
HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description"


def run_cli(args: list[str], timeout_s: str = "1") -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "INCIDENTS_BUSY_TIMEOUT": timeout_s}
    started = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-c", "from incidents.cli import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    return r, time.monotonic() - started


@contextmanager
def write_lock_held(path: Path):
    """Another process holding the store's write lock (an ingest in the middle of a file)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
                " c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(60)"
            ),
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()


def store_with_incidents(tmp_path: Path) -> Path:
    path = tmp_path / "s.db"
    rows = tmp_path / "rows.csv"
    rows.write_text(
        HEADER
        + "\n"
        + "".join(
            f"r{i},2020-10-{1 + i % 28:02d}T01:00:00Z,phishing,h{i}.gov.vn,government,feed,high,new,,x\n"
            for i in range(40)
        )
    )
    r, _ = run_cli(["ingest", str(rows), "--db", str(path)])
    assert r.returncode == 0, r.stderr
    return path


def assert_busy(r: subprocess.CompletedProcess, errors: int = 1) -> list[str]:
    assert r.returncode == 75, r.stderr
    assert "locked" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert any(line.startswith("Note: ") and "busy" in line for line in r.stderr.splitlines()), r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == errors and all("the store is busy" in line for line in lines), r.stderr
    return lines


def test_scan_of_several_files_on_a_busy_store_reports_each_and_exits_75(tmp_path):
    path = store_with_incidents(tmp_path)
    logs = []
    for n in range(2):
        log = tmp_path / f"auth{n}.log"
        log.write_text("".join(AUTH.format(s=s, ip=n + 1) for s in range(30)))
        logs.append(log)
    with write_lock_held(path):
        r, took = run_cli(["scan", *map(str, logs), "--year", "2020", "--db", str(path)])
    errors = assert_busy(r, errors=2)
    assert [str(log) in line for log, line in zip(logs, errors)] == [True, True]
    assert took < 30  # 1 s per file, not SQLite's own 30 s busy timeout
    r, _ = run_cli(["scan", *map(str, logs), "--year", "2020", "--db", str(path)])
    assert r.returncode == 0, r.stderr


def test_alert_honours_incidents_busy_timeout_with_a_note(tmp_path, smtp):
    path = store_with_incidents(tmp_path)
    config = tmp_path / "incidents.toml"
    config.write_text(
        smtp_table(smtp.port)
        + '[[recipients]]\nemail = "desk@example.vn"\ncategories = ["phishing"]\nmin_severity = "high"\n'
    )
    args = ["alert", "--db", str(path), "--config", str(config), "--now", "2020-10-28T03:00:00+00:00"]
    with write_lock_held(path):
        r, took = run_cli(args)
    assert_busy(r)
    assert took < 30, took  # was about 2 minutes (the outbox's own patience), whatever the variable said
    r, _ = run_cli(args)
    assert r.returncode == 0, r.stderr


def test_published_import_and_spikes_wait_the_same_way(tmp_path):
    path = store_with_incidents(tmp_path)
    figures = tmp_path / "published.csv"
    figures.write_text("period,scope,total,source\n2020-10,month,40,VNCERT\n")
    with write_lock_held(path):
        imported, _ = run_cli(["published", "import", str(figures), "--db", str(path)])
        spikes, _ = run_cli(["spikes", "--db", str(path), "--since", "2020-10-01"])
    assert_busy(imported)
    assert_busy(spikes)
    assert run_cli(["published", "import", str(figures), "--db", str(path)])[0].returncode == 0
    assert run_cli(["spikes", "--db", str(path), "--since", "2020-10-01"])[0].returncode == 0


def test_the_lock_is_taken_at_once_when_the_store_is_free(tmp_path):
    import sqlite3

    from incidents import store

    conn = sqlite3.connect(tmp_path / "free.db")
    told = []
    with store.write_transaction(conn, wait=5, on_wait=told.append) as c:
        c.execute("CREATE TABLE t (x)")
    assert told == [] and not conn.in_transaction
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000  # the connection's own, put back


def test_the_busy_timeout_setting_reads_one_way_and_ingest_keeps_its_wait(monkeypatch):
    """Probe 2 finding: '-1'/'nan' meant 0 s and 'abc' 30 s for alert, while ingest refused '-1' as a usage
    error because its --wait also read $INCIDENTS_BUSY_TIMEOUT (the README gives ingest --wait alone)."""
    from typer.testing import CliRunner

    from incidents.cli import app
    from incidents.store_errors import BUSY_TIMEOUT_S, busy_timeout

    for text, want in (("abc", BUSY_TIMEOUT_S), ("-1", BUSY_TIMEOUT_S), ("nan", BUSY_TIMEOUT_S),
                       ("inf", BUSY_TIMEOUT_S), ("", BUSY_TIMEOUT_S), ("2.5", 2.5), ("0", 0.0)):  # fmt: skip
        monkeypatch.setenv("INCIDENTS_BUSY_TIMEOUT", text)
        assert busy_timeout() == want, text
    monkeypatch.setenv("INCIDENTS_BUSY_TIMEOUT", "-1")
    r = CliRunner().invoke(app, ["ingest", "--help"])
    assert "INCIDENTS_BUSY_TIMEOUT" in r.stdout and "env var" not in r.stdout
