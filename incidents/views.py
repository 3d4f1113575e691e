"""Rich tables for the terminal: what ingest did, quarantined rows, a month's figures, incidents.

Terminal output is data, not markup (issue 15, point 5): every value that comes from a record goes
into a table as `literal(value)`, a rich Text (never parsed for `[red]` or `[link=...]`) whose control
characters, bidirectional overrides and unpaired surrogates are shown escaped (`\x1b`, `\n`, `\u202e`),
so a field can neither style nor move the cursor, open a hyperlink, or crash the encoder.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from incidents.controls import clipped, printable
from incidents.stats import Figures, MonthReport
from incidents.taxonomy import CATEGORIES


def literal(value: object, style: str = "") -> Text:
    """A rich Text of `printable(value)`: printed as it is, never read as markup, cut after DISPLAY_CHARS."""
    return Text(printable(None if value is None else clipped(str(value))), style=style)


def plain(table: Table) -> Table:
    """The same table without box drawing or styles (`--plain`): columns separated by spaces only."""
    table.box = None
    table.show_edge = False
    table.header_style = ""
    table.title_style = ""
    return table


def finish(table: Table, plain_output: bool) -> Table:
    """`table` as it is, or without box drawing and styles (see plain) when `plain_output` (`--plain`)."""
    return plain(table) if plain_output else table


def pct(value: float | None) -> str:
    """+11.07%, -7.82%, or n/a where the baseline was missing or zero."""
    return "n/a" if value is None else f"{value:+.2f}%"


def num(value: int | None) -> str:
    """A count with thousands separators ('1,234'), 'n/a' for None."""
    return "n/a" if value is None else f"{value:,}"


def ingest_table(results) -> Table:
    """One row per ingested file (ingest.FileResult): format, status, rows read, accepted, duplicate,
    rejected, and a total row."""
    table = Table(title="Ingest", title_justify="left")
    for name in ("file", "format", "status", "read", "accepted", "duplicate", "rejected"):
        table.add_column(
            name,
            justify="right" if name in ("read", "accepted", "duplicate", "rejected") else "left",
            # The file is the key column: folded onto more lines, never cut, at 80 columns or in a pipe.
            overflow="fold" if name == "file" else "ellipsis",
            min_width=12 if name == "file" else None,
            no_wrap=name != "file",
        )
    totals = [0, 0, 0, 0]
    for r in results:
        style = {"ok": "", "skipped": "dim", "refused": "red", "failed": "red", "busy": "yellow"}.get(
            r.status, ""
        )
        table.add_row(
            literal(r.file),
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
    """Quarantined rows (dicts from the rejects query: run_id, file, line, reason, raw), the raw text cut
    to 120 characters; captioned 'no quarantined rows' when there are none."""
    table = Table(title="Quarantined rows", title_justify="left")
    for name in ("run", "file", "line", "reason", "raw"):
        table.add_column(name, overflow="fold", justify="right" if name in ("run", "line") else "left")
    for r in rows:
        raw = printable(r["raw"])
        table.add_row(
            str(r["run_id"]),
            literal(r["file"]),
            str(r["line"]),
            literal(r["reason"]),
            Text(raw[:120] + ("…" if len(raw) > 120 else "")),
        )
    if not rows:
        table.caption = "no quarantined rows"
    return table


def month_table(report: MonthReport) -> Table:
    """stats.MonthReport: each category's count, share, vs last month, vs the same month a year earlier,
    year to date and its change, then the total."""
    p = report.periods

    def cells(f: Figures) -> tuple[str, ...]:
        return (
            f"{f.count:,}",
            _share(f),
            pct(f.month_over_month),
            pct(f.year_over_year),
            f"{f.year_to_date:,}",
            pct(f.year_to_date_change),
        )

    return _category_table(
        report,
        f"Incidents in {report.month} (months in {report.zone})",
        f"vs {p['previous_month']}, vs {p['same_month_last_year']}; year to date {p['year_to_date']} "
        f"vs {p['year_to_date_last_year']}",
        ("count", "share", "vs last month", "vs last year", "year to date", "YTD vs last year"),
        cells,
        # a category with nothing in any compared period would be a row of zeros and n/a
        lambda f: f.seen,
    )


def _share(f) -> str:
    return "" if f.share is None else f"{f.share:.2f}%"


def _category_table(report, title: str, caption: str, numbers: tuple[str, ...], cells, shown) -> Table:
    """A row per category `shown(figures)` keeps, labelled in English, then the total in bold.

    `cells(figures)` gives the row's cells under `numbers` (right-aligned, after the category column).
    """
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for name in ("category", *numbers):
        table.add_column(name, justify="left" if name == "category" else "right")
    for name, f in report.categories.items():
        if shown(f):
            table.add_row(CATEGORIES[name].label_en, *cells(f), style="")
    table.add_section()
    table.add_row("Total", *cells(report.total), style="bold")
    return table


def incidents_table(
    rows,
    *,
    total: int | None = None,
    offset: int = 0,
    width: int = 80,
    short_ids: dict[str, str] | None = None,
    plain_output: bool = False,
) -> Table:
    """Incidents (search.IncidentRow) as a table; the caption says which of how many it shows.

    The id is printed whole, never cut: the full id, or `short_ids[id]` (search.unique_prefixes: what
    `incidents show` resolves to that incident alone) in a table for people. The target is the key
    column after it: it folds onto more lines, never cut. Which other columns fit depends on `width` (the
    terminal's, or 80 in a pipe): sector and feed from 140 columns, severity from 100; the description
    takes what is left, at least 10 characters.
    `plain_output`: the table is printed without borders (see plain), which leaves more room.
    """
    wide, medium = width >= 140, width >= 100
    ids = [printable(short_ids.get(r.id, r.id) if short_ids else r.id) for r in rows]
    id_width = max((len(i) for i in ids), default=2)
    table = Table(title="Incidents", title_justify="left", caption_justify="left")
    table.add_column("id", no_wrap=True, min_width=id_width)
    table.add_column("day", no_wrap=True, min_width=10)
    table.add_column("category", no_wrap=True, min_width=8)
    if medium:
        table.add_column("severity", no_wrap=True)
    # rich shrinks wrappable columns first when a table is too wide, then every column alike (the id
    # too): so the widths are set here to fit. The target gets up to its longest value (folded beyond
    # that), the description what is left (cut with "…": --csv or `show` has it whole).
    fixed = id_width + 10 + 9 + (8 if medium else 0)
    side = 0
    if wide:
        side = sum(
            min(14, max((len(printable(getattr(r, c) or "-")) for r in rows), default=4))
            for c in ("sector", "feed")
        )
    ncols = 5 + (1 if medium else 0) + (2 if wide else 0)
    # Between columns: a border and a space each side, or with --plain only the spaces.
    gap = 2 if plain_output else 3
    room = width - fixed - side - (gap * ncols + (0 if plain_output else 1))
    longest = max((len(printable(r.target or "-")) for r in rows), default=6)
    target_width = max(6, min(longest, max(16, room * 11 // 20)))
    if room - target_width < 10:  # the full ids of --plain at 80 columns: the description keeps 10
        target_width = max(6, min(longest, room - 10))
    table.add_column("target", overflow="fold", width=target_width)
    if wide:
        table.add_column("sector", overflow="fold", max_width=14)
        table.add_column("feed", overflow="fold", max_width=14)
    table.add_column("description", overflow="ellipsis", no_wrap=True, max_width=max(10, room - target_width))
    for shown_id, r in zip(ids, rows, strict=True):
        cells = [Text(shown_id), literal(r.day), literal(r.category)]
        if medium:
            cells.append(literal(r.severity or "-"))
        cells.append(literal(r.target or "-"))
        if wide:
            cells += [literal(r.sector or "-"), literal(r.feed or "-")]
        cells.append(literal(r.description or ""))
        table.add_row(*cells)
    table.caption = shown_of(len(rows), total, offset)
    return table


def shown_of(shown: int, total: int | None, offset: int = 0) -> str:
    """'50 of 582 (rows 1-50; --offset 50 for the next page, --all for every row)', 'no incidents match'."""
    if total is None:
        return f"{shown:,} incidents"
    if total == 0:
        return "no incidents match"
    if shown == 0:
        return f"0 of {total:,}: --offset {offset:,} is past the last row"
    if shown == total:
        return f"{total:,} of {total:,}"
    text = f"{shown:,} of {total:,} (rows {offset + 1:,}-{offset + shown:,}"
    if offset + shown < total:
        text += f"; --offset {offset + shown:,} for the next page, --all for every row"
    return text + ")"


def incident_table(row) -> Table:
    """One incident, field by field (search.IncidentRow from get_incident)."""
    table = Table(title=Text(f"Incident {printable(row.id)}"), title_justify="left", show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name in (
        "occurred_at", "day", "category", "taxonomy", "type", "target", "target_kind", "source_ip",
        "sector", "feed", "severity", "status", "description", "run_id",
    ):  # fmt: skip
        table.add_row(name, literal(getattr(row, name) if getattr(row, name) is not None else "-"))
    return table


def period_table(report) -> Table:
    """stats.PeriodReport: each category's count, share, vs the previous period and the same one a year earlier."""
    p = report.periods
    return _category_table(
        report,
        f"Incidents in {report.period} ({report.first_month}..{report.last_month}, months in {report.zone})",
        f"vs the previous period {p['previous_period']}, vs the same period a year earlier "
        f"{p['same_period_last_year']}",
        ("count", "share", "vs previous period", "vs a year earlier"),
        lambda f: (f"{f.count:,}", _share(f), pct(f.change_vs_previous), pct(f.change_vs_last_year)),
        lambda f: f.count or f.previous_period or f.same_period_last_year,
    )
