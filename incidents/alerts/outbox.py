"""The outbox: every alert recorded in the store before it is sent, marked sent only once the server took it.

Two tables (migration `_v5_alert_outbox`) and one small state table:

- `alert_outbox`: one row per alert item and recipient, `key` UNIQUE (kind, subject, day, recipient), so
  a run that finds the same news again inserts nothing. Status: pending (not yet accepted by the mail
  server), held (past the recipient's hourly limit, waiting for a digest), sent, failed (the server
  refused it for good; `error` holds its words).
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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from incidents.store_sql import connection, has_tables, where_clause

STATUSES = ("pending", "held", "sent", "failed")
# How long a write waits for a concurrent writer (an ingest holds one transaction per file), beyond the
# connection's own busy timeout, before the job gives up with "store busy" (exit 75).
WRITE_PATIENCE_S = 120.0


class StoreBusy(Exception):
    """Another process held the store's write lock for longer than the job waits."""


@contextmanager
def writing(db, *, patience: float = WRITE_PATIENCE_S) -> Iterator[sqlite3.Connection]:
    """One write transaction taken with BEGIN IMMEDIATE (no lock upgrade that could fail half-way).

    Retries while another writer holds the store, up to `patience` seconds, then raises StoreBusy.
    Commits on success, rolls back on any exception.
    """
    conn = connection(db)
    if conn.in_transaction:  # a read left open by the driver's implicit transactions: end it
        conn.commit()
    deadline = time.monotonic() + patience
    delay = 0.05
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusy("the store stayed busy (another process is writing to it)") from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()


# --- read API (TUI, doctor, --status) -----------------------------------------------------------------


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

    def as_dict(self) -> dict:
        """The row as a plain dict (for --json)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class AlertRun:
    id: int
    started_at: str
    finished_at: str | None
    now: str | None
    outcome: str  # ok, nothing, tempfail, failed; 'interrupted' for a run that never finished
    queued: int
    sent: int
    pending: int
    failed: int
    held: int
    error: str | None

    def as_dict(self) -> dict:
        """The run as a plain dict (for --json)."""
        return dict(self.__dict__)


_ROW_COLUMNS = (
    "id, key, kind, recipient, status, created_at, sent_at, error, message_id, subject, day, series, "
    "episode_key, incident_id, feed, payload"
)


def _outbox_row(row: tuple) -> OutboxRow:
    *head, payload = row
    try:
        headline = json.loads(payload).get("headline", "")
    except (TypeError, ValueError):
        headline = ""
    return OutboxRow(*head, headline=headline)


def list_alerts(
    db, *, status: str | None = None, recipient: str | None = None, limit: int = 200
) -> list[OutboxRow]:
    """Alert items, newest first, at most `limit`; `status` one of pending, held, sent, failed (None: all),
    `recipient` an address (None: all). [] on a store without the outbox; ValueError for another status."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    conn = connection(db)
    if not has_tables(conn, "alert_outbox"):
        return []
    where, args = where_clause(("status = ?", status), ("recipient = ?", recipient))
    sql = f"SELECT {_ROW_COLUMNS} FROM alert_outbox {where} ORDER BY id DESC LIMIT ?"
    return [_outbox_row(r) for r in conn.execute(sql, [*args, int(limit)]).fetchall()]


def alert_counts(db) -> dict[str, int]:
    """Alert items per status: {'pending': n, 'sent': n, 'failed': n, 'held': n}."""
    counts = dict.fromkeys(("pending", "sent", "failed", "held"), 0)
    conn = connection(db)
    if not has_tables(conn, "alert_outbox"):
        return counts
    for status, n in conn.execute("SELECT status, count(*) FROM alert_outbox GROUP BY status"):
        counts[status] = n
    return counts


def last_alert_run(db) -> AlertRun | None:
    """The latest `incidents alert` run (a run killed before its end reads outcome 'interrupted')."""
    conn = connection(db)
    if not has_tables(conn, "alert_outbox"):
        return None
    row = conn.execute(
        "SELECT id, started_at, finished_at, now, outcome, queued, sent, pending, failed, held, error "
        "FROM alert_runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    run = AlertRun(*row)
    if run.finished_at is None and run.outcome == "running":
        run = AlertRun(**{**run.as_dict(), "outcome": "interrupted"})
    return run


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


def mails_in_window(db, recipient: str, *, since: str) -> int:
    """Mails to a recipient sent at or after `since`, or composed and still waiting (they will be sent)."""
    row = (
        connection(db)
        .execute(
            "SELECT count(*) FROM alert_mails WHERE recipient = ? AND kind != 'daily' "
            "AND ((status = 'sent' AND sent_at >= ?) OR status = 'pending')",
            [recipient, since],
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
    Raises StoreBusy when the store stays locked longer than WRITE_PATIENCE_S."""
    with writing(db) as conn:
        cur = conn.execute(
            "INSERT INTO alert_runs (started_at, now, outcome) VALUES (?, ?, 'running')", [started_at, now]
        )
    return cur.lastrowid


def finish_run(
    db, run_id: int, *, finished_at: str, outcome: str, queued: int, sent: int, error: str | None
) -> None:
    """Close alert run `run_id`: its outcome ('ok', 'dry-run', 'failed', 'tempfail'), items queued and sent, the
    outbox's pending/failed/held counts now, and the error (one line) if any. Raises StoreBusy as start_run."""
    counts = alert_counts(db)
    with writing(db) as conn:
        conn.execute(
            "UPDATE alert_runs SET finished_at = ?, outcome = ?, queued = ?, sent = ?, pending = ?, failed = ?, "
            "held = ?, error = ? WHERE id = ?",
            [
                finished_at,
                outcome,
                queued,
                sent,
                counts["pending"],
                counts["failed"],
                counts["held"],
                error,
                run_id,
            ],
        )
