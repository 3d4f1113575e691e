"""Figures as they were published, kept beside what the store computes, and the differences between them.

Published figures get revised between releases and their splits do not always add up (see
../shared/data/README.md): the tool computes from its own records and keeps each published figure, with
its source, so that `incidents published check` and the bulletin can say where the two disagree.
"""

from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from incidents import stats, store
from incidents.files import NotRegularFile, open_regular

if TYPE_CHECKING:  # sqlite_utils imports pandas (~1 s); only the type is needed here
    import sqlite_utils

# The CSV format of ../shared/data/published-vn-2019-2020.csv.
COLUMNS = (
    "period",
    "scope",
    "total",
    "phishing",
    "deface",
    "malware",
    "status",
    "published_change",
    "source",
    "note",
)
SPLITS = ("phishing", "deface", "malware")

_MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
# re.ASCII: ASCII digits only ("２０２０-10" is refused on import, as stats refuses it).
_PERIOD = re.compile(rf"^(?:(?P<year>\d{{4}})|(?P<first>{_MONTH})(?:\.\.(?P<last>{_MONTH}))?)\Z", re.ASCII)
# One published change: "+11.07% MoM", "-51.4% vs same period 2019", "-45.9% vs H1 2018", "-0.15% vs 2019".
_CHANGE = re.compile(r"^(?P<value>[+\-−]?\d+(?:\.(?P<decimals>\d+))?)%\s*(?P<basis>.*)$")


class PublishedError(Exception):
    """Published figures cannot be read or stored."""


class BadPeriod(PublishedError):
    """A period is none of YYYY, YYYY-MM or YYYY-MM..YYYY-MM."""


@dataclass
class PublishedFigure:
    """One row of published figures: a period, its total and split, as the release gave them."""

    period: str
    first_month: str
    last_month: str
    scope: str
    total: int | None
    phishing: int | None
    deface: int | None
    malware: int | None
    status: str
    published_change: str
    source: str
    note: str


@dataclass
class ImportResult:
    """What `import_file` did: rows read, stored (new or replacing the same period and source), rejected."""

    file: str
    read: int
    stored: int
    rejected: int
    rejects: list[tuple[int, str]]  # (line, reason)


@dataclass
class Comparison:
    """One published figure next to what the store computes for the same period and filter."""

    period: str
    scope: str
    figure: str  # 'total', a category name, or a change such as 'change MoM'
    published: float | int | None
    computed: float | int | None
    verdict: str  # 'same', 'differs', 'no data' (the store does not cover the period), 'not checked'
    status: str  # published or derived
    source: str
    detail: str = ""

    def as_dict(self) -> dict:
        """The comparison as a plain dict (for --json)."""
        return asdict(self)


def parse_period(text: str) -> tuple[str, str]:
    """'2020-10' -> ('2020-10', '2020-10'); '2019-01..2019-04' -> ('2019-01', '2019-04'); '2020' -> ('2020-01', '2020-12').

    Raises BadPeriod for any other text or a period that ends before it starts."""
    m = _PERIOD.match(text.strip())
    if not m:
        raise BadPeriod(f"period must be YYYY, YYYY-MM or YYYY-MM..YYYY-MM, got {text!r}")
    if m.group("year"):
        return f"{m.group('year')}-01", f"{m.group('year')}-12"
    first, last = m.group("first"), m.group("last") or m.group("first")
    if last < first:
        raise BadPeriod(f"period {text!r} ends before it starts")
    return first, last


def _count(text: str, column: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise PublishedError(f"{column} must be a whole number, got {text!r}")
    return int(text)


def read_csv(path: str | Path) -> tuple[list[tuple[int, PublishedFigure]], list[tuple[int, str]]]:
    """The usable rows of a published-figures CSV as (line, figure), and the rejected ones as (line, reason).

    Raises PublishedError when the file cannot be read, is empty, is not UTF-8 CSV or lacks the period,
    scope or total column."""
    try:
        with open_regular(path, encoding="utf-8-sig", newline="") as handle:
            return _read_rows(csv.reader(handle), path)
    except NotRegularFile as e:
        raise PublishedError(str(e)) from None
    except OSError as e:
        raise PublishedError(f"cannot read {path}: {e.strerror}") from None
    except (csv.Error, UnicodeDecodeError) as e:
        raise PublishedError(f"{path}: {e}") from None


def _read_rows(reader, path) -> tuple[list[tuple[int, PublishedFigure]], list[tuple[int, str]]]:
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise PublishedError(f"{path} is empty") from None
    missing = [c for c in ("period", "scope", "total") if c not in header]
    if missing:
        raise PublishedError(f"{path}: no column {', '.join(missing)} (expected {','.join(COLUMNS)})")
    good, bad = [], []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            bad.append((line, f"{len(values)} fields where the header has {len(header)}"))
            continue
        try:
            good.append((line, _figure(dict(zip(header, values)))))
        except PublishedError as e:
            bad.append((line, str(e)))
    return good, bad


def _figure(row: dict[str, str]) -> PublishedFigure:
    period = row["period"].strip()
    first, last = parse_period(period)
    scope = row["scope"].strip()
    if not scope:
        raise PublishedError("scope is empty")
    total = _count(row["total"], "total")
    splits = {name: _count(row.get(name, ""), name) for name in SPLITS}
    if total is None and all(v is None for v in splits.values()):
        raise PublishedError("no figure: total and splits are all empty")
    change = row.get("published_change", "").strip()
    for part in filter(None, (p.strip() for p in change.split(";"))):
        if not _CHANGE.match(part):
            raise PublishedError(f"published_change {part!r} is not like '+11.07% MoM'")
    return PublishedFigure(
        period=period, first_month=first, last_month=last, scope=scope, total=total, **splits,
        status=row.get("status", "").strip() or "published", published_change=change,
        source=row.get("source", "").strip(), note=row.get("note", "").strip(),
    )  # fmt: skip


def import_file(db: sqlite_utils.Database, path: str | Path) -> ImportResult:
    """Store the usable rows of a published-figures CSV in one transaction; the same (period, source) is replaced.

    Raises PublishedError (read_csv's, or when no row is usable: nothing is stored then)."""
    good, bad = read_csv(path)
    if not good:
        reason = f" (line {bad[0][0]}: {bad[0][1]})" if bad else ""
        raise PublishedError(f"{path}: no usable row{reason}")
    now = store.utc_now()
    with store.write_transaction(db):  # the store's one write lock (a note while busy, StoreBusy after)
        db.conn.executemany(
            "INSERT INTO published (period, first_month, last_month, scope, total, phishing, deface, malware, "
            "status, published_change, source, note, file, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(period, source) DO UPDATE SET first_month = excluded.first_month, "
            "last_month = excluded.last_month, scope = excluded.scope, total = excluded.total, "
            "phishing = excluded.phishing, deface = excluded.deface, malware = excluded.malware, "
            "status = excluded.status, published_change = excluded.published_change, note = excluded.note, "
            "file = excluded.file, imported_at = excluded.imported_at",
            [
                (f.period, f.first_month, f.last_month, f.scope, f.total, f.phishing, f.deface, f.malware,
                 f.status, f.published_change, f.source, f.note, str(path), now)
                for _, f in good
            ],
        )  # fmt: skip
    return ImportResult(
        file=str(path), read=len(good) + len(bad), stored=len(good), rejected=len(bad), rejects=bad
    )


def stored(
    db: sqlite_utils.Database, *, first_month: str | None = None, last_month: str | None = None
) -> list[PublishedFigure]:
    """Stored published figures, optionally only those for exactly this period; ordered by period."""
    sql = "SELECT * FROM published"
    args: list[str] = []
    if first_month and last_month:
        sql += " WHERE first_month = ? AND last_month = ?"
        args = [first_month, last_month]
    fields = PublishedFigure.__dataclass_fields__
    rows = db.query(sql + " ORDER BY first_month, last_month, source", args)
    return [PublishedFigure(**{k: v for k, v in row.items() if k in fields}) for row in rows]


# --- comparison with the store ---------------------------------------------------------------------


class _Counts:
    """Monthly counts of the whole store, read once, summed over any period."""

    def __init__(self, db: sqlite_utils.Database, figures: list[PublishedFigure]):
        # Only the months the figures and their baselines can cover (a baseline is at most the
        # period's length or a year before it): an index range, not the whole history.
        self.by_month: dict[tuple[str, str], int] = {}
        if figures:
            since = min(
                stats.shift_month(f.first_month, -max(12, _months_between(f.first_month, f.last_month)))
                for f in figures
            )
            until = max(f.last_month for f in figures)
            rows = store.month_counts(db, since=f"{since}-01", until=f"{until}-31")
            self.by_month = {(m, c): n for m, c, n in rows}
        first_day, last_day = store.data_span(db)
        self.first = first_day[:7] if first_day else None
        self.last = last_day[:7] if last_day else None

    def covers(self, first: str, last: str) -> bool:
        return self.first is not None and self.first <= first and last <= (self.last or "")

    def count(self, first: str, last: str, category: str | None = None) -> int | None:
        if not self.covers(first, last):
            return None
        return sum(n for (m, c), n in self.by_month.items() if first <= m <= last and category in (None, c))


def _months_between(first: str, last: str) -> int:
    (y1, m1), (y2, m2) = stats.parse_month(first), stats.parse_month(last)
    return (y2 - y1) * 12 + (m2 - m1) + 1


def _baseline(figure: PublishedFigure, basis: str) -> tuple[str, str] | None:
    """The period a published change compares with, from its wording; None when the wording is not understood."""
    words = basis.lower()
    first, last = figure.first_month, figure.last_month
    if "mom" in words.split() or "previous month" in words:
        n = _months_between(first, last)
        return stats.shift_month(first, -n), stats.shift_month(last, -n)
    year = re.search(r"\b(\d{4})\b", words)
    if (
        "yoy" in words.split()
        or "same period" in words
        or (year and int(year.group(1)) == int(first[:4]) - 1)
    ):
        if year and int(year.group(1)) != int(first[:4]) - 1:
            return None
        return stats.shift_month(first, -12), stats.shift_month(last, -12)
    return None


def compare(db: sqlite_utils.Database, figures: list[PublishedFigure] | None = None) -> list[Comparison]:
    """Every published number (totals, splits, % changes) next to the store's figure for the same period."""
    figures = stored(db) if figures is None else figures
    counts = _Counts(db, figures)
    out: list[Comparison] = []
    for f in figures:
        base = {"period": f.period, "scope": f.scope, "status": f.status, "source": f.source}
        for name in ("total", *SPLITS):
            published = getattr(f, name)
            if published is None:
                continue
            computed = counts.count(f.first_month, f.last_month, None if name == "total" else name)
            out.append(Comparison(figure=name, published=published, computed=computed,
                                  verdict=_verdict(published, computed), **base))  # fmt: skip
        for part in filter(None, (p.strip() for p in f.published_change.split(";"))):
            out.append(_compare_change(f, part, counts, base))
    return out


def _verdict(published, computed) -> str:
    if computed is None:
        return "no data"
    return "same" if published == computed else "differs"


def _compare_change(f: PublishedFigure, part: str, counts: _Counts, base: dict) -> Comparison:
    m = _CHANGE.match(part)
    published = float(m.group("value").replace("−", "-"))
    basis = m.group("basis").strip()
    label = f"change {basis}".strip()
    period = _baseline(f, basis)
    if period is None:
        return Comparison(figure=label, published=published, computed=None, verdict="not checked",
                          detail=f"baseline {basis!r} not understood", **base)  # fmt: skip
    current = counts.count(f.first_month, f.last_month)
    before = counts.count(*period)
    if current is None or before is None:
        missing = f"{f.first_month}..{f.last_month}" if current is None else f"{period[0]}..{period[1]}"
        return Comparison(figure=label, published=published, computed=None, verdict="no data",
                          detail=f"the store does not cover {missing}", **base)  # fmt: skip
    computed = stats.pct_change(current, before)
    # Compare at the precision the release used: "-28%" matches a computed -28.08.
    places = len(m.group("decimals") or "")
    verdict = "no data" if computed is None else (
        "same" if round(computed, places) == round(published, places) else "differs")  # fmt: skip
    return Comparison(figure=label, published=published, computed=computed, verdict=verdict,
                      detail=f"{current} vs {before} in {period[0]}..{period[1]}", **base)  # fmt: skip


def check(db: sqlite_utils.Database) -> list[Comparison]:
    """All comparisons of stored published figures with the store (what `incidents published check` lists)."""
    return compare(db)


def for_month(db: sqlite_utils.Database, month: str) -> list[Comparison]:
    """Comparisons for the periods a bulletin of `month` states: the month and the year to date."""
    year = month[:4]
    wanted = {(month, month), (f"{year}-01", month)}
    figures = [f for f in stored(db) if (f.first_month, f.last_month) in wanted]
    return compare(db, figures)
