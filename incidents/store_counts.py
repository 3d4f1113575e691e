"""Counting the stored incidents: in all, per local day, per month, and the spread of each day."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from incidents.store_open import has_table
from incidents.store_sql import where_clause

if TYPE_CHECKING:
    import sqlite_utils


def count_incidents(db: sqlite_utils.Database) -> int:
    """The number of stored incidents: the count the triggers keep (_v8_incident_count), else count(*)."""
    known = stored_count(db)
    return known if known is not None else db.execute("SELECT count(*) FROM incidents").fetchone()[0]


def stored_count(db) -> int | None:
    """The number of incidents as the triggers of migration _v8_incident_count keep it; None before it."""
    try:
        row = db.execute("SELECT n FROM incident_count").fetchone()
    except sqlite3.OperationalError:  # an older store, read as it is
        return None
    return row[0] if row else None


def day_counts(
    db: sqlite_utils.Database,
    *,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    by_category: bool = False,
) -> list[tuple]:
    """Incidents per local day (reporting zone): rows of (day, count) or (day, category, count), ordered.

    Days without incidents are absent; callers that need a regular series fill them with zero.
    """
    where, args = _day_filter(since, until, category)
    cols = "day, category" if by_category else "day"
    if has_table(db, "day_counts"):  # kept by triggers (migration _v9_day_counts)
        where = (where + " AND" if where else "WHERE") + " n > 0"
        sql = f"SELECT {cols}, sum(n) FROM day_counts {where} GROUP BY {cols} ORDER BY {cols}"
    else:  # an older store, read as it is
        sql = f"SELECT {cols}, count(*) FROM incidents {where} GROUP BY {cols} ORDER BY {cols}"
    return db.execute(sql, args).fetchall()


def month_counts(
    db: sqlite_utils.Database, *, since: str | None = None, until: str | None = None
) -> list[tuple[str, str, int]]:
    """Incidents per reporting month and category: rows of ('YYYY-MM', category, count), ordered.

    `since` and `until` are days ('YYYY-MM-DD', inclusive).
    """
    if has_table(db, "day_counts"):  # a few thousand kept rows: SQLite sums them into months
        where, args = _day_filter(since, until, None)
        where = (where + " AND" if where else "WHERE") + " n > 0"
        sql = f"SELECT substr(day, 1, 7) AS m, category, sum(n) FROM day_counts {where} GROUP BY m, category ORDER BY m, category"
        return [tuple(r) for r in db.execute(sql, args).fetchall()]
    # An older store: grouping by (day, category) follows the covering index with no temporary B-tree;
    # summing the few thousand day rows into months here is 3x faster than GROUP BY substr(day, 1, 7).
    months: dict[tuple[str, str], int] = {}
    for day, category, n in day_counts(db, since=since, until=until, by_category=True):
        key = (day[:7], category)
        months[key] = months.get(key, 0) + n
    return [(m, c, n) for (m, c), n in sorted(months.items())]


def _day_filter(since: str | None, until: str | None, category: str | None) -> tuple[str, list]:
    return where_clause(("day >= ?", since), ("day <= ?", until), ("category = ?", category))


def day_spread(db: sqlite_utils.Database, *, until: str | None = None) -> list[tuple[str, int, int]]:
    """Per local day: (day, distinct targets, distinct source IPs), ordered; days without incidents absent."""
    where, args = _day_filter(None, until, None)
    # One pass over the table: through the (day, category) index every row would be a random read,
    # 2.1 s instead of 0.8 s on a million incidents (measured); the filter keeps most rows anyway.
    sql = (
        "SELECT day, count(DISTINCT target), count(DISTINCT source_ip) FROM incidents NOT INDEXED "
        f"{where} GROUP BY day ORDER BY day"
    )
    return db.execute(sql, args).fetchall()


def new_targets(db: sqlite_utils.Database, *, until: str | None = None) -> list[tuple[str, int]]:
    """Per local day: (day, targets seen that day for the first time in the store), ordered."""
    sql = (
        "SELECT first, count(*) FROM (SELECT min(day) AS first FROM incidents WHERE target IS NOT NULL "
        "AND target != '' GROUP BY target) "
        + ("WHERE first <= ? " if until else "")
        + "GROUP BY first ORDER BY first"
    )
    return db.execute(sql, [until] if until else []).fetchall()


def data_span(db: sqlite_utils.Database) -> tuple[str | None, str | None]:
    """First and last local day with an incident."""
    # Two index searches: min() and max() in one SELECT would walk the whole (day, category) index.
    first = db.execute("SELECT min(day) FROM incidents").fetchone()[0]
    last = db.execute("SELECT max(day) FROM incidents").fetchone()[0]
    return first, last


def cutoff(db: sqlite_utils.Database) -> str | None:
    """The data's cut-off: the UTC time the last ingest or scan finished."""
    row = db.execute("SELECT max(finished_at) FROM ingest_runs WHERE status = 'ok'").fetchone()
    return row[0] if row else None
