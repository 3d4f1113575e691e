"""The Typer app, its shared options and the helpers every command uses (errors, output, the store)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from incidents import __version__

app = typer.Typer(
    name="incidents",
    help="Count, watch and report cyber-security incidents.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Exit codes (documented in the README): 0 success, 1 the command failed for a reason it explains,
# 2 usage error (Typer's own), 75 temporary failure worth retrying (EX_TEMPFAIL, e.g. mail server down).
EXIT_FAILED = 1
EXIT_TEMPFAIL = 75

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db", help="SQLite file of the store (default: $INCIDENTS_DB or ./incidents.db)", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of a table.")]


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print one line on stderr and return the Exit to raise."""
    print(f"Error: {message}", file=sys.stderr)
    return typer.Exit(code=code)


def console():
    from rich.console import Console

    # rich honours NO_COLOR and drops colour when stdout is not a terminal.
    return Console(highlight=False, soft_wrap=False)


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def open_store(db: Path | None, *, create: bool = True, zone: str | None = None, read_only: bool = False):
    """The store for a command: `read_only` -> store.open_read (never creates, migrates or switches the
    journal), else store.open_db. A StoreError becomes one `Error:` line, exit 75 when busy, else 1."""
    from incidents import store

    try:
        if read_only:
            return store.open_read(db)
        return store.open_db(db, create=create, zone=zone)
    except store.StoreError as e:
        raise fail(str(e), EXIT_TEMPFAIL if isinstance(e, store.StoreBusy) else EXIT_FAILED) from None


@contextmanager
def progress(label: str):
    """A transient rows-read counter on stderr when it is a terminal; a no-op otherwise."""
    if not sys.stderr.isatty():
        yield lambda rows: None
        return
    from rich.console import Console

    with Console(stderr=True).status(label) as status:
        yield lambda rows: status.update(f"{label}: {rows:,} rows")


def _version(value: bool) -> None:
    if value:
        print(f"incidents {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Count, watch and report cyber-security incidents.

    Start with `incidents demo`, then explore with `incidents stats --month 2020-10`.
    """


def main() -> None:
    """The console script: the app, with a last line of defence so that a store or disk fault met in
    any command (busy past the timeout, disk full, read-only) is one `Error:` line, never a traceback."""
    import sqlite3

    try:
        app()
    except (sqlite3.Error, OSError) as e:
        if isinstance(e, OSError) and e.errno not in (28, 30, 122):  # ENOSPC, EROFS, EDQUOT
            raise
        from incidents import store

        problem = store.explain(e, store.resolve_path(_db_argument()))
        print(f"Error: {problem}", file=sys.stderr)
        sys.exit(EXIT_TEMPFAIL if isinstance(problem, store.StoreBusy) else EXIT_FAILED)


def _db_argument() -> str | None:
    """The --db value on the command line, for naming the store in a last-resort message."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--db="):
            return arg[5:]
    return None
