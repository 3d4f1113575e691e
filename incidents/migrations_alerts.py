"""Schema steps of the alert outbox after its first one (step 16 of incidents.migrations.MIGRATIONS).

Never edit a released step; append a new one to incidents.migrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


def _columns(db: sqlite_utils.Database, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall()}


def _v16_alert_dismissal(db: sqlite_utils.Database) -> None:
    # Alerts that failed for good can be dismissed by the operator (`incidents alert --dismiss-failed`):
    # the item stays in the outbox as the record of what was never sent, status 'dismissed' (status is
    # free text), with the time it was dismissed.
    if "dismissed_at" not in _columns(db, "alert_outbox"):
        db.execute("ALTER TABLE alert_outbox ADD COLUMN dismissed_at TEXT")
    # Mails a run saw refused for good, so that doctor can tell a run that failed only because the
    # server refused some mails (settled once they are requeued or dismissed) from one that failed
    # outright (login refused, no [smtp] table). Before this step the only record is the error the job
    # wrote for such a run: its refusal lines, each starting "mail to ", joined by "; ".
    if "refused" not in _columns(db, "alert_runs"):
        db.execute("ALTER TABLE alert_runs ADD COLUMN refused INTEGER NOT NULL DEFAULT 0")
        db.execute(
            "UPDATE alert_runs SET refused = 1 + (length(error) - length(replace(error, '; mail to ', ''))) "
            "/ length('; mail to ') WHERE outcome = 'failed' AND error LIKE 'mail to %'"
        )
