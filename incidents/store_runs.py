"""Ingest and scan runs, and the rows they quarantined (rejects)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


def utc_now() -> str:
    """The current time in UTC as ISO 8601 to the second ('2020-10-14T03:05:09Z'), as runs record it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_run(db: sqlite_utils.Database, *, file: str, sha256: str, kind: str, fmt: str | None = None) -> int:
    """Record the start of an ingest or scan run (inside the caller's transaction) and return its id."""
    cur = db.execute(
        "INSERT INTO ingest_runs(kind, file, sha256, format, started_at, status) VALUES (?, ?, ?, ?, ?, 'running')",
        [kind, file, sha256, fmt, utc_now()],
    )
    return cur.lastrowid


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    read: int,
    accepted: int,
    duplicate: int,
    rejected: int,
    status: str,
) -> None:
    """Close run `run_id`: its row counts (read, accepted, duplicate, rejected) and status ('ok', 'failed',
    ...), finished now (UTC). Inside the caller's transaction; sqlite3 errors pass through (see explain)."""
    db.execute(
        "UPDATE ingest_runs SET finished_at = ?, rows_read = ?, accepted = ?, duplicate = ?, rejected = ?, status = ? "
        "WHERE id = ?",
        [utc_now(), read, accepted, duplicate, rejected, status, run_id],
    )


def previous_run(db: sqlite_utils.Database, sha256: str, kind: str) -> dict | None:
    """The last successful run that read a file with this content, if any."""
    rows = list(
        db.query(
            "SELECT * FROM ingest_runs WHERE sha256 = ? AND kind = ? AND status = 'ok' ORDER BY id DESC LIMIT 1",
            [sha256, kind],
        )
    )
    return rows[0] if rows else None


def add_rejects(db: sqlite_utils.Database, run_id: int, rejects: Iterable[tuple[int, str, str]]) -> None:
    """Quarantine rows: (line or record number, raw text, reason).

    Bytes that were not UTF-8 reach here as lone surrogates (surrogateescape), which SQLite text cannot
    hold: they are kept visible as `\\xff` escapes, so the quarantined row still shows what came in.
    """
    db.conn.executemany(
        "INSERT INTO rejects(run_id, line, raw, reason) VALUES (?, ?, ?, ?)",
        ((run_id, line, storable(raw), storable(reason)) for line, raw, reason in rejects),
    )


def storable(text):
    """`text` with lone surrogates (undecodable input bytes) written as backslash escapes; others as is."""
    if not isinstance(text, str):
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
