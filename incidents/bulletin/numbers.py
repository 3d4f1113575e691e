"""The bulletin's numbers for one month, each with its provenance (period, filter, zone, SQL) so anyone can recompute it.

Every figure comes from incidents.stats (month_report, monthly_counts, top_values); spikes come from
incidents.spikes.store_alarms; published figures from incidents.published. This module only gathers
them and says how each was computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from incidents import published, stats, store
from incidents.bulletin.edition import Edition
from incidents.taxonomy import BULLETIN_CATEGORIES, CATEGORIES

if TYPE_CHECKING:  # sqlite_utils imports pandas (~1 s): the TUI reads numfmt without it
    import sqlite_utils

TOP_LIMIT = 5
SPIKES_SHOWN = 8  # the text lists the strongest alarms; the JSON has them all
CHART_MONTHS = 13  # the month and the twelve before it: the same month last year is on the chart
PCT_RULE = "rounded half away from zero to 0.01, as the published figures (incidents.stats.pct_change)"
FIGURE_FIELDS = (
    "count", "previous_month", "month_over_month", "same_month_last_year", "year_over_year",
    "year_to_date", "year_to_date_last_year", "year_to_date_change", "share",
)  # fmt: skip


class BulletinError(Exception):
    """The bulletin cannot be written."""


class NoData(BulletinError):
    """The store holds no data for the month asked for."""


@dataclass
class Bulletin:
    """Everything a bulletin template may show for one month, with the provenance of each number."""

    month: str
    zone: str
    cutoff: str | None  # UTC time the last ingest or scan finished (store.cutoff)
    first_day: str | None
    last_day: str | None
    report: stats.MonthReport
    categories: list[str]  # categories shown, bulletin's three first
    ytd_from: str  # first month the year to date really counts (January unless data starts later)
    chart_months: list[str]
    monthly: dict[str, dict[str, int]]  # {month: {category: count}} for the chart months
    ytd_this_year: list[int]  # cumulative per month, January .. month
    ytd_last_year: list[int] | None  # cumulative per month of last year, January .. December, if covered
    spikes: list[Any] | None  # Alarm objects; None when no detector is installed
    spikes_note: str | None
    top_sectors: list[tuple[str, int]]
    top_targets: list[tuple[str, int]]
    published: list[published.Comparison]
    notes: list[stats.Note] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    edition: Edition = field(default_factory=Edition)  # public or internal, TLP, issue date, issuer
    episodes: list[Any] | None = None  # spikes.episodes.Episode reaching into the month, oldest first
    # The month's first and last days the detector judged (the month's own first and last when it judged
    # them all); from None when it judged none of them (too little history before the month), to before
    # the month's end when the data stops early.
    spikes_judged_from: str | None = None
    spikes_judged_to: str | None = None

    @property
    def year(self) -> int:
        """The bulletin's year (2020 for '2020-10')."""
        return int(self.month[:4])

    @property
    def month_last_day(self) -> str:
        """The bulletin's month's last day, 'YYYY-MM-DD'."""
        return stats.month_days(self.month)[1]

    @property
    def month_number(self) -> int:
        """The bulletin's month, 1-12 (10 for '2020-10')."""
        return int(self.month[5:7])

    @property
    def top_spikes(self) -> list[Any]:
        """The episodes the text tells (the SPIKES_SHOWN strongest by ratio, in date order); alarms where
        no episode could be formed (an alarm from elsewhere)."""
        if self.episodes is not None:
            strongest = sorted(self.episodes, key=lambda e: -e.ratio)[:SPIKES_SHOWN]
            return sorted(strongest, key=lambda e: (e.first_day, e.series != "total", e.series))
        if not self.spikes:
            return []
        strongest = sorted(self.spikes, key=lambda a: -a.score)[:SPIKES_SHOWN]
        return sorted(strongest, key=lambda a: (a.date, a.series != "total", a.series))

    @property
    def more_spikes(self) -> int:
        """How many episodes (or alarms, where no episodes were formed) the bulletin leaves out of its list."""
        told = self.episodes if self.episodes is not None else (self.spikes or [])
        return len(told) - len(self.top_spikes)

    @property
    def revisions(self) -> list[published.Comparison]:
        """Published figures the store's numbers now differ from."""
        return [c for c in self.published if c.verdict == "differs"]


def build(
    db: sqlite_utils.Database,
    month: str,
    *,
    alarms: list[Any] | None = None,
    edition: Edition | None = None,
    progress: Any = None,
) -> Bulletin:
    """Gather the bulletin of `month` ('YYYY-MM'). `alarms` replaces the spike detector's (e.g. already
    computed); `edition` says which bulletin is issued (default: the internal edition, TLP:AMBER);
    `progress(done, total)` hears how the judging of days not kept yet goes. Raises NoData when the
    store holds nothing for `month` (before the first or after the last day with data, or empty)."""
    report = stats.month_report(db, month)
    if not report.has_data:
        why = "; ".join(n.text for n in report.notes) or f"the store holds no data for {month}"
        raise NoData(f"no bulletin for {month}: {why}")
    if report.total.count == 0:
        # Inside the data's span but empty: far likelier a feed that was not ingested than a quiet month,
        # and "down 100%" would be printed as news.
        raise NoData(
            f"no bulletin for {month}: the store holds no incident in {month} "
            f"(its data runs from {report.first_month} to {report.last_month}); ingest the month's feeds first"
        )
    first_day, last_day = store.data_span(db)
    zone = report.zone
    year = int(month[:4])
    ytd_from = max(f"{year}-01", report.first_month)

    # Months before the first data are left off the chart rather than drawn as zeros.
    chart_first = max(stats.shift_month(month, -(CHART_MONTHS - 1)), report.first_month)
    monthly = stats.monthly_counts(db, chart_first, month)
    ytd_this = _cumulative(stats.monthly_counts(db, ytd_from, month))
    ly_first, ly_last = f"{year - 1}-01", f"{year - 1}-12"
    ytd_last = None
    if report.first_month <= ly_first and ly_last <= report.last_month:
        ytd_last = _cumulative(stats.monthly_counts(db, ly_first, ly_last))

    present = {c for counts in monthly.values() for c in counts} | {
        c for c, f in report.categories.items() if f.seen
    }
    ordered = [*BULLETIN_CATEGORIES, *(c for c in CATEGORIES if c not in BULLETIN_CATEGORIES)]
    categories = [c for c in ordered if c in present]

    first, last = stats.month_days(month)
    judged_from, judged_to = first, last
    if alarms is not None:
        spikes, spikes_note, episodes = alarms, None, month_episodes(alarms, first, last)
    else:
        spikes, episodes, spikes_note, (judged_from, judged_to) = month_spikes(
            db, first, last, progress=progress
        )

    # stats' notes say when the year to date starts late or the month may be incomplete; the
    # templates word them in the bulletin's language (labels.note_texts).
    notes = list(report.notes)
    bulletin = Bulletin(
        month=month, zone=zone, cutoff=store.cutoff(db), first_day=first_day, last_day=last_day,
        report=report, categories=categories, ytd_from=ytd_from,
        chart_months=list(monthly), monthly=monthly, ytd_this_year=ytd_this, ytd_last_year=ytd_last,
        spikes=spikes, spikes_note=spikes_note, episodes=episodes, spikes_judged_from=judged_from,
        spikes_judged_to=judged_to,
        top_sectors=stats.top_values(db, month, "sector", TOP_LIMIT),
        top_targets=stats.top_values(db, month, "target", TOP_LIMIT),
        published=published.for_month(db, month), notes=notes,
    )  # fmt: skip
    bulletin.provenance = provenance(bulletin)
    if edition is not None:
        bulletin.edition = edition
    return bulletin


def _cumulative(table: dict[str, dict[str, int]]) -> list[int]:
    running, out = 0, []
    for counts in table.values():
        running += sum(counts.values())
        out.append(running)
    return out


def month_spikes(
    db: sqlite_utils.Database, first_day: str, last_day: str, *, progress: Any = None
) -> tuple[list[Any] | None, list[Any] | None, str | None, tuple[str | None, str | None]]:
    """Daily alarms and episodes of the spike detector within the month (alarms, episodes, None, (judged
    from, judged to)), or (None, None, why, (None, None)) when there is no detector. Judged from / to: the
    month's first and last days the detector judged (`first_day`, `last_day` when it judged every day;
    from None when none: too little history; to before `last_day` when the data stops early).

    The kept verdicts of `incidents spikes` and the alerts (spikes.report.daily_spikes), so the bulletin
    tells the same episodes as they do; days not kept yet are judged in memory and never written (the
    bulletin is a read command: it neither keeps verdicts nor migrates an older store); a store held only in memory is judged from scratch (spikes.store_alarms).
    """
    try:
        # Imported here: the detector pulls in scipy/scikit-learn, and it is a separate stage (issue 3).
        from incidents import spikes
    except ModuleNotFoundError as e:
        if e.name != "incidents.spikes":
            raise
        spikes = None
    if getattr(spikes, "store_alarms", None) is None:
        return None, None, "spike detection is not installed (incidents.spikes.store_alarms)", (None, None)
    path = store.store_file(db)
    try:
        from incidents.spikes.report import daily_spikes
    except ImportError:
        daily_spikes = None
    if path is not None and daily_spikes is not None:
        found = daily_spikes(path, since=first_day, until=last_day, progress=progress, keep=False)
        alarms = [a for a in found.alarms if first_day <= a.date <= last_day]
        episodes = [
            e for e in found.episodes if e.first_day <= last_day and max(e.last_day, e.days[-1]) >= first_day
        ]
        judged, until = found.first_judged, found.last_judged
        judged_from = None if judged is None or judged > last_day else max(judged, first_day)
        judged_to = None if judged_from is None else min(until or last_day, last_day)
        return alarms, episodes, None, (judged_from, judged_to)
    alarms = [a for a in spikes.store_alarms(db, freq="day", since=first_day, until=last_day)
              if first_day <= a.date <= last_day]  # fmt: skip
    return alarms, month_episodes(alarms, first_day, last_day), None, (first_day, last_day)


def month_episodes(alarms: list[Any], first_day: str, last_day: str) -> list[Any] | None:
    """Episodes of alarms known without the store's day verdicts (counts from the alarms themselves)."""
    try:
        from incidents.spikes.episodes import group_episodes
    except ImportError:
        return None
    try:
        episodes = group_episodes(list(alarms))
    except (AttributeError, TypeError):  # alarms from elsewhere, without the parts an episode needs
        return None
    return [e for e in episodes if e.first_day <= last_day and max(e.last_day, e.days[-1]) >= first_day]


# --- provenance ------------------------------------------------------------------------------------


def _count_sql(first: str, last: str, category: str | None) -> str:
    where = f"day BETWEEN '{first}' AND '{last}'" + (f" AND category = '{category}'" if category else "")
    return f"SELECT count(*) FROM incidents WHERE {where}"


def _span(first_month: str, last_month: str) -> tuple[str, str]:
    return stats.month_days(first_month)[0], stats.month_days(last_month)[1]


def provenance(b: Bulletin) -> dict:
    """{'total': {field: {value, provenance}}, 'categories': {...}, 'top_sectors': ..., 'monthly': ...}."""
    r = b.report
    zone_note = f"day is the incident's local date in {b.zone} (the store's reporting zone)"
    year = b.year
    periods = {
        "count": (b.month, b.month),
        "previous_month": (r.periods["previous_month"],) * 2,
        "same_month_last_year": (r.periods["same_month_last_year"],) * 2,
        "year_to_date": (b.ytd_from, b.month),
        "year_to_date_last_year": (f"{year - 1}-01", stats.shift_month(b.month, -12)),
    }
    changes = {
        "month_over_month": ("count", "previous_month"),
        "year_over_year": ("count", "same_month_last_year"),
        "year_to_date_change": ("year_to_date", "year_to_date_last_year"),
    }

    def scope(name: str | None, figures: stats.Figures) -> dict:
        label = f"category = '{name}'" if name else "all incidents"
        out = {}
        for key, (fm, lm) in periods.items():
            first, last = _span(fm, lm)
            value = getattr(figures, key)
            p = {"period": f"{first}..{last}", "filter": label, "zone": b.zone, "sql": _count_sql(first, last, name),
                 "note": zone_note}  # fmt: skip
            if value is None:
                p["why_none"] = _why_none(fm, lm, r)
            out[key] = {"value": value, "provenance": p}
        for key, (cur, base) in changes.items():
            value = getattr(figures, key)
            p = {"formula": f"({cur} - {base}) * 100 / {base}, {PCT_RULE}", "inputs": [cur, base],
                 "filter": label, "zone": b.zone}  # fmt: skip
            if value is None:
                baseline = getattr(figures, base)
                p["why_none"] = (
                    f"{base} is 0" if baseline == 0 else out[base]["provenance"].get("why_none", "n/a")
                )
            out[key] = {"value": value, "provenance": p}
        if name:
            out["share"] = {"value": figures.share, "provenance": {
                "formula": f"count * 100 / total count, {PCT_RULE}", "filter": label, "zone": b.zone}}  # fmt: skip
        return out

    month_first, month_last = stats.month_days(b.month)
    chart_first, chart_last = _span(b.chart_months[0], b.chart_months[-1])
    top_sql = (
        "SELECT coalesce({col}, 'unknown'), count(*) AS n FROM incidents "
        f"WHERE day BETWEEN '{month_first}' AND '{month_last}' GROUP BY 1 ORDER BY n DESC, 1 LIMIT {TOP_LIMIT}"
    )
    return {
        "total": scope(None, r.total),
        "categories": {name: scope(name, f) for name, f in r.categories.items()},
        "monthly": {"period": f"{chart_first}..{chart_last}", "zone": b.zone, "filter": "all incidents",
                    "sql": "SELECT substr(day, 1, 7) AS month, category, count(*) FROM incidents "
                           f"WHERE day BETWEEN '{chart_first}' AND '{chart_last}' GROUP BY 1, 2"},
        "ytd_this_year": {"period": f"{_span(b.ytd_from, b.month)[0]}..{month_last}", "zone": b.zone,
                          "formula": "running total of the monthly counts from January (or the first data)"},
        "ytd_last_year": {"period": f"{year - 1}-01-01..{year - 1}-12-31", "zone": b.zone,
                          "formula": "running total of last year's monthly counts",
                          **({} if b.ytd_last_year else {"why_none": f"the store does not cover all of {year - 1}"})},
        "top_sectors": {"period": f"{month_first}..{month_last}", "zone": b.zone, "sql": top_sql.format(col="sector")},
        "top_targets": {"period": f"{month_first}..{month_last}", "zone": b.zone, "sql": top_sql.format(col="target")},
        "spikes": {"period": f"{month_first}..{month_last}", "zone": b.zone,
                   "method": "the kept daily verdicts of incidents spikes (incidents.spikes.report.daily_spikes): "
                             "prospective, each with its expected count and upper bound; consecutive alarm days "
                             "of a series grouped into episodes (incidents.spikes.episodes)"},
        "cutoff": {"value": b.cutoff, "sql": "SELECT max(finished_at) FROM ingest_runs WHERE status = 'ok'",
                   "note": "UTC time the last successful ingest or scan finished"},
    }  # fmt: skip


def _why_none(first_month: str, last_month: str, r: stats.MonthReport) -> str:
    if r.first_month and first_month < r.first_month:
        return f"the store's data starts in {r.first_month}, after {first_month}"
    if r.last_month and last_month > r.last_month:
        return f"the store's data ends in {r.last_month}, before {last_month}"
    return "the store does not cover this period"
