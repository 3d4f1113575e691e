"""Episodes: the alarms of one run of days in one series, told as one sentence.

A campaign raises an alarm on each of its days, and again after it as 2-, 3- and 7-day totals and a
CUSUM keep seeing its excess; the total raises the same alarms as the category behind it. Read as
rows that is "90 alarms for 20 episodes". An episode groups the alarms of one series whose days
touch or overlap (an alarm on a total of n days covers those n days), and runs over the part of that
stretch that carries the excess (days whose count beats expected + 2 sd, and what lies between them; for a slow rise that
only a total or the CUSUM saw, days above expected). A total
episode whose excess one category explains (that category's excess over the same days is at least
`EXPLAINED_SHARE` of the total's) is folded into that category's overlapping episode.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

EXPLAINED_SHARE = 0.6  # a category explains a total episode when it holds this share of its excess
MIN_EXPECTED = 0.05  # the ratio's denominator is never below this (an expected 0 is not a ratio)


@dataclass(frozen=True)
class Episode:
    """One series' run of alarm days."""

    series: str  # 'total' or a category
    first_day: str  # 'YYYY-MM-DD': first day of the run carrying the excess
    last_day: str
    days: tuple[str, ...]  # the alarm days in it (may reach past last_day: totals that still saw it)
    incidents: int  # incidents of the series over first_day..last_day
    expected: float  # expected count over first_day..last_day (sum of the days' expected)
    ratio: float  # incidents / expected
    peak_day: str  # the alarm day with the most incidents
    peak_count: int
    peak_score: float  # the highest exceedance score of its alarms
    explained_by: str | None  # a total episode: the category that explains it (when folded)
    provisional: bool  # its last alarm is today's provisional verdict
    alarms: tuple  # tuple[Alarm, ...], oldest first
    folded: tuple[Episode, ...] = ()  # total episodes this category's episode explains

    @property
    def key(self) -> str:
        """A stable id: series and first alarm day, which no later day moves (verdicts are final)."""
        return f"{self.series}:{self.days[0]}"

    def as_dict(self) -> dict:
        """The episode as a plain dict (for --json): key, days, counts, expected and ratio to 3 decimals."""
        return {
            "key": self.key,
            "series": self.series,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "days": list(self.days),
            "incidents": self.incidents,
            "expected": round(self.expected, 3),
            "ratio": round(self.ratio, 3),
            "peak_day": self.peak_day,
            "peak_count": self.peak_count,
            "peak_score": self.peak_score,
            "explained_by": self.explained_by,
            "provisional": self.provisional,
            "sentence": sentence(self, "en"),
            "alarms": [a.as_dict() for a in self.alarms],
            "folded": [f.key for f in self.folded],
        }


def _d(text: str) -> date:
    return date.fromisoformat(text)


def group_episodes(alarms: list, days: Iterable | None = None, *, fold: bool = True) -> list[Episode]:
    """Episodes of `alarms` (daily Alarm objects), oldest first (the total before categories).

    `days` are the DayVerdicts (series, day, count, expected) of the series over the alarms' days and
    the days their totals cover; for folding, of every category too. A day missing from them counts
    with the alarm's own count and, for a one-day alarm, its expected. With `fold`, a total episode
    that one category explains is left out of the list and kept in that category episode's `folded`
    (with explained_by set); without it, every episode is listed.
    """
    table: dict[tuple[str, str], tuple[int, float]] = {}
    for v in days or ():
        table[(v.series, v.day)] = (int(v.count), float(v.expected) if v.expected is not None else 0.0)
    for a in alarms:
        table.setdefault(
            (a.series, a.date), (int(a.period_count or a.count), a.expected if a.span == 1 else 0.0)
        )
    by_series: dict[str, list] = {}
    for a in sorted(alarms, key=lambda a: a.date):
        by_series.setdefault(a.series, []).append(a)
    episodes: list[Episode] = []
    for series, items in by_series.items():
        # Merged as intervals (first covered day, alarm day) in order of their first day: a later
        # total whose n days reach back into an earlier run joins it, as a later single day does.
        run: list = []
        end: date | None = None
        for a in sorted(items, key=lambda a: (_start(a), a.date)):
            if run and _start(a) > end + timedelta(days=1):
                episodes.append(_episode(series, sorted(run, key=lambda a: a.date), table))
                run = []
            run.append(a)
            end = _d(a.date) if len(run) == 1 else max(end, _d(a.date))
        if run:
            episodes.append(_episode(series, sorted(run, key=lambda a: a.date), table))
    episodes.sort(key=lambda e: (e.first_day, e.series != "total", e.series))
    return _fold(episodes, table) if fold else _mark(episodes, table)


def _start(a) -> date:
    """The first day an alarm covers: its own day, or the first of the n days of its total."""
    return _d(a.date) - timedelta(days=max(1, a.span or 1) - 1)


def _episode(series: str, run: list, table: dict) -> Episode:
    lo = min(_d(a.date) - timedelta(days=max(1, a.span or 1) - 1) for a in run)
    hi = max(_d(a.date) for a in run)
    span = [lo + timedelta(days=k) for k in range((hi - lo).days + 1)]

    # Days 2 sd above expectation; failing that (a slow rise only a total or the CUSUM saw), days above it.
    first, last = _core(series, span, table, 2.0) or _core(series, span, table, 0.0) or (_d(run[0].date), hi)
    incidents, expected = _sums(table, series, first, last)
    peak = max(run, key=lambda a: (a.period_count or a.count, -_d(a.date).toordinal()))
    return Episode(
        series=series,
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        days=tuple(a.date for a in run),
        incidents=incidents,
        expected=expected,
        ratio=incidents / max(expected, MIN_EXPECTED),
        peak_day=peak.date,
        peak_count=int(peak.period_count or peak.count),
        peak_score=max(a.score for a in run),
        explained_by=None,
        provisional=not getattr(run[-1], "final", True),
        alarms=tuple(run),
    )


def _core(series: str, span: list[date], table: dict, z: float) -> tuple[date, date] | None:
    """The stretch of `span` with the largest excess, each day counted as count - expected - z sd
    (sd ~ sqrt(expected)), so that a day merely above its expectation by chance does not extend the
    run; None when no day stands out that much (Kadane's maximum-sum subarray)."""
    best, best_at, acc, start = 0.0, None, 0.0, 0
    for k, d in enumerate(span):
        n, e = table.get((series, d.isoformat()), (0, 0.0))
        x = n - e - z * math.sqrt(max(e, 1.0))
        if acc <= 0:
            acc, start = x, k
        else:
            acc += x
        if acc > best:
            best, best_at = acc, (start, k)
    return (span[best_at[0]], span[best_at[1]]) if best_at else None


def _sums(table: dict, series: str, first: date, last: date) -> tuple[int, float]:
    n, e = 0, 0.0
    d = first
    while d <= last:
        c, x = table.get((series, d.isoformat()), (0, 0.0))
        n, e = n + c, e + x
        d += timedelta(days=1)
    return n, e


def _explainer(total: Episode, episodes: list[Episode], table: dict) -> Episode | None:
    """The category episode that explains a total episode, if one does."""
    first, last = _d(total.first_day), _d(total.last_day)
    excess = total.incidents - total.expected
    best, best_share = None, 0.0
    for e in episodes:
        if e.series == "total":
            continue
        if max(e.last_day, e.days[-1]) < total.first_day or min(e.first_day, e.days[0]) > total.last_day:
            continue
        n, x = _sums(table, e.series, first, last)
        share = (n - x) / excess if excess > 0 else 0.0
        if share > best_share:
            best, best_share = e, share
    return best if best is not None and best_share >= EXPLAINED_SHARE else None


def _mark(episodes: list[Episode], table: dict) -> list[Episode]:
    from dataclasses import replace

    out = []
    for e in episodes:
        by = _explainer(e, episodes, table) if e.series == "total" else None
        out.append(replace(e, explained_by=by.series) if by else e)
    return out


def _fold(episodes: list[Episode], table: dict) -> list[Episode]:
    from dataclasses import replace

    folded: dict[str, list[Episode]] = {}
    shown = []
    for e in episodes:
        by = _explainer(e, episodes, table) if e.series == "total" else None
        if by is None:
            shown.append(e)
        else:
            folded.setdefault(by.key, []).append(replace(e, explained_by=by.series))
    return [replace(e, folded=tuple(folded[e.key])) if e.key in folded else e for e in shown]


def annotate(alarms: list, episodes: list[Episode]) -> list:
    """The alarms, each raised by a total of several days (not by its own day's count: a day with
    few incidents after a campaign, or a CUSUM run) or lying outside its episode's run, with its
    explanation naming that run: "..., in the run of 2020-11-10 to 2020-11-13"."""
    from dataclasses import replace

    where: dict[tuple[str, str], Episode] = {}
    for e in episodes:
        for inner in (e, *e.folded):
            for day in inner.days:
                where[(inner.series, day)] = inner
    out = []
    for a in alarms:
        e = where.get((a.series, a.date))
        outside = e is not None and not e.first_day <= a.date <= e.last_day
        if e is not None and ((a.span or 1) > 1 or outside):
            run = e.first_day if e.first_day == e.last_day else f"{e.first_day} to {e.last_day}"
            a = replace(
                a,
                explanation=f"{a.explanation}, in the run of {run}",
                run_from=e.first_day,
                run_to=e.last_day,
            )
        out.append(a)
    return out


# --- the sentence --------------------------------------------------------------------------------

_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _group(n: int, sep: str) -> str:
    return f"{n:,d}".replace(",", sep)


def _fixed(x: float, lang: str) -> str:
    """Expected counts and ratios: one decimal under 100, whole numbers from 100 up."""
    if x >= 100:
        return _group(round(x), "." if lang == "vi" else ",")
    text = f"{x:.1f}"
    return text.replace(".", ",") if lang == "vi" else text


def _day_range(a: date, b: date, lang: str) -> str:
    """'from 10 to 13 November 2020' / 'từ 10 đến 13/11/2020': what the two days share is said once."""
    if lang == "vi":
        on, since, to = "ngày", "từ", "đến"
        day, day_month, full = f"{a:%d}", f"{a:%d/%m}", lambda d: f"{d:%d/%m/%Y}"
    else:
        on, since, to = "on", "from", "to"
        day, day_month = str(a.day), f"{a.day} {_EN_MONTHS[a.month - 1]}"
        full = lambda d: f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"
    if a == b:
        return f"{on} {full(a)}"
    if (a.year, a.month) == (b.year, b.month):
        start = day
    elif a.year == b.year:
        start = day_month
    else:
        start = full(a)
    return f"{since} {start} {to} {full(b)}"


def _labels(series: str) -> tuple[str, str]:
    from incidents.taxonomy import CATEGORIES

    c = CATEGORIES.get(series)
    if c is None:
        return series, series
    # an acronym label ("DDoS") is kept as written; a word ("Phishing") is lower-cased in a sentence
    en = c.label_en if any(ch.isupper() for ch in c.label_en[1:]) else c.label_en.lower()
    return en, c.label_vi.lower()


def _sustained(ep: Episode) -> bool:
    """A multi-day episode is a campaign only when alarm days cover at least half of its span
    (a sustained excess); a long run with a few alarm days is a rise."""
    a, b = _d(ep.first_day), _d(ep.last_day)
    span = (b - a).days + 1
    inside = {d for d in ep.days if ep.first_day <= d <= ep.last_day}
    return len(inside) * 2 >= span


def sentence(ep: Episode, lang: str = "en") -> str:
    """The episode in one sentence, in English ('en') or Vietnamese ('vi').

    en: "a phishing campaign from 10 to 13 November 2020: 200 incidents, 5.6 times the expected 35.7"
    vi: "chiến dịch lừa đảo từ 10 đến 13/11/2020: 200 sự cố, gấp 5,6 lần mức dự kiến 35,7"
    Raises ValueError for another language.
    """
    a, b = _d(ep.first_day), _d(ep.last_day)
    en_label, vi_label = _labels(ep.series)
    one = a == b
    kind = "spike" if one else ("campaign" if _sustained(ep) else "rise")
    tiny = round(ep.expected, 1) == 0  # "80.0 times the expected 0.0" says nothing
    if lang == "en":
        if ep.series == "total":
            head = "a spike in all incidents" if one else "a rise in all incidents"
        elif ep.series == "other":
            head = {"spike": "a spike in", "rise": "a rise in", "campaign": "a campaign of"}[kind]
            head += " other incidents"
        elif kind == "rise":
            head = f"a rise in {en_label} incidents"
        else:
            head = f"{'an' if en_label[:1].lower() in 'aeiou' else 'a'} {en_label} {kind}"
        noun = "incident" if ep.incidents == 1 else "incidents"
        tail = (
            f"where fewer than {_fixed(0.1, 'en')} were expected"
            if tiny
            else f"{_fixed(ep.ratio, 'en')} times the expected {_fixed(ep.expected, 'en')}"
        )
        text = f"{head} {_day_range(a, b, 'en')}: {_group(ep.incidents, ',')} {noun}, {tail}"
        return text + (" (today's count so far)" if ep.provisional else "")
    if lang == "vi":
        if ep.series == "total":
            head = "đột biến tổng số sự cố" if one else "đợt tăng tổng số sự cố"
        else:
            what = "sự cố loại khác" if ep.series == "other" else vi_label
            if kind == "rise":
                what = what if ep.series == "other" else f"sự cố {vi_label}"
            head = f"{ {'spike': 'đột biến', 'rise': 'đợt tăng', 'campaign': 'chiến dịch'}[kind] } {what}"
        tail = (
            f"trong khi mức dự kiến chưa đến {_fixed(0.1, 'vi')}"
            if tiny
            else f"gấp {_fixed(ep.ratio, 'vi')} lần mức dự kiến {_fixed(ep.expected, 'vi')}"
        )
        text = f"{head} {_day_range(a, b, 'vi')}: {_group(ep.incidents, '.')} sự cố, {tail}"
        return text + (" (số liệu hôm nay chưa đầy đủ)" if ep.provisional else "")
    raise ValueError(f"language must be en or vi, not {lang!r}")
