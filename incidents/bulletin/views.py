"""Rich tables for the `published` commands (the library modules stay free of any UI import)."""

from __future__ import annotations

from incidents.published import Comparison, ImportResult


def _value(c: Comparison, value) -> str:
    if value is None:
        return "n/a"
    if c.figure.startswith("change"):
        return f"{value:+.2f}%"
    return f"{value:,}"


def comparison_table(comparisons: list[Comparison], title: str):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in ("period", "figure"):
        table.add_column(name, no_wrap=True)
    for name in ("published", "computed"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("status", no_wrap=True)
    # The source is a long URL: cut it rather than let it squeeze the figures (--json has it whole).
    table.add_column("source / detail", no_wrap=True, overflow="ellipsis", min_width=12)
    styles = {"differs": "bold red", "same": "green", "no data": "dim", "not checked": "yellow"}
    for c in comparisons:
        table.add_row(c.period, c.figure, _value(c, c.published), _value(c, c.computed),
                      f"[{styles.get(c.verdict, '')}]{c.verdict}[/]", c.status,
                      escape("; ".join(filter(None, (c.source, c.detail)))))  # fmt: skip
    return table


def summary(comparisons: list[Comparison]) -> str:
    counts: dict[str, int] = {}
    for c in comparisons:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    parts = ", ".join(f"{counts[v]} {v}" for v in ("differs", "same", "no data", "not checked") if v in counts)
    return f"{len(comparisons)} published figures compared: {parts or 'none stored'}"


def import_summary(result: ImportResult) -> str:
    return f"{result.file}: read {result.read}, stored {result.stored}, rejected {result.rejected}"
