"""Silent feeds: "no records from feed X for 40 hours, usually 12 a day".

A feed that stops sending is news for the operator (the spike detector treats the gap as missing data,
not as a new level). Per feed, the kept daily counts (spike_feed_days, filled by judge_new_days) give
its usual rate over the 28 days before its last record, M a day. If records arrived as a Poisson
stream at that rate, a silence of h hours has probability exp(-M h / 24); the feed is reported silent
when that is below 1 in 1,000 and the silence has lasted at least a day. Feeds that sent on fewer than
7 of those days are too irregular to say what "usual" is, and are never reported.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime, timedelta

USUAL_DAYS = 28
MIN_ACTIVE_DAYS = 7
MIN_SILENT_HOURS = 24.0
ALPHA = 0.001


def feed_silences(conn: sqlite3.Connection, *, now: datetime):
    """FeedSilence per silent feed at `now` (aware), longest silence first. Never writes.

    The store as it was at `now`: a feed's last record is its latest at or before `now` (records after
    it, stored by the time a run looks back with `incidents alert --now`, are not seen), and its usual
    rate counts the 28 days up to that record's day only."""
    from incidents.spikes.judging import has_tables, local_day
    from incidents.spikes.kept import FeedSilence

    if not has_tables(conn, "spike_feed_days"):
        return []
    today = local_day(conn, now)
    until = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    feeds = conn.execute("SELECT DISTINCT feed FROM spike_feed_days WHERE day <= ?", [today]).fetchall()
    out = []
    for (feed,) in feeds:
        if not feed:
            continue
        seen_at = _last_seen(conn, feed, today, until)
        if seen_at is None:
            continue
        last_day, last_at, last_count = seen_at
        first = str(datetime.fromisoformat(last_day).date() - timedelta(days=USUAL_DAYS - 1))
        total, active = conn.execute(
            "SELECT coalesce(sum(count), 0), count(*) FROM spike_feed_days WHERE feed = ? AND day >= ? "
            "AND day < ?",
            [feed, first, last_day],
        ).fetchone()
        total, active = total + last_count, active + 1
        if active < MIN_ACTIVE_DAYS:
            continue
        per_day = total / USUAL_DAYS
        seen = datetime.fromisoformat(last_at)
        if seen.tzinfo is None:
            seen = seen.replace(tzinfo=UTC)
        hours = (now - seen).total_seconds() / 3600
        if hours < MIN_SILENT_HOURS or per_day <= 0:
            continue
        if math.exp(-per_day * hours / 24) < ALPHA:
            out.append(
                FeedSilence(feed, seen.strftime("%Y-%m-%dT%H:%M:%SZ"), round(hours, 1), round(per_day, 1))
            )
    out.sort(key=lambda s: -s.silent_hours)
    return out


def _last_seen(conn: sqlite3.Connection, feed: str, today: str, until: str) -> tuple[str, str, int] | None:
    """The feed's latest kept day up to `today` with a record at or before `until` (UTC ISO 8601): that
    day, its latest such record's time and how many it had by then; None if it has none.

    The kept day's own count and latest time serve when that time is not after `until` (every run that
    is not looking back); else that day's incidents are read (index incidents_feed_day)."""
    days = conn.execute(
        "SELECT day, count, last_at FROM spike_feed_days WHERE feed = ? AND day <= ? ORDER BY day DESC",
        [feed, today],
    )
    for day, count, last_at in days:
        if last_at <= until:
            return day, last_at, int(count)
        n, at = conn.execute(
            "SELECT count(*), max(occurred_at) FROM incidents WHERE feed = ? AND day = ? AND occurred_at <= ?",
            [feed, day, until],
        ).fetchone()
        if n:
            return day, at, int(n)
    return None
