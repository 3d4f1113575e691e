"""Monthly statistics as the bulletin states them: month on month, year on year, year to date.

Months are counted in the store's reporting zone (see store.reporting_zone). Percentages are rounded
half away from zero to two decimals, like the published figures; a missing or zero baseline gives None
(printed "n/a"), never infinity.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

from incidents import store
from incidents.taxonomy import CATEGORIES

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])\Z", re.ASCII)  # ASCII digits only: not "２０２０-10"


class StatsError(Exception):
    """The statistics asked for cannot be computed."""


class BadMonth(StatsError):
    """A month is not written YYYY-MM."""


def parse_month(text: str) -> tuple[int, int]:
    # No strip(): "2020-10 " is refused, not read as a month whose days match nothing.
    m = _MONTH.match(text) if isinstance(text, str) else None
    if not m:
        raise BadMonth(f"month must be YYYY-MM, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def month_name(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def shift_month(month: str, by: int) -> str:
    year, mon = parse_month(month)
    index = year * 12 + (mon - 1) + by
    return month_name(index // 12, index % 12 + 1)


def pct_change(current: int | None, baseline: int | None) -> float | None:
    """Percent change from baseline to current, rounded like the bulletin; None if it is undefined."""
    if current is None or not baseline:
        return None
    raw = (Decimal(current) - Decimal(baseline)) * 100 / Decimal(baseline)
    # + 0.0: a fall smaller than 0.005% rounds to -0.00, printed "-0.00%" and "-0.0" in JSON.
    return float(raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) + 0.0


@dataclass
class Figures:
    """The bulletin's figures for one scope (all incidents or one category) in one month."""

    count: int
    previous_month: int | None
    month_over_month: float | None
    same_month_last_year: int | None
    year_over_year: float | None
    year_to_date: int
    year_to_date_last_year: int | None
    year_to_date_change: float | None
    share: float | None = None  # of the month's total, percent

    @property
    def seen(self) -> bool:
        """Whether any figure is non-zero (a category with nothing in any compared period is not)."""
        return any((self.count, self.previous_month, self.same_month_last_year, self.year_to_date,
                    self.year_to_date_last_year))  # fmt: skip


@dataclass
class Note:
    """A caveat on a month's figures: `code` and `params` let a bulletin word it in its own language."""

    code: str
    text: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


@dataclass
class MonthReport:
    """Everything `incidents stats --month` prints, with the periods it compared."""

    month: str
    zone: str
    has_data: bool
    first_month: str | None
    last_month: str | None
    total: Figures
    categories: dict[str, Figures] = field(default_factory=dict)
    periods: dict[str, str] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def month_report(db: sqlite_utils.Database, month: str) -> MonthReport:
    """Figures for `month` ('YYYY-MM'), total and per category, against the months and periods before it."""
    year, _ = parse_month(month)
    previous = shift_month(month, -1)
    last_year = shift_month(month, -12)
    ytd_start, ly_ytd_start = month_name(year, 1), month_name(year - 1, 1)

    first_day, last_day = store.data_span(db)
    first_month = first_day[:7] if first_day else None
    last_month = last_day[:7] if last_day else None

    # One pass over the covering index: from January of last year to the month itself.
    counts: dict[tuple[str, str], int] = {}
    for m, category, n in store.month_counts(
        db, since=month_days(ly_ytd_start)[0], until=month_days(month)[1]
    ):
        counts[(m, category)] = n

    def covered(start: str, end: str) -> bool:
        # A baseline is known only if the store has data from its first month on and up to its last.
        return first_month is not None and start >= first_month and end <= (last_month or "")

    def total_in(start: str, end: str, category: str | None) -> int:
        return sum(
            n for (m, c), n in counts.items() if start <= m <= end and (category is None or c == category)
        )

    def figures(category: str | None) -> Figures:
        count = total_in(month, month, category)
        prev = total_in(previous, previous, category) if covered(previous, previous) else None
        ly = total_in(last_year, last_year, category) if covered(last_year, last_year) else None
        ytd = total_in(ytd_start, month, category)
        ly_end = shift_month(month, -12)
        ly_ytd = total_in(ly_ytd_start, ly_end, category) if covered(ly_ytd_start, ly_end) else None
        return Figures(
            count=count,
            previous_month=prev,
            month_over_month=pct_change(count, prev),
            same_month_last_year=ly,
            year_over_year=pct_change(count, ly),
            year_to_date=ytd,
            year_to_date_last_year=ly_ytd,
            year_to_date_change=pct_change(ytd, ly_ytd),
        )

    has_data = covered(month, month)
    total = figures(None)
    # Every category, always in the same order: a script reading --json finds the same keys every month.
    categories = {}
    for name in CATEGORIES:
        f = figures(name)
        f.share = pct_share(f.count, total.count)
        categories[name] = f
    notes = []
    if first_month is None:
        notes.append(Note("empty_store", "the store holds no incidents"))
    elif month < first_month:
        notes.append(
            Note(
                "before_data",
                f"{month} is before the first data ({first_month})",
                {"month": month, "first": first_month},
            )
        )
    elif last_month and month > last_month:
        notes.append(
            Note(
                "after_data",
                f"{month} is after the last data ({last_month})",
                {"month": month, "last": last_month},
            )
        )
    if has_data and total.year_to_date_last_year is None:
        notes.append(
            Note(
                "no_last_year",
                f"no data for the same period of {year - 1}: year-on-year changes are n/a",
                {"year": year - 1},
            )
        )
    if has_data and first_month > ytd_start:
        notes.append(
            Note(
                "ytd_from",
                f"the year to date counts from {first_month}, the first month with data",
                {"first": first_month},
            )
        )
    if has_data and month == last_month and last_day < month_days(month)[1]:
        notes.append(
            Note(
                "incomplete",
                f"the data runs to {last_day}: {month} may be incomplete",
                {"month": month, "last_day": last_day},
            )
        )
    return MonthReport(
        month=month,
        zone=store.get_meta(db, "reporting_zone") or store.DEFAULT_ZONE,
        has_data=has_data,
        first_month=first_month,
        last_month=last_month,
        total=total,
        categories=categories,
        periods={
            "month": month,
            "previous_month": previous,
            "same_month_last_year": last_year,
            "year_to_date": f"{ytd_start}..{month}",
            "year_to_date_last_year": f"{ly_ytd_start}..{shift_month(month, -12)}",
        },
        notes=notes,
    )


def month_days(month: str) -> tuple[str, str]:
    """First and last local day of a month: ('2020-02-01', '2020-02-29')."""
    year, mon = parse_month(month)
    return f"{month}-01", f"{month}-{calendar.monthrange(year, mon)[1]:02d}"


def pct_share(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def monthly_counts(db: sqlite_utils.Database, first: str, last: str) -> dict[str, dict[str, int]]:
    """{month: {category: count}} for every month from `first` to `last` inclusive (zeros filled)."""
    parse_month(first), parse_month(last)
    table: dict[str, dict[str, int]] = {}
    m = first
    while m <= last:
        table[m] = {}
        m = shift_month(m, 1)
    for m, category, n in store.month_counts(db, since=month_days(first)[0], until=month_days(last)[1]):
        table[m][category] = n
    return table


def top_values(db: sqlite_utils.Database, month: str, column: str, limit: int = 5) -> list[tuple[str, int]]:
    """The most frequent sectors or targets of a month: [(value, count)], most first."""
    if column not in ("sector", "target", "feed"):
        raise StatsError(f"cannot rank by {column}")
    parse_month(month)
    rows = db.execute(
        f"SELECT coalesce({column}, 'unknown'), count(*) AS n FROM incidents WHERE day BETWEEN ? AND ? "
        f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?",
        [*month_days(month), limit],
    ).fetchall()
    return [(v, n) for v, n in rows]


@dataclass
class PeriodFigures:
    """One scope's count over a period, against the period just before it and the same one a year earlier."""

    count: int
    previous_period: int | None
    change_vs_previous: float | None
    same_period_last_year: int | None
    change_vs_last_year: float | None
    share: float | None = None


@dataclass
class PeriodReport:
    """`incidents stats --period`: a year, half, quarter or range of months, total and per category."""

    period: str
    first_month: str
    last_month: str
    zone: str
    has_data: bool
    total: PeriodFigures
    categories: dict[str, PeriodFigures] = field(default_factory=dict)
    periods: dict[str, str] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def period_report(db: sqlite_utils.Database, first: str, last: str, label: str | None = None) -> PeriodReport:
    """Figures for the months `first`..`last` ('YYYY-MM', inclusive): total and every category, against
    the period of the same length just before it and the same months a year earlier. A baseline the
    store does not fully cover is None (n/a), as in month_report."""
    parse_month(first), parse_month(last)
    if first > last:
        raise StatsError(f"period {first}..{last} ends before it starts")
    length = (int(last[:4]) * 12 + int(last[5:])) - (int(first[:4]) * 12 + int(first[5:])) + 1
    prev_first, prev_last = shift_month(first, -length), shift_month(first, -1)
    ly_first, ly_last = shift_month(first, -12), shift_month(last, -12)
    span_first, span_last = store.data_span(db)
    data_first = span_first[:7] if span_first else None
    data_last = span_last[:7] if span_last else None
    counts: dict[tuple[str, str], int] = {}
    since = min(prev_first, ly_first)
    for m, category, n in store.month_counts(db, since=month_days(since)[0], until=month_days(last)[1]):
        counts[(m, category)] = n

    def covered(a: str, b: str) -> bool:
        return data_first is not None and a >= data_first and b <= (data_last or "")

    def total_in(a: str, b: str, category: str | None) -> int:
        return sum(n for (m, c), n in counts.items() if a <= m <= b and (category is None or c == category))

    def figures(category: str | None) -> PeriodFigures:
        count = total_in(first, last, category)
        prev = total_in(prev_first, prev_last, category) if covered(prev_first, prev_last) else None
        ly = total_in(ly_first, ly_last, category) if covered(ly_first, ly_last) else None
        return PeriodFigures(count, prev, pct_change(count, prev), ly, pct_change(count, ly))

    total = figures(None)
    categories = {}
    for name in CATEGORIES:
        f = figures(name)
        f.share = pct_share(f.count, total.count)
        categories[name] = f
    has_data = covered(first, last)
    notes = []
    if data_first is None:
        notes.append(Note("empty_store", "the store holds no incidents"))
    elif not has_data:
        notes.append(
            Note(
                "not_covered",
                f"the store's data covers {data_first}..{data_last}, not all of {first}..{last}",
                {"first": data_first, "last": data_last},
            )
        )
    same = prev_first == ly_first
    return PeriodReport(
        period=label or (first if first == last else f"{first}..{last}"),
        first_month=first,
        last_month=last,
        zone=store.get_meta(db, "reporting_zone") or store.DEFAULT_ZONE,
        has_data=has_data,
        total=total,
        categories=categories,
        periods={
            "period": f"{first}..{last}",
            "previous_period": f"{prev_first}..{prev_last}",
            "same_period_last_year": f"{ly_first}..{ly_last}",
            **({"note": "for a year the previous period is the year before"} if same else {}),
        },
        notes=notes,
    )
