"""The `incidents` command line: each command opens the store, calls one library function, prints.

Heavy libraries (pandas, scikit-learn, matplotlib, pySigma) are imported inside the commands that use
them, so `incidents --help` stays instant.
"""

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
    typer.Option("--db", help="SQLite file of the store (default: $INCIDENTS_DB or ./incidents.db)", show_default=False),
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


def open_store(db: Path | None, *, create: bool = True, zone: str | None = None):
    from incidents import store

    try:
        return store.open_db(db, create=create, zone=zone)
    except store.StoreError as e:
        raise fail(str(e)) from None


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


# --- store: ingest and statistics -------------------------------------------------------------------


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Feed exports: CSV, JSON, JSON Lines, IntelMQ-style.")],
    db: DbOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Force the format: csv, json or jsonl (default: detected).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse a whole file if any row is bad.")] = False,
    zone: Annotated[
        str | None, typer.Option("--zone", help="Zone of timestamps without an offset (default: Asia/Ho_Chi_Minh).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Read a file again even if its content was ingested.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Load incident records into the store; bad rows are quarantined in `rejects`.

    Example: incidents ingest sample_logs/ncsc-2020.csv sample_logs/intelmq-2020-h2.jsonl

    Exit code 0 when every file was read (rejected rows are reported, not fatal), 1 when a file was
    unreadable, in an unknown format, had no usable row, or was refused by --strict.
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
                    database, file, fmt=fmt, strict=strict, input_zone=zone, force=force, on_progress=tick
                )
        except KeyboardInterrupt:
            # Each file is one transaction: the one being read was rolled back, earlier files stand.
            raise fail(f"interrupted while reading {file}; it was rolled back, earlier files are stored", 130) from None
        results.append(result)
        if not result.ok:
            print(f"Error: {file}: {result.message}", file=sys.stderr)
        elif result.message:
            print(f"Note: {file}: {result.message}", file=sys.stderr)
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        console().print(ingest_table(results))
    if not all(r.ok for r in results):
        raise typer.Exit(code=EXIT_FAILED)


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
            stats_lib.parse_month(month)
        except stats_lib.StatsError as e:
            raise fail(str(e)) from None
        since, until = f"{month}-01", f"{month}-31"
    rows = store.find_incidents(open_store(db, create=False), since=since, until=until, category=category,
                                sector=sector, target=target, limit=limit)
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


# --- spike detection ----------------------------------------------------------------------------------


@app.command()
def spikes(
    freq: Annotated[str, typer.Option("--freq", help="Periods to judge: day, week or month.")] = "day",
    category: Annotated[str | None, typer.Option("--category", help="Only this category (default: total and each category).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Show alarms from this day, YYYY-MM-DD (default: a year before the last day).", show_default=False)] = None,
    until: Annotated[str | None, typer.Option("--until", help="Judge up to this day, YYYY-MM-DD (default: the last day with data).", show_default=False)] = None,
    counts: Annotated[Path | None, typer.Option("--counts", help="Judge count series from a CSV (series,date,count) instead of the store.")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="With --counts: write series,date,count,expected,upper,score,alarm here.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Find days (weeks, months) with more incidents than the baseline allows.

    Baseline: trend, weekday, annual season, holidays (Tết too) and level shifts, fitted on past data only.

    Alarm: above the 99.9% negative-binomial upper bound. Daily runs also flag days with an unusual mix.

    Example: incidents spikes --category phishing --since 2020-10-01
    Example: incidents spikes --counts counts.csv --output flags.csv
    """
    from incidents.spikes.detector import SETTINGS

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
        raise typer.BadParameter(f"{category!r} is not one of {', '.join(CATEGORIES)}", param_hint="--category")
    database = open_store(db, create=False)
    last = until or store.data_span(database)[1]
    if since is None and last is not None:
        from datetime import date, timedelta

        since = str(date.fromisoformat(last) - timedelta(days=365))
    alarms, notes = store_spikes(database, freq=freq, category=category, since=since, until=until)
    mix = store_mix(database, since=since, until=until) if freq == "day" and category is None else []
    if json_out:
        print_json({"since": since, "until": last, "freq": freq, "alarms": [a.as_dict() for a in alarms],
                    "unusual_days": [m.as_dict() for m in mix], "notes": [n.text for n in notes]})
        return
    _print_spikes(alarms, mix, notes, since, last, SETTINGS[freq].confidence)


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


def _print_spikes(alarms, mix, notes, since, last, confidence) -> None:
    from rich.table import Table

    out = console()
    if last is None:
        out.print("No incidents stored yet.")
        return
    table = Table(title=f"Spikes from {since} to {last} (upper bound {confidence})", title_justify="left")
    for col in ("date", "series", "count", "expected", "upper", "score"):
        table.add_column(col, justify="right" if col in ("count", "expected", "upper", "score") else "left")
    table.add_column("why", overflow="fold")
    for a in alarms:
        table.add_row(a.date, a.series, str(a.count), f"{a.expected:.1f}", f"{a.upper:.0f}", f"{a.score:.2f}",
                      a.explanation)
    out.print(table if alarms else f"No alarms from {since} to {last}.")
    if mix:
        unusual = Table(title="Days with an unusual mix (IsolationForest)", title_justify="left")
        unusual.add_column("date")
        unusual.add_column("why", overflow="fold")
        for m in mix:
            unusual.add_row(m.date, m.explanation)
        out.print(unusual)
    for note in notes:
        out.print(f"[dim]Note: {note.text}[/dim]")


# --- detection rules ----------------------------------------------------------------------------------

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Folder of Sigma rules (default: the shipped rules/).", show_default=False),
]
rules_app = typer.Typer(help="List, test and export the Sigma detection rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Log files, or folders of them.")],
    rules: RulesOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Force the format: auth, web, suricata or dns (default: detected).")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Year of the first syslog line (default: from the file's mtime).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the Sigma rules over raw logs and store the incidents they find (scanning twice adds nothing).

    Example: incidents scan /var/log/auth.log access.log eve.json

    Exit code 0 when every file was read completely and every rule loaded; 1 when something was not
    (a binary or unreadable file, lines that fit no format, a rule with an error): the messages say what,
    and the incidents from everything that was read are stored all the same.
    """
    from incidents.scan import ScanError, scan_paths
    from incidents.scan.tables import files_table, scan_table

    database = open_store(db)
    try:
        report = scan_paths(database, paths, rules, fmt, year=year)
    except ScanError as e:
        raise fail(str(e)) from None
    for problem in report.rule_problems:
        print(f"Error: rule {problem}", file=sys.stderr)
    for f in report.files:
        for message in [f.error] if f.error else f.notes:
            print(f"Error: {f.file}: {message}", file=sys.stderr)
    if as_json:
        print_json(report.as_dict())
    else:
        out = console()
        out.print(scan_table(report))
        out.print(files_table(report))
    if not report.complete:
        raise typer.Exit(code=EXIT_FAILED)


def _load_rules(rules: Path | None):
    from incidents.scan import ScanError, load_ruleset

    try:
        _, ruleset = load_ruleset(rules)
    except ScanError as e:
        raise fail(str(e)) from None
    for problem in ruleset.problems:
        print(f"Error: rule {problem}", file=sys.stderr)
    return ruleset


@rules_app.command("list")
def rules_list(rules: RulesOption = None, as_json: JsonOption = False) -> None:
    """Show the rules with their level, classification, log sources and thresholds.

    Example: incidents rules list
    """
    from incidents.scan.tables import rules_table

    ruleset = _load_rules(rules)
    if as_json:
        print_json([{k: v for k, v in r.__dict__.items() if k not in ("predicate", "fixtures")} for r in ruleset.rules])
    else:
        console().print(rules_table(ruleset.rules))
    if ruleset.problems:
        raise typer.Exit(code=EXIT_FAILED)


@rules_app.command("test")
def rules_test(rules: RulesOption = None, as_json: JsonOption = False) -> None:
    """Run every rule against its own fixtures: a log that must match (with the expected count), one that must not.

    Example: incidents rules test

    Exit code 0 when every fixture gives the expected count, 1 otherwise.
    """
    from incidents.scan.fixtures import test_rules
    from incidents.scan.tables import fixtures_table

    ruleset = _load_rules(rules)
    results = test_rules(ruleset)
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        console().print(fixtures_table(results))
    failed = [r for r in results if not r.passed]
    for r in failed:
        print(f"Error: rule {r.rule.title!r}: {r.message}", file=sys.stderr)
    if failed or ruleset.problems:
        raise typer.Exit(code=EXIT_FAILED)


@rules_app.command("export")
def rules_export(
    target: Annotated[str, typer.Option("--target", help="opensearch, elasticsearch or splunk.")],
    rules: RulesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Convert the rules into queries for a SIEM cluster, with the matching pySigma backend.

    Example: incidents rules export --target splunk > incidents.spl
    """
    from incidents.scan import resolve_rules_dir
    from incidents.scan.export import TARGETS, export_rules

    if target not in TARGETS:
        raise typer.BadParameter(f"must be one of {', '.join(TARGETS)}", param_hint="--target")
    exported, problems = export_rules(resolve_rules_dir(rules), target)
    if as_json:
        print_json([e.__dict__ for e in exported])
    else:
        for e in exported:
            print(f"# {e.title} ({e.file})")
            if e.note:
                print(f"# {e.note}")
            print("\n".join(e.queries) + "\n")
    for problem in problems:
        print(f"Error: rule {problem}", file=sys.stderr)
    if problems:
        raise typer.Exit(code=EXIT_FAILED)


# --- bulletin and published figures -------------------------------------------------------------------


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
    database = open_store(db, create=False)
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

    comparisons = published_lib.check(open_store(db, create=False))
    if as_json:
        print_json([c.as_dict() for c in comparisons])
        return
    shown = comparisons if show_all else [c for c in comparisons if c.verdict == "differs"]
    if shown:
        out = console()
        out.print(comparison_table(shown, "Published vs computed" if show_all else "Differences", out.width))
    print(summary(comparisons))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
