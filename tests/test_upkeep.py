"""The derived tables (target search index, day_counts, incident_count) kept once per batch by ingest
equal a recomputation from `incidents` after ingest, duplicates, corrections, undo and a crash."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from incidents import ingest, store, upkeep
from incidents.ingest import ingest_file
from incidents.ingest.writer import RECORD_COLUMNS

HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description"


def mixed_csv(path: Path, n: int, *, day_shift: int = 0, prefix: str = "r") -> Path:
    """URLs, domains, IPs, rows without a target, re-sent records and other feeds' reports of one incident."""
    lines = [HEADER]
    for i in range(n):
        day = 1 + (i + day_shift) % 28
        kind = i % 5
        target = (
            f"https://h{i % 40}.example.vn/login?id={i}"
            if kind == 0
            else f"h{i % 40}.example.vn"
            if kind == 1
            else f"203.0.113.{i % 200}"
            if kind == 2
            else f"hxxp://bad{i % 30}[.]example[.]vn/x"
            if kind == 3
            else ""
        )
        category = ("phishing", "deface", "malware")[i % 3]
        lines.append(
            f"{prefix}{i},2020-10-{day:02d}T10:{i % 60:02d}:00+07:00,{category},{target},gov,feedA,high,new,,row {i}"
        )
        if i % 7 == 0:  # the same record again, unchanged: a duplicate
            lines.append(lines[-1])
        if i % 11 == 0:  # another feed reports the same incident
            lines.append(
                f"x{i},2020-10-{day:02d}T11:00:00+07:00,{category},{target},gov,feedB,high,new,,again {i}"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def substring_matches(db, text: str) -> tuple[list, list]:
    clause, args = store.target_clause(text)
    indexed = db.execute(f"SELECT id FROM incidents WHERE {clause} ORDER BY id", args).fetchall()
    scanned = db.execute("SELECT id FROM incidents WHERE target LIKE ? ORDER BY id", [f"%{text}%"]).fetchall()
    return indexed, scanned


def test_batched_upkeep_equals_a_recount_after_ingest_and_corrections(db, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH", 37)
    monkeypatch.setattr(ingest, "COMMIT_ROWS", 100)
    triggers = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    before = db.execute(triggers).fetchall()
    first = ingest_file(db, mixed_csv(tmp_path / "a.csv", 400))
    assert db.execute(triggers).fetchall() == before  # dropped per batch, re-created word for word
    assert first.status == "ok" and first.duplicate > 0
    assert upkeep.derived_differences(db.conn) == []
    # The same records re-sent with other days: corrections, which delete and re-insert incidents.
    second = ingest_file(db, mixed_csv(tmp_path / "b.csv", 400, day_shift=3))
    assert second.status == "ok" and second.corrected > 0
    assert upkeep.derived_differences(db.conn) == []
    assert store.count_incidents(db) == db.execute("SELECT count(*) FROM incidents").fetchone()[0]
    for text in ("example", "h1.example", "login?id=1", "203.0.113.1", "bad2"):
        indexed, scanned = substring_matches(db, text)
        assert indexed == scanned and scanned, text


def test_undoing_a_refused_file_keeps_the_derived_tables_exact(db, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH", 10)
    monkeypatch.setattr(ingest, "COMMIT_ROWS", 20)
    ingest_file(db, mixed_csv(tmp_path / "a.csv", 120))
    bad = mixed_csv(tmp_path / "b.csv", 150, day_shift=5)
    bad.write_text(bad.read_text() + "z,2020-10-01T10:00:00+07:00,nosuch,z.vn,gov,f,high,new,,x\n")
    assert ingest_file(db, bad, strict=True).status == "refused"
    assert upkeep.derived_differences(db.conn) == []


KILLER = """
import os, sys
from incidents import ingest, store
ingest.COMMIT_ROWS = 50
ingest.BATCH = 25
db = store.open_db(sys.argv[1])
def progress(read):
    if read >= 300:
        os._exit(9)  # as kill -9: no rollback, no undo, the run stays 'running'
ingest.ingest_file(db, sys.argv[2], on_progress=progress)
"""


def test_a_crash_mid_file_then_recovery_keeps_the_derived_tables_exact(db, db_path, tmp_path):
    ingest_file(db, mixed_csv(tmp_path / "a.csv", 100))
    big = mixed_csv(tmp_path / "big.csv", 600, day_shift=2, prefix="k")
    done = subprocess.run([sys.executable, "-c", KILLER, str(db_path), str(big)], check=False, timeout=120)
    assert done.returncode == 9
    (running,) = db.execute("SELECT count(*) FROM ingest_runs WHERE status = 'running'").fetchone()
    assert running == 1
    assert upkeep.derived_differences(db.conn) == []  # committed batches were whole
    r = ingest_file(db, mixed_csv(tmp_path / "c.csv", 10, prefix="c"))
    assert r.status == "ok"
    assert db.execute("SELECT count(*) FROM ingest_runs WHERE status = 'aborted'").fetchone()[0] == 1
    assert upkeep.derived_differences(db.conn) == []


def test_a_failing_batch_is_undone_whole_and_leaves_the_triggers_on(db):
    db.conn.execute(
        "INSERT INTO ingest_runs(id, kind, file, sha256, started_at, status) VALUES (1, 'ingest', 'f', 's', 't', 'ok')"
    )
    row = ("a", "2020-10-01T03:00:00Z", "2020-10-01", "phishing", "fraud", "phishing", "a.vn", "domain")
    rest = (None, None, "f", None, "new", None, 1, "{}", None)
    plain_insert = (
        f"INSERT INTO incidents ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"
    )
    with pytest.raises(sqlite3.IntegrityError):
        upkeep.insert_batch(db.conn, plain_insert, [row + rest, ("b", *row[1:]) + rest, row + rest])
    db.conn.commit()
    assert db.execute("SELECT count(*) FROM incidents").fetchone()[0] == 0
    assert upkeep.derived_differences(db.conn) == []  # the triggers are back
    # Any other writer (here a plain connection) is indexed by the per-row triggers.
    other = sqlite3.connect(db_path_of(db))
    other.execute(plain_insert, ("c", *row[1:]) + rest)
    other.commit()
    other.close()
    assert store.count_incidents(db) == 1
    assert upkeep.derived_differences(db.conn) == []
    assert substring_matches(db, "a.vn")[0] == [("c",)]


def db_path_of(db) -> str:
    return db.execute("PRAGMA database_list").fetchone()[2]
