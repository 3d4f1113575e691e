"""Write a batch of incident rows: new incidents, duplicates, and corrections of stored records.

A record that carries the same feed and record id as the record an incident was made from is a
correction: it replaces that incident, and the replaced row is kept in `incident_history` with the run
that replaced it (as IntelMQ and MISP keep an event's updates), so a re-sent export never counts twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from incidents.store import INCIDENT_COLUMNS, utc_now

# The columns of the rows ingest writes: the incident's, then the record key ("feed\x1frecord id").
RECORD_COLUMNS = (*INCIDENT_COLUMNS, "record_key")
_KEY = len(INCIDENT_COLUMNS)
# Columns compared to tell a correction from a repeat: everything but the run, the raw text and the key.
_SAME = slice(0, INCIDENT_COLUMNS.index("run_id"))
_INSERT = f"INSERT OR IGNORE INTO incidents ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' for _ in RECORD_COLUMNS)})"
_CHUNK = 500  # bound parameters per look-up (SQLite allows 999 in old builds)


def write_batch(conn: sqlite3.Connection, rows: Sequence[tuple], run_id: int) -> tuple[int, int]:
    """Store rows (RECORD_COLUMNS order) inside the caller's transaction; returns (accepted, corrected).

    accepted counts new incidents and corrections (corrected <= accepted); the rest are duplicates.
    """
    keys = list({r[_KEY] for r in rows if r[_KEY] is not None})
    stored: dict[str, tuple] = {}
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        sql = f"SELECT {', '.join(RECORD_COLUMNS)} FROM incidents WHERE record_key IN ({', '.join('?' * len(chunk))})"
        for row in conn.execute(sql, chunk):
            stored[row[_KEY]] = tuple(row)
    plain: list[tuple] = []
    pending: dict[str, int] = {}  # record key -> index in `plain` (not yet written)
    corrected = 0
    for row in rows:
        key = row[_KEY]
        if key is None:
            plain.append(row)
            continue
        if key in pending:
            earlier = plain[pending[key]]
            if earlier[_SAME] != row[_SAME]:
                plain[pending[key]] = row  # a later version of a record this batch has not written yet
            continue
        old = stored.get(key)
        if old is None:
            pending[key] = len(plain)
            plain.append(row)
            continue
        if old[_SAME] == row[_SAME]:
            continue  # the same record again: a duplicate
        conn.execute(
            "INSERT INTO incident_history(incident_id, new_incident_id, record_key, run_id, replaced_at, old) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                old[0],
                row[0],
                key,
                run_id,
                utc_now(),
                json.dumps(dict(zip(RECORD_COLUMNS, old)), ensure_ascii=False),
            ),
        )
        conn.execute("DELETE FROM incidents WHERE id = ?", (old[0],))
        conn.execute(_INSERT, row)
        stored[key] = row
        corrected += 1
    # rowcount sums sqlite3_changes() over the rows; total_changes would also count the writes of the
    # target search index's triggers.
    inserted = conn.executemany(_INSERT, plain).rowcount
    return inserted + corrected, corrected


def history_of(conn: sqlite3.Connection, incident_id: str) -> list[dict]:
    """Earlier versions of an incident, newest first (store.incident_history)."""
    from incidents.store import incident_history

    return incident_history(conn, incident_id)
