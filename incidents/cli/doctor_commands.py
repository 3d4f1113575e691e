"""`incidents doctor`: checks the store and its configuration and says what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from incidents.cli.alert_commands import ConfigOption
from incidents.cli.common import EXIT_FAILED, DbOption, JsonOption, app, print_json

MARKS = {"ok": "ok     ", "warning": "warning", "problem": "PROBLEM"}


# Doctor's own --db and --config: Typer checks a Path's readability by default, which would turn the
# unreadable store or configuration doctor exists to explain into a usage error (exit 2).
DoctorDbOption = Annotated[
    Path | None, typer.Option("--db", readable=False, help=DbOption.__metadata__[0].help, show_default=False)
]
DoctorConfigOption = Annotated[
    Path | None,
    typer.Option("--config", readable=False, help=ConfigOption.__metadata__[0].help, show_default=False),
]


@app.command()
def doctor(
    db: DoctorDbOption = None,
    config: DoctorConfigOption = None,
    as_json: JsonOption = False,
    smtp_timeout: Annotated[
        float, typer.Option("--smtp-timeout", min=0.1, help="Seconds to wait for the mail server.")
    ] = 10.0,
) -> None:
    """Check the store and the configuration, and say plainly what is wrong and how to fix it.

    Integrity, schema version, write-ahead log size, free disk space, who can write the store and its
    -wal/-shm files, the last ingest, scan and alert runs, pending and failed alerts, the configuration
    file (one named with --config or $INCIDENTS_CONFIG must exist), and whether the mail server answers
    (no mail is sent).

    Example: incidents doctor --db /var/lib/incidents/incidents.db --config /etc/incidents/incidents.toml

    Exit code 0 when healthy (warnings included), 1 when a check found a problem.
    """
    from incidents.doctor import diagnose

    report = diagnose(db, config, smtp_timeout=smtp_timeout)
    if as_json:
        print_json(report.as_dict())
    else:
        for check in report.checks:
            print(f"{MARKS[check.level]}  {check.name}: {check.message}")
        print("Healthy." if report.healthy else "Not healthy: fix the PROBLEM lines above.")
    if not report.healthy:
        raise typer.Exit(code=EXIT_FAILED)
