"""`incidents spikes`: alarms on stored incidents or on count series from a CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from incidents.cli.common import DbOption, JsonOption, app, console, fail, open_store, print_json


@app.command()
def spikes(
    freq: Annotated[str, typer.Option("--freq", help="Periods to judge: day, week or month.")] = "day",
    category: Annotated[
        str | None, typer.Option("--category", help="Only this category (default: total and each category).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Show alarms from this day, YYYY-MM-DD (default: a year before the last day).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Judge up to this day, YYYY-MM-DD (default: the last day with data).",
            show_default=False,
        ),
    ] = None,
    counts: Annotated[
        Path | None,
        typer.Option(
            "--counts", help="Judge count series from a CSV (series,date,count) instead of the store."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="With --counts: write series,date,count,expected,upper,score,alarm here."
        ),
    ] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Find days (weeks, months) with more incidents than the baseline allows.

    Baseline: trend, weekday, annual season, holidays (Tết too) and level shifts, fitted on past data only.

    Alarm: above the negative-binomial upper bound, at the level each explanation names.

    Daily runs also flag days with an unusual mix (IsolationForest).

    Example: incidents spikes --category phishing --since 2020-10-01
    Example: incidents spikes --counts counts.csv --output flags.csv
    """

    if freq not in ("day", "week", "month"):
        raise typer.BadParameter(f"{freq!r} is not day, week or month", param_hint="--freq")
    for name, value in (("--since", since), ("--until", until)):
        if value is not None and not _is_day(value):
            raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=name)
    if counts is not None or output is not None:
        _spikes_counts(counts, output, freq)
        return
    from incidents import store
    from incidents.spikes import store_spikes
    from incidents.spikes.mix import store_mix
    from incidents.taxonomy import CATEGORIES

    if category is not None and category not in CATEGORIES:
        raise typer.BadParameter(
            f"{category!r} is not one of {', '.join(CATEGORIES)}", param_hint="--category"
        )
    database = open_store(db, create=False)
    last = until or store.data_span(database)[1]
    if since is None and last is not None:
        from datetime import date, timedelta

        since = str(date.fromisoformat(last) - timedelta(days=365))
    alarms, notes = store_spikes(database, freq=freq, category=category, since=since, until=until)
    mix = store_mix(database, since=since, until=until) if freq == "day" and category is None else []
    if json_out:
        print_json(
            {
                "since": since,
                "until": last,
                "freq": freq,
                "alarms": [a.as_dict() for a in alarms],
                "unusual_days": [m.as_dict() for m in mix],
                "notes": [n.text for n in notes],
            }
        )
        return
    _print_spikes(alarms, mix, notes, since, last)


def _is_day(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _spikes_counts(counts: Path | None, output: Path | None, freq: str) -> None:
    from incidents.spikes.series import CountsError, run_counts

    if counts is None or output is None:
        raise typer.BadParameter("--counts and --output go together", param_hint="--counts/--output")
    try:
        run = run_counts(counts, output, freq)
    except CountsError as e:
        raise fail(str(e)) from None
    for note in run.notes:
        if note.kind == "short":
            print(f"Note: {note.text}", file=sys.stderr)
    shifted = len({n.series for n in run.notes if n.kind == "shift"})
    extra = f"; {shifted} series changed level (the new level became their baseline)" if shifted else ""
    print(f"Judged {run.series} series ({run.rows} rows): {run.alarms} alarms, written to {output}{extra}")


def _print_spikes(alarms, mix, notes, since, last) -> None:
    from incidents.spikes.views import alarms_table, mix_table

    out = console()
    if last is None:
        out.print("No incidents stored yet.")
        return
    out.print(
        alarms_table(alarms, since, last, out.width) if alarms else f"No alarms from {since} to {last}."
    )
    if mix:
        out.print(mix_table(mix))
    for note in notes:
        out.print(f"[dim]Note: {note.text}[/dim]", soft_wrap=True)
