"""A read command on a store this process cannot write creates no file (issue 15 probe finding 5).

A WAL store opened with plain `mode=ro` made SQLite create its -wal and -shm (mode 0444, owned by the
reader) in a writable folder, and the next writer failed ('attempt to write a readonly database') even
after `chmod 644`. store.read_uri adds `immutable=1` when this process cannot write the store and no
-wal lies beside it. Real processes; as `nobody` (setpriv) when the tests run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import minimal_alert_config

HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description"
NOBODY = 65534


def as_nobody() -> list[str]:
    """The command prefix that runs as nobody when we are root (root writes through permissions)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot run a command as nobody")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def run(args: list[str], prefix: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, "-c", "from incidents.cli import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": "/tmp"},
    )


@pytest.fixture
def folder():
    """A folder everybody may enter (tmp_path is root's 0700 when the tests run as root)."""
    path = Path(tempfile.mkdtemp(prefix="incidents-ro-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        path.chmod(0o777)
        shutil.rmtree(path, ignore_errors=True)


def rows(path: Path, prefix: str, n: int = 20) -> Path:
    path.write_text(
        HEADER
        + "\n"
        + "".join(
            f"{prefix}{i},2020-10-{1 + i % 28:02d}T01:00:00Z,phishing,{prefix}{i}.gov.vn,government,f,high,new,,x\n"
            for i in range(n)
        )
    )
    path.chmod(0o644)
    return path


def read_only_store(folder: Path, prefix: list[str]) -> Path:
    """A store (cleanly closed: no -wal, no -shm) owned by the user of `prefix`, mode 0444."""
    path = folder / "s.db"
    r = run(["ingest", str(rows(folder / "a.csv", "a")), "--db", str(path)], prefix)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv", "s.db"]
    path.chmod(0o444)
    return path


READS = [
    ["stats", "--month", "2020-10", "--json"],
    ["list"],
    ["rejects"],
    ["bulletin", "--month", "2020-10"],
    ["spikes", "--since", "2020-10-01"],
]


@pytest.mark.parametrize("folder_mode", [0o777, 0o555], ids=["writable-folder", "read-only-folder"])
def test_reads_of_a_0444_store_create_no_file_and_the_next_writer_works(folder, folder_mode):
    prefix = as_nobody()
    path = read_only_store(folder, prefix)
    folder.chmod(folder_mode)
    for args in READS:
        r = run([*args, "--db", str(path)], prefix)
        assert r.returncode == 0, (args, r.stderr)
        assert sorted(p.name for p in folder.iterdir()) == ["a.csv", "s.db"], args
    folder.chmod(0o777)
    path.chmod(0o644)
    r = run(["ingest", str(rows(folder / "b.csv", "b")), "--db", str(path)], prefix)
    assert r.returncode == 0, r.stderr
    r = run(["stats", "--month", "2020-10", "--json", "--db", str(path)], prefix)
    assert r.returncode == 0 and '"count": 40' in r.stdout, r.stdout


def test_root_reading_a_store_without_write_bits_leaves_no_file_for_its_owner(folder):
    """Root may write a 0444 file; files it made beside it would refuse the owner's next writer."""
    if os.geteuid() != 0:
        pytest.skip("only root writes through a 0444 mode")
    prefix = as_nobody()
    path = read_only_store(folder, prefix)
    r = run(["stats", "--month", "2020-10", "--json", "--db", str(path)], [])
    assert r.returncode == 0 and '"count": 20' in r.stdout, r.stderr
    assert not (folder / "s.db-wal").exists() and not (folder / "s.db-shm").exists()
    path.chmod(0o644)
    r = run(["ingest", str(rows(folder / "b.csv", "b")), "--db", str(path)], prefix)
    assert r.returncode == 0, r.stderr


def test_a_long_lived_reader_of_an_immutable_store_sees_a_writer_change_it(tmp_path):
    """A store this process cannot write is read as an immutable file (no -wal/-shm of ours), which by
    itself never sees a change: the TUI's lanes ask store.reopened before each snapshot, so a count
    follows an ingest made meanwhile by the store's owner (here: the file made writable, written, and
    made read-only again, as an owner's cron job and a reader without write permission would see it)."""
    from incidents import store
    from incidents.ingest import ingest_file
    from incidents.tui.lanes import _Lane

    path = tmp_path / "s.db"
    db = store.open_db(path)
    ingest_file(db, rows(tmp_path / "a.csv", "a"))
    db.close()
    path.chmod(0o444)  # no write bit: not writable by us, even as root (store_open.writable_by_us)
    lane = _Lane(path)
    try:
        count = lambda conn: conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        assert lane.conn.immutable
        assert lane.run(count) == 20
        path.chmod(0o644)
        db = store.open_db(path)
        ingest_file(db, rows(tmp_path / "b.csv", "b"))
        db.close()
        path.chmod(0o444)
        assert lane.run(count) == 40
        assert not any(p.name.startswith("s.db-") for p in tmp_path.iterdir())
    finally:
        lane.close()


def test_the_tui_sees_that_a_store_read_as_an_immutable_file_changed(tmp_path):
    """The TUI polls PRAGMA data_version, which an immutable read never changes: StoreReader.data_version
    also counts the lane's new openings (store.reopened), so the poll sees the owner's ingest and the
    month's figures follow (the probe saw February 2021 stay at 20 for good)."""
    from incidents import store
    from incidents.ingest import ingest_file
    from incidents.tui.data import StoreReader

    path = tmp_path / "s.db"
    db = store.open_db(path)
    ingest_file(db, rows(tmp_path / "a.csv", "a"))
    db.close()
    path.chmod(0o444)
    reader = StoreReader(path)
    try:
        before = reader.data_version()
        assert reader.data_version() == before  # nothing changed: no new opening
        path.chmod(0o644)
        db = store.open_db(path)
        ingest_file(db, rows(tmp_path / "b.csv", "b"))
        db.close()
        path.chmod(0o444)
        assert reader.data_version() != before
        assert reader.month_report("2020-10").total.count == 40
    finally:
        reader.close()


def test_writers_refused_by_a_read_only_store_leave_nothing_beside_it(folder):
    """Probe finding: `incidents alert` on a store it could not write left an empty -wal, a 32 KiB -shm
    and its .alert-lock beside it (it reads the store before it tries to write)."""
    prefix = as_nobody()
    path = read_only_store(folder, prefix)
    config = minimal_alert_config(folder)
    config.chmod(0o644)
    log = folder / "auth.log"
    log.write_text("Oct  5 07:00:01 host sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2\n")
    log.chmod(0o644)
    for args in (
        ["alert", "--dry-run", "--config", str(config)],
        ["alert", "--config", str(config)],
        ["ingest", str(rows(folder / "b.csv", "b"))],
        ["scan", str(log), "--year", "2020"],
    ):
        r = run([*args, "--db", str(path)], prefix)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "read-only" in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        left = sorted(p.name for p in folder.iterdir() if p.name.startswith("s.db"))
        assert left == ["s.db"], (args, left)
