"""The operator's way out of alerts that failed for good: `incidents alert --retry-failed / --dismiss-failed`.

Each takes the alert job's lock (no run sends while the outbox changes), opens the store for writing
(an older store is migrated first) and changes the failed items in one transaction (outbox_failed);
a retry then runs the job under the same lock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from incidents.alerts import outbox
from incidents.alerts.job import JobResult, iso, run_locked
from incidents.alerts.joblock import locked_store
from incidents.config import Config


def retry_failed(
    db_path: str | Path | None,
    config: Config,
    *,
    recipient: str | None = None,
    now: datetime | None = None,
    db_hint: str | None = None,
    on_requeued: Callable[[outbox.Requeued], None] = lambda requeued: None,
) -> JobResult:
    """Put the alerts that failed for good back in the queue (only `recipient`'s when given), tell
    `on_requeued` how many, and run the alert job, all under one hold of the job's lock (no other run
    comes in between): each goes at most once, a composed mail with its Message-ID. Those of a recipient
    no longer in `config` stay failed and are counted in `Requeued.left`.

    Raises AlreadyRunning or TempFailed (exit 75), JobError (exit 1), as run_alerts.
    """
    with locked_store(db_path) as db:
        on_requeued(
            outbox.requeue_failed(db, known={r.email for r in config.recipients}, recipient=recipient)
        )
        return run_locked(db, config, now=now, dry_run=False, db_hint=db_hint)


def dismiss_failed(db_path: str | Path | None, *, recipient: str | None = None) -> int:
    """Mark the alerts that failed for good dismissed now (only `recipient`'s when given): they stay in the
    outbox as a record, never sent. Returns how many. Raises as `requeue_failed`."""
    with locked_store(db_path) as db:
        return outbox.dismiss_failed(db, now=iso(datetime.now(UTC)), recipient=recipient)
