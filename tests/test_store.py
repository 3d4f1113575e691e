"""The store: migrations, WAL, a reader beside a writer, and an ingest killed half-way."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import sqlite_utils

from incidents import store
from incidents.migrations import MIGRATIONS


def test_new_store_is_wal_and_current(db, db_path):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version(db) == len(MIGRATIONS)
    assert store.get_meta(db, "reporting_zone") == "Asia/Ho_Chi_Minh"


def test_an_older_store_is_migrated_and_keeps_its_data(db_path):
    # A store as release 1 made it: only the first migration, with one incident in it.
    conn = sqlite3.connect(db_path)
    old = sqlite_utils.Database(conn)
    with old.atomic():
        MIGRATIONS[0](old)
        old.execute("PRAGMA user_version = 1")
    old.execute(
        "INSERT INTO incidents(id, occurred_at, day, category, taxonomy, type) "
        "VALUES ('x', '2020-01-01T00:00:00Z', '2020-01-01', 'deface', 'a', 'b')"
    )
    conn.commit()
    conn.close()
    db = store.open_db(db_path)
    assert store.schema_version(db) == len(MIGRATIONS)
    assert store.count_incidents(db) == 1


def test_a_newer_store_is_refused(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(store.NewerSchema):
        store.open_db(db_path)


def test_zone_is_fixed_once_incidents_are_stored(db_path):
    from tests.conftest import add_counts

    db = store.open_db(db_path, zone="Europe/Paris")
    assert str(store.reporting_zone(db)) == "Europe/Paris"
    add_counts(db, {("2020-01-01", "deface"): 1})
    with pytest.raises(store.StoreError, match="cannot change"):
        store.open_db(db_path, zone="Asia/Ho_Chi_Minh")
    with pytest.raises(store.StoreError, match="unknown time zone"):
        store.open_db(db_path.with_name("other.db"), zone="Mars/Olympus")


def test_reader_works_while_a_writer_holds_a_transaction(db, db_path):
    from tests.conftest import add_counts

    add_counts(db, {("2020-01-01", "deface"): 2})
    writer = store.open_db(db_path)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM incidents")
    reader = store.open_db(db_path)
    # WAL: the reader sees the last committed state, without waiting for the writer.
    assert store.count_incidents(reader) == 2
    writer.execute("ROLLBACK")


def test_open_missing_store_without_create(tmp_path):
    with pytest.raises(store.StoreError, match="no database at"):
        store.open_db(tmp_path / "nope.db", create=False)


def big_csv(path, rows: int = 400_000):
    with open(path, "w") as fh:
        fh.write("time,category,target\n")
        fh.writelines(f"2020-01-01T00:00:00Z,deface,host{i}.vn\n" for i in range(rows))
    return path


def interruptible_ingest(path, env: dict) -> subprocess.Popen:
    """`incidents ingest PATH` in a process that Ctrl-C reaches. A command started from a terminal has
    SIGINT at its default; a background job of a non-interactive shell (how CI may start pytest) inherits
    it ignored, and Python then never raises KeyboardInterrupt: the child installs Python's own handler."""
    script = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from incidents.cli import main; sys.argv[0] = 'incidents'; main()"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script, "ingest", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT semantics")
def test_ctrl_c_in_the_middle_of_a_file_leaves_the_store_as_it_was(tmp_path):
    db_path = tmp_path / "s.db"
    first = tmp_path / "first.csv"
    first.write_text("time,category,target\n2020-01-01T00:00:00Z,deface,a.vn\n")
    big = big_csv(tmp_path / "big.csv")
    env = {**os.environ, "INCIDENTS_DB": str(db_path)}
    cmd = [sys.executable, "-m", "incidents.cli", "ingest"]
    subprocess.run([*cmd, str(first)], env=env, check=True, capture_output=True)
    proc = interruptible_ingest(big, env)
    # Wait until the ingest is writing (its WAL grows), then interrupt it as a user's Ctrl-C would.
    wal = tmp_path / "s.db-wal"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 1_000_000):
        time.sleep(0.02)
    assert proc.poll() is None, "the ingest ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err == f"Error: interrupted while reading {big}; it was rolled back, earlier files are stored\n"
    db = store.open_db(db_path)
    assert store.count_incidents(db) == 1
    assert [r["file"] for r in db.query("SELECT file FROM ingest_runs")] == [str(first)]


def test_find_incidents_filters_and_pages(db):
    from tests.conftest import add_counts

    add_counts(db, {("2020-10-01", "deface"): 3, ("2020-10-02", "phishing"): 2, ("2020-11-01", "deface"): 1})
    rows = store.find_incidents(db, since="2020-10-01", until="2020-10-31")
    assert [r["day"] for r in rows] == ["2020-10-02"] * 2 + ["2020-10-01"] * 3
    assert len(store.find_incidents(db, category="deface")) == 4
    assert len(store.find_incidents(db, target="host1.", limit=10)) == 2
    page = store.find_incidents(db, limit=2, offset=4)
    assert len(page) == 2 and "raw" not in page[0]
    assert store.get_incident(db, rows[0]["id"])["raw"] == "{}"
    assert store.get_incident(db, "nope") is None


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT semantics")
def test_ctrl_c_pressed_again_during_the_undo_still_undoes_the_file(tmp_path):
    """Probe finding: a second Ctrl-C while the interrupted file was being undone cut the undo short (its
    committed batches stayed, the run left `running`) while the command said it was rolled back."""
    db_path = tmp_path / "s.db"
    big = big_csv(tmp_path / "big.csv")
    env = {**os.environ, "INCIDENTS_DB": str(db_path), "INCIDENTS_INGEST_COMMIT_ROWS": "20000"}
    proc = interruptible_ingest(big, env)
    conn = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # until a batch is committed
        if db_path.exists():
            conn = conn or sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
            try:
                if conn.execute("SELECT count(*) FROM incidents").fetchone()[0] > 0:
                    break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.02)
    assert proc.poll() is None, "the ingest ended before it could be interrupted"
    while proc.poll() is None:  # Ctrl-C, again and again, until it has exited
        proc.send_signal(signal.SIGINT)
        time.sleep(0.01)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == f"Error: interrupted while reading {big}; it was rolled back, earlier files are stored\n"
    check = sqlite3.connect(db_path)
    assert check.execute("SELECT count(*) FROM incidents").fetchone()[0] == 0
    assert check.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] == 0
    check.close()
    if conn is not None:
        conn.close()
