"""Ingest runs as units of work: a file is committed in batches, yet all in or all out.

Each batch is its own transaction (so the WAL stays bounded, whatever the file's size), and every row
it writes carries the run id. The run is marked `ok` only at the end. A run that cannot finish (a
--strict refusal, Ctrl-C, an error) is undone: its incidents deleted, the incidents its corrections
replaced put back from `incident_history`, its rejects deleted. A run left `running` by a process that
died (kill -9, power cut) is undone the same way by the next ingest (`recover`).

Only one process writes at a time (SQLite's write lock). A writer that finds the store busy waits and
retries (`write_lock`), telling the caller once, and gives up with StoreBusy after `wait` seconds.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlite_utils

from incidents.store import StoreBusy, begin_write, utc_now  # noqa: F401 (StoreBusy: what begin raises)

# How long a writer waits for another one before giving up (exit 75: worth retrying later).
DEFAULT_WAIT_S = 600.0


def begin(
    db: sqlite_utils.Database, *, wait: float = DEFAULT_WAIT_S, on_wait: Callable[[str], None] | None = None
) -> None:
    """BEGIN IMMEDIATE, waiting up to `wait` s for another writer (store.begin_write: the one mechanism)."""
    begin_write(db, wait=wait, on_wait=on_wait)


@contextmanager
def write_lock(
    db: sqlite_utils.Database, *, wait: float = DEFAULT_WAIT_S, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """One write transaction (BEGIN IMMEDIATE ... COMMIT), waiting up to `wait` s for the lock.

    Rolls back on any exception. Raises StoreBusy when the lock was not had in time.
    """
    begin(db, wait=wait, on_wait=on_wait)
    try:
        yield
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


def start(db: sqlite_utils.Database, *, file: str, sha256: str, fmt: str | None) -> int:
    """Record a running ingest run (inside the caller's transaction); returns its id."""
    cur = db.conn.execute(
        "INSERT INTO ingest_runs(kind, file, sha256, format, started_at, status, pid, host) "
        "VALUES ('ingest', ?, ?, ?, ?, 'running', ?, ?)",
        (file, sha256, fmt, utc_now(), os.getpid(), socket.gethostname()),
    )
    return cur.lastrowid


def running_twin(db: sqlite_utils.Database, sha256: str) -> dict | None:
    """A live run of another process reading the same content right now, if any."""
    for run_id, pid, host, file in db.conn.execute(
        "SELECT id, pid, host, file FROM ingest_runs WHERE kind = 'ingest' AND status = 'running' AND sha256 = ?",
        (sha256,),
    ):
        if _alive(pid, host):
            return {"id": run_id, "pid": pid, "file": file}
    return None


def _alive(pid, host) -> bool:
    if pid is None or host != socket.gethostname():
        return pid is not None  # another machine's run: assume it is alive
    if pid == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def undo(db: sqlite_utils.Database, run_id: int) -> None:
    """Take a run's rows out of the store (inside the caller's transaction), putting back what it replaced."""
    conn = db.conn
    conn.execute("DELETE FROM incidents WHERE run_id = ?", (run_id,))
    replaced = conn.execute(
        "SELECT old, record_key, incident_id FROM incident_history WHERE run_id = ? ORDER BY id DESC",
        (run_id,),
    ).fetchall()
    for old, record_key, incident_id in replaced:
        row = json.loads(old)
        names = list(row)
        conn.execute(
            f"INSERT OR IGNORE INTO incidents ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [row[n] for n in names],
        )
        # The corrected record supports again the incident it supported before the run.
        conn.execute(
            "INSERT OR REPLACE INTO incident_records(record_key, incident_id, run_id) VALUES (?, ?, ?)",
            (record_key, incident_id, row.get("run_id")),
        )
    conn.execute("DELETE FROM incident_records WHERE run_id = ?", (run_id,))
    conn.execute("DELETE FROM incident_history WHERE run_id = ?", (run_id,))
    conn.execute("DELETE FROM rejects WHERE run_id = ?", (run_id,))


def recover(db: sqlite_utils.Database, **lock) -> list[int]:
    """Undo the ingest runs that died while running (their process is gone); returns their ids."""
    dead = [
        run_id
        for run_id, pid, host in db.conn.execute(
            "SELECT id, pid, host FROM ingest_runs WHERE kind = 'ingest' AND status = 'running'"
        ).fetchall()
        if not _alive(pid, host) or pid is None
    ]
    if not dead:
        return []
    with write_lock(db, **lock):
        for run_id in dead:
            undo(db, run_id)
            db.conn.execute(
                "UPDATE ingest_runs SET status = 'aborted', finished_at = ? WHERE id = ?", (utc_now(), run_id)
            )
    return dead
