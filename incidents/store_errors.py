"""Store errors, and how a sqlite3 error met while using the store becomes one of them."""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path

from incidents.store_disk import disk_full
from incidents.store_sql import connection

# Long enough for a reader to wait out one ingest transaction of a large file.
BUSY_TIMEOUT_S = 30.0


def busy_timeout() -> float:
    """Seconds a command waits for another one's write lock: $INCIDENTS_BUSY_TIMEOUT when it is a finite
    number >= 0, else BUSY_TIMEOUT_S ('abc', '-1', 'nan' and 'inf' alike). `ingest` has its own --wait."""
    try:
        value = float(os.environ.get("INCIDENTS_BUSY_TIMEOUT", BUSY_TIMEOUT_S))
    except ValueError:
        return BUSY_TIMEOUT_S
    return value if math.isfinite(value) and value >= 0 else BUSY_TIMEOUT_S


class StoreError(Exception):
    """The store cannot be opened or used."""


class NewerSchema(StoreError):
    """The database was made by a newer release of incidents than this one."""


class NotAStore(StoreError):
    """The file is not an incidents store: not SQLite, empty, or another tool's SQLite database."""


class StoreBusy(StoreError):
    """Another process held the store's write lock for longer than BUSY_TIMEOUT_S: worth retrying (exit 75)."""


class StoreFull(StoreError):
    """The disk holding the store is full; the transaction was rolled back and the store is as it was."""


class StoreReadOnly(StoreError):
    """The store cannot be written (file or folder permissions, a read-only mount)."""


class StoreDamaged(StoreError):
    """Pages of the store are damaged (SQLITE_CORRUPT): a disk fault, a copy taken mid-write."""


def store_file(conn) -> str | None:
    """The file of a connection's main database (sqlite3 or sqlite_utils), for naming it in a message."""
    try:
        for _, name, file in connection(conn).execute("PRAGMA database_list").fetchall():
            if name == "main":
                return file or None
    except (sqlite3.Error, AttributeError):  # a message is being written: never fail for want of a name
        return None
    return None


def explain(error: BaseException, file: str | Path | None = None) -> StoreError:
    """The StoreError (one plain sentence) for a sqlite3 error met while using the store at `file`.

    Classifies by SQLite's primary result code (https://www.sqlite.org/rescode.html): BUSY/LOCKED ->
    StoreBusy, FULL (or IOERR on a disk with no room, ENOSPC) -> StoreFull, READONLY/CANTOPEN on a
    read-only file -> StoreReadOnly, CORRUPT -> a StoreError that says what to do, NOTADB -> NotAStore;
    anything else -> StoreError with SQLite's own words.
    """
    if isinstance(error, StoreError):
        return error
    where = f"the store {file}" if file else "the store"
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error)
    if primary in (5, 6) or "locked" in text or "busy" in text:
        return StoreBusy(
            f"{where} is busy: another command kept it locked for more than "
            f"{busy_timeout():g} s ($INCIDENTS_BUSY_TIMEOUT); nothing was changed by this one, run it again when the other has finished"
        )
    # SQLITE_FULL, ENOSPC/EDQUOT, or an I/O error (a failed write of the -shm or a page is SQLITE_IOERR)
    # while the file system has no room left: one sentence that says the disk is full.
    no_room = isinstance(error, OSError) and getattr(error, "errno", None) in (28, 122)
    if (
        primary == 13
        or "disk is full" in text
        or no_room
        or ((primary == 10 or "disk i/o error" in text.lower()) and disk_full(_folder(file)))
    ):
        return StoreFull(
            f"the disk holding {where} is full; this command's changes were rolled back and the store is "
            "as it was: free some space (or move the store with --db) and run it again"
        )
    if primary == 8 or "readonly" in text or "read-only" in text:
        return StoreReadOnly(
            f"{where} is read-only (file, folder or mount); read commands still work, "
            "writing needs write permission on the file and its folder"
        )
    if primary == 11 or "malformed" in text:
        # SQLITE_CORRUPT: pages of the file are damaged (a disk fault, a copy taken mid-write, another
        # program writing into it). Say what to do, not only SQLite's words.
        return StoreDamaged(
            f"{where} is damaged ({text}): keep a copy and stop writing to it; `incidents doctor` shows the "
            f"damage; restore a backup, or rebuild it: `sqlite3 {file or 'STORE'} .recover | sqlite3 repaired.db`"
        )
    if primary == 26 or "not a database" in text:
        return NotAStore(f"{file or 'the file'} is not an SQLite database, so not an incidents store")
    if "no such table" in text or "no such column" in text:
        return StoreError(
            f"{where} was made by an older release of incidents ({text}): run a writing command such as "
            "'incidents ingest' on it once to upgrade it (a backup copy is kept beside it)"
        )
    return StoreError(f"{file}: {text}" if file else text)


def _folder(file: str | Path | None) -> Path:
    return Path(file).absolute().parent if file else Path.cwd()
