"""`incidents doctor`'s alert lines: the last `incidents alert` run and the outbox (pending, failed, dismissed).

Read through the outbox's read API only (incidents.alerts.outbox_reads), so they never write.
"""

from __future__ import annotations

import sqlite3

from incidents.doctor_report import OK, PROBLEM, WARNING, Check

# What an operator does about alerts the mail server refused for good, once the cause is fixed.
WAY_OUT = (
    "once the cause is fixed (a recipient's address in the configuration, the mailbox on the server), "
    "`incidents alert --retry-failed` sends them again, each once; `incidents alert --dismiss-failed` "
    "acknowledges them (kept as a record, never sent)"
)


def alert_checks(conn: sqlite3.Connection) -> list[Check]:
    """The 'alert run' check (the last run's outcome) and the 'alerts' checks (failed items: a problem
    until requeued or dismissed; then the counts). One 'No alerts yet.' line on a store without them."""
    try:
        from incidents.alerts.outbox import alert_counts, last_alert_run
    except ImportError:  # a release without alerts
        return [Check("alerts", OK, "No alerts yet.")]
    counts = alert_counts(conn)
    run = last_alert_run(conn)
    if run is None and not any(counts.values()):
        return [Check("alerts", OK, "No alerts yet.", {"counts": counts})]
    checks = []
    detail = {"counts": counts, "last_run": run.as_dict() if run else None}
    if run is not None:
        checks.append(_run_check(run, counts, detail))
    dismissed = f", {counts['dismissed']:,} dismissed" if counts.get("dismissed") else ""
    tally = (
        f"Alerts: {counts.get('sent', 0):,} sent, {counts.get('pending', 0):,} pending, "
        f"{counts.get('held', 0):,} held, {counts.get('failed', 0):,} failed{dismissed}."
    )
    if counts.get("failed"):  # one 'alerts' check, as a script reading --json keys them by name
        checks.append(
            Check(
                "alerts",
                PROBLEM,
                f"{counts['failed']} alert(s) failed for good (the server refused them): "
                f"`incidents alert --status` lists them with the server's answer; {WAY_OUT}. {tally}",
                detail,
            )
        )
    else:
        checks.append(Check("alerts", OK, tally, detail))
    return checks


def _run_check(run, counts: dict[str, int], detail: dict) -> Check:
    when = run.finished_at or run.started_at
    if run.outcome in ("ok", "nothing"):
        return Check(
            "alert run", OK, f"Last alert run {when}: {run.outcome}, {run.sent} mail(s) sent.", detail
        )
    if run.outcome == "tempfail":
        return Check(
            "alert run",
            WARNING,
            f"Last alert run {when} could not reach the mail server ({run.error}); its mails wait in "
            "the outbox and go at the next `incidents alert` once the server answers.",
            detail,
        )
    if run.outcome == "running":
        return Check("alert run", OK, f"An alert run started {run.started_at} is running now.", detail)
    if run.outcome == "interrupted":
        return Check(
            "alert run",
            WARNING,
            f"Last alert run, started {run.started_at}, never finished (killed?): the next "
            "`incidents alert` sends what it left pending.",
            detail,
        )
    if run.outcome == "failed" and run.refused:
        # The run itself went through; the server refused some mails. Those are the 'alerts' line's
        # problem while they stay failed, and settled once requeued or dismissed.
        settled = not counts.get("failed")
        return Check(
            "alert run",
            OK if settled else WARNING,
            f"Last alert run {when}: {run.sent} mail(s) sent, {run.refused} refused for good by the server"
            + (
                "; none is left failed (requeued or dismissed since)."
                if settled
                else " (see the alerts line)."
            ),
            detail,
        )
    return Check(
        "alert run",
        PROBLEM,
        f"Last alert run {when} failed: {run.error}. Fix the cause (often the [smtp] settings: "
        "`incidents config check`), then run `incidents alert`.",
        detail,
    )
