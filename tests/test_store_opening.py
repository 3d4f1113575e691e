"""Stores that are not ours, older stores, and stores that cannot be written (issue 15 points 4, 6, 7).

Read commands open the store with store.open_read (mode=ro): they never create, migrate or switch the
journal of a file. Writers migrate an older store only after a `VACUUM INTO` copy. A full disk, a
read-only store and a store kept busy past the timeout give one `Error:` line, never a traceback.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from incidents.migrations import MIGRATIONS
from tests.conftest import add_counts
from tests.test_store_busy import write_lock_held

runner = CliRunner()
HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description"
# Each read command with the arguments it needs; the store goes last as --db.
READ_COMMANDS = [
    ["stats", "--month", "2020-10"],
    ["list"],
    ["rejects"],
    ["bulletin", "--month", "2020-10"],
    ["published", "check"],
]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def foreign_db(path: Path) -> Path:
    """Another tool's SQLite database, in rollback-journal mode."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("INSERT INTO moz_places(url) VALUES ('https://example.org')")
    conn.commit()
    conn.close()
    return path


def release1_store(path: Path, version: int = 1) -> Path:
    """A store as an older release made it: the first `version` migrations (default: release 1's one),
    one incident, rollback journal."""
    conn = sqlite3.connect(path)
    old = sqlite_utils.Database(conn)
    for number, step in enumerate(MIGRATIONS[:version], start=1):
        with old.atomic():
            step(old)
            old.execute(f"PRAGMA user_version = {number}")
    old.execute("INSERT INTO meta(key, value) VALUES ('reporting_zone', 'Asia/Ho_Chi_Minh')")
    old.execute(
        "INSERT INTO incidents(id, occurred_at, day, category, taxonomy, type) "
        "VALUES ('x', '2020-10-05T00:00:00Z', '2020-10-05', 'deface', 'a', 'b')"
    )
    conn.commit()
    conn.close()
    return path


def pragma(path: Path, name: str):
    """`PRAGMA name` of the SQLite file at `path`, read-only (journal_mode, user_version ...)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def journal_mode(path: Path) -> str:
    return pragma(path, "journal_mode")


def siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c))
def test_read_commands_never_touch_another_tools_database(tmp_path, command):
    path = foreign_db(tmp_path / "places.sqlite")
    before, files = digest(path), siblings(path)
    r = runner.invoke(app, [*command, "--db", str(path)])
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "places.sqlite" in lines[0]
    assert "without the incidents schema" in lines[0] and "moz_places" in lines[0]
    assert digest(path) == before and siblings(path) == files
    assert journal_mode(path) == "delete"


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c))
def test_read_commands_refuse_an_empty_file_and_create_nothing(tmp_path, command):
    empty = tmp_path / "empty.db"
    empty.touch()
    r = runner.invoke(app, [*command, "--db", str(empty)])
    assert r.exit_code == 1 and "empty file, not an incidents store" in r.stderr
    assert empty.stat().st_size == 0 and siblings(empty) == {"empty.db"}
    missing = tmp_path / "missing.db"
    r = runner.invoke(app, [*command, "--db", str(missing)])
    assert r.exit_code == 1 and "no database at" in r.stderr
    assert not missing.exists()


def test_not_sqlite_and_not_a_regular_file_are_refused(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("id,time\n1,2\n")
    for target, words in ((text, "not an SQLite database"), (tmp_path, "not a regular file")):
        for opener in (store.open_read, store.open_db):
            with pytest.raises(store.NotAStore, match=words):
                opener(target)
    assert text.read_text() == "id,time\n1,2\n"


def test_a_writer_refuses_another_tools_database_too(tmp_path):
    path = foreign_db(tmp_path / "places.sqlite")
    before = digest(path)
    csv = tmp_path / "a.csv"
    csv.write_text(HEADER + "\nr1,2020-10-05T01:00:00Z,deface,a.gov.vn,government,f,high,new,,x\n")
    r = runner.invoke(app, ["ingest", str(csv), "--db", str(path)])
    assert r.exit_code == 1 and "without the incidents schema" in r.stderr
    assert digest(path) == before and journal_mode(path) == "delete"


def test_open_read_is_read_only_and_answers_read_code(db_path):
    db = store.open_db(db_path)
    add_counts(db, {("2020-10-05", "deface"): 3})
    db.close()
    conn = store.open_read(db_path)
    assert isinstance(conn, sqlite3.Connection)
    assert store.count_incidents(conn) == 3
    assert len(store.find_incidents(conn, limit=10)) == 3  # the sqlite_utils-style query() works
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM incidents")
    conn.close()


def test_an_older_store_is_read_as_it_is_and_migrated_only_by_a_writer_after_a_backup(tmp_path):
    path = release1_store(tmp_path / "old.db")
    before = digest(path)
    r = runner.invoke(app, ["stats", "--month", "2020-10", "--db", str(path), "--json"])
    assert r.exit_code == 0, r.stderr
    assert '"count": 1' in r.stdout
    assert digest(path) == before and journal_mode(path) == "delete"
    assert siblings(path) == {"old.db"}

    csv = tmp_path / "a.csv"
    csv.write_text(HEADER + "\nr1,2020-10-06T01:00:00Z,phishing,b.gov.vn,government,f,high,new,,x\n")
    r = runner.invoke(app, ["ingest", str(csv), "--db", str(path)])
    assert r.exit_code == 0, r.stderr
    backup = tmp_path / "old.db.v1-backup.db"
    assert backup.exists()
    copy = sqlite3.connect(backup)
    assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
    assert copy.execute("SELECT id FROM incidents").fetchall() == [("x",)]
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    db = store.open_db(path)
    assert store.schema_version(db) == len(MIGRATIONS) and store.count_incidents(db) == 2
    db.close()
    # A second upgrade of another old copy never overwrites the first backup.
    assert store.backup_path(path, 1).name == "old.db.v1-backup-2.db"


def test_reading_a_table_an_older_store_lacks_says_how_to_upgrade(tmp_path):
    path = release1_store(tmp_path / "old.db")
    r = run_cli(["published", "check", "--db", str(path)])
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert one_error_line(r.stderr) and "older release" in r.stderr and "incidents ingest" in r.stderr


# --- faults met by a real process: full disk, read-only store, busy store -------------------------------


def run_cli(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "incidents.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def one_error_line(stderr: str) -> bool:
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("Note: ")]
    return len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in stderr


def csv_rows(path: Path, n: int, *, prefix: str = "r", day: str = "2020-10-05") -> Path:
    with open(path, "w") as fh:
        fh.write(HEADER + "\n")
        fh.writelines(
            f"{prefix}{i},{day}T01:{i % 60:02d}:00Z,deface,host{prefix}{i}.gov.vn,government,feed,high,new,"
            f"203.0.113.{i % 250},{'padding ' * 20}\n"
            for i in range(n)
        )
    return path


def store_state(path: Path) -> tuple[str, int, list]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return (
            conn.execute("PRAGMA integrity_check").fetchone()[0],
            conn.execute("SELECT count(*) FROM incidents").fetchone()[0],
            conn.execute("SELECT file, status FROM ingest_runs WHERE status = 'ok' ORDER BY id").fetchall(),
        )
    finally:
        conn.close()


def ingested_on(mount: Path, tmp_path: Path, rows: int) -> tuple[Path, Path, tuple]:
    """A store on `mount` made by ingesting `rows` rows (first.csv): (store, first.csv, store_state)."""
    path = mount / "s.db"
    first = csv_rows(tmp_path / "first.csv", rows, prefix="a")
    assert run_cli(["ingest", str(first), "--db", str(path)]).returncode == 0
    return path, first, store_state(path)


@pytest.mark.resources
def test_a_full_disk_gives_one_line_exit_1_and_an_intact_store(tmp_path, small_mount):
    path, first, before = ingested_on(small_mount, tmp_path, 50)
    big = csv_rows(tmp_path / "big.csv", 30_000, prefix="b")  # ~7 MB of incidents: more than the disk
    r = run_cli(["ingest", str(big), "--db", str(path)])
    assert r.returncode == 1, r.stderr
    assert one_error_line(r.stderr) and "disk" in r.stderr and "full" in r.stderr, r.stderr
    assert store_state(path) == before == ("ok", 50, [(str(first), "ok")])
    r = run_cli(["stats", "--month", "2020-10", "--db", str(path), "--json"])
    assert r.returncode == 0 and '"count": 50' in r.stdout


@pytest.mark.resources
def test_a_read_only_store_is_read_and_a_writer_gets_one_line(tmp_path, small_mount):
    path, _, before = ingested_on(small_mount, tmp_path, 20)
    if os.geteuid() == 0:  # root writes through permissions: make the mount itself read-only
        r = subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=False, capture_output=True)
        assert r.returncode == 0, r.stderr
    else:
        path.chmod(0o444)
        small_mount.chmod(0o555)
    try:
        r = run_cli(["stats", "--month", "2020-10", "--db", str(path), "--json"])
        assert r.returncode == 0 and '"count": 20' in r.stdout, r.stderr
        r = run_cli(["ingest", str(csv_rows(tmp_path / "more.csv", 5, prefix="m")), "--db", str(path)])
        assert r.returncode == 1 and one_error_line(r.stderr) and "read-only" in r.stderr, r.stderr
        assert store_state(path) == before
    finally:
        if os.geteuid() != 0:
            small_mount.chmod(0o755)


@pytest.mark.concurrency
def test_a_store_busy_past_the_timeout_gives_exit_75_and_changes_nothing(tmp_path):
    path = tmp_path / "s.db"
    first = csv_rows(tmp_path / "first.csv", 10, prefix="a")
    assert run_cli(["ingest", str(first), "--db", str(path)]).returncode == 0
    with write_lock_held(path):
        more = csv_rows(tmp_path / "more.csv", 10, prefix="m")
        # ingest waits (--wait, with a note) and then gives one line per file and exit 75; a writer
        # without its own wait (scan) gives up after $INCIDENTS_BUSY_TIMEOUT with one line and exit 75.
        env = {**os.environ, "INCIDENTS_BUSY_TIMEOUT": "1"}
        r = run_cli(["ingest", str(more), "--db", str(path), "--wait", "1"], env=env)
        assert r.returncode == 75, r.stderr
        assert "busy" in r.stderr and "Traceback" not in r.stderr
        assert [line for line in r.stderr.splitlines() if line.startswith("Error:")], r.stderr
        log = tmp_path / "auth.log"
        log.write_text(
            "Oct  5 01:00:00 web1 sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2\n" * 30
        )
        r = run_cli(["scan", str(log), "--year", "2020", "--db", str(path)], env=env)
        assert r.returncode == 75 and "busy" in r.stderr and "Traceback" not in r.stderr, r.stderr
        # A reader is not blocked by the writer (WAL): stats still answers at once.
        r = run_cli(["stats", "--month", "2020-10", "--db", str(path), "--json"])
        assert r.returncode == 0 and '"count": 10' in r.stdout
    assert store_state(path)[:2] == ("ok", 10)


def test_the_alert_job_leaves_nothing_beside_a_database_it_refuses(tmp_path):
    """`alert --db` on another tool's database: one line, exit 1, the file untouched and no
    `.alert-lock` (or -wal/-shm) left beside it (the probe found `places.sqlite.alert-lock`)."""
    path = foreign_db(tmp_path / "places.sqlite")
    before = digest(path)
    config = tmp_path / "incidents.toml"
    config.write_text('[smtp]\nhost = "127.0.0.1"\nport = 2525\nsender = "alerts@example.org"\n')
    r = runner.invoke(app, ["alert", "--db", str(path), "--config", str(config)])
    assert r.exit_code == 1 and "without the incidents schema" in r.stderr, r.stderr
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["incidents.toml", "places.sqlite"]


@pytest.mark.resources
def test_a_damaged_store_is_one_line_that_says_what_to_do(tmp_path):
    """Pages overwritten in place (a disk fault, a copy taken mid-write): every command that meets the
    damage says so in one line through the console script, names `incidents doctor` and the way back,
    exit 1, no traceback."""
    path = tmp_path / "store.db"
    samples = Path(__file__).resolve().parent.parent / "sample_logs"
    assert runner.invoke(app, ["ingest", "--db", str(path), str(samples / "ncsc-2020.csv")]).exit_code == 0
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        for offset in range(8192, size, 40960):  # the header page stays: SQLite opens it as a store
            fh.seek(offset)
            fh.write(b"\xff" * 200)
    script = "from incidents.cli import main; main()"
    for args in (
        ["stats", "--month", "2020-10"],
        ["list"],
        ["spikes"],
        ["bulletin", "--month", "2020-10"],
        ["ingest", str(samples / "export-2020-12.json")],
    ):
        r = subprocess.run(
            [sys.executable, "-c", script, *args, "--db", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        lines = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
        assert len(lines) == 1 and "Traceback" not in r.stderr, (args, r.stderr)
        assert "is damaged" in lines[0] and "incidents doctor" in lines[0] and ".recover" in lines[0], lines
