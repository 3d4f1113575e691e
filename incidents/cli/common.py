"""The Typer app, its shared options and the helpers every command uses (errors, output, the store).

Typed parameters for every command (issue 13, point 5): values are parsed strictly here, so a bad one
is a usage error (exit 2) naming the option, and `--help` shows the form or the choices:

- `parse_month` ('YYYY-MM'), `parse_day` ('YYYY-MM-DD', years 1900-9998), `parse_period` ('2020',
  '2020-H1', '2020-Q3', '2020-10', '2019-01..2019-04' -> Period), `parse_category` (a category name or
  any label ingest accepts: 'Lừa đảo', 'DEFACE', 'fraud/phishing' -> 'phishing'), `parse_severity`.
- Ready-made option types: `MonthOption`, `OptionalMonth`, `SinceOption`, `UntilOption`,
  `CategoryOption`, `SeverityOption`, `PeriodOption`, `LangOption`, `PlainOption`; or build your own
  with `typer.Option("--x", parser=parse_day, metavar=DAY_METAVAR, help=...)`.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

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
# 2 usage error (Typer's own), 3 --check found something, 75 temporary failure worth retrying (EX_TEMPFAIL, e.g. mail server down).
EXIT_FAILED = 1
EXIT_FOUND = 3  # --check found something (a difference, an alarm)
EXIT_TEMPFAIL = 75

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        readable=False,
        help="SQLite file of the store (default: $INCIDENTS_DB or ./incidents.db)",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of a table.")]
PlainOption = Annotated[
    bool,
    typer.Option(
        "--plain", help="Plain columns without box drawing or colour (for pipes, cron mail, files)."
    ),
]

# --- typed values ------------------------------------------------------------------------------------
# Each parser takes the text as typed and returns the value, or raises typer.BadParameter: Typer turns
# that into "Invalid value for '--month': ..." and exit 2. Nothing is stripped: "2020-10 " is refused.

MONTH_METAVAR = "YYYY-MM"
DAY_METAVAR = "YYYY-MM-DD"
PERIOD_METAVAR = "YYYY|YYYY-H1|YYYY-Q3|YYYY-MM"
# re.ASCII: \d would also take other scripts' digits ("２０２０-10"), which int() reads but the store's
# day strings never match.
_MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])", re.ASCII)
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# Years a store can hold: far enough from the calendar's ends that a year or a month either side exists.
MIN_YEAR, MAX_YEAR = 1900, 9998


def _shown(value: object) -> str:
    # repr() shows a trailing space, a tab or a control character for what it is.
    return repr(value)


def parse_month(value: str) -> str:
    """'2020-10' -> '2020-10'; anything else (a space, '2020-1', '2020-13') is a usage error."""
    m = _MONTH_RE.fullmatch(value)
    if not m or not MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
        raise typer.BadParameter(f"{_shown(value)} is not a month {MONTH_METAVAR} ({MIN_YEAR}-{MAX_YEAR})")
    return value


def parse_day(value: str) -> str:
    """'2020-10-05' -> '2020-10-05'; an impossible date (2021-02-30) or an odd form is a usage error."""
    try:
        if not _DAY_RE.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{_shown(value)} is not a date {DAY_METAVAR}") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise typer.BadParameter(f"{_shown(value)} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    return value


@dataclass(frozen=True)
class Period:
    """A span of whole months: `label` as typed ('2020-Q3'), first and last month ('YYYY-MM')."""

    label: str
    first_month: str
    last_month: str
    scope: str  # month, quarter, half, year or range

    @property
    def months(self) -> list[str]:
        y, m = int(self.first_month[:4]), int(self.first_month[5:])
        out = []
        while f"{y:04d}-{m:02d}" <= self.last_month:
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


_PERIOD_RE = re.compile(r"(\d{4})(?:-(?:(H[12])|(Q[1-4])|(0[1-9]|1[0-2])))?", re.ASCII)


def parse_period(value: str) -> Period:
    """'2020' (a year), '2020-H1', '2020-Q3', '2020-10' or '2019-01..2019-04' -> Period."""
    if ".." in value:
        first, _, last = value.partition("..")
        try:
            first, last = parse_month(first), parse_month(last)
        except typer.BadParameter:
            first = last = ""
        if not first or first > last:
            raise typer.BadParameter(f"{_shown(value)} is not a period FIRST..LAST of months {MONTH_METAVAR}")
        return Period(value, first, last, "range")
    m = _PERIOD_RE.fullmatch(value.upper())
    if not m or not MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
        raise typer.BadParameter(f"{_shown(value)} is not a period {PERIOD_METAVAR} or YYYY-MM..YYYY-MM")
    year = m.group(1)
    if m.group(2):
        half = int(m.group(2)[1])
        return Period(value, f"{year}-{6 * half - 5:02d}", f"{year}-{6 * half:02d}", "half")
    if m.group(3):
        q = int(m.group(3)[1])
        return Period(value, f"{year}-{3 * q - 2:02d}", f"{year}-{3 * q:02d}", "quarter")
    if m.group(4):
        return Period(value, f"{year}-{m.group(4)}", f"{year}-{m.group(4)}", "month")
    return Period(value, f"{year}-01", f"{year}-12", "year")


def category_choices() -> str:
    from incidents.taxonomy import CATEGORIES

    return "|".join(CATEGORIES)


def parse_category(value: str) -> str:
    """A category name, or any label ingest accepts ('Lừa đảo', 'Deface', 'fraud/phishing') -> its name."""
    from incidents.taxonomy import category_from_label

    found = category_from_label(value)
    if found is None:
        raise typer.BadParameter(
            f"{_shown(value)} is not a category: one of {category_choices().replace('|', ', ')} "
            "(or an English or Vietnamese label, or an RSIT taxonomy/type)"
        )
    return found


def parse_severity(value: str) -> str:
    """A severity, or its English or Vietnamese label ('Cao', 'nghiêm trọng') as ingest accepts it."""
    from incidents.taxonomy import SEVERITIES, severity_from_label

    found = severity_from_label(value)
    if found is None:
        raise typer.BadParameter(
            f"{_shown(value)} is not one of {', '.join(SEVERITIES)} (or their Vietnamese labels)"
        )
    return found


Lang = Literal["vi", "en"]
LangOption = Annotated[Lang, typer.Option("--lang", help="Language: vi (Vietnamese) or en (English).")]
MonthOption = Annotated[
    str, typer.Option("--month", parser=parse_month, metavar=MONTH_METAVAR, help="Reporting month, YYYY-MM.")
]
OptionalMonth = Annotated[
    str | None,
    typer.Option("--month", parser=parse_month, metavar=MONTH_METAVAR, help="Only this reporting month."),
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", parser=parse_day, metavar=DAY_METAVAR, help="From this local day (inclusive)."),
]
UntilOption = Annotated[
    str | None,
    typer.Option("--until", parser=parse_day, metavar=DAY_METAVAR, help="Up to this local day (inclusive)."),
]
CategoryOption = Annotated[
    str | None,
    typer.Option(
        "--category",
        parser=parse_category,
        metavar="CATEGORY",
        help="Only this category: phishing, deface, malware, intrusion, ddos, scanning or other; "
        "English or Vietnamese labels work too ('Lừa đảo', 'Mã độc').",
    ),
]
SeverityOption = Annotated[
    str | None,
    typer.Option(
        "--severity",
        parser=parse_severity,
        metavar="SEVERITY",
        help="Only this severity: low, medium, high or critical.",
    ),
]
PeriodOption = Annotated[
    Period | None,
    typer.Option(
        "--period",
        parser=parse_period,
        metavar="PERIOD",
        help="A year (2020), half (2020-H1), quarter (2020-Q3), month or range (2019-01..2019-04).",
    ),
]


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    """Print one line on stderr (control characters from the input escaped) and return the Exit to raise."""
    from incidents.views import printable

    print(f"Error: {printable(message)}", file=sys.stderr)
    return typer.Exit(code=code)


def console(plain: bool = False):
    from rich.console import Console

    # rich honours NO_COLOR and drops colour when stdout is not a terminal; --plain drops it always.
    # Markup and emoji codes are never read from what a command prints: values are data (views.literal).
    return Console(highlight=False, soft_wrap=False, markup=False, emoji=False, no_color=plain or None)


def emit(text: str) -> None:
    """Write text to stdout as UTF-8 whatever PYTHONIOENCODING says (unpaired surrogates as U+FFFD)."""
    from incidents.delimited import clean_text

    data = clean_text(text).encode("utf-8")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def print_json(data) -> None:
    """JSON on stdout, always valid UTF-8 (incidents.delimited.to_json)."""
    from incidents.delimited import to_json

    emit(to_json(data) + "\n")


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


def open_reader(db: Path | None):
    """`open_store(db, read_only=True)` for commands that print record fields: a text column holding bytes
    that are not UTF-8 (written by another tool) reads with U+FFFD instead of failing the whole page."""
    conn = open_store(db, read_only=True)
    conn.text_factory = _decode_text
    return conn


def _decode_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


@contextmanager
def progress(label: str):
    """A transient rows-read counter on stderr when it is a terminal; a no-op otherwise."""
    if not sys.stderr.isatty():
        yield lambda rows: None
        return
    from rich.console import Console

    with Console(stderr=True).status(label) as status:
        yield lambda rows: status.update(f"{label}: {rows:,} rows")


@contextmanager
def steps(label: str):
    """A transient status line on stderr when it is a terminal, for work that can take more than a
    second; yields tick(done, total, what='') to report steps. A no-op in a pipe or under cron."""
    if not sys.stderr.isatty():
        yield lambda done, total, what="": None
        return
    from rich.console import Console

    with Console(stderr=True).status(label) as status:

        def tick(done: int, total: int, what: str = "") -> None:
            status.update(f"{label}: {what or 'step'} {min(done + 1, total)} of {total}")

        yield tick


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
    from incidents.store_lock import set_wait_notice

    # A writer that finds the store busy says so while it waits (store_lock.begin_write).
    set_wait_notice(note)


def main() -> None:
    """The console script: the app, with a last line of defence so that a store or disk fault met in
    any command (busy past the timeout, disk full, read-only) is one `Error:` line, never a traceback."""
    import sqlite3

    if len(sys.argv) < 2 or {"--help", "-h"} & set(sys.argv[1:]):
        from incidents.cli.rich_help import import_rich_help

        import_rich_help()
    from incidents.store_errors import StoreError

    try:
        app()
    except SystemExit as e:
        if e.code not in (0, None):
            _tidy_after_failure()
        raise
    except (sqlite3.Error, OSError, StoreError) as e:
        if isinstance(e, OSError) and e.errno not in (28, 30, 122):  # ENOSPC, EROFS, EDQUOT
            raise
        from incidents import store

        problem = store.explain(e, store.resolve_path(_db_argument()))
        print(f"Error: {problem}", file=sys.stderr)
        _tidy_after_failure()
        sys.exit(EXIT_TEMPFAIL if isinstance(problem, store.StoreBusy) else EXIT_FAILED)


def _tidy_after_failure() -> None:
    """A failed command removes the -wal/-shm it created beside the store and nobody uses (a full disk
    leaves a -shm SQLite could not grow): store_disk.remove_unused_sidecars says when that is safe."""
    import gc

    from incidents.store_disk import remove_unused_sidecars
    from incidents.store_open import resolve_path

    gc.collect()  # connections dropped without close() are closed now, before looking at their files
    # after_read: a writer that read the store before it failed to write (a read-only file) mapped the
    # -shm; with an empty -wal and nobody holding the -shm's lock, neither is of use to anyone.
    remove_unused_sidecars(resolve_path(_db_argument()), after_read=True)


def _db_argument() -> str | None:
    """The --db value on the command line, for naming the store in a last-resort message."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--db="):
            return arg[5:]
    return None


def note(message: str) -> None:
    """A note for the person running the command: always on stderr, so stdout stays the data."""
    print(f"Note: {message}", file=sys.stderr)
