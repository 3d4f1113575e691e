"""`incidents bulletin` and `incidents published import|check`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from incidents.cli.common import DbOption, JsonOption, app, console, fail, open_store, print_json


@app.command()
def bulletin(
    month: Annotated[str, typer.Option("--month", help="Reporting month, YYYY-MM.")],
    lang: Annotated[str, typer.Option("--lang", help="Language: vi (Vietnamese) or en (English).")] = "vi",
    fmt: Annotated[
        str,
        typer.Option("--format", help="md (charts beside it), html (one file), json, or eml (an e-mail)."),
    ] = "md",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write the bulletin and its charts into this folder (default: print to stdout)."
        ),
    ] = None,
    templates: Annotated[
        Path | None,
        typer.Option("--templates", help="Folder of Jinja2 templates that override the packaged ones."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the monthly bulletin: lead paragraph, table by category, spikes, top sectors and targets, charts.

    Example: incidents bulletin --month 2020-10 --lang en --format html --out bulletins/

    Without --out the document goes to stdout (Markdown then leaves the charts out).

    Exit code 1 when the store has no data for the month or a template does not render.
    """
    from incidents import bulletin as bulletin_lib
    from incidents.stats import StatsError

    if lang not in bulletin_lib.LANGS:
        raise typer.BadParameter(f"must be one of {', '.join(bulletin_lib.LANGS)}", param_hint="--lang")
    if fmt not in bulletin_lib.FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(bulletin_lib.FORMATS)}", param_hint="--format")
    database = open_store(db, read_only=True)
    try:
        if out is None:
            sys.stdout.write(
                bulletin_lib.bulletin_text(database, month, lang=lang, fmt=fmt, templates_dir=templates)
            )
            return
        for path in bulletin_lib.write_bulletin(
            database, month, out, lang=lang, fmt=fmt, templates_dir=templates
        ):
            print(path)
    except (bulletin_lib.BulletinError, StatsError) as e:
        raise fail(str(e)) from None


published_app = typer.Typer(
    help="Figures as they were published (press releases, ministry reports), beside what the store computes.",
    no_args_is_help=True,
)
app.add_typer(published_app, name="published")


@published_app.command("import")
def published_import(
    file: Annotated[Path, typer.Argument(help="CSV: period,scope,total,phishing,deface,malware,status,...")],
    db: DbOption = None,
) -> None:
    """Store published figures from a CSV; a figure for the same period and source is replaced.

    Example: incidents published import ../shared/data/published-vn-2019-2020.csv

    Unusable rows are listed on stderr and the rest is stored (exit 0).

    Exit code 1 when the file cannot be read or has no usable row.
    """
    from incidents import published as published_lib
    from incidents.bulletin.views import import_summary

    database = open_store(db)
    try:
        result = published_lib.import_file(database, file)
    except published_lib.PublishedError as e:
        raise fail(str(e)) from None
    for line, reason in result.rejects:
        print(f"Rejected: {file}: line {line}: {reason}", file=sys.stderr)
    print(import_summary(result))


@published_app.command("check")
def published_check(
    db: DbOption = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the figures that match or cannot be checked.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List every difference between stored published figures and what the store computes for the same period.

    Example: incidents published check --all

    Exit code 0 whether or not figures differ: the differences are the output.
    """
    from incidents import published as published_lib
    from incidents.bulletin.views import comparison_table, summary

    comparisons = published_lib.check(open_store(db, read_only=True))
    if as_json:
        print_json([c.as_dict() for c in comparisons])
        return
    shown = comparisons if show_all else [c for c in comparisons if c.verdict == "differs"]
    if shown:
        out = console()
        out.print(comparison_table(shown, "Published vs computed" if show_all else "Differences", out.width))
    print(summary(comparisons))
