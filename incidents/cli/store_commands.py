"""Commands on the store: ingest, rejects, list, stats, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from incidents.cli.common import (
    EXIT_FAILED,
    EXIT_TEMPFAIL,
    DbOption,
    JsonOption,
    app,
    console,
    fail,
    open_store,
    print_json,
    progress,
)


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Feed exports: CSV, JSON, JSON Lines, IntelMQ-style.")],
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
        typer.Option("--wait", min=0, help="Seconds to wait for another process writing to the store."),
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
    from incidents.views import ingest_table

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
        except KeyboardInterrupt:
            # The file being read was undone (its committed batches too); earlier files stand.
            raise fail(
                f"interrupted while reading {file}; it was rolled back, earlier files are stored", 130
            ) from None
        results.append(result)
        if not result.ok:
            print(f"Error: {file}: {result.message}", file=sys.stderr)
        elif result.message:
            print(f"Note: {file}: {result.message}", file=sys.stderr)
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
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Show quarantined rows: the file, line, reason and raw text of every row ingest could not use.

    Example: incidents rejects --run 3
    """
    from incidents.ingest import rejects_of
    from incidents.views import rejects_table

    rows = rejects_of(open_store(db, create=False), run, limit)
    if as_json:
        print_json(rows)
    else:
        console().print(rejects_table(rows))


@app.command("list")
def list_incidents(
    db: DbOption = None,
    month: Annotated[str | None, typer.Option("--month", help="Only this reporting month, YYYY-MM.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only this category.")] = None,
    sector: Annotated[str | None, typer.Option("--sector", help="Only this sector.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Targets containing this text.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many incidents.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List stored incidents, newest first.

    Example: incidents list --month 2020-10 --category deface --limit 20
    """
    from incidents import stats as stats_lib
    from incidents import store
    from incidents.taxonomy import CATEGORIES
    from incidents.views import incidents_table

    if category is not None and category not in CATEGORIES:
        raise typer.BadParameter(f"must be one of {', '.join(CATEGORIES)}", param_hint="--category")
    since = until = None
    if month:
        try:
            since, until = stats_lib.month_days(month)
        except stats_lib.StatsError as e:
            raise fail(str(e)) from None
    rows = store.find_incidents(
        open_store(db, create=False),
        since=since,
        until=until,
        category=category,
        sector=sector,
        target=target,
        limit=limit,
    )
    if as_json:
        print_json(rows)
    else:
        console().print(incidents_table(rows))


@app.command()
def stats(
    month: Annotated[str, typer.Option("--month", help="Reporting month, YYYY-MM.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Monthly figures: total and per category, vs last month, last year, year to date.

    Example: incidents stats --month 2020-10 --json
    """
    from incidents import stats as stats_lib
    from incidents.views import month_table

    database = open_store(db, create=False)
    try:
        report = stats_lib.month_report(database, month)
    except stats_lib.StatsError as e:
        raise fail(str(e)) from None
    for note in report.notes:
        print(f"Note: {note}", file=sys.stderr)
    if as_json:
        print_json(report.as_dict())
    else:
        console().print(month_table(report))
    if not report.has_data:
        raise typer.Exit(code=EXIT_FAILED)


@app.command()
def demo(
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Build the demo store here (default: a fresh ./incidents-demo.db)."),
    ] = None,
    month: Annotated[str, typer.Option("--month", help="Month to report.")] = "2020-10",
) -> None:
    """Build a store from sample_logs/ and print the October 2020 report, the scan and the spikes.

    Example: incidents demo --db /tmp/demo.db && incidents stats --db /tmp/demo.db --month 2020-11
    """
    from incidents.demo import DemoError, run_demo

    try:
        run_demo(console(), db, month)
    except DemoError as e:
        raise fail(str(e)) from None
