"""The outbox's read API (TUI, doctor, `incidents alert --status`): alert items, counts, the last run.

Never writes; takes a plain (even read-only) `sqlite3.Connection` or a sqlite_utils Database, and
returns []/zeros/None on a store without the outbox tables (an older store).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from incidents.store_errors import store_file
from incidents.store_sql import connection, has_tables, where_clause

# dismissed: failed for good, then acknowledged by the operator (`incidents alert --dismiss-failed`);
# kept as the record of what was never sent, never sent again.
STATUSES = ("pending", "held", "sent", "failed", "dismissed")


@dataclass(frozen=True)
class OutboxRow:
    """One alert item for one recipient."""

    id: int
    key: str
    kind: str
    recipient: str
    status: str
    created_at: str
    sent_at: str | None
    error: str | None
    message_id: str | None
    subject: str | None
    day: str | None
    series: str | None
    episode_key: str | None
    incident_id: str | None
    feed: str | None
    headline: str  # the item's one-sentence explanation
    dismissed_at: str | None = None  # UTC, when the operator dismissed it (status 'dismissed')

    def as_dict(self) -> dict:
        """The row as a plain dict (for --json)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class AlertRun:
    id: int
    started_at: str
    finished_at: str | None
    now: str | None
    outcome: str  # ok, nothing, tempfail, failed; 'running' now, or 'interrupted' (it never finished)
    queued: int
    sent: int
    pending: int
    failed: int
    held: int
    error: str | None
    refused: int = 0  # mails the server refused for good in this run (its error lists them)

    def as_dict(self) -> dict:
        """The run as a plain dict (for --json)."""
        return dict(self.__dict__)


# A store not yet migrated to step 16 has no alert_runs.refused: its count is recovered from the error such
# a run wrote (its refusal lines, each starting "mail to ", joined by "; "), as the migration does, so that
# doctor reads an old store's run that only saw refusals as it reads the migrated store's.
RECOVERED_REFUSED = (
    "(CASE WHEN outcome = 'failed' AND error LIKE 'mail to %' THEN 1 + (length(error) - "
    "length(replace(error, '; mail to ', ''))) / length('; mail to ') ELSE 0 END)"
)

_ROW_COLUMNS = (
    "id, key, kind, recipient, status, created_at, sent_at, error, message_id, subject, day, series, "
    "episode_key, incident_id, feed, {dismissed_at}, payload"
)


def _has_column(conn, table: str, column: str) -> bool:
    """Whether `table` has `column`: a store not yet migrated by a writer lacks the newer ones."""
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))


def _outbox_row(row: tuple) -> OutboxRow:
    *head, dismissed_at, payload = row
    try:
        headline = json.loads(payload).get("headline", "")
    except (TypeError, ValueError):
        headline = ""
    return OutboxRow(*head, headline=headline, dismissed_at=dismissed_at)


def list_alerts(
    db, *, status: str | None = None, recipient: str | None = None, limit: int = 200
) -> list[OutboxRow]:
    """Alert items, newest first, at most `limit`; `status` one of pending, held, sent, failed, dismissed
    (None: all), `recipient` an address (None: all). [] on a store without the outbox; ValueError for
    another status."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    conn = connection(db)
    if not has_tables(conn, "alert_outbox"):
        return []
    where, args = where_clause(("status = ?", status), ("recipient = ?", recipient))
    dismissed_at = "dismissed_at" if _has_column(conn, "alert_outbox", "dismissed_at") else "NULL"
    columns = _ROW_COLUMNS.format(dismissed_at=dismissed_at)
    sql = f"SELECT {columns} FROM alert_outbox {where} ORDER BY id DESC LIMIT ?"
    return [_outbox_row(r) for r in conn.execute(sql, [*args, int(limit)]).fetchall()]


def alert_counts(db) -> dict[str, int]:
    """Alert items per status: {'pending': n, 'sent': n, 'failed': n, 'held': n, 'dismissed': n}."""
    counts = dict.fromkeys(("pending", "sent", "failed", "held", "dismissed"), 0)
    conn = connection(db)
    if not has_tables(conn, "alert_outbox"):
        return counts
    for status, n in conn.execute("SELECT status, count(*) FROM alert_outbox GROUP BY status"):
        counts[status] = n
    return counts


def last_alert_run(db) -> AlertRun | None:
    """The latest `incidents alert` run: a run without an end is 'running' while an alert job holds the
    store's `.alert-lock` (alerts.joblock.RunLock), else 'interrupted' (killed before its end)."""
    conn = connection(db)
    if not has_tables(conn, "alert_outbox"):
        return None
    refused = "refused" if _has_column(conn, "alert_runs", "refused") else RECOVERED_REFUSED
    row = conn.execute(
        "SELECT id, started_at, finished_at, now, outcome, queued, sent, pending, failed, held, error, "
        f"{refused} FROM alert_runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    run = AlertRun(*row)
    if run.finished_at is None and run.outcome == "running" and not _job_running(conn):
        run = AlertRun(**{**run.as_dict(), "outcome": "interrupted"})
    return run


def _job_running(conn) -> bool:
    """Whether an `incidents alert` process holds the store's `.alert-lock` right now (the flock the job
    takes for its whole run; released by the OS when it ends, even by kill -9). Creates nothing."""
    import fcntl
    from pathlib import Path

    from incidents.alerts.joblock import lock_path  # here: joblock imports outbox, which imports this module

    file = store_file(conn)
    if not file:
        return False
    try:
        fd = os.open(lock_path(Path(file)), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock this took
    return False
