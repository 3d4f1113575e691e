"""`incidents bulletin` and `incidents published import|check`."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from incidents.cli.common import (
    DAY_METAVAR,
    EXIT_FOUND,
    EXIT_TEMPFAIL,
    DbOption,
    JsonOption,
    LangOption,
    MonthOption,
    PlainOption,
    app,
    console,
    emit,
    fail,
    open_store,
    parse_day,
    print_json,
    steps,
)


def parse_address(value: str) -> str:
    """One e-mail address (`name@example.vn` or `Name <name@example.vn>`): no line break, no list."""
    from email.utils import getaddresses

    found = getaddresses([value])
    if "\r" in value or "\n" in value or len(found) != 1 or "@" not in found[0][1] or " " in found[0][1]:
        raise typer.BadParameter(f"{value!r} is not one e-mail address")
    return value.strip()


@app.command()
def bulletin(
    month: MonthOption,
    lang: LangOption = "vi",
    fmt: Annotated[
        Literal["md", "html", "json", "eml"],
        typer.Option("--format", help="md (charts beside it), html (one file), json, or eml (an e-mail)."),
    ] = "md",
    edition: Annotated[
        Literal["public", "internal"],
        typer.Option(
            "--edition",
            help="public: to publish as it is (no victim names, no internal checks); internal: with the "
            "checks, notes and provenance.",
        ),
    ] = "public",
    tlp: Annotated[
        Literal["clear", "green", "amber", "amber+strict", "red"] | None,
        typer.Option(
            "--tlp",
            help="TLP 2.0 marking (default: clear for public, amber for internal).",
            show_default=False,
        ),
    ] = None,
    name_targets: Annotated[
        bool, typer.Option("--name-targets", help="Name the most attacked targets in the public edition too.")
    ] = False,
    issued: Annotated[
        str | None,
        typer.Option(
            "--issued", parser=parse_day, metavar=DAY_METAVAR, help="Date of issue (default: today, UTC)."
        ),
    ] = None,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            parser=parse_address,
            metavar="ADDRESS",
            help="With --format eml: a recipient (repeat for more).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            readable=False,
            help="Write the bulletin and its charts into this folder (default: print to stdout).",
        ),
    ] = None,
    templates: Annotated[
        Path | None,
        typer.Option(
            "--templates", readable=False, help="Folder of Jinja2 templates that override the packaged ones."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            readable=False,
            help="Configuration file whose [bulletin] table gives issuer, contact, url and the recommendations "
            "template (default: $INCIDENTS_CONFIG, else ./incidents.toml if present).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the monthly bulletin: lead paragraph, table by category, spikes, top sectors, recommendations.

    Example: incidents bulletin --month 2020-10 --lang en --format html --out bulletins/

    Example: incidents bulletin --month 2020-10 --edition internal --format eml --to soc@example.vn --out out/

    Without --out the document goes to stdout (Markdown then leaves the charts out).

    Exit code 1 when the store has no data for the month, the configuration cannot be read, or a template
    does not render (one Error: line naming the template and line).
    """
    from incidents import bulletin as bulletin_lib
    from incidents import store
    from incidents.stats import StatsError

    try:
        settings = bulletin_lib.load_settings(config)
        chosen = bulletin_lib.Edition(
            name=edition,
            tlp=tlp,
            issued=issued,
            issuer=settings.issuer,
            contact=settings.contact,
            url=settings.url,
            name_targets=True if name_targets else None,
            recommendations=settings.recommendations,
        )
    except bulletin_lib.EditionError as e:
        raise fail(str(e)) from None
    if to and fmt != "eml":
        raise typer.BadParameter("only with --format eml", param_hint="--to")
    mail = {"recipients": to} if fmt == "eml" else {}
    database = open_store(db, read_only=True)
    try:
        with steps("Writing the bulletin") as tick:
            mail["progress"] = lambda done, total: tick(done, total, "judging new days")
            if out is None:
                text = bulletin_lib.bulletin_text(
                    database, month, lang=lang, fmt=fmt, templates_dir=templates, edition=chosen, **mail
                )
            else:
                paths = bulletin_lib.write_bulletin(
                    database, month, out, lang=lang, fmt=fmt, templates_dir=templates, edition=chosen, **mail
                )
        if chosen.public:
            _note_incomplete(database, month)
    except (bulletin_lib.BulletinError, StatsError) as e:
        raise fail(str(e)) from None
    except store.StoreError as e:  # judging the spikes' new days met a busy or unusable store
        raise fail(str(e), EXIT_TEMPFAIL if isinstance(e, store.StoreBusy) else 1) from None
    finally:
        _close_read(database)
    if out is None:
        emit(text)
    else:
        for path in paths:
            print(path)


def _note_incomplete(database, month: str) -> None:
    """The public edition carries no data-freshness note (issue 13): the writer hears on stderr when the
    month's data stops before its end, so a partial month is not published as a fall in silence."""
    from incidents import stats
    from incidents.cli.common import note

    for n in stats.month_report(database, month).notes:
        if n.code == "incomplete":
            note(f"{n.text}; the public edition does not say so (the internal one does)")


def _close_read(database) -> None:
    """Close the bulletin's read and remove the empty -wal and the -shm that SQLite's `mode=ro` read of a
    WAL store left beside it, when this process created them and no other connection uses them: a read
    command leaves the store's folder as it found it."""
    from incidents.store_disk import remove_unused_sidecars

    file = getattr(database, "path", None)
    database.close()
    if file is not None:
        import gc

        gc.collect()  # connections dropped without close() are closed now, before looking at their files
        remove_unused_sidecars(file, after_read=True)


published_app = typer.Typer(
    help="Figures as they were published (press releases, ministry reports), beside what the store computes.",
    no_args_is_help=True,
)
app.add_typer(published_app, name="published")


@published_app.command("import")
def published_import(
    file: Annotated[
        Path,
        typer.Argument(readable=False, help="CSV: period,scope,total,phishing,deface,malware,status,..."),
    ],
    db: DbOption = None,
) -> None:
    """Store published figures from a CSV; a figure for the same period and source is replaced.

    Example: incidents published import ../shared/data/published-vn-2019-2020.csv

    Unusable rows are listed on stderr and the rest is stored (exit 0).

    Exit code 1 when the file cannot be read or has no usable row, or the store cannot be written; 75
    when the store stayed busy (another writer) past $INCIDENTS_BUSY_TIMEOUT.
    """
    from incidents import published as published_lib
    from incidents import store
    from incidents.bulletin.views import import_summary

    database = open_store(db)
    try:
        result = published_lib.import_file(database, file)
    except published_lib.PublishedError as e:
        raise fail(str(e)) from None
    except (store.StoreError, sqlite3.Error) as e:  # busy past $INCIDENTS_BUSY_TIMEOUT (75), full, read-only
        problem = store.explain(e, store.resolve_path(db))
        raise fail(str(problem), EXIT_TEMPFAIL if isinstance(problem, store.StoreBusy) else 1) from None
    for line, reason in result.rejects:
        print(f"Rejected: {file}: line {line}: {reason}", file=sys.stderr)
    print(import_summary(result))


@published_app.command("check")
def published_check(
    db: DbOption = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the figures that match or cannot be checked.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 3 when a published figure differs from the store's (for cron)."),
    ] = False,
    as_json: JsonOption = False,
    plain_output: PlainOption = False,
) -> None:
    """List every difference between stored published figures and what the store computes for the same period.

    Example: incidents published check --all

    Example: incidents published check --check || mail -s "published figures differ" soc@example.vn

    Exit code 0 whether or not figures differ (the differences are the output); with --check, 3 when
    one differs.
    """
    from incidents import published as published_lib
    from incidents.bulletin.views import comparison_table, summary
    from incidents.views import finish

    comparisons = published_lib.check(open_store(db, read_only=True))
    differs = any(c.verdict == "differs" for c in comparisons)
    if as_json:
        print_json([c.as_dict() for c in comparisons])
    else:
        shown = comparisons if show_all else [c for c in comparisons if c.verdict == "differs"]
        if shown:
            out = console(plain_output)
            table = comparison_table(shown, "Published vs computed" if show_all else "Differences", out.width)
            out.print(finish(table, plain_output))
        print(summary(comparisons))
    if check and differs:
        raise typer.Exit(code=EXIT_FOUND)
