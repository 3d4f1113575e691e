"""Commands on the store: ingest, rejects, list, stats, demo."""

from __future__ import annotations

import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from incidents.cli.common import (
    EXIT_FAILED,
    EXIT_TEMPFAIL,
    MONTH_METAVAR,
    CategoryOption,
    DbOption,
    JsonOption,
    OptionalMonth,
    PeriodOption,
    PlainOption,
    SeverityOption,
    SinceOption,
    UntilOption,
    app,
    console,
    emit,
    fail,
    note,
    open_reader,
    open_store,
    parse_month,
    print_json,
    progress,
)


@app.command()
def ingest(
    files: Annotated[
        list[Path], typer.Argument(readable=False, help="Feed exports: CSV, JSON, JSON Lines, IntelMQ-style.")
    ],
    db: DbOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Force the format: csv, json or jsonl (default: detected).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse a whole file if any row is bad.")] = False,
    zone: Annotated[
        str | None,
        typer.Option("--zone", help="Zone of timestamps without an offset (default: Asia/Ho_Chi_Minh)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Read a file again even if its content was ingested.")
    ] = False,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds to wait for another process writing to the store (other writers wait "
            "$INCIDENTS_BUSY_TIMEOUT, default 30).",
        ),
    ] = 600.0,
    as_json: JsonOption = False,
) -> None:
    """Load incident records into the store; bad rows are quarantined in `rejects`.

    Example: incidents ingest sample_logs/ncsc-2020.csv sample_logs/intelmq-2020-h2.jsonl

    Exit code 0 when every file was read (rejected rows are reported, not fatal), 1 when a file was
    unreadable, in an unknown format, had no usable row, or was refused by --strict, 75 when the only
    trouble was a store kept busy by another writer for longer than --wait (try again later). Each file
    is reported and a failed one does not stop the others.
    """
    from incidents import ingest as ingest_lib
    from incidents.views import ingest_table, printable

    if fmt is not None and fmt not in ingest_lib.FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(ingest_lib.FORMATS)}", param_hint="--format")
    database = open_store(db)
    results = []
    for file in files:
        try:
            with progress(f"ingesting {file}") as tick:
                result = ingest_lib.ingest_file(
                    database,
                    file,
                    fmt=fmt,
                    strict=strict,
                    input_zone=zone,
                    force=force,
                    on_progress=tick,
                    wait=wait,
                    on_wait=lambda text, file=file: print(f"Note: {file}: {text}", file=sys.stderr),
                )
        except KeyboardInterrupt as e:
            # The file being read was undone (its committed batches too); earlier files stand. The command
            # is ending: further Ctrl-C presses are ignored, so its last line and clean-up are not cut.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if getattr(e, "undone", True):
                raise fail(
                    f"interrupted while reading {file}; it was rolled back, earlier files are stored", 130
                ) from None
            raise fail(
                f"interrupted while reading {file}; its rows could not be rolled back now (the store was "
                "busy): readers do not count them and the next 'incidents ingest' undoes them; earlier "
                "files are stored",
                130,
            ) from None
        results.append(result)
        if not result.ok:
            print(f"Error: {file}: {printable(result.message)}", file=sys.stderr)
        elif result.message:
            print(f"Note: {file}: {printable(result.message)}", file=sys.stderr)
        if result.corrected:
            print(
                f"Note: {file}: {result.corrected:,} record(s) corrected their stored earlier version "
                "(the old values are kept in the incident's history)",
                file=sys.stderr,
            )
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        console().print(ingest_table(results))
    failed = [r for r in results if not r.ok]
    if failed:
        raise typer.Exit(code=EXIT_TEMPFAIL if all(r.status == "busy" for r in failed) else EXIT_FAILED)


@app.command()
def rejects(
    db: DbOption = None,
    run: Annotated[int | None, typer.Option("--run", help="Only this ingest run.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows.")] = 50,
    as_json: JsonOption = False,
    plain_output: PlainOption = False,
) -> None:
    """Show quarantined rows: the file, line, reason and raw text of every row ingest could not use.

    Example: incidents rejects --run 3
    """
    from incidents.ingest import rejects_of
    from incidents.views import finish, rejects_table

    rows = rejects_of(open_store(db, read_only=True), run, limit)
    if as_json:
        print_json(rows)
    else:
        console(plain_output).print(finish(rejects_table(rows), plain_output))


class Order(str, Enum):
    day = "day"
    category = "category"
    severity = "severity"
    target = "target"
    sector = "sector"
    feed = "feed"


@app.command("list")
def list_incidents(
    db: DbOption = None,
    month: OptionalMonth = None,
    since: SinceOption = None,
    until: UntilOption = None,
    category: CategoryOption = None,
    sector: Annotated[str | None, typer.Option("--sector", help="Only this sector.")] = None,
    feed: Annotated[str | None, typer.Option("--feed", help="Only this feed.")] = None,
    severity: SeverityOption = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Targets containing this text (case-insensitive).")
    ] = None,
    order: Annotated[Order, typer.Option("--order", help="Sort by this column.")] = Order.day,
    ascending: Annotated[bool, typer.Option("--asc", help="Oldest (smallest) first.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many incidents.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    show_all: Annotated[bool, typer.Option("--all", help="Every matching incident (no --limit).")] = False,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV (formula prefixes neutralised).")] = False,
    as_tsv: Annotated[bool, typer.Option("--tsv", help="Tab-separated values.")] = False,
    as_nl: Annotated[bool, typer.Option("--nl", help="Newline-delimited JSON, one incident a line.")] = False,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="CSV/TSV without the header row.")] = False,
    plain_output: PlainOption = False,
) -> None:
    """List stored incidents, newest first, and say how many match ("50 of 582").

    Example: incidents list --month 2020-10 --category deface --limit 20

    Example: incidents list --since 2020-11-10 --until 2020-11-13 --category phishing --all --csv > phishing.csv

    --json prints {"total", "offset", "limit", "incidents"}; --csv, --tsv and --nl print rows only (the
    count goes to stderr when rows were left out). Cells that a spreadsheet would run as a formula
    (=, +, -, @) get a leading ' in CSV and TSV.
    """
    from incidents import search
    from incidents.views import finish, incidents_table, shown_of

    chosen = [
        name
        for name, on in (("--json", as_json), ("--csv", as_csv), ("--tsv", as_tsv), ("--nl", as_nl))
        if on
    ]
    if len(chosen) > 1:
        raise typer.BadParameter("choose one output format", param_hint="/".join(chosen))
    if month is not None and (since or until):
        raise typer.BadParameter("--month or --since/--until, not both", param_hint="--month")
    if since and until and since > until:
        raise typer.BadParameter(f"{since} is after --until {until}", param_hint="--since")
    if month is not None:
        from incidents.stats import month_days

        since, until = month_days(month)
    flt = search.IncidentFilter(
        category=category,
        since=since,
        until=until,
        sector=sector,
        feed=feed,
        severity=severity,
        target=target,
    )
    conn = open_reader(db)
    page = None if show_all else limit
    try:
        total = search.count_incidents(conn, flt)
        rows = search.find_incidents(
            conn, flt, order=order.value, descending=not ascending, limit=page, offset=offset
        )
    except search.SearchError as e:
        raise fail(str(e)) from None
    if as_json:
        print_json(
            {"total": total, "offset": offset, "limit": page, "incidents": [r.as_dict() for r in rows]}
        )
    elif as_csv or as_tsv or as_nl:
        from incidents.delimited import delimited

        fmt = "csv" if as_csv else "tsv" if as_tsv else "nl"
        for line in delimited((r.as_dict() for r in rows), search.ROW_COLUMNS, fmt, headers=not no_headers):
            emit(line)
    else:
        out = console(plain_output)
        # A table for people, boxed or --plain (cron mail, files): the shortest prefix `show` takes; the
        # whole id is in --tsv, --csv and --json, for scripts (a whole 40-character id left the target 5
        # columns at 80).
        short_ids = search.unique_prefixes(conn, [r.id for r in rows])
        table = incidents_table(
            rows, total=total, offset=offset, width=out.width, short_ids=short_ids, plain_output=plain_output
        )
        out.print(finish(table, plain_output))
        return
    if len(rows) < total:
        note(shown_of(len(rows), total, offset))


@app.command()
def show(
    incident_id: Annotated[
        str, typer.Argument(help="The incident's id, or a unique prefix of it (at least 6 characters).")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
    plain_output: PlainOption = False,
) -> None:
    """Show one incident, every stored field and the original record as the feed sent it.

    Example: incidents show 3f2a9c1b0d4e

    Exit code 1 when no incident has that id (or the prefix matches several).
    """
    from incidents import search
    from incidents.views import finish, incident_table, literal

    conn = open_reader(db)
    try:
        full_id = search.resolve_id(conn, incident_id)
    except search.SearchError as e:
        raise fail(str(e)) from None
    row = search.get_incident(conn, full_id)
    if as_json:
        data = row.as_dict()
        data["record"] = search.original_record(row)
        print_json(data)
        return
    out = console(plain_output)
    out.print(finish(incident_table(row), plain_output))
    out.print("Original record:")
    record = search.original_record(row)
    if isinstance(record, (dict, list)):
        from incidents.delimited import to_json

        for line in to_json(record).splitlines():
            out.print(literal(line), soft_wrap=True)
    else:
        out.print(literal(record), soft_wrap=True)
    if row.history:
        from incidents.delimited import to_json

        out.print(f"History: {len(row.history)} earlier version(s) of this record, oldest first:")
        for version in row.history:
            out.print(
                literal(f"- replaced {version.get('replaced_at')} by ingest run {version.get('run_id')}: "
                        + to_json(version.get("old"), indent=None)),
                soft_wrap=True,
            )  # fmt: skip


@app.command()
def stats(
    month: OptionalMonth = None,
    period: PeriodOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    plain_output: PlainOption = False,
) -> None:
    """Figures of a month (vs last month, last year, year to date) or of a year, half or quarter.

    Example: incidents stats --month 2020-10 --json

    Example: incidents stats --period 2020-Q3

    --json has every category, always in the same order, with zeros where there were none.

    Exit code 1 when the store holds no data for the month or period.
    """
    from incidents import stats as stats_lib
    from incidents.views import finish, month_table, period_table

    if (month is None) == (period is None):
        raise typer.BadParameter("give --month or --period (one of them)", param_hint="--month/--period")
    if period is not None and period.scope == "month":
        month, period = period.first_month, None
    database = open_store(db, read_only=True)
    try:
        if period is not None:
            report = stats_lib.period_report(database, period.first_month, period.last_month, period.label)
        else:
            report = stats_lib.month_report(database, month)
    except stats_lib.StatsError as e:
        raise fail(str(e)) from None
    for n in report.notes:
        note(str(n))
    if as_json:
        print_json(report.as_dict())  # `has_data: false` says it to a script
    elif report.has_data:  # no table of zeros and "-100.00%" for a month the store holds nothing of
        table = period_table(report) if period is not None else month_table(report)
        console(plain_output).print(finish(table, plain_output))
    if not report.has_data:
        raise typer.Exit(code=EXIT_FAILED)


@app.command()
def demo(
    db: Annotated[
        Path | None,
        typer.Option(
            "--db", readable=False, help="Build the demo store here (default: a fresh ./incidents-demo.db)."
        ),
    ] = None,
    month: Annotated[
        str, typer.Option("--month", parser=parse_month, metavar=MONTH_METAVAR, help="Month to report.")
    ] = "2020-10",
) -> None:
    """Build a store from sample_logs/ and print the October 2020 report, the scan and the spikes.

    Example: incidents demo --db /tmp/demo.db && incidents stats --db /tmp/demo.db --month 2020-11
    """
    from incidents.demo import DemoError, run_demo

    try:
        run_demo(console(), db, month)
    except DemoError as e:
        raise fail(str(e)) from None
