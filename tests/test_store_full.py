"""A full disk gives the README's one line in every command, reads included (issue 15 probe finding 4).

`Error: the disk holding the store ... is full; ...`, exit 1, whether SQLite says SQLITE_FULL, the OS
says ENOSPC, or SQLite says SQLITE_IOERR (a read cannot grow its -shm) on a file system with no room
(os.statvfs). No -wal/-shm is left behind by the command that created them, and once space is freed
every command works again, after an `alert` on the full disk too. A 3 MB tmpfs, skipped where mounting
is not allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.smtpd import free_port, smtp_table
from tests.test_store_opening import csv_rows, run_cli

pytestmark = pytest.mark.resources

COMMANDS = [
    ["stats", "--month", "2020-10"],
    ["list"],
    ["rejects"],
    ["bulletin", "--month", "2020-10"],
    ["spikes", "--since", "2020-10-01"],
    ["published", "check"],
]


def fill(folder: Path) -> Path:
    """Fill the file system of `folder` to the last byte; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    try:
        with open(filler, "ab") as fh:  # the last partial block
            while True:
                fh.write(b"\0" * 512)
                fh.flush()
    except OSError:
        pass
    return filler


def says_full(r) -> bool:
    lines = [line for line in r.stderr.splitlines() if line.strip() and not line.startswith("Note: ")]
    return (
        r.returncode == 1
        and len(lines) == 1
        and lines[0].startswith("Error: ")
        and "the disk holding the store" in lines[0]
        and "is full" in lines[0]
        and "Traceback" not in r.stderr
    )


def test_every_command_on_a_full_disk_says_so_leaves_no_file_and_works_once_space_is_freed(
    tmp_path, small_mount
):
    built = tmp_path / "s.db"
    assert (
        run_cli(["ingest", str(csv_rows(tmp_path / "a.csv", 50, prefix="a")), "--db", str(built)]).returncode
        == 0
    )
    path = small_mount / "s.db"
    path.write_bytes(built.read_bytes())  # cleanly closed: no -wal, no -shm
    log = tmp_path / "auth.log"
    log.write_text(
        "Oct  5 01:00:00 web1 sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2\n" * 30
    )
    config = tmp_path / "incidents.toml"
    config.write_text(
        smtp_table(free_port())
        + '[[recipients]]\nemail = "d@example.vn"\ncategories = ["deface"]\nmin_severity = "high"\n'
    )
    more = csv_rows(tmp_path / "b.csv", 5, prefix="b")
    writers = [
        ["ingest", str(more)],
        ["scan", str(log), "--year", "2020"],
        ["alert", "--config", str(config), "--now", "2020-10-06T00:00:00+00:00"],
    ]
    filler = fill(small_mount)
    for args in [*COMMANDS, *writers]:
        r = run_cli([*args, "--db", str(path)])
        assert says_full(r), (args, r.returncode, r.stderr)
        left = sorted(p.name for p in small_mount.iterdir() if p.name.startswith("s.db-"))
        assert left == [], (args, left)
    filler.unlink()
    for args in COMMANDS:
        r = run_cli([*args, "--db", str(path)])
        assert r.returncode in (0, 3), (args, r.stderr)  # published check: 3 = figures differ (none here)
    r = run_cli(["ingest", str(more), "--db", str(path)])
    assert r.returncode == 0, r.stderr
    r = run_cli(["stats", "--month", "2020-10", "--json", "--db", str(path)])
    assert r.returncode == 0 and '"count": 55' in r.stdout, r.stdout


def test_an_io_error_on_a_disk_with_room_keeps_sqlites_words(tmp_path):
    import sqlite3

    from incidents import store

    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = 10  # SQLITE_IOERR
    problem = store.explain(error, tmp_path / "s.db")
    assert not isinstance(problem, store.StoreFull) and "disk I/O error" in str(problem)
    assert isinstance(
        store.explain(OSError(28, "No space left on device"), tmp_path / "s.db"), store.StoreFull
    )
