"""SQL pieces every reader of the store shares: a WHERE clause from optional filters, table checks."""

from __future__ import annotations

import sqlite3
import unicodedata
from functools import lru_cache

# Severity in the order of its meaning (low < medium < high < critical, anything else first), as one SQL
# expression: `list --order severity` and `--severity X` use it, and migration _v14 indexes it. SQLite
# matches an index on an expression to the same expression in a query, so it is written in one place.
# Never change it: the index of every store holds it.
SEVERITY_RANK = "CASE severity WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 ELSE 0 END"
SEVERITY_RANKS = {"low": 1, "medium": 2, "high": 3, "critical": 4}


@lru_cache(maxsize=4096)
def sector_name(value: str | None) -> str | None:
    """The one stored spelling of a sector: Unicode NFC, lower case, inner blanks as one space
    ('Government', 'GOVERNMENT ', 'government' are one sector; 'Tài chính' and 'tài chính' too).
    A feed writes a handful of sectors a million times, hence the cache. None stays None."""
    if value is None:
        return None
    return " ".join(unicodedata.normalize("NFC", value).lower().split()) or None


def where_clause(*filters: tuple[str, object], always: list[str] | tuple[str, ...] = ()) -> tuple[str, list]:
    """`"WHERE c1 AND c2 ..."` (or `""` when there is nothing to filter) and its arguments, in order.

    `filters`: (clause with one `?`, value) pairs; a pair whose value is None or empty is left out, so
    optional command-line filters pass straight through: `where_clause(("day >= ?", since),
    ("category = ?", category))`. `always`: clauses without arguments that come first (`"alarm = 1"`).
    """
    clauses, args = list(always), []
    for clause, value in filters:
        if value:
            clauses.append(clause)
            args.append(value)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def connection(db) -> sqlite3.Connection:
    """The sqlite3 connection of a sqlite_utils Database, or the connection itself."""
    return getattr(db, "conn", db)


def has_tables(conn: sqlite3.Connection, *names: str) -> bool:
    """True when every table named exists (read-only: an older store simply lacks the newer ones)."""
    row = conn.execute(
        f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({', '.join('?' * len(names))})",
        names,
    ).fetchone()
    return row[0] == len(names)
