"""The one way every writer takes the store's write lock: BEGIN IMMEDIATE, a note while it waits, StoreBusy after.

ingest, scan, alert, spikes (keeping verdicts), published import and the migrations all begin their
write transactions here, so they wait for a busy store the same way: up to `wait` seconds (ingest's
--wait, else $INCIDENTS_BUSY_TIMEOUT, default 30 s), telling the person once that they wait (the CLI
prints it as a `Note:` line on stderr), then StoreBusy (one `Error:` line, exit 75), never SQLite's own
"database is locked". BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails half-way
on a lock upgrade (https://sqlite.org/lang_transaction.html, "BEGIN IMMEDIATE").
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from incidents.store_errors import StoreBusy, busy_timeout

# How often the wait is cut to look at the clock (SQLite's own busy handler sleeps inside each slice).
_SLICE_S = 1.0
_notice: list[Callable[[str], None]] = []


def set_wait_notice(callback: Callable[[str], None] | None) -> None:
    """Where a writer says that it waits for a busy store when its caller gave no `on_wait` (the CLI: a
    `Note:` line on stderr). None: say nothing."""
    _notice[:] = [callback] if callback is not None else []


def is_busy(error: BaseException) -> bool:
    """True for SQLite's SQLITE_BUSY / SQLITE_LOCKED (https://www.sqlite.org/rescode.html#busy)."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in (5, 6):
        return True
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def busy_message(wait: float) -> str:
    """The one line a writer gives up with (StoreBusy's text)."""
    return (
        f"the store is busy: another process has been writing to it for over {wait:g} s "
        "(--wait / $INCIDENTS_BUSY_TIMEOUT); nothing was changed by this command, run it again later"
    )


def begin_write(
    db, *, wait: float | None = None, on_wait: Callable[[str], None] | None = None
) -> sqlite3.Connection:
    """BEGIN IMMEDIATE on `db` (a sqlite3 connection or a sqlite_utils Database); returns the connection.

    Waits up to `wait` s (default busy_timeout(): $INCIDENTS_BUSY_TIMEOUT, else 30) for another
    process's write lock, calling `on_wait` (else the notice set by set_wait_notice) once with a sentence
    saying so. Raises StoreBusy when the lock was not had in time; other sqlite3 errors pass through.
    """
    conn = getattr(db, "conn", db)
    if conn.in_transaction:  # a read left open by the driver's implicit transactions: end it
        conn.commit()
    wait = busy_timeout() if wait is None else max(0.0, wait)
    tell = on_wait or (_notice[0] if _notice else None)
    deadline = time.monotonic() + wait
    previous = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return conn
            except sqlite3.OperationalError as e:
                if not is_busy(e):
                    raise
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusy(busy_message(wait)) from None
                if tell is not None:
                    tell(f"the store is busy (another process is writing); waiting up to {wait:g} s")
                    tell = None
                # SQLite's busy handler waits for the lock inside this slice; the loop keeps the deadline.
                conn.execute(f"PRAGMA busy_timeout = {max(1, int(min(left, _SLICE_S) * 1000))}")
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(previous)}")


@contextmanager
def write_transaction(
    db, *, wait: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[sqlite3.Connection]:
    """One write transaction (begin_write ... COMMIT) yielding the sqlite3 connection.

    Commits on success, rolls back on any exception. Raises StoreBusy as begin_write does."""
    conn = begin_write(db, wait=wait, on_wait=on_wait)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    conn.commit()
