"""`incidents doctor`: is the store and its configuration healthy, and if not, what to do about it.

Each check gives one plain sentence: what was found and, when something is wrong, how to fix it.
Checks: the store opens as an incidents store (read-only, store.open_read; on a full disk it says so),
`PRAGMA integrity_check` (one line: doctor_integrity), the schema version against this release, the store's files
(doctor_files: the WAL's size, the free space, who can write the store, its folder and its -wal/-shm),
the last ingest and scan runs and their outcome, the last `incidents alert` run and the pending,
failed and dismissed alerts (doctor_alerts, through the outbox API), the configuration file (config.check_config; a named one that is absent is a
problem), and whether the SMTP server answers (a real connection, EHLO, STARTTLS and login as
configured, with a timeout; no mail is sent).

A check is `ok`, a `warning` (worth knowing, nothing broken) or a `problem`; the store is healthy when
no check is a problem. Nothing here writes to the store or sends mail.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path

from incidents import store
from incidents.doctor_alerts import alert_checks
from incidents.doctor_files import access_fix, disk_full, file_checks, free_bytes
from incidents.doctor_integrity import REBUILD, damaged, integrity_check
from incidents.doctor_report import OK, PROBLEM, WARNING, Check, Report, one_line
from incidents.migrations import MIGRATIONS

__all__ = ["OK", "PROBLEM", "WARNING", "Check", "Report", "diagnose", "one_line"]

SMTP_TIMEOUT_S = 10.0


def diagnose(
    db: str | Path | None = None,
    config: str | Path | None = None,
    *,
    smtp_timeout: float = SMTP_TIMEOUT_S,
    integrity: bool = True,
) -> Report:
    """Every check on the store at `db` (default as store.resolve_path) and the configuration at
    `config` (default as config.resolve_config_path). Never raises for what it finds."""
    from incidents.config import resolve_config_path

    path = store.resolve_path(db)
    config_path = resolve_config_path(config)
    named = config is not None or bool(os.environ.get("INCIDENTS_CONFIG"))
    checks: list[Check] = []
    checks.extend(store_checks(path, integrity=integrity))
    alerts = next((c.detail for c in checks if c.name == "alerts" and "counts" in c.detail), {})
    checks.extend(config_checks(config_path, smtp_timeout=smtp_timeout, named=named, alerts=alerts))
    return Report(str(path), str(config_path), checks)


# --- the store ----------------------------------------------------------------------------------------


def store_checks(path: Path, *, integrity: bool = True) -> list[Check]:
    """Checks of the store at `path`, read-only: it opens, SQLite's integrity_check (with `integrity`),
    its schema version, the WAL's size, the last ingest and scan runs, the alert outbox. Never raises
    for a bad store: a problem is a Check."""
    denied = access_fix(path)
    if denied:  # this user cannot reach or read the store: nothing more can be checked
        return [Check("store", PROBLEM, f"The store cannot be opened: {denied}.")]
    # The files as the user left them, before this read opens the store.
    files = file_checks(path)
    try:
        conn = store.open_read(path)
    except store.StoreError as e:
        return [_unopenable(path, e), *files]
    try:
        return _store_checks(conn, path, integrity, files)
    except sqlite3.DatabaseError as e:
        problem = store.explain(e, path)
        if isinstance(problem, store.StoreDamaged):
            return [
                Check("store", PROBLEM, f"{path} is an SQLite file, but SQLite stops reading it: {e}."),
                damaged(conn, path, e),
                *files,
            ]
        return [_unopenable(path, problem), *files]
    finally:
        conn.close()


def _unopenable(path: Path, error: store.StoreError) -> Check:
    """The store check of a store that cannot be opened or read, with the fix for its cause."""
    if isinstance(error, store.StoreDamaged):  # its text sends the user to doctor: say the fix here
        return Check(
            "store", PROBLEM, f"The store cannot be opened: it is damaged. {REBUILD.format(path=path)}"
        )
    if disk_full(path) and not isinstance(error, store.NotAStore) and path.exists():
        # SQLite says 'disk I/O error' when it cannot make the -shm file of a WAL store on a full disk.
        return Check(
            "store",
            PROBLEM,
            f"The store cannot be opened: the disk is full (the file system holding {path} has "
            f"{free_bytes(path):,} bytes free). Free some space on it (see the disk line), then run the "
            "command again.",
        )
    fix = (
        " Give --db the store's path (or set $INCIDENTS_DB)."
        if isinstance(error, store.NotAStore) or "no database" in str(error)
        else ""
    )
    return Check("store", PROBLEM, f"The store cannot be opened: {error}.{fix}")


def _store_checks(conn: sqlite3.Connection, path: Path, integrity: bool, files: list[Check]) -> list[Check]:
    checks = []
    count = store.count_incidents(conn)
    size = path.stat().st_size
    checks.append(
        Check(
            "store",
            OK,
            f"{path} is an incidents store with {count:,} incidents ({size / 1e6:,.1f} MB).",
            {"incidents": count, "bytes": size},
        )
    )
    if integrity:
        checks.append(integrity_check(conn, path))
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    current = len(MIGRATIONS)
    if version == current:
        checks.append(Check("schema", OK, f"Schema version {version}, this release's.", {"version": version}))
    elif version < current:
        checks.append(
            Check(
                "schema",
                WARNING,
                f"Schema version {version}, older than this release's {current}: read commands show what it "
                "holds (one that needs a newer table, such as the bulletin on a very old store, says so); the "
                "next writing command (incidents ingest, scan or alert) upgrades it after a backup copy beside it.",
                {"version": version, "current": current},
            )
        )
    else:
        checks.append(
            Check(
                "schema",
                PROBLEM,
                f"Schema version {version} was made by a newer release of incidents (this one knows {current}): "
                "upgrade incidents before writing to this store.",
                {"version": version, "current": current},
            )
        )
    checks.extend(files)
    checks.extend(_run_checks(conn))
    checks.extend(alert_checks(conn))
    return checks


def _run_checks(conn: sqlite3.Connection) -> list[Check]:
    checks = []
    for kind, verb in (("ingest", "incidents ingest"), ("scan", "incidents scan")):
        row = conn.execute(
            "SELECT id, file, status, started_at, finished_at, accepted, rejected FROM ingest_runs "
            "WHERE kind = ? ORDER BY id DESC LIMIT 1",
            [kind],
        ).fetchone()
        if row is None:
            checks.append(Check(kind, OK, f"No {kind} run yet."))
            continue
        run_id, file, status, started, finished, accepted, rejected = row
        detail = {
            "run": run_id,
            "file": file,
            "status": status,
            "started_at": started,
            "finished_at": finished,
        }
        if status == "ok":
            checks.append(
                Check(
                    kind,
                    OK,
                    f"Last {kind}: run {run_id}, {file}, finished {finished}: {accepted or 0:,} new incidents, "
                    f"{rejected or 0:,} rows rejected.",
                    detail,
                )
            )
        elif status == "running":
            checks.append(
                Check(
                    kind,
                    WARNING,
                    f"Last {kind}: run {run_id} of {file}, started {started}, has not finished: it is still "
                    f"running, or it was killed. If no {verb} is running, run `{verb}` again: it undoes the "
                    "interrupted run first.",
                    detail,
                )
            )
        else:
            checks.append(
                Check(
                    kind,
                    WARNING,
                    f"Last {kind}: run {run_id} of {file} ended '{status}' at {finished}; "
                    f"see `incidents rejects --run {run_id}` and the file, then run `{verb}` again.",
                    detail,
                )
            )
    return checks


# --- the configuration and the mail server --------------------------------------------------------------


def config_checks(
    path: Path, *, smtp_timeout: float = SMTP_TIMEOUT_S, named: bool = False, alerts: dict | None = None
) -> list[Check]:
    """Checks of the configuration at `path`: it is valid (config.check_config), and the SMTP server
    answers within `smtp_timeout` seconds (smtp_check).

    A missing file is a problem when it was `named` (--config or $INCIDENTS_CONFIG): every command given
    it fails. When none was named and the default is absent, that is fine (only alerts need one) unless
    the store's `alerts` detail (counts, last_run) shows the alert job in use: pending alerts -> problem
    (they can never go), only past alert runs -> warning.
    """
    from incidents.config import ConfigError, check_config, load_config

    denied = access_fix(path)
    if denied:
        return [Check("config", PROBLEM, f"The configuration cannot be read: {denied}.", {"path": str(path)})]
    if not path.exists():
        return [_missing_config(path, named, alerts or {})]
    try:
        problems = check_config(path)
    except (ConfigError, OSError) as e:
        return [
            Check("config", PROBLEM, f"The configuration {path} cannot be read: {e}.", {"path": str(path)})
        ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return [
            Check(
                "config",
                PROBLEM,
                f"The configuration {path} has a problem: {problems[0]}{more}. "
                "`incidents config check` lists them all.",
                {"path": str(path), "problems": problems},
            )
        ]
    config = load_config(path)
    checks = [
        Check(
            "config",
            OK,
            f"The configuration {path} is valid: {len(config.recipients)} recipient(s).",
            {"path": str(path), "recipients": len(config.recipients)},
        )
    ]
    if config.smtp is None:
        checks.append(Check("smtp", OK, "No [smtp] section: alerts are not mailed."))
    else:
        checks.append(smtp_check(config.smtp, timeout=smtp_timeout))
    return checks


def _missing_config(path: Path, named: bool, alerts: dict) -> Check:
    write = f"`incidents config init --config {path}` writes one to edit"
    detail = {"path": str(path), "named": named}
    if named:
        return Check(
            "config",
            PROBLEM,
            f"The configuration {path} does not exist, so every command given it (incidents alert, bulletin) "
            f"fails: correct --config or $INCIDENTS_CONFIG, or {write}.",
            detail,
        )
    pending = (alerts.get("counts") or {}).get("pending", 0)
    if pending or alerts.get("last_run"):
        return Check(
            "config",
            PROBLEM if pending else WARNING,
            f"No configuration at {path}, but the store has "
            f"{f'{pending:,} pending alert(s)' if pending else 'alert runs'}: the alert job has no configuration "
            f"here. Give doctor the alert job's --config (or $INCIDENTS_CONFIG), or {write}.",
            detail,
        )
    return Check(
        "config",
        OK,
        f"No configuration at {path}: needed only for alerts and the bulletin's issuer "
        "(`incidents config init` writes one).",
        detail,
    )


def smtp_check(smtp, *, timeout: float = SMTP_TIMEOUT_S) -> Check:
    """Connect to the configured server as `incidents alert` would (EHLO, STARTTLS, login), then QUIT."""
    from incidents.alerts.send import Sender, SendError

    probe = dataclasses.replace(smtp, timeout=min(float(smtp.timeout), timeout))
    where = f"{smtp.host}:{smtp.port}"
    detail = {"host": smtp.host, "port": smtp.port, "security": smtp.security}
    try:
        with Sender(probe):
            pass
    except SendError as e:
        return Check(
            "smtp",
            PROBLEM,
            f"The mail server cannot be used: {e}. Check [smtp] host, port and security in the configuration, "
            "and that this machine may reach it.",
            detail,
        )
    return Check("smtp", OK, f"The mail server {where} answers ({smtp.security}); no mail was sent.", detail)
