"""Finding the news: spike episodes, incidents at or above a severity, silent feeds, daily summaries.

Each function turns what the store holds into `outbox.Item`s, one per recipient whose rules want it;
the payload of an item is everything its mail will say (frozen when queued, so a later resend says the
same). Spike verdicts come from the kept verdicts of `incidents.spikes` (judged once, never re-judged).
Every read is bounded by the run's `AsOf`: a run judged as of a past time (`--now`) on a store filled
later sees the store as it was then.
"""

from __future__ import annotations

import shlex
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from incidents.alerts.inert import defang
from incidents.alerts.outbox import Item, alerted_episodes, alerted_peak
from incidents.config import SEVERITIES, Recipient

# Episodes whose last alarm day is older than this are history, not news (a first run on an old store,
# or a re-judged old day after late records, sends nothing about them).
EPISODE_HORIZON_DAYS = 7
# Incidents on a store's first alert run: those that occurred within this window before `now`.
FIRST_RUN_WINDOW = timedelta(hours=24)
TOP = 5


@dataclass(frozen=True)
class AsOf:
    """The moment a run is judged as of (`incidents alert --now`, else the clock), and what it may see.

    Kept verdicts and per-day counts of the days up to `today`; incidents that occurred at or before
    `utc`; outbox rows created or mails sent at or before `utc`. Without these bounds a run looking
    back on a store filled later would tell days and records after its moment.
    """

    local: datetime  # aware, in the store's reporting zone

    @property
    def today(self) -> str:
        """The local day of the moment in the store's zone, 'YYYY-MM-DD'."""
        return self.local.date().isoformat()

    @property
    def utc(self) -> str:
        """The moment in UTC, 'YYYY-MM-DDTHH:MM:SSZ' (the form of `occurred_at`, `created_at`, `sent_at`)."""
        return self.local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def command(*args: str, db_hint: str | None = None) -> str:
    """The exact shell command to look deeper, every argument quoted for a POSIX shell."""
    parts = ["incidents", *args]
    if db_hint:
        parts += ["--db", db_hint]
    return shlex.join(parts)


# --- spikes ---------------------------------------------------------------------------------------------


def _top(conn, column: str, series: str, first: str, last: str, until: str) -> list[list]:
    where = "day BETWEEN ? AND ? AND occurred_at <= ?"
    args: list = [first, last, until]
    if series != "total":
        where += " AND category = ?"
        args.append(series)
    sql = (
        f"SELECT {column}, count(*) AS n FROM incidents WHERE {where} AND {column} IS NOT NULL "
        f"AND {column} != '' GROUP BY {column} ORDER BY n DESC, {column} LIMIT {TOP}"
    )
    return [[v, n] for v, n in conn.execute(sql, args).fetchall()]


def episode_payload(conn, ep, *, lang: str, update: bool, as_of: AsOf, db_hint: str | None) -> dict:
    """What an alert mail says of a spike episode: a dict of its sentence in `lang` (headline), its days,
    counts, expected and ratio, top targets, sources and feeds (of the incidents that occurred by
    `as_of`), and the command that shows it (`incidents spikes ...`, with `--db` when `db_hint` is set);
    `update` marks a new peak."""
    from incidents.spikes.episodes import sentence

    args = ["spikes", "--since", ep.first_day, "--until", ep.last_day]
    if ep.series != "total":
        args[1:1] = ["--category", ep.series]
    return {
        "headline": sentence(ep, lang),
        "series": ep.series,
        "first_day": ep.first_day,
        "last_day": ep.last_day,
        "alarm_days": len(ep.days),
        "incidents": int(ep.incidents),
        "expected": float(ep.expected),
        "ratio": float(ep.ratio),
        "peak_day": ep.peak_day,
        "peak_count": int(ep.peak_count),
        "provisional": bool(ep.provisional),
        "new_peak": update,
        "top_targets": _top(conn, "target", ep.series, ep.first_day, ep.last_day, as_of.utc),
        "top_sources": _top(conn, "source_ip", ep.series, ep.first_day, ep.last_day, as_of.utc),
        "top_feeds": _top(conn, "feed", ep.series, ep.first_day, ep.last_day, as_of.utc),
        "command": command(*args, db_hint=db_hint),
    }


def _adjacent(a_first: str, a_last: str, b_first: str, b_last: str) -> bool:
    """Day ranges that overlap or touch: one episode whose first day moved after late records."""
    a0, a1 = date.fromisoformat(a_first), date.fromisoformat(a_last)
    b0, b1 = date.fromisoformat(b_first), date.fromisoformat(b_last)
    return a0 <= b1 + timedelta(days=1) and b0 <= a1 + timedelta(days=1)


def spike_items(conn, recipients: list[Recipient], *, as_of: AsOf, db_hint: str | None) -> list[Item]:
    """A first alert per new episode of the kept verdicts; later, an update when a later day of it sets a
    new peak. Episodes are read up to `as_of.today`: the kept verdicts of later days (a store filled
    past a `--now` that looks back) are not news yet, nor part of an episode's days, counts or end.

    A total episode explained by a category (`explained_by`) is left to that category's episode.
    """
    from incidents.spikes.kept import kept_episodes

    horizon = (date.fromisoformat(as_of.today) - timedelta(days=EPISODE_HORIZON_DAYS)).isoformat()
    items: list[Item] = []
    for ep in kept_episodes(conn, since=horizon, until=as_of.today):
        if ep.last_day < horizon or ep.explained_by:
            continue
        for r in recipients:
            if not r.wants_series(ep.series):
                continue
            known = [
                k
                for k, f, la in alerted_episodes(conn, ep.series, r.email)
                if f and la and _adjacent(f, la, ep.first_day, ep.last_day)
            ]
            rank = 1000.0 + float(ep.peak_score)
            if not known:
                items.append(
                    Item(
                        kind="spike",
                        subject_key=ep.key,
                        day=ep.peak_day,
                        recipient=r.email,
                        payload=episode_payload(
                            conn, ep, lang=r.lang, update=False, as_of=as_of, db_hint=db_hint
                        ),
                        series=ep.series,
                        episode_key=ep.key,
                        peak=int(ep.peak_count),
                        rank=rank,
                    )
                )
                continue
            key = known[0]
            peak, peak_day = alerted_peak(conn, key, r.email)
            if ep.peak_count > peak and ep.peak_day > peak_day:
                items.append(
                    Item(
                        kind="spike-update",
                        subject_key=key,
                        day=ep.peak_day,
                        recipient=r.email,
                        payload=episode_payload(
                            conn, ep, lang=r.lang, update=True, as_of=as_of, db_hint=db_hint
                        ),
                        series=ep.series,
                        episode_key=key,
                        peak=int(ep.peak_count),
                        rank=rank,
                    )
                )
    return items


# --- incidents at or above a severity ---------------------------------------------------------------------

_INCIDENT_COLUMNS = (
    "rowid, id, occurred_at, day, category, target, source_ip, sector, feed, severity, description"
)


def first_unfinished_rowid(conn) -> int | None:
    """The first rowid stored by an ingest run still marked 'running' (None when none is).

    Ingest commits a large file in batches under a run that counts only once complete (ingest.runs);
    until then its rows may yet be undone. The watermark stops below them, so they alert once the run
    has completed, and never if it is undone. Served by the index incidents_run (migration v11)."""
    try:
        return conn.execute(
            "SELECT min(rowid) FROM main.incidents WHERE run_id IN "
            "(SELECT id FROM main.ingest_runs WHERE kind = 'ingest' AND status = 'running')"
        ).fetchone()[0]
    except sqlite3.OperationalError:  # a store without runs
        return None


def incident_rows(
    conn, *, after_rowid: int | None, as_of: AsOf, min_severity: str | None
) -> tuple[list[dict], int]:
    """Incidents stored since the watermark (by rowid: the order they were stored), and the new watermark.

    Rowids only grow with each insert and SQLite has one writer at a time, so every incident committed
    after this read gets a rowid above the returned watermark: late records (an old day ingested today)
    alert too. With no watermark yet (the store's first alert run), the incidents that occurred within
    FIRST_RUN_WINDOW before `as_of` (up to it). Only severities at or above `min_severity` (None: no rows, the
    watermark still moves).
    """
    top = conn.execute("SELECT max(rowid) FROM incidents").fetchone()[0] or 0
    unfinished = first_unfinished_rowid(conn)
    if unfinished is not None:  # an ingest still running: its rows (and all after) wait for its end
        top = min(top, unfinished - 1)
    if min_severity is None:
        return [], top
    severe = list(SEVERITIES[SEVERITIES.index(min_severity) :])
    marks = ",".join("?" for _ in severe)
    if after_rowid is None:
        since = (as_of.local - FIRST_RUN_WINDOW).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        until = as_of.utc
        sql = (
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE rowid <= ? AND occurred_at >= ? "
            f"AND occurred_at <= ? AND severity IN ({marks}) ORDER BY rowid"
        )
        args = [top, since, until, *severe]
    else:
        sql = (
            f"SELECT {_INCIDENT_COLUMNS} FROM incidents WHERE rowid > ? AND rowid <= ? "
            f"AND severity IN ({marks}) ORDER BY rowid"
        )
        args = [after_rowid, top, *severe]
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()], top


def incident_items(rows: list[dict], recipients: list[Recipient], *, db_hint: str | None) -> list[Item]:
    """One outbox Item per (incident row, recipient) whose min_severity and categories take the incident."""
    items = []
    for row in rows:
        for r in recipients:
            if not (r.wants_severity(row["severity"]) and r.wants_category(row["category"])):
                continue
            items.append(
                Item(
                    kind="incident",
                    subject_key=row["id"],
                    day=row["day"],
                    recipient=r.email,
                    payload=incident_payload(row, db_hint=db_hint),
                    incident_id=row["id"],
                    severity=row["severity"],
                    rank=float(SEVERITIES.index(row["severity"])),
                )
            )
    return items


def incident_payload(row: dict, *, db_hint: str | None) -> dict:
    """What an alert mail says of one incident (a row of the incidents table as a dict): a headline with the
    target defanged, its fields, the description cut to 500 characters, and the command that shows it."""
    target = defang(row["target"]) if row["target"] else "an unnamed target"
    feed = f", reported by {row['feed']}" if row["feed"] else ""
    return {
        "headline": f"a {row['severity']} {row['category']} incident on {target} at {row['occurred_at']}{feed}",
        "id": row["id"],
        "occurred_at": row["occurred_at"],
        "day": row["day"],
        "category": row["category"],
        "severity": row["severity"],
        "target": row["target"],
        "source_ip": row["source_ip"],
        "sector": row["sector"],
        "feed": row["feed"],
        "description": (row["description"] or "")[:500],
        "command": command("show", row["id"], db_hint=db_hint),
    }


# --- silent feeds ---------------------------------------------------------------------------------------


def silence_items(conn, recipients: list[Recipient], *, as_of: AsOf, db_hint: str | None) -> list[Item]:
    """One alert per feed silent at `as_of` (spikes.kept.feed_silences: its last record at or before it)
    to recipients with `feeds = true`."""
    from incidents.spikes.kept import feed_silences

    items = []
    for s in feed_silences(conn, now=as_of.local):
        hours = int(s.silent_hours)
        usual = float(s.usual_per_day)
        payload = {
            "headline": s.sentence(),
            "feed": s.feed,
            "last_seen_utc": s.last_seen_utc,
            "silent_hours": hours,
            "usual_per_day": usual,
            "command": command("list", "--feed", s.feed, db_hint=db_hint),
        }
        for r in recipients:
            if r.feeds:
                items.append(
                    Item(
                        kind="silence",
                        subject_key=s.feed,
                        day=str(s.last_seen_utc)[:10],
                        extra_key=str(s.last_seen_utc),
                        recipient=r.email,
                        payload=payload,
                        feed=s.feed,
                        rank=500.0 + hours / 24,
                    )
                )
    return items


# --- the daily summary ----------------------------------------------------------------------------------


def daily_due(r: Recipient, as_of: AsOf) -> bool:
    """True when the recipient's daily summary time (`digest_at`, 'HH:MM' in the store's zone) has come
    on `as_of`'s local day; False for a recipient without one."""
    if r.digest_at is None:
        return False
    hh, mm = (int(x) for x in r.digest_at.split(":"))
    return (as_of.local.hour, as_of.local.minute) >= (hh, mm)


def daily_item(conn, r: Recipient, *, as_of: AsOf, db_hint: str | None) -> Item:
    """The daily summary: yesterday's incidents in the recipient's categories, and its alerts queued in
    the 24 h up to `as_of` (by status; none that a run judged as of a later time queued)."""
    today = date.fromisoformat(as_of.today)
    yesterday = (today - timedelta(days=1)).isoformat()
    rows = conn.execute(
        "SELECT category, count(*) FROM incidents WHERE day = ? GROUP BY category", [yesterday]
    )
    per_category = {c: n for c, n in rows if r.wants_category(c)}
    since = (as_of.local - timedelta(hours=24)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    alerts = conn.execute(
        "SELECT status, count(*) FROM alert_outbox WHERE recipient = ? AND created_at >= ? AND created_at <= ? "
        "AND kind != 'daily' GROUP BY status",
        [r.email, since, as_of.utc],
    ).fetchall()
    total = sum(per_category.values())
    scope = "your categories" if r.categories else "all categories"
    return Item(
        kind="daily",
        subject_key="daily",
        day=today.isoformat(),
        recipient=r.email,
        payload={
            "headline": f"{total} incidents on {yesterday} in {scope}",
            "day": yesterday,
            "per_category": sorted(per_category.items(), key=lambda kv: (-kv[1], kv[0])),
            "alerts_24h": dict(alerts),
            "command": command("list", "--since", yesterday, "--until", yesterday, db_hint=db_hint),
        },
        rank=0.0,
    )
