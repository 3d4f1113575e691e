"""`incidents doctor`: is the store and its configuration healthy, and if not, what to do about it.

Each check gives one plain sentence: what was found and, when something is wrong, how to fix it.
Checks: the store opens as an incidents store (read-only, store.open_read), `PRAGMA integrity_check`,
the schema version against this release, the size of the write-ahead log, the last ingest and scan
runs and their outcome, the last `incidents alert` run and the pending and failed alerts (outbox API),
the configuration file (config.check_config), and whether the SMTP server answers (a real connection,
EHLO, STARTTLS and login as configured, with a timeout; no mail is sent).

A check is `ok`, a `warning` (worth knowing, nothing broken) or a `problem`; the store is healthy when
no check is a problem. Nothing here writes to the store or sends mail.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from incidents import store
from incidents.migrations import MIGRATIONS

OK, WARNING, PROBLEM = "ok", "warning", "problem"
# A write-ahead log larger than this (and than the store itself) is worth a checkpoint.
WAL_WARN_BYTES = 256 * 1024 * 1024
SMTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    """One finding: `name` (store, integrity, schema, wal, ingest, scan, alerts, config, smtp), its
    `level` (ok, warning, problem), one `message` sentence, and `detail` figures for --json."""

    name: str
    level: str
    message: str
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The check as a plain dict (for --json)."""
        return dataclasses.asdict(self)


@dataclass
class Report:
    db: str
    config: str
    checks: list[Check]

    @property
    def healthy(self) -> bool:
        """True when no check is a problem (warnings allowed)."""
        return all(c.level != PROBLEM for c in self.checks)

    def as_dict(self) -> dict:
        """The report as a plain dict (for --json): healthy, db, config, checks."""
        return {
            "healthy": self.healthy,
            "db": self.db,
            "config": self.config,
            "checks": [c.as_dict() for c in self.checks],
        }


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
    checks: list[Check] = []
    checks.extend(store_checks(path, integrity=integrity))
    checks.extend(config_checks(config_path, smtp_timeout=smtp_timeout))
    return Report(str(path), str(config_path), checks)


# --- the store ----------------------------------------------------------------------------------------


def store_checks(path: Path, *, integrity: bool = True) -> list[Check]:
    """Checks of the store at `path`, read-only: it opens, SQLite's integrity_check (with `integrity`),
    its schema version, the WAL's size, the last ingest and scan runs, the alert outbox. Never raises
    for a bad store: a problem is a Check."""
    try:
        conn = store.open_read(path)
    except store.StoreError as e:
        fix = (
            " Give --db the store's path (or set $INCIDENTS_DB)."
            if isinstance(e, store.NotAStore) or "no database" in str(e)
            else ""
        )
        return [Check("store", PROBLEM, f"The store cannot be opened: {e}.{fix}")]
    try:
        return _store_checks(conn, path, integrity)
    except sqlite3.DatabaseError as e:
        return [Check("store", PROBLEM, f"{store.explain(e, path)}.")]
    finally:
        conn.close()


def _store_checks(conn: sqlite3.Connection, path: Path, integrity: bool) -> list[Check]:
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
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
        if rows == ["ok"]:
            checks.append(Check("integrity", OK, "PRAGMA integrity_check found no damage."))
        else:
            checks.append(
                Check(
                    "integrity",
                    PROBLEM,
                    f"The store is damaged ({len(rows)} problem(s), first: {rows[0]}). Stop writing to it, "
                    f"keep a copy, and rebuild it: `sqlite3 {path} .recover | sqlite3 repaired.db`, or ingest the "
                    "feed files again into a new store.",
                    {"problems": rows},
                )
            )
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    current = len(MIGRATIONS)
    if version == current:
        checks.append(Check("schema", OK, f"Schema version {version}, this release's.", {"version": version}))
    elif version < current:
        checks.append(
            Check(
                "schema",
                WARNING,
                f"Schema version {version}, older than this release's {current}: read commands work on what it "
                "holds; the next writing command (incidents ingest, scan or alert) upgrades it after a backup "
                "copy beside it.",
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
    checks.append(_wal_check(path, size))
    checks.extend(_run_checks(conn))
    checks.extend(_alert_checks(conn))
    return checks


def _wal_check(path: Path, size: int) -> Check:
    wal = Path(f"{path}-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    detail = {"wal_bytes": wal_bytes}
    if wal_bytes > WAL_WARN_BYTES and wal_bytes > size:
        return Check(
            "wal",
            WARNING,
            f"The write-ahead log is {wal_bytes / 1e6:,.0f} MB, larger than the store: a reader held it open "
            f"during a long write. It shrinks at the next write; when nothing else uses the store, "
            f"`sqlite3 {path} 'PRAGMA wal_checkpoint(TRUNCATE)'` frees the space at once.",
            detail,
        )
    return Check("wal", OK, f"The write-ahead log is {wal_bytes / 1e6:,.1f} MB.", detail)


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


def _alert_checks(conn: sqlite3.Connection) -> list[Check]:
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
        when = run.finished_at or run.started_at
        if run.outcome in ("ok", "nothing"):
            checks.append(
                Check(
                    "alert run", OK, f"Last alert run {when}: {run.outcome}, {run.sent} mail(s) sent.", detail
                )
            )
        elif run.outcome == "tempfail":
            checks.append(
                Check(
                    "alert run",
                    WARNING,
                    f"Last alert run {when} could not reach the mail server ({run.error}); its mails wait in "
                    "the outbox and go at the next `incidents alert` once the server answers.",
                    detail,
                )
            )
        elif run.outcome == "interrupted":
            checks.append(
                Check(
                    "alert run",
                    WARNING,
                    f"Last alert run, started {run.started_at}, never finished (killed?): the next "
                    "`incidents alert` sends what it left pending.",
                    detail,
                )
            )
        else:
            checks.append(
                Check(
                    "alert run",
                    PROBLEM,
                    f"Last alert run {when} failed: {run.error}. Fix the cause (often the [smtp] settings: "
                    "`incidents config check`), then run `incidents alert`.",
                    detail,
                )
            )
    if counts.get("failed"):
        checks.append(
            Check(
                "alerts",
                PROBLEM,
                f"{counts['failed']} alert(s) failed for good (the server refused them): "
                "`incidents alert --status` lists them with the server's answer.",
                detail,
            )
        )
    pending = counts.get("pending", 0)
    checks.append(
        Check(
            "alerts",
            OK,
            f"Alerts: {counts.get('sent', 0):,} sent, {pending:,} pending, {counts.get('held', 0):,} held, "
            f"{counts.get('failed', 0):,} failed.",
            detail,
        )
    )
    return checks


# --- the configuration and the mail server --------------------------------------------------------------


def config_checks(path: Path, *, smtp_timeout: float = SMTP_TIMEOUT_S) -> list[Check]:
    """Checks of the configuration at `path`: it is valid (config.check_config), and the SMTP server
    answers within `smtp_timeout` seconds (smtp_check). A missing file is fine (only alerts need it)."""
    from incidents.config import check_config, load_config

    if not path.exists():
        return [
            Check(
                "config",
                OK,
                f"No configuration at {path}: needed only for alerts and the bulletin's issuer "
                "(`incidents config init` writes one).",
                {"path": str(path)},
            )
        ]
    problems = check_config(path)
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
