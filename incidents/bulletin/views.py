"""Rich tables for the `published` commands (the library modules stay free of any UI import)."""

from __future__ import annotations

from incidents.published import Comparison, ImportResult

WIDE = 130  # columns from which the status and source columns fit beside the figures


def _value(c: Comparison, value) -> str:
    if value is None:
        return "n/a"
    if c.figure.startswith("change"):
        return f"{value:+.2f}%"
    return f"{value:,}"


def comparison_table(comparisons: list[Comparison], title: str, width: int = 160):
    """A rich table; on a terminal narrower than WIDE the source column goes (--json has everything)."""
    from rich.table import Table
    from rich.text import Text

    from incidents.views import literal

    table = Table(title=title, title_justify="left")
    for name in ("period", "figure", "published", "computed", "verdict"):
        table.add_column(name, justify="right" if name in ("published", "computed") else "left")
    wide = width >= WIDE
    if wide:
        table.add_column("status")
        # The source is often a long URL: cut it with "…" rather than squeeze the figures.
        table.add_column("source / detail", no_wrap=True, overflow="ellipsis", max_width=width - 100)
    styles = {"differs": "bold red", "same": "green", "no data": "dim", "not checked": "yellow"}
    for c in comparisons:
        cells = [literal(c.period), literal(c.figure), _value(c, c.published), _value(c, c.computed),
                 Text(c.verdict, style=styles.get(c.verdict, ""))]  # fmt: skip
        if wide:
            cells += [literal(c.status), literal("; ".join(filter(None, (c.source, c.detail))))]
        table.add_row(*cells)
    return table


def summary(comparisons: list[Comparison]) -> str:
    """'12 published figures compared: 1 differs, 11 same': the verdicts of the comparisons, counted."""
    counts: dict[str, int] = {}
    for c in comparisons:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    parts = ", ".join(
        f"{counts[v]} {v}" for v in ("differs", "same", "no data", "not checked") if v in counts
    )
    return f"{len(comparisons)} published figures compared: {parts or 'none stored'}"


def import_summary(result: ImportResult) -> str:
    """One line on a published-figures import: file, rows read, stored and rejected."""
    return f"{result.file}: read {result.read}, stored {result.stored}, rejected {result.rejected}"
