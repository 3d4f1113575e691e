"""The store's derived tables (target search index, day_counts, incident_count), kept once per batch.

Triggers keep them per row for every writer (migrations _v6, _v8, _v9). A bulk writer (ingest) inserts a
batch with those three AFTER INSERT triggers dropped inside its own SAVEPOINT, re-creates them from
their own stored SQL before the SAVEPOINT is released, and brings the three tables up to date with one
statement each from the rows the batch added. SQLite's DDL is transactional: no other connection ever
sees the triggers missing (it cannot write while we hold the write lock, and readers see the last commit),
and a crash or an error rolls the drop back with the batch. Measured on 10^5 realistic rows
(bench/ingest.py): the per-row FTS5 trigger costs about 43 us a row, the batch INSERT ... SELECT about 8.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

_SAVEPOINT = "batch_upkeep"
# The AFTER INSERT triggers stood aside during a batch, each with the statement that does its work for
# every incident with rowid > ? (the batch's).
_CATCH_UP = {
    "incidents_target_ai": (
        "INSERT INTO incidents_target(rowid, target) "
        "SELECT rowid, target FROM incidents WHERE rowid > ? AND target IS NOT NULL"
    ),
    # `WHERE` before ON CONFLICT keeps the parser from reading ON as a join (SQLite's UPSERT notes).
    "day_counts_ai": (
        "INSERT INTO day_counts(day, category, n) "
        "SELECT day, category, count(*) FROM incidents WHERE rowid > ? GROUP BY day, category "
        "ON CONFLICT(day, category) DO UPDATE SET n = n + excluded.n"
    ),
    "incident_count_ai": "UPDATE incident_count SET n = n + (SELECT count(*) FROM incidents WHERE rowid > ?)",
}


def insert_batch(conn: sqlite3.Connection, insert_sql: str, rows: Iterable[tuple]) -> int:
    """Run `insert_sql` (an INSERT [OR IGNORE] INTO incidents) for every row; returns the rows added.

    All or nothing, inside a SAVEPOINT (within the caller's transaction if one is open, else its own):
    the triggers are back and the search index, day_counts and incident_count up to date before it is
    released. Raises what SQLite raises (sqlite3.Error), after undoing the partial batch.
    """
    conn.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        triggers = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'incidents' "
            f"AND name IN ({', '.join('?' * len(_CATCH_UP))})",
            list(_CATCH_UP),
        ).fetchall()
        # New rows take rowids above the largest stored one (the table has no AUTOINCREMENT, and
        # INSERT OR IGNORE uses no rowid for an ignored row): they are exactly `rowid > before`.
        before = conn.execute("SELECT coalesce(max(rowid), 0) FROM incidents").fetchone()[0]
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        added = conn.executemany(insert_sql, rows).rowcount
        for _, sql in triggers:
            conn.execute(sql)
        if added > 0:
            for name, _ in triggers:
                conn.execute(_CATCH_UP[name], (before,))
    except BaseException:
        try:
            conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
            conn.execute(f"RELEASE {_SAVEPOINT}")
        except sqlite3.Error:
            pass  # the caller's rollback of the whole transaction undoes it too
        raise
    conn.execute(f"RELEASE {_SAVEPOINT}")
    return added


def derived_differences(conn: sqlite3.Connection) -> list[str]:
    """What differs between the derived tables and a recomputation from `incidents`; [] when all agree.

    Reads the whole table (seconds at 10^7): for tests and `doctor`, not for every command.
    """
    problems = []
    present = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    if missing := sorted(set(_CATCH_UP) - present):
        problems.append(f"triggers missing: {', '.join(missing)}")
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
    was_in_transaction = conn.in_transaction
    try:
        # rank 1: also check the index against the content table (https://sqlite.org/fts5.html#the_integrity_check_command)
        conn.execute("INSERT INTO incidents_target(incidents_target, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as e:
        problems.append(f"target search index: {e}")
    finally:
        if not was_in_transaction and conn.in_transaction:
            conn.rollback()  # the check writes nothing, but its INSERT opened a transaction
    return problems
