"""Rich tables for the terminal: what ingest did, quarantined rows, a month's figures."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from incidents.stats import Figures, MonthReport
from incidents.taxonomy import CATEGORIES


def pct(value: float | None) -> str:
    """+11.07%, -7.82%, or n/a where the baseline was missing or zero."""
    return "n/a" if value is None else f"{value:+.2f}%"


def num(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def ingest_table(results) -> Table:
    table = Table(title="Ingest", title_justify="left")
    for name in ("file", "format", "status", "read", "accepted", "duplicate", "rejected"):
        table.add_column(
            name, justify="right" if name in ("read", "accepted", "duplicate", "rejected") else "left"
        )
    totals = [0, 0, 0, 0]
    for r in results:
        style = {"ok": "", "skipped": "dim", "refused": "red", "failed": "red", "busy": "yellow"}.get(
            r.status, ""
        )
        table.add_row(
            r.file,
            r.format or "?",
            Text(r.status, style=style),
            *(f"{n:,}" for n in (r.read, r.accepted, r.duplicate, r.rejected)),
        )
        for i, n in enumerate((r.read, r.accepted, r.duplicate, r.rejected)):
            totals[i] += n
    if len(results) > 1:
        table.add_section()
        table.add_row("total", "", "", *(f"{n:,}" for n in totals), style="bold")
    reasons = {}
    for r in results:
        for reason, n in r.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + n
    if reasons:
        table.caption = "rejected: " + "; ".join(
            f"{n} {reason}" for reason, n in sorted(reasons.items(), key=lambda x: -x[1])
        )
        table.caption += " (see `incidents rejects`)"
        table.caption_justify = "left"
    return table


def rejects_table(rows: list[dict]) -> Table:
    table = Table(title="Quarantined rows", title_justify="left")
    for name in ("run", "file", "line", "reason", "raw"):
        table.add_column(name, overflow="fold")
    for r in rows:
        raw = r["raw"] or ""
        table.add_row(
            str(r["run_id"]),
            r["file"],
            str(r["line"]),
            r["reason"],
            raw[:120] + ("…" if len(raw) > 120 else ""),
        )
    if not rows:
        table.caption = "no quarantined rows"
    return table


def month_table(report: MonthReport) -> Table:
    p = report.periods
    table = Table(
        title=f"Incidents in {report.month} (months in {report.zone})",
        title_justify="left",
        caption=f"vs {p['previous_month']}, vs {p['same_month_last_year']}; year to date {p['year_to_date']} "
        f"vs {p['year_to_date_last_year']}",
        caption_justify="left",
    )
    for name, justify in (
        ("category", "left"),
        ("count", "right"),
        ("share", "right"),
        ("vs last month", "right"),
        ("vs last year", "right"),
        ("year to date", "right"),
        ("YTD vs last year", "right"),
    ):
        table.add_column(name, justify=justify)

    def row(label: str, f: Figures, style: str = "") -> None:
        share = "" if f.share is None else f"{f.share:.2f}%"
        table.add_row(
            label,
            f"{f.count:,}",
            share,
            pct(f.month_over_month),
            pct(f.year_over_year),
            f"{f.year_to_date:,}",
            pct(f.year_to_date_change),
            style=style,
        )

    for name, f in report.categories.items():
        row(CATEGORIES[name].label_en, f)
    table.add_section()
    row("Total", report.total, "bold")
    return table


def incidents_table(rows: list[dict]) -> Table:
    table = Table(title="Incidents", title_justify="left")
    for name in ("day", "category", "sector", "severity"):
        table.add_column(name, no_wrap=True)
    table.add_column("target", overflow="fold", ratio=2)
    table.add_column("description", overflow="fold", ratio=3)
    for r in rows:
        table.add_row(
            r["day"],
            r["category"],
            r["sector"] or "-",
            r["severity"] or "-",
            r["target"] or "-",
            (r["description"] or "")[:80],
        )
    if not rows:
        table.caption = "no incidents match"
    return table
