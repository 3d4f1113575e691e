"""The operator's way out of alerts that failed for good: `incidents alert --retry-failed / --dismiss-failed`.

Each takes the alert job's lock (no run sends while the outbox changes), opens the store for writing
(an older store is migrated first) and changes the failed items in one transaction (outbox_failed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from incidents.alerts import outbox
from incidents.alerts.job import iso
from incidents.alerts.joblock import locked_store
from incidents.config import Config


def requeue_failed(
    db_path: str | Path | None, config: Config, *, recipient: str | None = None
) -> outbox.Requeued:
    """Put the alerts that failed for good back in the queue (only `recipient`'s when given): the next run
    sends them, each at most once, a composed mail with its Message-ID. Those of a recipient no longer in
    `config` stay failed and are counted in `Requeued.left`.

    Raises AlreadyRunning or TempFailed (exit 75), JobError (exit 1), as run_alerts.
    """
    with locked_store(db_path) as db:
        return outbox.requeue_failed(db, known={r.email for r in config.recipients}, recipient=recipient)


def dismiss_failed(db_path: str | Path | None, *, recipient: str | None = None) -> int:
    """Mark the alerts that failed for good dismissed now (only `recipient`'s when given): they stay in the
    outbox as a record, never sent. Returns how many. Raises as `requeue_failed`."""
    with locked_store(db_path) as db:
        return outbox.dismiss_failed(db, now=iso(datetime.now(UTC)), recipient=recipient)
