"""The outbox: every alert recorded in the store before it is sent, marked sent only once the server took it.

Two tables (migration `_v5_alert_outbox`) and one small state table:

- `alert_outbox`: one row per alert item and recipient, `key` UNIQUE (kind, subject, day, recipient), so
  a run that finds the same news again inserts nothing. Status: pending (not yet accepted by the mail
  server), held (past the recipient's hourly limit, waiting for a digest), sent, failed (the server
  refused it for good; `error` holds its words), dismissed (failed, then acknowledged by the operator;
  `dismissed_at` says when: outbox_failed.py, which also puts failed items back in the queue).
- `alert_mails`: the composed messages, RFC 5322 text and Message-ID, written before the first attempt.
  A mail that was not accepted (server down, a 4xx, a kill) is sent again byte for byte, with the same
  Message-ID, by the next run. The one window that can repeat a mail is a kill between the server's
  acceptance and the mark: the repeat then carries the same Message-ID, so mail clients and the
  recipient can tell it is the same message (as IntelMQ mailgen's sent-mail log accepts).
- `alert_runs`: one row per `incidents alert` run, its outcome and counts.

The read functions (`list_alerts`, `alert_counts`, `last_alert_run`) never write, take a plain (even
read-only) `sqlite3.Connection` or a sqlite_utils Database, and return []/zeros/None on a store without
these tables.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from incidents.alerts.outbox_failed import Requeued, dismiss_failed, failed_by_recipient, requeue_failed
from incidents.alerts.outbox_reads import (
    STATUSES,
    AlertRun,
    OutboxRow,
    alert_counts,
    last_alert_run,
    list_alerts,
)
from incidents.store_errors import StoreBusy
from incidents.store_lock import write_transaction
from incidents.store_sql import connection

# The read API lives in outbox_reads.py, the operator's requeue and dismissal of failed alerts in
# outbox_failed.py; their names stay importable from here too.
__all__ = [
    "STATUSES",
    "AlertRun",
    "Item",
    "Mail",
    "OutboxRow",
    "Queued",
    "Requeued",
    "StoreBusy",
    "add_mail",
    "alert_counts",
    "alerted_episodes",
    "alerted_peak",
    "dismiss_failed",
    "fail_unknown_recipients",
    "failed_by_recipient",
    "finish_run",
    "get_state",
    "hold",
    "last_alert_run",
    "list_alerts",
    "mails_in_window",
    "mark_failed",
    "mark_sent",
    "note_attempt",
    "pending_mails",
    "queue",
    "requeue_failed",
    "set_state",
    "start_run",
    "unmailed",
    "writing",
]


@contextmanager
def writing(db, *, wait: float | None = None) -> Iterator[sqlite3.Connection]:
    """One write transaction taken with BEGIN IMMEDIATE (no lock upgrade that could fail half-way).

    The store's one write lock (store.write_transaction): waits up to `wait` s (default
    $INCIDENTS_BUSY_TIMEOUT, else 30) with a note, then raises StoreBusy. Commits on success, rolls back
    on any exception.
    """
    with write_transaction(connection(db), wait=wait) as conn:
        yield conn


# --- write API (the job) --------------------------------------------------------------------------------


@dataclass
class Item:
    """News for one recipient, before it is queued: `payload` is what the mail will say about it."""

    kind: str
    subject_key: str
    day: str | None
    recipient: str
    payload: dict
    series: str | None = None
    episode_key: str | None = None
    incident_id: str | None = None
    feed: str | None = None
    peak: int | None = None
    severity: str | None = None
    rank: float = 0.0  # higher is worse: the subject names the worst item of a mail
    extra_key: str = field(default="", repr=False)

    @property
    def key(self) -> str:
        """The outbox's unique key: kind, subject, day, extra key and recipient, each prefixed by its length
        so that a '|' inside a part (a feed name from a file) cannot make two keys equal."""
        parts = [self.kind, self.subject_key, self.day or "", self.recipient]
        if self.extra_key:
            parts.insert(3, self.extra_key)
        # '|' inside attacker-controlled parts (a feed name) cannot make two keys equal: lengths prefix.
        return "|".join(f"{len(p)}:{p}" for p in parts)


def queue(db, items: list[Item], *, now: str) -> int:
    """Insert items as pending, ignoring any whose key is already queued; returns how many are new.

    Call inside the caller's transaction (with the state that says what was looked at).
    """
    conn = connection(db)
    before = conn.total_changes
    payload_rank = lambda it: json.dumps(
        {**it.payload, "kind": it.kind, "rank": it.rank}, ensure_ascii=False, default=str
    )
    conn.executemany(
        "INSERT OR IGNORE INTO alert_outbox (key, kind, subject_key, day, recipient, series, episode_key, "
        "incident_id, feed, peak, severity, status, created_at, payload) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        [
            (
                it.key,
                it.kind,
                it.subject_key,
                it.day,
                it.recipient,
                it.series,
                it.episode_key,
                it.incident_id,
                it.feed,
                it.peak,
                it.severity,
                now,
                payload_rank(it),
            )
            for it in items
        ],
    )
    return conn.total_changes - before


@dataclass(frozen=True)
class Queued:
    """A queued item as the composer reads it back."""

    id: int
    kind: str
    recipient: str
    status: str
    payload: dict
    rank: float


def unmailed(db, recipient: str) -> list[Queued]:
    """Items of a recipient not yet in any mail (pending or held), oldest first."""
    rows = connection(db).execute(
        "SELECT id, kind, recipient, status, payload FROM alert_outbox "
        "WHERE recipient = ? AND status IN ('pending', 'held') AND message_id IS NULL ORDER BY id",
        [recipient],
    )
    out = []
    for id_, kind, rcpt, status, payload in rows:
        data = json.loads(payload)
        out.append(Queued(id_, kind, rcpt, status, data, float(data.get("rank", 0.0))))
    return out


def fail_unknown_recipients(db, known: set[str]) -> int:
    """Items waiting for a recipient no longer in the configuration: failed, never sent. Returns how many."""
    conn = connection(db)
    waiting = conn.execute(
        "SELECT DISTINCT recipient FROM alert_outbox WHERE status IN ('pending', 'held') AND message_id IS NULL"
    ).fetchall()
    gone = [r for (r,) in waiting if r not in known]
    before = conn.total_changes
    conn.executemany(
        "UPDATE alert_outbox SET status = 'failed', error = 'recipient no longer in the configuration; not sent' "
        "WHERE recipient = ? AND status IN ('pending', 'held') AND message_id IS NULL",
        [(r,) for r in gone],
    )
    return conn.total_changes - before


def hold(db, item_ids: list[int]) -> None:
    """Mark the outbox items `item_ids` held (kept for the digest, not mailed on their own), in the
    caller's transaction."""
    connection(db).executemany(
        "UPDATE alert_outbox SET status = 'held' WHERE id = ?", [(i,) for i in item_ids]
    )


def mails_in_window(db, recipient: str, *, since: str, until: str, waiting: bool = True) -> int:
    """Mails to a recipient sent from `since` to `until` (UTC ISO 8601, inclusive; a run judged as of a
    past time does not count the mails of runs judged later), or composed and still waiting (they will
    be sent; not counted with `waiting=False`)."""
    pending = " OR status = 'pending'" if waiting else ""
    row = (
        connection(db)
        .execute(
            "SELECT count(*) FROM alert_mails WHERE recipient = ? AND kind != 'daily' "
            f"AND ((status = 'sent' AND sent_at >= ? AND sent_at <= ?){pending})",
            [recipient, since, until],
        )
        .fetchone()
    )
    return row[0]


def add_mail(
    db,
    *,
    message_id: str,
    recipient: str,
    kind: str,
    subject: str,
    message: str,
    item_ids: list[int],
    now: str,
) -> None:
    """Record a composed mail and attach its items (which become pending). Inside the caller's transaction."""
    conn = connection(db)
    conn.execute(
        "INSERT INTO alert_mails (message_id, recipient, kind, subject, items, status, created_at, message) "
        "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        [message_id, recipient, kind, subject, len(item_ids), now, message],
    )
    conn.executemany(
        "UPDATE alert_outbox SET message_id = ?, subject = ?, status = 'pending' WHERE id = ?",
        [(message_id, subject, i) for i in item_ids],
    )


@dataclass(frozen=True)
class Mail:
    message_id: str
    recipient: str
    kind: str
    subject: str
    items: int
    message: str


def pending_mails(db) -> list[Mail]:
    """Composed mails not yet accepted by the server, in the order they were composed."""
    rows = connection(db).execute(
        "SELECT message_id, recipient, kind, subject, items, message FROM alert_mails "
        "WHERE status = 'pending' ORDER BY created_at, rowid"
    )
    return [Mail(*r) for r in rows]


def mark_sent(db, message_id: str, *, now: str) -> None:
    """The server accepted the mail: it and its items are sent (one short transaction)."""
    with writing(db) as conn:
        conn.execute(
            "UPDATE alert_mails SET status = 'sent', sent_at = ?, attempts = attempts + 1, error = NULL "
            "WHERE message_id = ?",
            [now, message_id],
        )
        conn.execute(
            "UPDATE alert_outbox SET status = 'sent', sent_at = ?, error = NULL WHERE message_id = ?",
            [now, message_id],
        )


def mark_failed(db, message_id: str, error: str, *, now: str) -> None:
    """The server refused the mail for good (5xx): it and its items are failed, with the server's words."""
    with writing(db) as conn:
        conn.execute(
            "UPDATE alert_mails SET status = 'failed', attempts = attempts + 1, error = ? WHERE message_id = ?",
            [error, message_id],
        )
        conn.execute(
            "UPDATE alert_outbox SET status = 'failed', sent_at = NULL, error = ? WHERE message_id = ?",
            [error, message_id],
        )


def note_attempt(db, message_id: str, error: str) -> None:
    """A temporary failure: the mail stays pending, with the reason."""
    with writing(db) as conn:
        conn.execute(
            "UPDATE alert_mails SET attempts = attempts + 1, error = ? WHERE message_id = ?",
            [error, message_id],
        )
        conn.execute("UPDATE alert_outbox SET error = ? WHERE message_id = ?", [error, message_id])


def get_state(db, key: str) -> str | None:
    """The alert job's kept value for `key` (table alert_state), None when not set."""
    row = connection(db).execute("SELECT value FROM alert_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_state(db, key: str, value: str) -> None:
    """Keep `value` for `key` in alert_state (insert or replace), in the caller's transaction."""
    connection(db).execute(
        "INSERT INTO alert_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def alerted_peak(db, episode_key: str, recipient: str) -> tuple[int, str] | None:
    """The highest peak already queued for an episode and recipient, and the latest day it was queued for."""
    row = (
        connection(db)
        .execute(
            "SELECT max(peak), max(day) FROM alert_outbox WHERE episode_key = ? AND recipient = ?",
            [episode_key, recipient],
        )
        .fetchone()
    )
    return None if row is None or row[0] is None else (row[0], row[1])


def alerted_episodes(db, series: str, recipient: str) -> list[tuple[str, str, str]]:
    """(episode key, first day, last day) of the episodes of a series already queued for a recipient."""
    rows = connection(db).execute(
        "SELECT episode_key, min(json_extract(payload, '$.first_day')), max(json_extract(payload, '$.last_day')) "
        "FROM alert_outbox WHERE series = ? AND recipient = ? AND episode_key IS NOT NULL GROUP BY episode_key",
        [series, recipient],
    )
    return [tuple(r) for r in rows]


def start_run(db, *, started_at: str, now: str) -> int:
    """Record the start of an alert job (`started_at`, `now`: UTC ISO 8601) in alert_runs; returns its id.
    Raises StoreBusy when the store stays locked longer than $INCIDENTS_BUSY_TIMEOUT."""
    with writing(db) as conn:
        cur = conn.execute(
            "INSERT INTO alert_runs (started_at, now, outcome) VALUES (?, ?, 'running')", [started_at, now]
        )
    return cur.lastrowid


def finish_run(
    db,
    run_id: int,
    *,
    finished_at: str,
    outcome: str,
    queued: int,
    sent: int,
    error: str | None,
    refused: int = 0,
) -> None:
    """Close alert run `run_id`: its outcome ('ok', 'dry-run', 'failed', 'tempfail'), the items it queued and
    the mails the server accepted in it (also when it ended early: the mails sent before a 4xx), the
    outbox's pending/failed/held counts now, the error (one line) if any, and the mails the server refused
    for good (`refused`: when not 0, the error is their lines). Raises StoreBusy as start_run."""
    counts = alert_counts(db)
    with writing(db) as conn:
        conn.execute(
            "UPDATE alert_runs SET finished_at = ?, outcome = ?, queued = ?, sent = ?, pending = ?, failed = ?, "
            "held = ?, error = ?, refused = ? WHERE id = ?",
            [
                finished_at,
                outcome,
                queued,
                sent,
                counts["pending"],
                counts["failed"],
                counts["held"],
                error,
                refused,
                run_id,
            ],
        )
