"""The alert job's lock and its store: one `incidents alert` at a time per store (a flock(2) on
`<store>.alert-lock`, released by the OS however the process ends), and the store opened for writing
under it, its faults turned into the job's errors (exit 75 for a busy store, 1 otherwise)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from incidents.alerts import outbox
from incidents.files import NotRegularFile, check_regular


class JobError(Exception):
    """The alert job could not run (exit 1)."""


class AlreadyRunning(JobError):
    """Another `incidents alert` holds the lock (exit 75: this run did nothing)."""


class TempFailed(JobError):
    """The mail server or the store is unavailable for now; pending alerts go out on the next run (exit 75)."""


def lock_path(db_path: Path) -> Path:
    """The lock file that keeps two alert jobs on one store apart: '<store>.alert-lock' beside it."""
    return db_path.with_name(db_path.name + ".alert-lock")


class RunLock:
    """An exclusive flock(2) on `<store>.alert-lock`: released by the OS when the process ends, even by kill -9."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> Self:
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise JobError(f"cannot open the lock file {self.path}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise AlreadyRunning(f"another incidents alert is running{who}; this run did nothing") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the flock
            self.fd = None


@contextmanager
def locked_store(db_path: str | Path | None) -> Iterator[sqlite3.Connection]:
    """The store at `db_path` (default as store.resolve_path) opened for writing (migrated if older) under
    the alert job's lock, closed at the end. Store faults inside the block become TempFailed (busy) or
    JobError; a store refused leaves no lock file beside it. Raises AlreadyRunning when a job holds the lock.
    """
    from incidents import store

    path = store.resolve_path(db_path)
    if not path.exists():
        raise JobError(f"no database at {path} (run 'incidents ingest' or 'incidents demo' first)")
    try:
        check_regular(path)  # a folder or a FIFO given as --db: the words every other command uses
    except NotRegularFile as e:
        raise JobError(str(e)) from None
    lock = lock_path(path)
    lock_existed = lock.exists()
    with RunLock(lock):
        try:
            db = _open_store(path)
        except store.StoreBusy as e:
            raise TempFailed(f"{e}; pending alerts go out on the next run") from None
        except store.StoreError as e:
            if not lock_existed:  # a file refused (not a store, a full disk): leave nothing beside it
                lock.unlink(missing_ok=True)
            raise JobError(str(e)) from None
        try:
            yield db
        except outbox.StoreBusy as e:
            raise TempFailed(f"{e}; pending alerts go out on the next run") from None
        except sqlite3.Error as e:
            problem = store.explain(e, path)
            if isinstance(problem, store.StoreBusy):
                raise TempFailed(f"{problem}; pending alerts go out on the next run") from None
            if not lock_existed and isinstance(problem, (store.StoreReadOnly, store.StoreFull)):
                lock.unlink(missing_ok=True)  # a store it cannot write: leave nothing beside it
            raise JobError(str(problem)) from None
        finally:
            db.close()


def _open_store(path: Path):
    """The store for writing: a plain sqlite3 connection when its schema is current and it is in WAL mode
    (the every-15-minutes case; sqlite_utils and the pandas it imports cost 2 CPU s a run), else
    `store.open_db`, which migrates (after a backup copy) and sets the journal mode."""
    from incidents import store
    from incidents.migrations import MIGRATIONS
    from incidents.store_disk import remember_sidecars

    remember_sidecars(path)  # what a failed run created beside the store is removed (cli main)
    try:
        conn = sqlite3.connect(path, timeout=store.busy_timeout())
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            wal = conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            zone = (
                conn.execute("SELECT value FROM meta WHERE key = 'reporting_zone'").fetchone()
                if version
                else None
            )
        except sqlite3.Error:
            version, wal, zone = None, False, None
        if version == len(MIGRATIONS) and wal and zone:
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        conn.close()
    except sqlite3.Error as e:
        raise store.explain(e, path) from None
    return store.open_db(path, create=False)
