"""Alerts that failed for good, once the operator has dealt with them: requeued, or dismissed.

A failed item was refused by the mail server (a 5xx) or never composed (its recipient left the
configuration), so it never reached anyone: putting it back in the queue cannot send anything twice.
A requeued item that was in a composed mail goes out in that very mail (its stored bytes, its
Message-ID); one that never was is composed by the next run like any new item. A dismissed item stays
in the outbox as the record of what was never sent, with the server's words and when it was dismissed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from incidents.store_lock import write_transaction
from incidents.store_sql import connection


@dataclass(frozen=True)
class Requeued:
    """What `requeue_failed` did: items put back in the queue, the composed mails among them that go out
    again as they were, and the failed items it left because their recipient is no longer configured."""

    items: int
    mails: int
    left: int


def failed_by_recipient(conn, recipient: str | None = None) -> list[tuple[str, int, int]]:
    """(recipient, failed items, distinct composed mails among them), for one recipient or all."""
    where = "status = 'failed'" + (" AND recipient = ?" if recipient is not None else "")
    return conn.execute(
        f"SELECT recipient, count(*), count(DISTINCT message_id) FROM alert_outbox WHERE {where} "
        "GROUP BY recipient ORDER BY recipient",
        [recipient] if recipient is not None else [],
    ).fetchall()


def requeue_failed(
    db, *, known: Collection[str], recipient: str | None = None, wait: float | None = None
) -> Requeued:
    """Put the failed alerts of the recipients in `known` (the configuration's; only `recipient`'s when
    given) back in the queue as pending, in one write transaction, and return the counts. Failed items
    of any other recipient are left failed and counted in `left`: sent, they would only fail again.

    Needs a store migrated to step 16 or later. Raises StoreBusy when the store stays locked longer than
    `wait` (default $INCIDENTS_BUSY_TIMEOUT).
    """
    items = mails = left = 0
    with write_transaction(connection(db), wait=wait) as conn:
        for address, n_items, n_mails in failed_by_recipient(conn, recipient):
            if address not in known:
                left += n_items
                continue
            # The mails keep their bytes, Message-ID and attempts (their last error stays until one is
            # sent); the items lose the error that no longer describes them.
            conn.execute(
                "UPDATE alert_mails SET status = 'pending' WHERE recipient = ? AND status = 'failed'",
                [address],
            )
            conn.execute(
                "UPDATE alert_outbox SET status = 'pending', error = NULL WHERE recipient = ? AND status = 'failed'",
                [address],
            )
            items += n_items
            mails += n_mails
    return Requeued(items, mails, left)


def dismiss_failed(db, *, now: str, recipient: str | None = None, wait: float | None = None) -> int:
    """Mark the failed alerts (only `recipient`'s when given) dismissed at `now` (UTC ISO 8601), and their
    mails, in one write transaction; they are never sent. Returns how many items were dismissed.

    Needs a store migrated to step 16 or later. Raises StoreBusy as `requeue_failed`.
    """
    only = " AND recipient = ?" if recipient is not None else ""
    args = [recipient] if recipient is not None else []
    with write_transaction(connection(db), wait=wait) as conn:
        before = conn.total_changes
        conn.execute(
            f"UPDATE alert_outbox SET status = 'dismissed', dismissed_at = ? WHERE status = 'failed'{only}",
            [now, *args],
        )
        dismissed = conn.total_changes - before
        conn.execute(f"UPDATE alert_mails SET status = 'dismissed' WHERE status = 'failed'{only}", args)
    return dismissed
