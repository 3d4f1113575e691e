"""`incidents scan` and `incidents rules list|test|export`: Sigma rules over raw logs."""

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
)

RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        readable=False,
        help="Folder of Sigma rules (default: the shipped rules/).",
        show_default=False,
    ),
]
rules_app = typer.Typer(help="List, test and export the Sigma detection rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(readable=False, help="Log files, or folders of them.")],
    rules: RulesOption = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="Force the format: auth, web, suricata or dns (default: detected)."),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            min=1970,
            max=2099,
            help="Year of the first syslog line (default: from the file's mtime).",
        ),
    ] = None,
    zone: Annotated[
        str | None,
        typer.Option(
            "--zone",
            help="Zone of the logs' clock for times written without an offset (syslog, BIND, dnsmasq), "
            "e.g. UTC (default: the store's reporting zone; eve.json: UTC). Times with an offset keep theirs.",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the Sigma rules over raw logs and store the incidents they find (scanning twice adds nothing).

    Example: incidents scan /var/log/auth.log access.log eve.json

    Exit code 0 when every file was read completely and every rule loaded; 1 when something was not
    (a binary or unreadable file, lines that fit no format, a rule with an error): the messages say what,
    and the incidents from everything that was read are stored all the same; 75 when the only trouble
    was a store kept busy by another writer past $INCIDENTS_BUSY_TIMEOUT (each such file is reported,
    the others are scanned; try again later).
    """
    from incidents.scan import ScanError, scan_paths
    from incidents.scan.tables import files_table, scan_table

    database = open_store(db)
    try:
        report = scan_paths(database, paths, rules, fmt, year=year, log_zone=zone)
    except ScanError as e:
        raise fail(str(e)) from None
    for problem in report.rule_problems:
        print(f"Error: rule {problem}", file=sys.stderr)
    for problem in report.path_problems:
        print(f"Error: {problem}", file=sys.stderr)
    if not report.files and not report.path_problems:
        print("Error: no file to scan", file=sys.stderr)
    for f in report.files:
        for message in [f.error] if f.error else f.notes:
            print(f"Error: {f.file}: {message}", file=sys.stderr)
    if as_json:
        print_json(report.as_dict())
    else:
        out = console()
        out.print(scan_table(report))
        out.print(files_table(report))
        for f in report.files:
            if f.skipped:
                reasons = "; ".join(f"{n:,} {reason}" for reason, n in f.skipped.items())
                out.print(
                    f"{f.file}: lines read and skipped (no event): {reasons}", markup=False, highlight=False
                )
    if not report.complete:
        only_busy = (
            not report.rule_problems
            and not report.path_problems
            and any(f.busy for f in report.files)
            and all(f.complete or f.busy for f in report.files)
        )
        raise typer.Exit(code=EXIT_TEMPFAIL if only_busy else EXIT_FAILED)


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
        print_json(
            [
                {k: v for k, v in r.__dict__.items() if k not in ("predicate", "fixtures")}
                for r in ruleset.rules
            ]
        )
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
    from incidents.files import NotRegularFile
    from incidents.scan.rules import RuleError

    try:
        exported, problems = export_rules(resolve_rules_dir(rules), target)
    except RuleError as e:
        raise fail(str(e)) from None
    except OSError as e:  # the pipeline cannot be read (permission denied, a FIFO)
        reason = str(e) if isinstance(e, NotRegularFile) else f"{e.filename}: cannot read: {e.strerror or e}"
        raise fail(reason) from None
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


@rules_app.command("import")
def rules_import(
    folder: Annotated[
        Path,
        typer.Argument(readable=False, help="A folder of Sigma rules, e.g. a SigmaHQ checkout's rules/."),
    ],
    into: Annotated[
        Path | None,
        typer.Option(
            "--into",
            readable=False,
            help="Copy the rules that run here into this folder (same relative paths).",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every rule, not only those that run.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check which rules of a Sigma collection run here: per rule, the reader it reads or why it cannot.

    Example: incidents rules import sigma/rules --into my-rules/
    """
    from incidents.scan.importer import check_collection, summary
    from incidents.scan.rules import RuleError

    if not folder.is_dir():
        raise fail(f"{folder}: not a folder")
    try:
        results = check_collection(folder, into=into)
    except RuleError as e:
        raise fail(str(e)) from None
    counts = summary(results)
    if as_json:
        print_json({"summary": counts, "rules": [r.as_dict() for r in results]})
        return
    for r in results:
        if r.runs:
            print(f"runs\t{r.file}\t{','.join(r.readers)}\t{r.category}")
        elif show_all:
            print(f"no\t{r.file}\t{r.reason}\t{r.message}")
    print(
        f"{counts['rules']:,} rules: {counts['runs']:,} run here, {counts['does_not_run']:,} do not",
        file=sys.stderr,
    )
    for key in ("per_reader", "per_category", "per_reason"):
        text = ", ".join(f"{k}: {v:,}" for k, v in counts[key].items())
        print(f"  {key.replace('_', ' ')}: {text}", file=sys.stderr)
