"""Judge the days the store has not judged yet and keep the verdicts (the writer behind kept.py).

The detector is prospective (detector.py): a day's verdict depends on the counts up to that day only.
So a verdict once kept stays right until the count of that day or of an earlier day changes. A run
finds the earliest such day from the incidents stored since the last run (row ids only grow), runs
the detector over the daily counts (kept counts before that day, fresh ones from it on; the counts
are small, a few thousand days per series) and rewrites the verdicts from that day on. The inputs of
the unusual-mix forest (distinct targets and sources per day, each target's first day) are kept the
same way, so neither detector re-reads the whole history.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from incidents.store_lock import write_transaction
from incidents.store_sql import connection, has_tables


def _stored_count(conn) -> int:
    """Incidents in the store: the count kept by triggers where there is one (no walk over every row)."""
    from incidents.store import count_incidents

    return count_incidents(conn)


# Bump when the detector or the kept columns change: kept verdicts of another version are recomputed.
VERSION = "2"


@dataclass(frozen=True)
class KeptRun:
    """What one `judge_new_days` call did."""

    judged_days: int  # days newly judged or re-judged
    first_changed: str | None  # the earliest day re-judged; None when nothing was new
    last_day: str | None  # the last day kept


def read_state(conn: sqlite3.Connection) -> dict[str, str]:
    if not has_tables(conn, "spike_state"):
        return {}
    return dict(conn.execute("SELECT key, value FROM spike_state").fetchall())


def zone(conn: sqlite3.Connection) -> ZoneInfo:
    from incidents.store import DEFAULT_ZONE

    row = conn.execute("SELECT value FROM meta WHERE key = 'reporting_zone'").fetchone()
    return ZoneInfo(row[0] if row and row[0] else DEFAULT_ZONE)


def local_day(conn: sqlite3.Connection, now: datetime) -> str:
    """The local day of `now` (aware; a naive time is taken as UTC) in the store's zone."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(zone(conn)).date().isoformat()


def judge_new_days(
    db, *, now: datetime | None = None, progress: Callable[[int, int], None] | None = None
) -> KeptRun:
    """Judge the days not kept yet, and every day from the earliest one whose count changed.

    WRITES to the store (tables of migration `_v4_spike_verdicts`). With `now`, days from the local
    day of `now` on get a provisional verdict (final = 0): judged on the count so far, an alarm as
    soon as that count exceeds the day's upper bound, and judged again by the next run. Without
    `now` every day is final. Also keeps the unusual-mix inputs and flags (mix.py).
    Raises sqlite3.Error (e.g. a read-only store) for the caller to report.
    """
    conn = connection(db)
    tick = progress or (lambda done, total: None)
    steps = 4
    tick(0, steps)
    first, last = conn.execute(
        "SELECT (SELECT min(day) FROM incidents), (SELECT max(day) FROM incidents)"
    ).fetchone()
    state = read_state(conn)
    judged_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    max_rowid = conn.execute("SELECT max(rowid) FROM incidents").fetchone()[0] or 0
    if first is None:
        with write_transaction(conn):
            _clear(conn)
            _save_state(conn, {"version": VERSION, "judged_at": judged_at, "last_rowid": "0", "count": "0"})
        tick(steps, steps)
        return KeptRun(0, None, None)
    today = local_day(conn, now) if now is not None else None
    fc = _first_changed(conn, state, first, last, today, max_rowid)
    if fc is None:
        with write_transaction(conn):
            _save_state(conn, {"judged_at": judged_at})
        tick(steps, steps)
        return KeptRun(0, None, state.get("last_day"))
    full = fc == first
    table, kept_series = _count_table(conn, first, last, fc, full)
    tick(1, steps)
    from incidents.spikes.detector import last_refit
    from incidents.spikes.series import judge

    start = int((np.datetime64(fc) - table.starts[0]).astype(int))
    resume = None if full else _checkpoint(state, table, start)
    verdicts, notes = judge(table, resume=resume, checkpoint_at=last_refit(table.starts, "day"))
    tick(2, steps)
    rows = verdict_rows(table, verdicts, start, kept_series, today, judged_at)
    with write_transaction(conn):
        if full:
            _clear(conn)
        else:
            conn.execute("DELETE FROM spike_days WHERE day >= ?", [fc])
            conn.execute("DELETE FROM spike_mix_flags WHERE day >= ?", [fc])
            new = [n for n in table.names if n not in kept_series]
            if new:
                conn.execute(f"DELETE FROM spike_days WHERE series IN ({', '.join('?' * len(new))})", new)
        conn.executemany(f"INSERT INTO spike_days VALUES ({', '.join('?' * 16)})", rows)
        conn.execute("DELETE FROM spike_notes")
        conn.executemany(
            "INSERT INTO spike_notes(series, kind, text) VALUES (?, ?, ?)",
            [(n.series, n.kind, n.text) for n in notes],
        )
        _keep_mix_inputs(conn, fc, 0 if full else int(state.get("last_rowid", 0)), full)
        tick(3, steps)
        forests = _keep_mix_flags(conn, table, fc, today, state.get("mix_forests"))
        count = _stored_count(conn)
        _save_state(
            conn,
            {
                "version": VERSION,
                "judged_at": judged_at,
                "last_rowid": str(max_rowid),
                "count": str(count),
                "first_day": first,
                "last_day": last,
                "today": today or "",
                "checkpoint_series": json.dumps(table.names),
            },
        )
        blob = verdicts.checkpoint.to_bytes() if verdicts.checkpoint is not None else b""
        conn.execute(
            "INSERT INTO spike_state(key, value) VALUES ('checkpoint', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [blob],
        )
        conn.execute(
            "INSERT INTO spike_state(key, value) VALUES ('mix_forests', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [forests.to_bytes()],
        )
    tick(steps, steps)
    days = len(table.starts) - start
    return KeptRun(days, fc, last)


def _checkpoint(state: dict, table, start: int):
    """The kept detector checkpoint, when it was made on these series and starts at or before `start`."""
    from incidents.spikes.resume import Checkpoint

    blob = state.get("checkpoint")
    if not blob or state.get("checkpoint_series") != json.dumps(table.names):
        return None
    try:
        ck = Checkpoint.from_bytes(bytes(blob))
    except (ValueError, KeyError, OSError):
        return None  # unreadable: judge from the first day
    if ck.t0 > start or ck.phi.shape[0] != len(table.names):
        return None
    return ck


def _clear(conn: sqlite3.Connection) -> None:
    for name in (
        "spike_days",
        "spike_notes",
        "spike_mix_days",
        "spike_mix_flags",
        "spike_targets",
        "spike_feed_days",
    ):
        conn.execute(f"DELETE FROM {name}")


def _save_state(conn: sqlite3.Connection, values: dict[str, str]) -> None:
    conn.executemany(
        "INSERT INTO spike_state(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        list(values.items()),
    )


def _first_changed(conn, state: dict, first: str, last: str, today: str | None, max_rowid: int) -> str | None:
    """The earliest day whose verdict must be (re)computed; None when every kept verdict stands."""
    if state.get("version") != VERSION or state.get("first_day") != first or not state.get("last_day"):
        return first
    last_rowid = int(state.get("last_rowid", 0))
    added, earliest = conn.execute(
        "SELECT count(*), min(day) FROM incidents WHERE rowid > ?", [last_rowid]
    ).fetchone()
    if max_rowid < last_rowid:
        return first
    if added == 0 and state.get("today", "") == (today or "") and state["last_day"] == last:
        # Nothing was added: unless rows were deleted or replaced, every kept verdict stands.
        if str(_stored_count(conn)) == state.get("count"):
            return None
        return first
    total = _stored_count(conn)
    if total != int(state.get("count", -1)) + added:
        return first  # rows were deleted or replaced in place: recount everything
    candidates = [d for d in (earliest,) if d]
    if state["last_day"] < last:
        candidates.append(str(np.datetime64(state["last_day"]) + 1))
    provisional = conn.execute("SELECT min(day) FROM spike_days WHERE final = 0").fetchone()[0]
    if provisional:
        candidates.append(provisional)
    if today is not None and today <= last:
        candidates.append(today)
    return max(first, min(candidates)) if candidates else None


def _count_table(conn, first: str, last: str, fc: str, full: bool):
    """Total and per-category daily counts, first..last: kept counts before `fc`, fresh from it on."""
    from incidents.spikes.series import CountTable, calendar

    days = calendar(np.datetime64(first), np.datetime64(last), "day")
    fresh = conn.execute(
        "SELECT day, category, count(*) FROM incidents WHERE day >= ? GROUP BY day, category", [fc]
    ).fetchall()
    kept: list[tuple[str, str, int]] = []
    if not full:
        kept = conn.execute(
            "SELECT day, series, count FROM spike_days WHERE day < ? AND series != 'total'", [fc]
        ).fetchall()
    kept_series = set() if full else {r[0] for r in conn.execute("SELECT DISTINCT series FROM spike_days")}
    names = ["total", *sorted({r[1] for r in fresh} | {r[1] for r in kept} | (kept_series - {"total"}))]
    index = {n: k for k, n in enumerate(names)}
    counts = np.zeros((len(names), len(days)))
    for day, cat, n in [*kept, *fresh]:
        col = (np.datetime64(day) - days[0]).astype(int)
        counts[index[cat], col] += n
        counts[0, col] += n
    return CountTable(names, days, counts, np.ones_like(counts, dtype=bool), "day"), kept_series


def verdict_rows(
    table, verdicts, start: int, kept_series: set, today: str | None, judged_at: str
) -> list[tuple]:
    """spike_days rows for every series from column `start` on (every column of a series not kept)."""
    from incidents.spikes import explain

    rows = []
    records_from = explain.period_label(table.starts[0], "day")
    labels = table.starts.astype(str)
    for i, name in enumerate(table.names):
        counts = table.counts[i]
        lo = start if name in kept_series else 0
        for c in range(lo, len(labels)):
            day = labels[c]
            final = today is None or day < today
            mu = verdicts.expected[i, c]
            judged = not np.isnan(mu)
            level = float(f"{verdicts.level[i, c]:.3g}") if judged else None
            if not verdicts.alarm[i, c]:
                rows.append(
                    (
                        name, day, int(counts[c]),
                        float(mu) if judged else None,
                        float(verdicts.upper[i, c]) if judged else None,
                        level,
                        float(verdicts.score[i, c]) if judged else None,
                        0, int(final), None, None, None, None, None, None, judged_at,
                    )
                )  # fmt: skip
                continue
            w = int(verdicts.span[i, c])
            if w > 1:
                totals = np.convolve(counts, np.ones(w))[: len(counts)]
                history, value = totals[:c], float(totals[c])
            else:
                history, value = counts[:c], counts[c]
            since = explain.since_label(history, value, table.starts[:c], "day")
            rows.append(
                (
                    name, day, int(counts[c]), float(mu), float(verdicts.upper[i, c]), level,
                    float(verdicts.score[i, c]), 1, int(final), w,
                    int(value) if w > 1 else int(counts[c]),
                    float(verdicts.span_expected[i, c]), float(verdicts.span_upper[i, c]),
                    since, records_from, judged_at,
                )
            )  # fmt: skip
    return rows


def _keep_mix_inputs(conn, fc: str, last_rowid: int, full: bool) -> None:
    """Each target's first day (from the rows added since `last_rowid`), and per day from `fc` on:
    distinct targets, distinct sources, targets seen for the first time."""
    conn.execute(
        "INSERT INTO spike_targets(target, first_day) SELECT target, min(day) FROM incidents "
        "WHERE rowid > ? AND target IS NOT NULL AND target != '' GROUP BY target "
        "ON CONFLICT(target) DO UPDATE SET first_day = min(first_day, excluded.first_day)",
        [last_rowid],
    )
    conn.execute(
        "INSERT INTO spike_feed_days(feed, day, count, last_at) SELECT coalesce(feed, ''), day, count(*), "
        "max(occurred_at) FROM incidents WHERE rowid > ? GROUP BY 1, 2 ON CONFLICT(feed, day) DO UPDATE "
        "SET count = count + excluded.count, last_at = max(last_at, excluded.last_at)",
        [last_rowid],
    )
    conn.execute("DELETE FROM spike_mix_days WHERE day >= ?", [fc])
    # From the first day on, one pass over the table beats a random read per row through the index.
    hint = "NOT INDEXED" if full else ""
    spread = conn.execute(
        f"SELECT day, count(DISTINCT target), count(DISTINCT source_ip) FROM incidents {hint} "
        "WHERE day >= ? GROUP BY day",
        [fc],
    ).fetchall()
    fresh = dict(
        conn.execute(
            "SELECT first_day, count(*) FROM spike_targets WHERE first_day >= ? GROUP BY first_day", [fc]
        ).fetchall()
    )
    conn.executemany(
        "INSERT INTO spike_mix_days(day, targets, sources, fresh) VALUES (?, ?, ?, ?)",
        [(day, t, s, fresh.get(day, 0)) for day, t, s in spread],
    )


def mix_features(conn, table) -> tuple[np.ndarray, list[str], np.ndarray]:
    """mix.day_features from the kept counts and mix inputs: (days, feature names, values)."""
    from incidents.taxonomy import CATEGORIES

    days = table.starts
    cats = list(CATEGORIES)
    names = [f"{c} incidents" for c in cats] + [
        "distinct targets",
        "distinct sources",
        "share of new targets",
    ]
    values = np.zeros((len(days), len(names)))
    for k, cat in enumerate(cats):
        if cat in table.names:
            values[:, k] = table.counts[table.names.index(cat)]
    n = len(cats)
    fresh = np.zeros(len(days))
    for day, targets, sources, new in conn.execute("SELECT day, targets, sources, fresh FROM spike_mix_days"):
        col = (np.datetime64(day) - days[0]).astype(int)
        if 0 <= col < len(days):
            values[col, n : n + 2] = (targets, sources)
            fresh[col] = new
    with np.errstate(invalid="ignore", divide="ignore"):
        values[:, n + 2] = np.where(values[:, n] > 0, fresh / values[:, n], 0.0)
    return days, names, values


def _keep_mix_flags(conn, table, fc: str, today: str | None, kept_forests: bytes | None):
    """Flag the unusual-mix days from `fc` on; returns the forests used (the newest block's is kept,
    so a day within a four-week block is scored without refitting: forest.py)."""
    from incidents.spikes.forest import ForestCache
    from incidents.spikes.mix import unusual_days

    days, names, values = mix_features(conn, table)
    forests = ForestCache.from_bytes(kept_forests)
    flags = unusual_days(days, names, values, since=fc, forests=forests)
    conn.executemany(
        "INSERT INTO spike_mix_flags(day, score, threshold, features, explanation, final) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                f.date,
                f.score,
                f.threshold,
                json.dumps(f.features),
                f.explanation,
                int(today is None or f.date < today),
            )
            for f in flags
        ],
    )
    return forests


def parse_day(text: str) -> date:
    return date.fromisoformat(text)
