"""Spike detection on incident counts: a prospective improved-Farrington detector (detector.py), the
alarms and their one-sentence explanations for stored incidents (this module), and an IsolationForest
over the daily mix of incidents (mix.py).

Daily verdicts are kept in the store once judged (kept.py: `judge_new_days` writes, `kept_alarms`,
`kept_episodes`, `series_window`, `kept_status`, `feed_silences` read), and alarms are grouped into
episodes told in one sentence (episodes.py: `Episode`, `group_episodes`, `sentence`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from incidents.spikes import explain

if TYPE_CHECKING:
    from incidents.spikes.series import SeriesNote

__all__ = ["Alarm", "store_alarms", "store_spikes"]


@dataclass
class Alarm:
    """A count above its upper bound, with the sentence that explains it."""

    series: str  # 'total' or a category name
    date: str  # 'YYYY-MM-DD' (period start for week/month)
    freq: str  # 'day' | 'week' | 'month'
    count: int
    expected: float
    upper: float
    score: float  # (count - expected) / (upper - expected): above 1 is an alarm (Farrington 1996)
    explanation: str
    span: int = 1  # periods `count` covers: 1, or the n of an "over the last n days" total
    level: float = 0.001  # tail probability of the bound: 0.001 is a 99.9% upper bound
    # What the sentence says, as data (the bulletin words it in its own language):
    period_count: int | None = None  # the period's own count (== count unless span > 1)
    since: str | None = None  # the last earlier period whose value was as high; None: none on record
    records_from: str | None = None  # the first period on record
    final: bool = True  # False for today's provisional verdict (its count may still grow)
    # The run of days (episode) named by spikes.episodes.annotate: first and last day, or None.
    run_from: str | None = None
    run_to: str | None = None

    def as_dict(self) -> dict:
        """The alarm as a plain dict (for --json)."""
        return asdict(self)


def store_alarms(
    db, *, freq: str = "day", category: str | None = None, since: str | None = None, until: str | None = None
) -> list[Alarm]:
    """Alarms on the stored incidents (total and per category, or one category), oldest first.

    The detector runs over the whole stored history up to `until` (it is prospective, so an alarm
    shown today is the alarm that would have been raised on its day); alarms before `since` are left out.
    """
    return store_spikes(db, freq=freq, category=category, since=since, until=until)[0]


def store_spikes(
    db, *, freq: str = "day", category: str | None = None, since: str | None = None, until: str | None = None
) -> tuple[list[Alarm], list[SeriesNote]]:
    """`store_alarms` and the notes on series too short to judge or whose level shifted.

    `freq` is day, week or month (ValueError otherwise); `since`, `until` are days 'YYYY-MM-DD'."""
    from incidents.spikes.series import judge, store_table

    if freq not in ("day", "week", "month"):
        raise ValueError(f"freq must be day, week or month, not {freq!r}")
    table = store_table(db, freq=freq, category=category, until=until)
    if not table.names:
        return [], []
    verdicts, notes = judge(table)
    first = np.datetime64(since) if since else None
    alarms = []
    for i, name in enumerate(table.names):
        counts = table.counts[i]
        for c in np.flatnonzero(verdicts.alarm[i]):
            start = table.starts[c]
            if first is not None and start < first:
                continue
            w = int(verdicts.span[i, c])
            if w > 1:
                totals = np.convolve(counts, np.ones(w))[: len(counts)]
                history, total = totals[:c], float(totals[c])
            else:
                history, total = counts[:c], None
            since = explain.since_label(history, total if w > 1 else counts[c], table.starts[:c], freq)
            records_from = explain.period_label(table.starts[0], freq)
            level = float(f"{verdicts.level[i, c]:.3g}")  # the sentence and the field say the same
            text = explain.sentence(
                name,
                start,
                freq,
                int(counts[c]),
                float(verdicts.span_expected[i, c]),
                float(verdicts.span_upper[i, c]),
                explain.level_text(level),
                span=w,
                total=total,
                since=since,
                records_from=records_from,
            )
            alarms.append(
                Alarm(
                    name,
                    str(np.datetime64(start, "D")),
                    freq,
                    int(total if w > 1 else counts[c]),
                    round(float(verdicts.span_expected[i, c]), 3),
                    float(verdicts.span_upper[i, c]),
                    round(float(verdicts.score[i, c]), 3),
                    text,
                    w,
                    level,
                    int(counts[c]),
                    since,
                    records_from,
                )
            )
    alarms.sort(key=lambda a: (a.date, a.series != "total", a.series))
    return alarms, notes
