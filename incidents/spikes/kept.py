"""Spike verdicts kept in the store: judged once per day (judging.py), read by the CLI, alerts and TUI.

Read functions take a sqlite3 connection (read-only is fine: `file:...?mode=ro`) or a sqlite_utils
Database, never write, and return [] / None on a store without the tables (an older store, or nothing
judged yet). Days are local days of the store's reporting zone, 'YYYY-MM-DD'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from incidents.spikes import Alarm, explain
from incidents.spikes.episodes import Episode, group_episodes
from incidents.spikes.judging import (
    VERSION,
    KeptRun,
    _stored_count,
    connection,
    has_tables,
    judge_new_days,
    local_day,
    read_state,
)
from incidents.spikes.mix import MixFlag
from incidents.store_sql import where_clause

if TYPE_CHECKING:
    from incidents.spikes.series import SeriesNote

__all__ = [
    "DayVerdict",
    "FeedSilence",
    "KeptRun",
    "KeptStatus",
    "feed_silences",
    "judge_new_days",
    "kept_alarms",
    "kept_episodes",
    "kept_mix",
    "kept_notes",
    "kept_status",
    "series_window",
]


@dataclass(frozen=True)
class DayVerdict:
    """One series, one day."""

    series: str  # 'total' or a category
    day: str  # 'YYYY-MM-DD' (local day of the store's zone)
    count: int  # incidents that day (so far, if provisional)
    expected: float | None  # None while the series is too short to judge
    upper: float | None  # the day's upper bound (incidents)
    level: float | None  # tail probability of the bound, e.g. 0.001
    alarm: bool
    final: bool  # False for today's provisional verdict (its count may still grow)
    score: float | None = None  # (count - expected) / (upper - expected); of the total for a span alarm
    span: int | None = None  # an alarm's days (1: the day alone; n: the total of the last n days)


@dataclass(frozen=True)
class KeptStatus:
    last_day: str | None  # the last day judged
    judged_at: str  # UTC, ISO 8601
    fresh: bool  # no incident stored since (by row id and count), and verdicts of this version


@dataclass(frozen=True)
class FeedSilence:
    """A feed with no record for much longer than its usual gap."""

    feed: str
    last_seen_utc: str  # 'YYYY-MM-DDTHH:MM:SSZ', the feed's latest incident time
    silent_hours: float
    usual_per_day: float  # incidents a day over the feed's last 28 active-calendar days

    def sentence(self) -> str:
        return (
            f"no records from feed {self.feed} for {self.silent_hours:.0f} hours, "
            f"usually {explain.number(self.usual_per_day)} a day"
        )


_DAY_COLUMNS = "series, day, count, expected, upper, level, alarm, final, score, span"
_ALARM_COLUMNS = (
    "series, day, count, level, score, span, span_count, span_expected, span_upper, "
    "since, records_from, final"
)


def _ready(conn) -> bool:
    return has_tables(conn, "spike_days", "spike_state")


def _where(since, until, category, extra: list[str]) -> tuple[str, list]:
    where, args = where_clause(
        ("day >= ?", since), ("day <= ?", until), ("series = ?", category), always=extra
    )
    return (" " + where if where else ""), args


def _alarm(row) -> Alarm:
    (
        series,
        day,
        count,
        level,
        score,
        span,
        span_count,
        span_exp,
        span_up,
        since,
        start,
        final,
    ) = row
    w = span or 1
    text = explain.sentence(
        series,
        _day64(day),
        "day",
        int(count),
        float(span_exp),
        float(span_up),
        explain.level_text(level),
        span=w,
        total=float(span_count) if w > 1 else None,
        since=since,
        records_from=start,
    )
    return Alarm(
        series,
        day,
        "day",
        int(span_count),
        round(float(span_exp), 3),
        float(span_up),
        round(float(score), 3),
        text,
        w,
        level,
        int(count),
        since,
        start,
        bool(final),
    )


def _day64(day: str):
    import numpy as np

    return np.datetime64(day)


def kept_alarms(
    conn,
    *,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    include_provisional: bool = True,
    annotate: bool = True,
) -> list[Alarm]:
    """Kept daily alarms from `since` to `until` (inclusive), total and every category or one;
    oldest first, the total before categories on a day. The alarms `store_alarms` computes; with
    `annotate`, an alarm that its day's own count did not raise (a total of several days, on a day
    with few incidents) also names the run of days it belongs to (episodes.annotate)."""
    conn = connection(conn)
    if not _ready(conn):
        return []
    extra = ["alarm = 1"] + ([] if include_provisional else ["final = 1"])
    where, args = _where(since, until, category, extra)
    rows = conn.execute(f"SELECT {_ALARM_COLUMNS} FROM spike_days{where}", args).fetchall()
    alarms = [_alarm(r) for r in rows]
    alarms.sort(key=lambda a: (a.date, a.series != "total", a.series))
    if annotate and alarms:
        from incidents.spikes.episodes import annotate as name_runs

        return name_runs(alarms, _episodes_of(conn, alarms, category, fold=False))
    return alarms


def series_window(conn, series: str, day: str, before: int = 28, after: int = 7) -> list[DayVerdict]:
    """The kept verdicts of one series from `before` days before `day` to `after` days after it."""
    import numpy as np

    d = np.datetime64(day)
    return day_verdicts(conn, str(d - before), str(d + after), [series])


def day_verdicts(conn, since: str, until: str, series: list[str] | None = None) -> list[DayVerdict]:
    """Every kept verdict from `since` to `until` (inclusive), of the given series or all; by series, day."""
    conn = connection(conn)
    if not _ready(conn):
        return []
    where, args = _where(since, until, None, [])
    if series is not None:
        if not series:
            return []
        where += f" AND series IN ({', '.join('?' * len(series))})"
        args += list(series)
    rows = conn.execute(f"SELECT {_DAY_COLUMNS} FROM spike_days{where} ORDER BY series, day", args)
    return [
        DayVerdict(s, d, int(n), e, u, lv, bool(a), bool(f), sc, sp)
        for s, d, n, e, u, lv, a, f, sc, sp in rows
    ]


def kept_episodes(
    conn,
    *,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    fold: bool = True,
) -> list[Episode]:
    """Episodes of kept alarms that reach into `since`..`until` (episodes.group_episodes).

    With `category`, that category's episodes only (no folding of the total)."""
    import numpy as np

    conn = connection(conn)
    if not _ready(conn):
        return []
    # An episode that began before `since` and goes on into it is shown whole.
    early = str(np.datetime64(since) - 60) if since else None
    alarms = kept_alarms(conn, since=early, until=until, category=category, annotate=False)
    episodes = _episodes_of(conn, alarms, category, fold=fold and category is None)
    return [e for e in episodes if since is None or max(e.last_day, e.days[-1]) >= since]


def _episodes_of(conn, alarms: list[Alarm], category: str | None, *, fold: bool) -> list[Episode]:
    import numpy as np

    if not alarms:
        return []
    first = min(str(np.datetime64(a.date) - (a.span - 1)) for a in alarms)
    last = max(a.date for a in alarms)
    days = day_verdicts(conn, first, last, sorted({a.series for a in alarms} | _categories(conn, category)))
    return group_episodes(alarms, days, fold=fold)


def _categories(conn, category: str | None) -> set[str]:
    if category:
        return {category}
    return {r[0] for r in conn.execute("SELECT DISTINCT series FROM spike_days")}


def kept_mix(conn, *, since: str | None = None, until: str | None = None) -> list[MixFlag]:
    """Kept unusual-mix days (mix.py) from `since` to `until`."""
    conn = connection(conn)
    if not has_tables(conn, "spike_mix_flags"):
        return []
    where, args = _where(since, until, None, [])
    rows = conn.execute(
        f"SELECT day, score, threshold, features, explanation FROM spike_mix_flags{where} ORDER BY day", args
    )
    return [MixFlag(d, s, t, [tuple(f) for f in json.loads(feats)], text) for d, s, t, feats, text in rows]


def kept_notes(conn) -> list[SeriesNote]:
    """The detector's notes of the last run: series too short to judge, levels accepted as new."""
    from incidents.spikes.series import SeriesNote

    conn = connection(conn)
    if not has_tables(conn, "spike_notes"):
        return []
    return [SeriesNote(s, t, k) for s, k, t in conn.execute("SELECT series, kind, text FROM spike_notes")]


def kept_status(conn, *, now: datetime | None = None) -> KeptStatus | None:
    """The last kept day and when it was judged; None if nothing was kept.

    `fresh`: no incident stored since (by row id and count) and verdicts of this detector version;
    with `now`, also no provisional verdict of a day before today, and today's verdict provisional
    if today was judged."""
    conn = connection(conn)
    state = read_state(conn)
    if not state.get("judged_at"):
        return None
    rowid = conn.execute("SELECT max(rowid) FROM incidents").fetchone()[0]
    fresh = state.get("version") == VERSION and str(rowid or 0) == state.get("last_rowid")
    if fresh:
        fresh = str(_stored_count(conn)) == state.get("count")
    if fresh and now is not None:
        today = local_day(conn, now)
        stale = conn.execute(
            "SELECT 1 FROM spike_days WHERE final = 0 AND day < ? LIMIT 1", [today]
        ).fetchone()
        fresh = stale is None and (state.get("last_day", "") < today or state.get("today") == today)
    return KeptStatus(state.get("last_day") or None, state["judged_at"], fresh)


def feed_silences(conn, *, now: datetime) -> list[FeedSilence]:
    """Feeds silent for much longer than usual at `now`: see silence.py."""
    from incidents.spikes.silence import feed_silences as silences

    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return silences(connection(conn), now=now)
