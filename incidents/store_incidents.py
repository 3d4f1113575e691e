"""The incidents table: adding incidents, browsing them (target search), one incident and its history."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from incidents.store_counts import _day_filter
from incidents.store_open import has_table

if TYPE_CHECKING:
    import sqlite_utils

# Column order of the incidents table; `add_incidents` takes tuples in this order.
INCIDENT_COLUMNS = (
    "id",
    "occurred_at",
    "day",
    "category",
    "taxonomy",
    "type",
    "target",
    "target_kind",
    "source_ip",
    "sector",
    "feed",
    "severity",
    "status",
    "description",
    "run_id",
    "raw",
)


_INSERT = (
    f"INSERT OR IGNORE INTO incidents ({', '.join(INCIDENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in INCIDENT_COLUMNS)})"
)


def add_incidents(db: sqlite_utils.Database, rows: Sequence[tuple]) -> int:
    """Insert incident tuples (in INCIDENT_COLUMNS order); returns how many were new.

    An incident whose id is already stored is a duplicate report and is ignored (see ingest.incident_id).
    """
    # rowcount sums sqlite3_changes() over the rows: unlike total_changes it leaves out what triggers
    # write (the target search index), and an ignored duplicate counts 0.
    return db.conn.executemany(_INSERT, rows).rowcount


LISTED_COLUMNS = (
    "id",
    "occurred_at",
    "day",
    "category",
    "target",
    "sector",
    "feed",
    "severity",
    "status",
    "source_ip",
    "description",
)


def find_incidents(
    db: sqlite_utils.Database,
    *,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    sector: str | None = None,
    target: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict]:
    """Incidents, newest first, filtered by local day range, category, sector and target substring.

    The browsing query of the CLI and the TUI: it pages with limit/offset and never loads the raw record.
    """
    where, args = _day_filter(since, until, category)
    extra = []
    if sector:
        extra.append("sector = ?")
        args.append(sector)
    if target:
        clause, target_args = target_match(db, target)
        extra.append(clause)
        args.extend(target_args)
    if extra:
        where = (where + " AND " if where else "WHERE ") + " AND ".join(extra)
    sql = (
        f"SELECT {', '.join(LISTED_COLUMNS)} FROM incidents {where} "
        "ORDER BY day DESC, occurred_at DESC, id LIMIT ? OFFSET ?"
    )
    return list(db.query(sql, [*args, int(limit), int(offset)]))


TARGET_INDEX = "incidents_target"
# The trigram tokenizer indexes runs of three characters: shorter text cannot use the index.
TRIGRAM = 3


def like_pattern(text: str) -> str:
    """`%text%` for `LIKE ... ESCAPE '\\'`, with %, _ and the escape itself taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def target_clause(text: str, *, restored: bool = False) -> tuple[str, list]:
    """The WHERE clause (and its arguments) for incidents whose target contains `text`, ignoring case.

    Served by the FTS5 trigram index `incidents_target` (migration _v6_target_search): the phrase
    query finds the rowids whose target holds the text's trigrams in a row, and `LIKE` re-checks those
    few rows, so the result is exactly the substring match (ASCII case folded, as LIKE does) and
    `%`, `_` are taken literally. Text shorter than 3 characters cannot use a trigram index and falls
    back to LIKE over the table (a scan). On a store older than the index the query fails with "no such
    table" (see explain): target_match checks for the table first.
    """
    pattern = like_pattern(text)
    if len(text) < TRIGRAM:
        return "target LIKE ? ESCAPE '\\'", [pattern]
    phrase = '"' + text.replace('"', '""') + '"'
    found = f"rowid IN (SELECT rowid FROM {TARGET_INDEX} WHERE {TARGET_INDEX} MATCH ?)"
    if restored:  # rows a running run replaced are out of the index: the view gives them rowids below 0
        found = f"({found} OR rowid < 0)"
    clause = f"{found} AND target LIKE ? ESCAPE '\\'"
    return clause, [phrase, pattern]


def target_match(db, text: str) -> tuple[str, list]:
    """target_clause, falling back to LIKE over the table on a store without the index (an older release)."""
    if not has_table(db, TARGET_INDEX):
        return "target LIKE ? ESCAPE '\\'", [like_pattern(text)]
    return target_clause(text, restored=bool(getattr(getattr(db, "conn", db), "_restored_rows", False)))


def get_incident(db: sqlite_utils.Database, incident_id: str) -> dict | None:
    """One incident with everything stored about it, the original record included."""
    rows = list(db.query("SELECT * FROM incidents WHERE id = ?", [incident_id]))
    if rows:
        rows[0].pop("rowid", None)  # a reader's view of the table carries it (completed.py)
    return rows[0] if rows else None


def incident_history(conn: sqlite3.Connection, incident_id: str) -> list[dict]:
    """Earlier versions of an incident, newest first: [{"incident_id", "run_id", "replaced_at", "old"}],
    `old` being the replaced row as {column: value}.

    Every version replaced under the same feed and record id (`record_key`) belongs to it; a correction may
    change the incident's id (its day or target is part of the id), so without a record key the chain of
    replacements is followed back through `new_incident_id`. Returns [] on a store without the table.
    """
    import json

    try:
        key = conn.execute("SELECT record_key FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if key and key[0]:
            rows = conn.execute(
                "SELECT incident_id, run_id, replaced_at, old FROM incident_history WHERE record_key = ? "
                "ORDER BY id DESC",
                (key[0],),
            ).fetchall()
        else:
            rows = conn.execute(
                """
                WITH RECURSIVE chain(incident_id) AS (
                    SELECT ?
                    UNION SELECT h.incident_id FROM incident_history h
                    JOIN chain c ON h.new_incident_id = c.incident_id
                )
                SELECT incident_id, run_id, replaced_at, old FROM incident_history
                WHERE new_incident_id IN (SELECT incident_id FROM chain) ORDER BY id DESC
                """,
                (incident_id,),
            ).fetchall()
    except sqlite3.OperationalError:  # an older store: no history kept
        return []
    return [{"incident_id": r[0], "run_id": r[1], "replaced_at": r[2], "old": json.loads(r[3])} for r in rows]
