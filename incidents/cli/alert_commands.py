"""`incidents config init / check` (the configuration file) and `incidents alert` (the alert e-mails)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from incidents.cli.common import EXIT_TEMPFAIL, app, fail, print_json

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        readable=False,
        help="TOML configuration (default: $INCIDENTS_CONFIG or ./incidents.toml)",
        show_default=False,
    ),
]

config_app = typer.Typer(
    help="Write or check the configuration file (mail server, recipients, bulletin issuer).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(config_app, name="config")


@config_app.command("init")
def config_init(
    config: ConfigOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example configuration to edit.

    Example: incidents config init --config /etc/incidents/incidents.toml
    """
    from incidents.config import ConfigError, write_example

    try:
        path = write_example(config, force=force)
    except ConfigError as e:
        raise fail(str(e)) from None
    print(f"wrote {path}: edit it, then run 'incidents config check --config {path}'")


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the configuration: one line per problem on stderr and exit 1, or "ok" and exit 0.

    Unknown keys, bad e-mail addresses, unknown categories or severities, a password file that others
    can read. The password itself is never printed.

    Example: incidents config check --config incidents.toml
    """
    from incidents.config import check_config, resolve_config_path

    problems = check_config(config)
    if problems:
        for line in problems:
            print(f"Error: {line}", file=sys.stderr)
        raise typer.Exit(code=1)
    print(f"{resolve_config_path(config)}: ok")


@app.command()
def alert(
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            readable=False,
            help="SQLite file of the store (default: $INCIDENTS_DB or ./incidents.db)",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the mails a run would send; send and mark nothing.")
    ] = False,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Judge as if it were this time, ISO 8601 (a time without offset is in the store's zone).",
            show_default=False,
        ),
    ] = None,
    status: Annotated[
        bool,
        typer.Option(
            "--status", help="List pending, held, failed, dismissed and sent alerts and the last run."
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="With --status: print JSON.")] = False,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="Put the alerts that failed for good back in the queue, then run: each goes out once.",
        ),
    ] = False,
    dismiss_failed: Annotated[
        bool,
        typer.Option(
            "--dismiss-failed",
            help="Acknowledge the alerts that failed for good: kept in the outbox as dismissed, never sent.",
        ),
    ] = False,
    recipient: Annotated[
        str | None,
        typer.Option(
            "--recipient",
            metavar="ADDRESS",
            help="With --retry-failed or --dismiss-failed: only this recipient's alerts.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Send alert e-mails about what is new: spike episodes, severe incidents, silent feeds.

    Meant for cron every 15 minutes: nothing printed and exit 0 when there is nothing to send; exit 75
    when the mail server is down (pending alerts go out on the next run). Every alert is recorded in the
    store's outbox before it is sent, so none is lost and none goes twice.

    Example: incidents alert --db /var/lib/incidents/incidents.db --config /etc/incidents/incidents.toml

    Example: incidents alert --status

    Once the cause of alerts that failed for good is fixed (see --status), send them again, or
    acknowledge them:

    Example: incidents alert --retry-failed --recipient phishing-desk@example.vn

    Example: incidents alert --dismiss-failed
    """
    _check_modes(
        status=status, dry_run=dry_run, retry=retry_failed, dismiss=dismiss_failed, recipient=recipient
    )
    if now is not None and (status or dismiss_failed):  # neither judges anything: --now would be ignored
        raise typer.BadParameter(
            f"goes with a run, not with {'--status' if status else '--dismiss-failed'}", param_hint="--now"
        )
    if status:
        _status(db, json_out)
        return
    if json_out:
        raise typer.BadParameter("--json goes with --status", param_hint="--json")
    from incidents.alerts import failed
    from incidents.alerts.job import run_alerts
    from incidents.config import ConfigError, load_config

    if dismiss_failed:
        dismissed = _job(failed.dismiss_failed, db, recipient=recipient)
        print(f"dismissed {dismissed} failed alerts")
        if not dismissed:
            _note_unknown_recipient(db, recipient)
        return
    moment = _parse_now(now, db)
    try:
        conf = load_config(config)
    except ConfigError as e:
        raise fail(str(e)) from None
    hint = str(db) if db else None
    if retry_failed:

        def told(requeued) -> None:
            _print_requeued(requeued)
            if not requeued.items and not requeued.left:
                _note_unknown_recipient(db, recipient)

        result = _job(
            failed.retry_failed, db, conf, recipient=recipient, now=moment, db_hint=hint, on_requeued=told
        )
    else:
        result = _job(run_alerts, db, conf, now=moment, dry_run=dry_run, db_hint=hint)
    if dry_run:
        _print_dry_run(result)
        return
    if result.sent:
        print(f"sent {result.sent} mails ({result.queued} new alerts)")
    if retry_failed and result.waiting:
        from incidents.cli.common import note

        note(
            f"{result.waiting} requeued mails wait for their recipient's hourly limit (max_per_hour); "
            "the next runs send them as it allows"
        )
    for line in result.refused:
        print(f"Error: {line}", file=sys.stderr)
    if result.refused:
        raise typer.Exit(code=1)


def _check_modes(*, status: bool, dry_run: bool, retry: bool, dismiss: bool, recipient: str | None) -> None:
    """Usage errors (exit 2) for options that cannot go together; short enough for Typer's 80-column box."""
    if retry and dismiss:
        raise typer.BadParameter("cannot go with --dismiss-failed", param_hint="--retry-failed")
    if status and dry_run:
        raise typer.BadParameter("cannot go with --status", param_hint="--dry-run")
    flag = "--retry-failed" if retry else "--dismiss-failed" if dismiss else None
    if flag and (status or dry_run):
        raise typer.BadParameter(f"cannot go with {'--status' if status else '--dry-run'}", param_hint=flag)
    if recipient is not None and flag is None:
        raise typer.BadParameter("goes with --retry-failed or --dismiss-failed", param_hint="--recipient")
    if recipient is not None and not recipient.strip():
        raise typer.BadParameter("needs an address", param_hint="--recipient")


def _note_unknown_recipient(db: Path | None, recipient: str | None) -> None:
    """After --retry-failed / --dismiss-failed --recipient changed nothing: when other recipients do have
    failed alerts, say which (a typo, another spelling than the configuration's), so that "0" is not
    taken for "none left"."""
    if recipient is None:
        return
    import sqlite3

    from incidents import store
    from incidents.alerts.outbox import failed_by_recipient

    try:
        conn = store.open_read(db)
        try:
            others = [address for address, _, _ in failed_by_recipient(conn)]
        finally:
            conn.close()
    except (store.StoreError, sqlite3.Error):
        return
    if others and recipient not in others:
        from incidents.cli.common import note

        note(
            f"no failed alerts for {recipient!r}; the failed alerts are for {', '.join(others)} "
            "(give --recipient as written there)"
        )


def _job(function, *args, **kwargs):
    """Call an alert job function; its failures are one `Error:` line, exit 75 (try again) or 1."""
    from incidents.alerts.joblock import AlreadyRunning, JobError, TempFailed

    try:
        return function(*args, **kwargs)
    except (AlreadyRunning, TempFailed) as e:
        raise fail(str(e), EXIT_TEMPFAIL) from None
    except JobError as e:
        raise fail(str(e)) from None


def _print_requeued(requeued) -> None:
    print(f"requeued {requeued.items} failed alerts")
    if requeued.left:
        from incidents.cli.common import note

        note(
            f"{requeued.left} failed alerts are for recipients no longer in the configuration and stay "
            "failed; `incidents alert --dismiss-failed` acknowledges them"
        )


def _parse_now(value: str | None, db: Path | None):
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint="--now") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_store_zone(db))
    try:
        year = moment.astimezone(UTC).year
    except (OverflowError, ValueError):
        year = 0
    # The job counts days before and after it: at the ends of datetime's range that overflows.
    if not 1970 <= year <= 9998:
        raise typer.BadParameter(f"{value!r} is outside the years 1970-9998", param_hint="--now")
    return moment


def _store_zone(db: Path | None):
    import sqlite3
    from zoneinfo import ZoneInfo

    from incidents import store

    try:
        conn = store.open_read(db)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'reporting_zone'").fetchone()
        finally:
            conn.close()
    except (store.StoreError, sqlite3.Error):
        row = None  # the job itself reports a missing or unusable store
    return ZoneInfo(row[0] if row else store.DEFAULT_ZONE)


def _print_dry_run(result) -> None:
    from incidents.alerts.inert import inert

    mails = [(m.message_id, _text_of(m.message)) for m in [*result.pending_mails, *result.mails]]
    for message_id, text in mails:
        print(f"--- Message-ID: {message_id}")
        print(inert(text, keep_newlines=True))
    if mails:
        print(f"(dry run: {len(mails)} mails, nothing sent or marked)")


def _text_of(message: str) -> str:
    import email
    import email.policy

    msg = email.message_from_string(message, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    head = f"From: {msg['From']}\nTo: {msg['To']}\nSubject: {msg['Subject']}\n\n"
    return head + (body.get_content().replace("\r\n", "\n") if body else "")


def _status(db: Path | None, json_out: bool) -> None:
    import sqlite3

    from incidents import store
    from incidents.alerts import alert_counts, last_alert_run, list_alerts

    try:
        conn = store.open_read(db)
        counts = alert_counts(conn)
        run = last_alert_run(conn)
        waiting = [a for s in ("pending", "held", "failed") for a in list_alerts(conn, status=s, limit=200)]
        # The latest dismissed (failed, then acknowledged) and sent ones, as a record.
        recent = [a for s in ("dismissed", "sent") for a in list_alerts(conn, status=s, limit=20)]
        conn.close()
    except store.StoreError as e:
        raise fail(str(e)) from None
    except sqlite3.Error as e:
        raise fail(str(store.explain(e, store.resolve_path(db)))) from None
    if json_out:
        print_json(
            {
                "counts": counts,
                "last_run": run.as_dict() if run else None,
                "alerts": [a.as_dict() for a in waiting + recent],
            }
        )
        return
    from incidents.alerts.inert import inert

    # Plain lines, one per alert, whatever the terminal's width: cron mails and grep read them too.
    print(
        f"alerts: {counts['pending']} pending, {counts['held']} held, {counts['sent']} sent, "
        f"{counts['failed']} failed, {counts['dismissed']} dismissed"
    )
    if run is None:
        print("last run: none yet")
    else:
        line = f"last run: started {run.started_at}, {run.outcome}, {run.sent} mails sent, {run.queued} new alerts"
        if run.error:
            line += f" ({run.error})"
        print(inert(line))
    rows = waiting + recent
    if rows:
        width = max(len(a.recipient) for a in rows)
        print(f"{'status':<9} {'created (UTC)':<16} {'recipient':<{width}} {'kind':<12} alert")
    for a in rows:
        error = f"  [{inert(a.error, 80)}]" if a.error else ""
        if a.dismissed_at:
            error += f" (dismissed {a.dismissed_at[:16].replace('T', ' ')})"
        print(
            f"{a.status:<9} {a.created_at[:16].replace('T', ' '):<16} {inert(a.recipient):<{width}} "
            f"{a.kind:<12} {inert(a.headline, 140)}{error}"
        )
