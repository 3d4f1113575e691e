"""`incidents spikes`: episodes and alarms on stored incidents, or verdicts on count series from a CSV."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from incidents.cli.common import (
    CategoryOption,
    DbOption,
    JsonOption,
    PlainOption,
    UntilOption,
    app,
    console,
    fail,
    note,
    open_store,
    parse_day,
    print_json,
)

EXIT_FOUND = 3  # --check: something was found


class Freq(str, Enum):
    day = "day"
    week = "week"
    month = "month"


@app.command()
def spikes(
    freq: Annotated[Freq, typer.Option("--freq", help="Periods to judge.")] = Freq.day,
    category: CategoryOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            parser=parse_day,
            metavar="YYYY-MM-DD",
            help="Show alarms from this day (default: a year before the last day).",
        ),
    ] = None,
    until: UntilOption = None,
    days: Annotated[
        bool, typer.Option("--days", help="One row per alarm day instead of one per episode.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 3 when an episode (or, with --days, an alarm) is shown.")
    ] = False,
    counts: Annotated[
        Path | None,
        typer.Option(
            "--counts",
            readable=False,
            help="Judge count series from a CSV (series,date,count) instead of the store.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            readable=False,
            help="With --counts: write series,date,count,expected,upper,score,alarm here.",
        ),
    ] = None,
    json_out: JsonOption = False,
    plain: PlainOption = False,
    db: DbOption = None,
) -> None:
    """Find days (weeks, months) with more incidents than the baseline allows, grouped into episodes.

    Baseline: trend, weekday, annual season, holidays (Tết too) and level shifts, fitted on past data only.

    Alarm: above the negative-binomial upper bound, at the level each explanation names. Daily verdicts are kept in the store once judged; a run judges only the days not judged yet.

    Daily runs also flag days with an unusual mix (IsolationForest).

    Example: incidents spikes --category phishing --since 2020-10-01 --days
    Example: incidents spikes --counts counts.csv --output flags.csv
    """
    if counts is not None or output is not None:
        _spikes_counts(counts, output, freq.value)
        return
    if since and until and since > until:
        raise typer.BadParameter(f"{since} is after --until {until}", param_hint="--since")
    if freq is not Freq.day:
        found = _spikes_periods(freq.value, category, since, until, db, json_out, plain)
    else:
        found = _spikes_daily(category, since, until, db, days, json_out, plain)
    if check and found:
        raise typer.Exit(EXIT_FOUND)


def _spikes_daily(category, since, until, db, days: bool, json_out: bool, plain: bool) -> int:
    from datetime import UTC, datetime

    from incidents import store
    from incidents.spikes.report import daily_spikes

    with _judging() as tick:
        try:
            report = daily_spikes(
                db, since=since, until=until, category=category, now=datetime.now(UTC), progress=tick
            )
        except store.StoreError as e:
            raise fail(str(e), 75 if isinstance(e, store.StoreBusy) else 1) from None
    if report.source == "memory":
        note("the store is read-only: new days were judged in memory and not kept")
    shown = report.alarms if days else report.episodes
    if json_out:
        print_json(
            {
                "since": report.since,
                "until": report.until,
                "freq": "day",
                "episodes": [e.as_dict() for e in report.episodes],
                "alarms": [a.as_dict() for a in report.alarms],
                "unusual_days": [m.as_dict() for m in report.mix],
                "notes": [n.text for n in report.notes],
                "verdicts": {"source": report.source, "judged_at": report.judged_at},
            }
        )
        return len(shown)
    from incidents.spikes.views import alarms_table, episodes_table, mix_table

    out = console()
    if report.until is None:
        out.print("No incidents stored yet.")
        return 0
    if not shown:
        out.print(f"No alarms from {report.since} to {report.until}.")
    elif days:
        out.print(alarms_table(report.alarms, report.since, report.until, out.width, plain=plain))
    else:
        out.print(episodes_table(report.episodes, report.since, report.until, out.width, plain=plain))
    if report.mix:
        out.print(mix_table(report.mix, plain=plain))
    for n in report.notes:
        note(n.text)
    return len(shown)


def _spikes_periods(freq: str, category, since, until, db, json_out: bool, plain: bool) -> int:
    """Weekly and monthly alarms, computed from the stored daily counts (nothing is kept)."""
    from datetime import date, timedelta

    from incidents import store
    from incidents.spikes import store_spikes

    conn = open_store(db, read_only=True)
    last = until or store.data_span(conn)[1]
    if since is None and last is not None:
        since = str(date.fromisoformat(last) - timedelta(days=365))
    alarms, notes = store_spikes(conn, freq=freq, category=category, since=since, until=until)
    if json_out:
        print_json(
            {
                "since": since,
                "until": last,
                "freq": freq,
                "episodes": [],
                "alarms": [a.as_dict() for a in alarms],
                "unusual_days": [],
                "notes": [n.text for n in notes],
            }
        )
        return len(alarms)
    from incidents.spikes.views import alarms_table

    out = console()
    if last is None:
        out.print("No incidents stored yet.")
        return 0
    out.print(
        alarms_table(alarms, since, last, out.width, plain=plain)
        if alarms
        else f"No alarms from {since} to {last}."
    )
    for n in notes:
        note(n.text)
    return len(alarms)


class _judging:
    """Progress on stderr when it is a terminal, while new days are judged; silent otherwise."""

    def __enter__(self):
        self.status = None
        if not sys.stderr.isatty():
            return lambda done, total: None
        from rich.console import Console

        self.status = Console(stderr=True).status("Reading kept verdicts")
        self.status.start()

        def tick(done: int, total: int) -> None:
            self.status.update(f"Judging new days: step {min(done + 1, total)} of {total}")

        return tick

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.stop()
        return False


def _spikes_counts(counts: Path | None, output: Path | None, freq: str) -> None:
    from incidents.spikes.series import CountsError, run_counts

    if counts is None or output is None:
        raise typer.BadParameter("--counts and --output go together", param_hint="--counts/--output")
    try:
        run = run_counts(counts, output, freq)
    except CountsError as e:
        raise fail(str(e)) from None
    for n in run.notes:
        if n.kind == "short":
            note(n.text)
    shifted = len({n.series for n in run.notes if n.kind == "shift"})
    extra = f"; {shifted} series changed level (the new level became their baseline)" if shifted else ""
    print(f"Judged {run.series} series ({run.rows} rows): {run.alarms} alarms, written to {output}{extra}")
