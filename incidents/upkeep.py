"""The store's derived tables (target search index, day_counts, incident_count), kept once per batch.

Triggers keep them per row for every writer (migrations _v6, _v8, _v9). A bulk writer inserts a batch
with those AFTER INSERT triggers standing aside (`batch_upkeep.deferred`, migration _v11) and brings the
three tables up to date with one statement each, from the rows the batch added: the FTS5 insert alone
costs about 5 times less that way (bench/ingest.py prints the figures).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

_SAVEPOINT = "batch_upkeep"


def insert_batch(conn: sqlite3.Connection, insert_sql: str, rows: Iterable[tuple]) -> int:
    """Run `insert_sql` (an INSERT [OR IGNORE] INTO incidents) for every row; returns the rows added.

    All or nothing, inside a SAVEPOINT (within the caller's transaction if one is open, else its own):
    the search index, day_counts and incident_count are brought up to date before it is released, so
    nothing outside this function ever sees them behind, nor the triggers deferred. Raises what SQLite
    raises (sqlite3.Error), after undoing the partial batch.
    """
    conn.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        # New rows take rowids above the largest stored one (the table has no AUTOINCREMENT, and
        # INSERT OR IGNORE uses no rowid for an ignored row): they are exactly `rowid > before`.
        before = conn.execute("SELECT coalesce(max(rowid), 0) FROM incidents").fetchone()[0]
        conn.execute("UPDATE batch_upkeep SET deferred = 1")
        added = conn.executemany(insert_sql, rows).rowcount
        conn.execute("UPDATE batch_upkeep SET deferred = 0")
        if added > 0:
            catch_up(conn, before, added)
    except BaseException:
        try:
            conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
            conn.execute(f"RELEASE {_SAVEPOINT}")
        except sqlite3.Error:
            pass  # the caller's rollback of the whole transaction undoes it too
        raise
    conn.execute(f"RELEASE {_SAVEPOINT}")
    return added


def catch_up(conn: sqlite3.Connection, after_rowid: int, added: int) -> None:
    """Index the incidents with rowid > after_rowid (inserted with the triggers deferred), `added` of them."""
    conn.execute(
        "INSERT INTO incidents_target(rowid, target) "
        "SELECT rowid, target FROM incidents WHERE rowid > ? AND target IS NOT NULL",
        (after_rowid,),
    )
    # `WHERE` before ON CONFLICT keeps the parser from reading ON as a join (SQLite's UPSERT notes).
    conn.execute(
        "INSERT INTO day_counts(day, category, n) "
        "SELECT day, category, count(*) FROM incidents WHERE rowid > ? GROUP BY day, category "
        "ON CONFLICT(day, category) DO UPDATE SET n = n + excluded.n",
        (after_rowid,),
    )
    conn.execute("UPDATE incident_count SET n = n + ?", (added,))


def derived_differences(conn: sqlite3.Connection) -> list[str]:
    """What differs between the derived tables and a recomputation from `incidents`; [] when all agree.

    Reads the whole table (seconds at 10^7): for tests and `doctor`, not for every command.
    """
    problems = []
    deferred = conn.execute("SELECT deferred FROM batch_upkeep").fetchall()
    if deferred != [(0,)]:
        problems.append(f"batch_upkeep.deferred is {deferred}, expected [(0,)]")
    stored = conn.execute("SELECT n FROM incident_count").fetchall()
    counted = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    if stored != [(counted,)]:
        problems.append(f"incident_count {stored} but {counted} incidents")
    kept = {(d, c): n for d, c, n in conn.execute("SELECT day, category, n FROM day_counts WHERE n != 0")}
    recount = {
        (d, c): n
        for d, c, n in conn.execute("SELECT day, category, count(*) FROM incidents GROUP BY day, category")
    }
    if kept != recount:
        wrong = sorted(k for k in kept.keys() | recount.keys() if kept.get(k) != recount.get(k))
        problems.append(f"day_counts differ from a recount on {len(wrong)} (day, category), e.g. {wrong[:3]}")
    try:
        # rank 1: also check the index against the content table (https://sqlite.org/fts5.html#the_integrity_check_command)
        conn.execute("INSERT INTO incidents_target(incidents_target, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as e:
        problems.append(f"target search index: {e}")
    return problems
