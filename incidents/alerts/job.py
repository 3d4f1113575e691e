"""The alert job (`incidents alert`): find what is new, queue it in the outbox, compose, send, mark.

One run, under a lock file beside the store that the OS releases if the process dies:
1. news: spike episodes from the kept verdicts (judging only the days not yet judged, today's running
   count included), incidents stored since the last run at or above each recipient's min_severity,
   silent feeds, daily summaries that are due;
2. queue: one outbox row per item and recipient (a UNIQUE key: the same news is never queued twice),
   together with the watermark of the incidents looked at, in one transaction;
3. compose: per recipient, within its hourly limit, one mail per spike episode, one for the silent
   feeds, one for the incidents; past the limit the items are held, and the held items go out as one
   digest when the limit allows; each mail is stored, Message-ID and all, before the first attempt;
4. send: every stored mail not yet accepted, one envelope recipient each; each marked sent right after
   the server accepted it.
A kill at any point leaves the outbox consistent: the next run sends what was not accepted, with the
same Message-ID. Only a kill between the server's acceptance and the mark can repeat a mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incidents.alerts import collect, outbox
from incidents.alerts.compose import Composed, compose
from incidents.alerts.joblock import JobError, TempFailed, locked_store
from incidents.alerts.send import Refused, Sender, SetupFailure, TempFailure
from incidents.config import SEVERITIES, Config

# Mails per recipient and run come in these groups: each spike episode on its own (they are the news),
# the silent feeds together, the incidents together.
SINGLE_KINDS = ("spike", "spike-update")
GROUP_KINDS = ("silence", "incident")
STATE_WATERMARK = "incident_rowid"


@dataclass
class JobResult:
    outcome: str  # nothing, ok, failed (some mails refused: see `refused`), dry-run
    queued: int = 0  # new alert items this run
    sent: int = 0  # mails the server accepted this run
    refused: list[str] = field(default_factory=list)  # one line per mail refused for good
    mails: list[Composed] = field(default_factory=list)  # dry-run: what would be sent (new mails)
    pending_mails: list[outbox.Mail] = field(default_factory=list)  # dry-run: mails waiting from before
    # Composed mails left pending because their recipient's hourly limit is reached (requeued failed
    # mails past it): they go out in the next runs, as the limit allows.
    waiting: int = 0


def iso(t: datetime) -> str:
    """`t` in UTC as ISO 8601 to the second ('2020-10-14T03:05:09Z')."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_alerts(
    db_path: str | Path | None,
    config: Config,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    db_hint: str | None = None,
) -> JobResult:
    """One run of the alert job; see the module docstring. `now` (aware) simulates the clock.

    Raises AlreadyRunning or TempFailed (exit 75), JobError (exit 1). A mail refused for good is
    not an exception: it is marked failed and listed in `JobResult.refused`.
    """
    with locked_store(db_path) as db:
        return run_locked(db, config, now=now, dry_run=dry_run, db_hint=db_hint)


def run_locked(db, config: Config, *, now: datetime | None, dry_run: bool, db_hint: str | None) -> JobResult:
    """One run on a store the caller opened under the job's lock (joblock.locked_store), as run_alerts."""
    return _run(db, config, now=now or datetime.now(UTC), dry_run=dry_run, db_hint=db_hint)


def _run(db, config: Config, *, now: datetime, dry_run: bool, db_hint: str | None) -> JobResult:
    from incidents import store

    now_s = iso(now)
    local_now = now.astimezone(store.reporting_zone(db))
    run_id = None if dry_run else outbox.start_run(db, started_at=iso(datetime.now(UTC)), now=now_s)
    # Counted as the run goes, so that a run ending in an exception (the server deferring after some
    # mails, exit 75) still records the alerts it queued and the mails the server took.
    result = JobResult(outcome="ok")
    try:
        items, watermark = _news(db, config, now=now, local_now=local_now, db_hint=db_hint)
        if dry_run:
            return _dry_run(db, config, items, watermark, now=now)
        with outbox.writing(db) as conn:
            queued = outbox.queue(conn, items, now=now_s)
            outbox.set_state(conn, STATE_WATERMARK, str(watermark))
            _compose_all(conn, config, now=now)
        result.queued = queued  # committed: a rolled-back queue counts nothing
        _send_all(db, config, result, now=now)
    except Exception as e:
        _finish(
            db,
            run_id,
            outcome="tempfail" if isinstance(e, TempFailed | outbox.StoreBusy) else "failed",
            queued=result.queued,
            sent=result.sent,
            error="; ".join([*result.refused, str(e)]),
            refused=len(result.refused),
        )
        raise
    if result.outcome == "ok" and not result.sent and not result.queued:
        result.outcome = "nothing"
    _finish(
        db,
        run_id,
        outcome=result.outcome,
        queued=result.queued,
        sent=result.sent,
        error="; ".join(result.refused) or None,
        refused=len(result.refused),
    )
    return result


def _finish(db, run_id: int | None, *, outcome: str, error: str | None, **counts: int) -> None:
    """Close the run (`counts`: queued, sent, refused, as outbox.finish_run); a dry run has no run to close."""
    if run_id is None:
        return
    counts = {"queued": 0, "sent": 0, **counts}
    try:
        outbox.finish_run(
            db, run_id, finished_at=iso(datetime.now(UTC)), outcome=outcome, error=error, **counts
        )
    except outbox.StoreBusy:
        pass  # the run row stays 'running' and reads as interrupted; the outbox itself is consistent


def _news(db, config: Config, *, now: datetime, local_now: datetime, db_hint: str | None):
    """Every item the recipients' rules give, and the incident watermark to store with them.

    Each reader is bounded by the run's moment (collect.AsOf): `--now` in the past on a store filled
    later tells the store as it was then."""
    conn = outbox.connection(db)
    recipients = config.recipients
    as_of = collect.AsOf(local_now)
    items: list[outbox.Item] = []
    if any(r.spikes or r.feeds for r in recipients):
        from incidents.spikes.kept import judge_new_days

        # Judges only the days not kept yet (today's running count provisional); it also keeps the
        # per-feed daily counts that feed_silences reads.
        judge_new_days(db, now=now)
    if any(r.spikes for r in recipients):
        items += collect.spike_items(conn, recipients, as_of=as_of, db_hint=db_hint)
    if any(r.feeds for r in recipients):
        items += collect.silence_items(conn, recipients, as_of=as_of, db_hint=db_hint)
    levels = [SEVERITIES.index(r.min_severity) for r in recipients if r.min_severity]
    lowest = SEVERITIES[min(levels)] if levels else None
    mark = outbox.get_state(conn, STATE_WATERMARK)
    rows, watermark = collect.incident_rows(
        conn, after_rowid=int(mark) if mark is not None else None, as_of=as_of, min_severity=lowest
    )
    items += collect.incident_items(rows, recipients, db_hint=db_hint)
    for r in recipients:
        if collect.daily_due(r, as_of):
            items.append(collect.daily_item(conn, r, as_of=as_of, db_hint=db_hint))
    return items, watermark


def _compose_all(conn, config: Config, *, now: datetime) -> list[Composed]:
    """Turn each recipient's unmailed items into stored mails within its hourly limit; hold the rest."""
    if config.smtp is None:
        return []
    composed: list[Composed] = []
    outbox.fail_unknown_recipients(conn, {r.email for r in config.recipients})
    hour_ago = iso(now - timedelta(hours=1))
    for r in config.recipients:
        waiting = outbox.unmailed(conn, r.email)
        if not waiting:
            continue
        budget = r.max_per_hour - outbox.mails_in_window(conn, r.email, since=hour_ago, until=iso(now))
        held = [q for q in waiting if q.status == "held"]
        fresh = [q for q in waiting if q.status == "pending"]
        groups: list[tuple[str, list[outbox.Queued]]] = []
        for q in fresh:
            if q.kind == "daily":
                # The daily summary is one mail a day by design: it never waits for the hourly limit.
                composed.append(_store_mail(conn, config, r, "daily", [q], now))
        if held and budget > 0:
            groups.append(("digest", held))
        for q in fresh:
            if q.kind in SINGLE_KINDS:
                groups.append((q.kind, [q]))
        for kind in GROUP_KINDS:
            batch = [q for q in fresh if q.kind == kind]
            if batch:
                groups.append((kind, batch))
        to_hold: list[int] = []
        for kind, batch in groups:
            if budget > 0:
                composed.append(_store_mail(conn, config, r, kind, batch, now))
                budget -= 1
            else:
                to_hold += [q.id for q in batch if q.status != "held"]
        outbox.hold(conn, to_hold)
    return composed


def _store_mail(conn, config: Config, r, kind: str, batch: list[outbox.Queued], now: datetime) -> Composed:
    mail = compose(
        recipient=r, sender=config.smtp.sender, kind=kind, payloads=[q.payload for q in batch], now=now
    )
    outbox.add_mail(
        conn,
        message_id=mail.message_id,
        recipient=r.email,
        kind=kind,
        subject=mail.subject,
        message=mail.message,
        item_ids=[q.id for q in batch],
        now=iso(now),
    )
    return mail


def _send_all(db, config: Config, result: JobResult, *, now: datetime) -> None:
    """Send every pending mail, counting into `result` as each is marked (`sent`, `refused`, `outcome`),
    so the counts stand even when this raises: TempFailed (exit 75) or JobError (exit 1)."""
    mails = outbox.pending_mails(db)
    if not mails:
        return
    if config.smtp is None:
        raise JobError(f"{len(mails)} mails wait to be sent but the configuration has no [smtp] table")
    known = {r.email for r in config.recipients}
    to_send = []
    for mail in mails:
        if mail.recipient in known:
            to_send.append(mail)
        else:
            words = "recipient no longer in the configuration; not sent"
            outbox.mark_failed(db, mail.message_id, words, now=iso(now))
            result.refused.append(f"mail to {mail.recipient} not sent: {words}")
    if not to_send:
        result.outcome = "failed"
        return
    to_send, result.waiting = _within_limits(db, config, to_send, now=now)
    try:
        with Sender(config.smtp) as sender:
            for mail in to_send:
                try:
                    sender.send(config.smtp.sender, mail.recipient, mail.message)
                except Refused as e:
                    outbox.mark_failed(db, mail.message_id, e.words, now=iso(now))
                    result.refused.append(f"mail to {mail.recipient} refused: {e.words}")
                    continue
                except TempFailure as e:
                    outbox.note_attempt(db, mail.message_id, str(e))
                    raise
                outbox.mark_sent(db, mail.message_id, now=iso(now))
                result.sent += 1
    except TempFailure as e:
        before = f"{result.sent} mails sent before it, " if result.sent else ""
        raise TempFailed(f"{e}; {before}{_pending(db)} pending, they go out on the next run") from None
    except SetupFailure as e:
        raise JobError(f"{e}; {_pending(db)} pending") from None
    if result.refused:
        result.outcome = "failed"


def _pending(db) -> str:
    """'2 mails (5 alerts)': the mails waiting and the alert items in them (what `--status` counts)."""
    mails = outbox.pending_mails(db)
    return f"{len(mails)} mails ({sum(m.items for m in mails)} alerts)"


def _within_limits(db, config: Config, mails: list[outbox.Mail], *, now: datetime) -> tuple[list, int]:
    """The mails each recipient's `max_per_hour` lets go now (mails sent in the hour up to `now`; the daily
    summary always goes), in order, and how many wait for a later run. Composing keeps new mails within
    the limit; this holds back the composed mails that `--retry-failed` put back in the queue, which
    would otherwise all go at once: never a flood."""
    limits = {r.email: r.max_per_hour for r in config.recipients}
    since, until = iso(now - timedelta(hours=1)), iso(now)
    budget: dict[str, int] = {}
    go, waiting = [], 0
    for mail in mails:
        if mail.kind == "daily":
            go.append(mail)
            continue
        if mail.recipient not in budget:
            sent = outbox.mails_in_window(db, mail.recipient, since=since, until=until, waiting=False)
            budget[mail.recipient] = limits[mail.recipient] - sent
        if budget[mail.recipient] > 0:
            go.append(mail)
            budget[mail.recipient] -= 1
        else:
            waiting += 1
    return go, waiting


class _Rollback(Exception):
    """Ends the dry run's transaction without committing."""


def _dry_run(db, config: Config, items, watermark: int, *, now: datetime) -> JobResult:
    """Queue and compose inside a transaction that is rolled back: what a run would send, nothing marked."""
    result = JobResult(outcome="dry-run")
    result.pending_mails = outbox.pending_mails(db)
    try:
        with outbox.writing(db) as conn:
            result.queued = outbox.queue(conn, items, now=iso(now))
            result.mails = _compose_all(conn, config, now=now)
            raise _Rollback
    except _Rollback:
        pass
    return result
