"""`incidents doctor` on healthy and broken stores and configurations, with a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from tests.conftest import add_counts
from tests.smtpd import free_port, smtp_table

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_default_config(tmp_path, monkeypatch):
    """No configuration named and none at the default ./incidents.toml (a fresh folder)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_CONFIG", raising=False)


def config(tmp_path, port: int, extra: str = "") -> str:
    path = tmp_path / "incidents.toml"
    path.write_text(
        smtp_table(port)
        + f"""{extra}
[[recipients]]
email = "desk@example.vn"
categories = ["phishing"]
min_severity = "high"
"""
    )
    return str(path)


@pytest.fixture
def healthy(db_path):
    db = store.open_db(db_path)
    add_counts(db, {("2020-10-05", "deface"): 3})
    run = store.start_run(db, file="feed.csv", sha256="0" * 64, kind="ingest")
    store.finish_run(db, run, read=3, accepted=3, duplicate=0, rejected=0, status="ok")
    db.conn.commit()
    db.close()
    return db_path


def doctor(*args):
    r = runner.invoke(app, ["doctor", *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def levels(r) -> dict[str, str]:
    return {c["name"]: c["level"] for c in json.loads(r.stdout)["checks"]}


def test_a_healthy_store_and_a_reachable_server(healthy, tmp_path, smtp):
    r = doctor("--db", str(healthy), "--config", config(tmp_path, smtp.port), "--json")
    assert r.exit_code == 0, r.stdout
    report = json.loads(r.stdout)
    assert report["healthy"] is True
    got = levels(r)
    assert got["integrity"] == got["schema"] == got["smtp"] == got["config"] == got["ingest"] == "ok"
    assert smtp.received == []  # reachable, and no mail sent
    r = doctor("--db", str(healthy), "--config", config(tmp_path, smtp.port))
    assert r.exit_code == 0 and r.stdout.strip().endswith("Healthy.")
    assert "3 incidents" in r.stdout and "no mail was sent" in r.stdout and "No alerts yet." in r.stdout


def test_an_unreachable_server_is_a_problem(healthy, tmp_path):
    r = doctor("--db", str(healthy), "--config", config(tmp_path, free_port()), "--smtp-timeout", "2")
    assert r.exit_code == 1
    line = next(line for line in r.stdout.splitlines() if "smtp:" in line)
    assert line.startswith("PROBLEM") and "cannot be used" in line and "[smtp]" in line


def test_an_invalid_configuration_is_a_problem(healthy, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[smtp]\nhost = "127.0.0.1"\nport = "twenty-five"\n')
    r = doctor("--db", str(healthy), "--config", str(path), "--json")
    assert r.exit_code == 1 and levels(r)["config"] == "problem"


def test_no_store_or_another_tools_database(tmp_path):
    r = doctor("--db", str(tmp_path / "missing.db"))
    assert r.exit_code == 1 and "cannot be opened" in r.stdout and "--db" in r.stdout
    assert not (tmp_path / "missing.db").exists()
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    r = doctor("--db", str(other))
    assert r.exit_code == 1 and "without the incidents schema" in r.stdout


def test_a_damaged_store_is_a_problem(healthy, tmp_path):
    # Corrupt the incidents table's pages (not the header): integrity_check reports it.
    conn = sqlite3.connect(healthy)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'incidents'").fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(healthy, "r+b") as fh:
        fh.seek((root - 1) * page + 8)
        fh.write(b"\xff" * 64)
    r = doctor("--db", str(healthy))
    assert r.exit_code == 1
    assert "PROBLEM" in r.stdout and ("damaged" in r.stdout or "malformed" in r.stdout)


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7, 0.9])
def test_damage_that_stops_sqlite_still_gets_an_integrity_line(tmp_path, where):
    """Probe finding: 8 KB of noise in the incidents table's pages made doctor say only 'the store cannot be
    opened: ... `incidents doctor` shows the damage' (the command just run), with no integrity line."""
    import random
    from pathlib import Path

    path = tmp_path / "store.db"
    sample = Path(__file__).resolve().parent.parent / "sample_logs" / "ncsc-2020.csv"
    assert runner.invoke(app, ["ingest", "--db", str(path), str(sample)]).exit_code == 0
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek(int(size * where) // 4096 * 4096)
        fh.write(random.Random(1).randbytes(8192))
    r = doctor("--db", str(path))
    assert r.exit_code == 1, r.stdout
    integrity = [line for line in r.stdout.splitlines() if line.split()[1:2] == ["integrity:"]]
    assert len(integrity) == 1 and integrity[0].startswith("PROBLEM") and "damaged" in integrity[0], r.stdout
    assert ".recover" in integrity[0] and "incidents doctor" not in r.stdout, r.stdout
    checks = json.loads(doctor("--db", str(path), "--json").stdout)
    assert any(c["name"] == "integrity" and c["level"] == "problem" for c in checks["checks"]), checks


def test_failed_alerts_and_an_interrupted_ingest(healthy, tmp_path):
    db = store.open_db(healthy)
    db.execute(
        "INSERT INTO alert_outbox(key, kind, subject_key, recipient, status, created_at, error, payload) "
        "VALUES ('k1', 'incident', 'x', 'desk@example.vn', 'failed', '2020-10-05T00:00:00Z', "
        "'550 mailbox unknown', '{}')"
    )
    db.execute(
        "INSERT INTO ingest_runs(kind, file, sha256, started_at, status) "
        "VALUES ('ingest', 'big.csv', 'abc', '2020-10-05T00:00:00Z', 'running')"
    )
    db.conn.commit()
    db.close()
    r = doctor("--db", str(healthy))
    assert r.exit_code == 1
    assert "1 alert(s) failed for good" in r.stdout and "incidents alert --status" in r.stdout
    assert "has not finished" in r.stdout and "run `incidents ingest` again" in r.stdout


def test_an_older_store_is_a_warning_and_is_not_migrated(tmp_path):
    import sqlite_utils

    from incidents.migrations import MIGRATIONS

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    old = sqlite_utils.Database(conn)
    with old.atomic():
        MIGRATIONS[0](old)
        old.execute("PRAGMA user_version = 1")
    conn.close()
    r = doctor("--db", str(path), "--json")
    assert r.exit_code == 0 and levels(r)["schema"] == "warning"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
