"""Readers see completed ingest runs only: the rows of a run still 'running' are hidden from them.

Ingest commits a large file in batches under a run marked `ok` only at its end (incidents.ingest.runs),
so between two batches, or after a kill -9 until the next ingest undoes the run (`runs.recover`), the
store holds part of a file. A read connection (store.open_read) reads one snapshot (a read transaction
held from the open) and, only when that snapshot holds runs left 'running', gets TEMP views that shadow
the tables readers query under the same names (SQLite resolves an unqualified name in `temp` before
`main`, https://sqlite.org/lang_naming.html):

- `incidents`: the rows of other runs, plus the rows the running runs replaced (their corrections keep the
  old row in `incident_history`; undo puts it back), so a reader sees the store as if the runs had not
  started; the view carries `rowid` as its last column, so rowid filters (the target search's FTS5 join,
  the kept-verdict watermark) work through it;
- `day_counts` and `incident_count` (kept by triggers): the kept figures minus the running runs' rows,
  plus what they replaced;
- `rejects` and `incident_history`: without the running runs' rejects and replaced versions.

With no run running (the usual case) nothing is created and every plan stays as it is; with one, the
index `incidents_run` (migration `_v11_incidents_run`) finds its rows without a walk over the table.
Long-lived readers (the TUI) call `refresh` before each query: a new snapshot, the views redone when the
set of running runs changed.
"""

from __future__ import annotations

import sqlite3

_VIEWS = ("incidents", "day_counts", "incident_count", "rejects", "incident_history", "incidents_restored")


def running_runs(conn: sqlite3.Connection, schema: str = "main") -> list[int]:
    """Ids of the ingest runs marked 'running' in the connection's snapshot ([] on a store without runs);
    `schema`: the store's schema name in the connection (an attached store's)."""
    try:
        return [
            r[0]
            for r in conn.execute(f"SELECT id FROM {schema}.ingest_runs WHERE status = 'running' ORDER BY id")
        ]
    except sqlite3.OperationalError:
        return []


def begin_snapshot(conn: sqlite3.Connection) -> None:
    """Start a read transaction that later statements share (WAL: a consistent snapshot of the store).

    Only in WAL mode: there a held snapshot never makes a writer wait. A store still in a rollback journal
    (an older release not yet migrated) is left in autocommit, since a held read lock there would block
    the next writer (its migration) for as long as the reader stays open; such a store has no batched
    run in progress, because every writer switches it to WAL first.
    """
    if conn.in_transaction:
        conn.commit()
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        return
    conn.execute("BEGIN")
    conn.execute("SELECT 1 FROM main.sqlite_master LIMIT 1").fetchall()  # the snapshot starts here


def hide_running(conn: sqlite3.Connection) -> list[int]:
    """Create (or drop) the TEMP views for the runs running in this snapshot; returns their ids."""
    ids = running_runs(conn)
    # Whether views are there is asked of the temp schema itself, never of a note kept beside it: a
    # statement interrupted in the snapshot's transaction (the TUI interrupts a superseded count) rolls
    # the whole transaction back, DROP VIEWs included, and a note would then say no view is left while
    # the views of a run completed since still hid its rows from every later count.
    if not ids and not _has_views(conn):
        return ids  # the usual case: nothing running, nothing to hide, no DDL
    for name in _VIEWS:
        conn.execute(f"DROP VIEW IF EXISTS temp.{name}")
    restored = False
    if ids:
        statements = view_statements(conn, ids)
        for sql in statements:
            conn.execute(sql)
        restored = any("FROM temp.incidents_restored" in sql for sql in statements)
    try:
        conn._restored_rows = restored  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return ids


def _has_views(conn: sqlite3.Connection) -> bool:
    names = ", ".join(f"'{n}'" for n in _VIEWS)
    return (
        conn.execute(f"SELECT 1 FROM temp.sqlite_master WHERE name IN ({names}) LIMIT 1").fetchone()
        is not None
    )


def refresh(conn: sqlite3.Connection) -> list[int]:
    """A new snapshot for a long-lived reader, and the views that go with it."""
    begin_snapshot(conn)
    return hide_running(conn)


def _tables(conn: sqlite3.Connection, schema: str = "main") -> set[str]:
    return {r[0] for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}


def view_statements(conn: sqlite3.Connection, ids: list[int], schema: str = "main") -> list[str]:
    """The CREATE TEMP VIEW statements hiding the runs `ids` (integers, inlined) of the store in `schema`
    (`main`, or the name an in-memory database attached it under: spikes.report.in_memory)."""
    runs = ", ".join(str(int(i)) for i in ids)
    tables = _tables(conn, schema)
    columns = [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info(incidents)")]
    listed = ", ".join(columns)
    mine = f"run_id IN ({runs})"
    others = f"(run_id IS NULL OR run_id NOT IN ({runs}))"
    statements = []
    restored = None
    if "incident_history" in tables:
        # The rows the running runs replaced, as undo would put them back: for each replaced incident the
        # latest version kept by these runs, unless another run's row holds that id.
        picked = ", ".join(f"json_extract(h.old, '$.{c}') AS {c}" for c in columns)
        statements.append(
            f"CREATE TEMP VIEW incidents_restored AS SELECT {picked}, h.id AS rowid FROM {schema}.incident_history h "
            f"WHERE h.run_id IN ({runs}) AND h.id = (SELECT max(h2.id) FROM {schema}.incident_history h2 "
            f"WHERE h2.run_id IN ({runs}) AND h2.incident_id = h.incident_id) "
            f"AND NOT EXISTS (SELECT 1 FROM {schema}.incidents i WHERE i.id = h.incident_id AND "
            f"(i.run_id IS NULL OR i.run_id NOT IN ({runs})))"
        )
        restored = "temp.incidents_restored"
        has_restored = conn.execute(
            f"SELECT 1 FROM {schema}.incident_history WHERE run_id IN ({runs}) LIMIT 1"
        ).fetchone()
        if not has_restored:
            restored = None
    body = f"SELECT {listed}, rowid AS rowid FROM {schema}.incidents WHERE {others}"
    if restored:
        # Out of the target index (its rows were deleted): rowids below 0, which target_clause takes.
        body += f" UNION ALL SELECT {listed}, -rowid AS rowid FROM {restored}"
    statements.append(f"CREATE TEMP VIEW incidents AS {body}")
    if "day_counts" in tables:
        parts = [
            f"SELECT day, category, n FROM {schema}.day_counts",
            f"SELECT day, category, -count(*) FROM {schema}.incidents WHERE {mine} GROUP BY day, category",
        ]
        if restored:
            parts.append(f"SELECT day, category, count(*) FROM {restored} GROUP BY day, category")
        statements.append(
            "CREATE TEMP VIEW day_counts AS SELECT day, category, sum(n) AS n FROM ("
            + " UNION ALL ".join(parts)
            + ") GROUP BY day, category"
        )
    if "incident_count" in tables:
        back = f" + (SELECT count(*) FROM {restored})" if restored else ""
        statements.append(
            f"CREATE TEMP VIEW incident_count AS SELECT (SELECT n FROM {schema}.incident_count) - "
            f"(SELECT count(*) FROM {schema}.incidents WHERE {mine}){back} AS n"
        )
    if (
        "incident_history" in tables
    ):  # `incidents show`: the versions the running runs replaced are not history yet
        history_columns = ", ".join(
            r[1] for r in conn.execute(f"PRAGMA {schema}.table_info(incident_history)")
        )
        statements.append(
            f"CREATE TEMP VIEW incident_history AS SELECT {history_columns} FROM {schema}.incident_history "
            f"WHERE run_id NOT IN ({runs})"
        )
    if "rejects" in tables:
        reject_columns = ", ".join(r[1] for r in conn.execute(f"PRAGMA {schema}.table_info(rejects)"))
        statements.append(
            f"CREATE TEMP VIEW rejects AS SELECT {reject_columns} FROM {schema}.rejects WHERE {others}"
        )
    return statements
