"""Rich tables for the scan and rules commands (kept out of cli.py so that it reads like a table of contents)."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from incidents.scan import ScanReport
from incidents.scan.fixtures import FixtureResult
from incidents.scan.rules import Rule


def scan_table(report: ScanReport) -> Table:
    table = Table(title="Incidents per rule")
    for name, justify in (("rule", "left"), ("category", "left"), ("level", "left"), ("incidents", "right"),
                          ("new", "right")):  # fmt: skip
        table.add_column(name, justify=justify)
    for row in report.per_rule():
        table.add_row(row["rule"], row["category"], row["level"], f"{row['incidents']:,}", f"{row['new']:,}")
    return table


def files_table(report: ScanReport) -> Table:
    """One row per file (with its format): lines read, events recognised, lines skipped (read, no event)
    and rejected, incidents found and new. Fits an 80-column terminal: the file name folds, numbers never do.
    """
    table = Table(title="Files", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    table.add_column("file (format)", overflow="fold", ratio=1)
    for name in ("lines", "events", "skipped", "rejected", "found", "new", "read"):
        table.add_column(name, justify="left" if name == "read" else "right", no_wrap=True)
    for f in report.files:
        table.add_row(
            Text(f"{f.file} ({f.fmt or '-'})"), f"{f.lines:,}", f"{f.recognised:,}", f"{sum(f.skipped.values()):,}",
            f"{f.unparsed:,}", f"{f.found:,}", f"{f.new:,}",
            "completely" if f.complete else ("no" if f.error else "partly"),
        )  # fmt: skip
    return table


def rules_table(rules: list[Rule]) -> Table:
    table = Table(title="Rules")
    for name in ("rule", "level", "category", "RSIT taxonomy/type", "logs", "threshold", "file"):
        table.add_column(name)
    for r in rules:
        table.add_row(
            r.title, r.level, r.category, f"{r.taxonomy}/{r.type}", ", ".join(r.readers), r.threshold or "-",
            r.file.name,
        )  # fmt: skip
    return table


def fixtures_table(results: list[FixtureResult]) -> Table:
    table = Table(title="Rule fixtures")
    for name in ("rule", "fixture", "expected", "found", "result"):
        table.add_column(name)
    for r in results:
        table.add_row(
            r.rule.title, r.fixture.file.name if r.fixture else "-",
            "-" if r.expected is None else str(r.expected), "-" if r.found is None else str(r.found), r.message,
        )  # fmt: skip
    return table
