"""`incidents config init / check` (the configuration file) and `incidents alert` (the alert e-mails)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from incidents.cli.common import app, fail

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
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
