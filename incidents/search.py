"""Incident search: the filtered, paged, sorted query behind `incidents list`, `incidents show` and the TUI.

Plain `sqlite3` (no sqlite_utils, so read commands start fast), safe on a read-only connection. Every
filter is a bound parameter; the only SQL text built from input is the ORDER BY, taken from a fixed
table of column names. Days are local days of the store's reporting zone, 'YYYY-MM-DD', inclusive.

Speed (10^6-10^7 incidents): migration `_v3_search_index` keeps one covering index on
(day, category, severity, feed, sector), so a day range with any of those filters is an index range
scan that never reads the table, a count included; a page sorted by day walks the same index backwards
and stops after `offset + limit` matches. Without a day range each filter and each sort order has an
index that starts with it (category, sector: _v12; feed, severity by rank, target: _v14), so a page is
an index search and a count one index range (linear in the matches, never in the store). The target substring search is `target_clause()`, kept in one function so that an FTS5
trigram index can serve it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass, field

from incidents.store import INCIDENT_COLUMNS
from incidents.store_sql import SEVERITY_RANK, SEVERITY_RANKS, sector_name

# Columns of an IncidentRow, in table order; `raw` (the original record) only comes with get_incident.
ROW_COLUMNS = tuple(c for c in INCIDENT_COLUMNS if c != "raw")

# Sort keys a caller may ask for, and the ORDER BY each one means (ascending form). Ties are broken
# by the incident id so that pages never overlap or skip a row.
ORDERS = {
    "day": ("day", "occurred_at", "id"),
    "occurred_at": ("occurred_at", "id"),
    "category": ("category", "day", "occurred_at", "id"),
    "severity": ("severity_rank", "day", "occurred_at", "id"),
    "target": ("target", "day", "occurred_at", "id"),
    "sector": ("sector", "day", "occurred_at", "id"),
    "feed": ("feed", "day", "occurred_at", "id"),
    "id": ("id",),
}

_DAY = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class SearchError(ValueError):
    """A filter or sort order the search cannot use (a malformed day, an unknown order)."""


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents to show. Every field None means no restriction; all given fields must hold.

    since/until: local days 'YYYY-MM-DD', inclusive. sector: any case (store_sql.sector_name). category,
    feed, severity: exact values as
    stored (category a name from taxonomy.CATEGORIES, severity low|medium|high|critical).
    target: a substring of the target, case-insensitive for ASCII letters. run_id: the ingest or scan run
    that stored the incident.
    """

    category: str | None = None
    since: str | None = None
    until: str | None = None
    sector: str | None = None
    feed: str | None = None
    severity: str | None = None
    target: str | None = None
    run_id: int | None = None


@dataclass(frozen=True)
class IncidentRow:
    """One stored incident. `raw` (the original record as JSON text) and `history` (earlier versions of
    a record that a feed re-sent corrected, oldest first, as dicts) are filled by get_incident only."""

    id: str
    occurred_at: str  # UTC, 'YYYY-MM-DDTHH:MM:SSZ'
    day: str  # local day in the reporting zone
    category: str
    taxonomy: str | None
    type: str | None
    target: str | None
    target_kind: str | None
    source_ip: str | None
    sector: str | None
    feed: str | None
    severity: str | None
    status: str | None
    description: str | None
    run_id: int | None
    raw: str | None = None
    history: tuple[dict, ...] = field(default=())

    def as_dict(self) -> dict:
        d = asdict(self)
        d["history"] = list(self.history)
        return d


def _connection(conn) -> sqlite3.Connection:
    # A sqlite_utils.Database wraps its sqlite3 connection as `.conn`.
    return getattr(conn, "conn", conn)


def _restores(conn) -> bool:
    """Whether a reader's view of the incidents holds rows a running run replaced (incidents.completed)."""
    return bool(getattr(_connection(conn), "_restored_rows", False))


def _check_day(name: str, value: str | None) -> None:
    if value is not None and not _DAY.match(value):
        raise SearchError(f"{name} must be a day YYYY-MM-DD, got {value!r}")


def target_clause(target: str, *, restored: bool = False) -> tuple[str, list]:
    """The WHERE clause (and its parameters) for "the target contains `target`", case-insensitively.

    The FTS5 trigram index of the targets (store.target_clause): an index search, then LIKE with the
    wildcards in `target` escaped re-checks the matched rows, so `%` and `_` are matched literally.
    `restored`: the reader's view also holds rows a running run replaced (incidents.completed).
    """
    from incidents.store import target_clause as indexed

    return indexed(target, restored=restored)


def where_clause(flt: IncidentFilter, *, restored: bool = False) -> tuple[str, list]:
    """`WHERE ...` (or '') and its parameters for a filter; raises SearchError for a malformed day."""
    _check_day("since", flt.since)
    _check_day("until", flt.until)
    clauses: list[str] = []
    args: list = []
    if flt.since is not None:
        clauses.append("day >= ?")
        args.append(flt.since)
    if flt.until is not None:
        clauses.append("day <= ?")
        args.append(flt.until)
    ranged = flt.since is not None or flt.until is not None
    for column in ("category", "severity", "feed", "sector"):
        value = getattr(flt, column)
        if value is None:
            continue
        if column == "sector":
            value = sector_name(value) or value  # stored folded (migration _v15): any spelling finds it
        if column == "severity" and not ranged and value in SEVERITY_RANKS:
            # No day range: the (rank, day) index (_v14) finds them; the rank names exactly one severity.
            clauses.append(f"({SEVERITY_RANK}) = ?")
            args.append(SEVERITY_RANKS[value])
            continue
        # With a day range, the covering (day, category, severity, feed, sector) index serves the
        # page and the count without reading a row; unary + keeps SQLite from preferring the
        # (category, day) / (sector, day) / (feed, day) index, which is for no day range (_v12, _v14)
        # and not covering.
        unary = "+" if ranged and column in ("category", "sector", "feed") else ""
        clauses.append(f"{unary}{column} = ?")
        args.append(value)
    if flt.run_id is not None:
        clauses.append("run_id = ?")
        args.append(int(flt.run_id))
    if flt.target:
        sql, targs = target_clause(flt.target, restored=restored)
        clauses.append(sql)
        args.extend(targs)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def _order_by(order: str, descending: bool) -> str:
    try:
        keys = ORDERS[order]
    except KeyError:
        raise SearchError(f"unknown order {order!r} (one of {', '.join(ORDERS)})") from None
    direction = "DESC" if descending else "ASC"
    return ", ".join(f"{k} {direction}" for k in keys)


def find_incidents(
    conn,
    flt: IncidentFilter,
    *,
    order: str = "day",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[IncidentRow]:
    """A page of incidents matching `flt`, sorted by `order` (a key of ORDERS), newest first by default.

    `limit` rows at most (None or a negative limit: all of them), after skipping `offset`. The raw
    record is not loaded (see get_incident). Raises SearchError for a malformed day or unknown order.
    """
    where, args = where_clause(flt, restored=_restores(conn))
    order_sql = _order_by(order, descending)
    select = ", ".join(ROW_COLUMNS)
    if order == "severity":
        select += f", {SEVERITY_RANK} AS severity_rank"
    lim = -1 if limit is None or limit < 0 else int(limit)
    sql = f"SELECT {select} FROM incidents {where} ORDER BY {order_sql} LIMIT ? OFFSET ?"
    cur = _connection(conn).execute(sql, [*args, lim, max(0, int(offset))])
    n = len(ROW_COLUMNS)
    return [IncidentRow(*row[:n]) for row in cur]


def count_incidents(conn, flt: IncidentFilter) -> int:
    """How many incidents match `flt` (the "of N" beside a page). Raises SearchError like find_incidents."""
    where, args = where_clause(flt, restored=_restores(conn))
    c = _connection(conn)
    if not where:  # kept by triggers (migration _v8_incident_count): no walk over every row
        from incidents.store import stored_count

        known = stored_count(c)
        if known is not None:
            return known
    if not (flt.sector or flt.feed or flt.severity or flt.run_id is not None or flt.target):
        from incidents.store import has_table

        if has_table(c, "day_counts"):  # kept by triggers (_v9_day_counts): sums days, not rows
            return c.execute(f"SELECT coalesce(sum(n), 0) FROM day_counts {where}", args).fetchone()[0]
    return c.execute(f"SELECT count(*) FROM incidents {where}", args).fetchone()[0]


def get_incident(conn, incident_id: str) -> IncidentRow | None:
    """One incident with its original record (`raw`, JSON text as the feed sent it) and history, or None."""
    c = _connection(conn)
    row = c.execute(
        f"SELECT {', '.join(ROW_COLUMNS)}, raw FROM incidents WHERE id = ?", [incident_id]
    ).fetchone()
    if row is None:
        return None
    from incidents.store import incident_history

    return IncidentRow(*row, history=tuple(incident_history(c, incident_id)))


MIN_PREFIX = 6


def resolve_id(conn, text: str) -> str:
    """The full id of the one incident whose id is `text` or starts with it (at least MIN_PREFIX
    characters). Raises SearchError naming the problem: no such incident, or several share the prefix."""
    c = _connection(conn)
    if c.execute("SELECT 1 FROM incidents WHERE id = ?", [text]).fetchone():
        return text
    if len(text) < MIN_PREFIX:
        raise SearchError(f"no incident with id {text!r} (a prefix needs at least {MIN_PREFIX} characters)")
    # A range on the primary key, not LIKE: the prefix may hold % or _, and the range uses the index.
    found = [r[0] for r in c.execute("SELECT id FROM incidents WHERE id >= ? AND id < ? ORDER BY id LIMIT 3",
                                      [text, text + "\U0010ffff"])]  # fmt: skip
    if not found:
        raise SearchError(f"no incident with id {text!r}")
    if len(found) > 1:
        raise SearchError(f"{len(found) if len(found) < 3 else 'several'} incidents have ids starting {text!r}: "
                          + ", ".join(found[:2]) + "; give more characters")  # fmt: skip
    return found[0]


# What a table for people prints of an id: never fewer characters than this (git's short hashes do the same).
SHORT_ID = 7


def unique_prefixes(conn, ids, minimum: int = SHORT_ID) -> dict[str, str]:
    """Each id's shortest prefix, at least `minimum` characters, that resolve_id takes to that id alone.

    A prefix one character longer than what the id shares with its neighbours in id order (the ids
    just below and just above it) is shared by no other id. Two index searches per id; unique now, a
    prefix can become ambiguous as incidents arrive, so scripts print the full id."""
    c = _connection(conn)
    out = {}
    for incident_id in ids:
        shared = 0
        for sql in (
            "SELECT id FROM incidents WHERE id < ? ORDER BY id DESC LIMIT 1",
            "SELECT id FROM incidents WHERE id > ? ORDER BY id LIMIT 1",
        ):
            row = c.execute(sql, [incident_id]).fetchone()
            if row is not None:
                shared = max(shared, _common_length(incident_id, row[0]))
        out[incident_id] = incident_id[: max(minimum, shared + 1)]
    return out


def _common_length(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def original_record(row: IncidentRow):
    """The original record of an incident as the feed sent it: parsed JSON, or the raw text if not JSON."""
    import json

    if row.raw is None:
        return None
    try:
        return json.loads(row.raw)
    except ValueError:
        return row.raw
