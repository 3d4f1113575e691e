"""`incidents tui`: the analysts' full-screen terminal UI (Textual, imported only when the command runs)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from incidents.cli.common import DbOption, app, fail


@app.command("tui")
def tui(
    db: DbOption = None,
    month: Annotated[
        str | None, typer.Option("--month", help="Month to open on, YYYY-MM (default: the last with data).")
    ] = None,
    lang: Annotated[Literal["en", "vi"], typer.Option("--lang", help="Labels and number formats.")] = "en",
) -> None:
    """Browse the store in a full-screen terminal UI: the month, incidents, spikes, quarantine, alerts.

    Read-only: it never writes to the store and picks up what cron ingests while it runs.

    Keys: 1-5 screens, [ ] month, Enter open, ? help, ctrl+p commands, q quit.

    Example: incidents tui --db demo.db --month 2020-10 --lang vi
    """
    from incidents import stats

    if month is not None:
        try:
            stats.parse_month(month)
        except stats.BadMonth as e:
            raise typer.BadParameter(str(e), param_hint="--month") from None
    from incidents.tui import run
    from incidents.tui.data import TuiDataError

    try:
        run(db, month=month, lang=lang)
    except TuiDataError as e:
        raise fail(str(e)) from None
