"""Write a batch of incident rows: new incidents, duplicates, and corrections of stored records.

Which records support an incident is kept in `incident_records` (record key "feed\\x1frecord id" ->
incident id): the record that made it and every record that repeated it (a duplicate). A record that
carries the same feed and record id as a stored one is a correction of that record:
- it moves the record's support to the incident it now describes (a new one, or an existing one, which
  it never replaces: a record corrected onto another record's incident is a duplicate of it);
- the incident it supported before is deleted only when no other record still supports it (another
  feed's report of it, or a record without an id); otherwise it stays, as the other records report it;
- a correction that keeps the incident's id but changes its fields replaces it in place, again only when
  no other record supports it.
Every replaced or abandoned version is kept in `incident_history` with the run that replaced it (as
IntelMQ and MISP keep an event's updates), so a re-sent export never counts twice and `runs.undo` can
put everything back.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from incidents.store import INCIDENT_COLUMNS, utc_now
from incidents.upkeep import insert_batch

# The columns of the rows ingest writes: the incident's, then the record key ("feed\x1frecord id").
RECORD_COLUMNS = (*INCIDENT_COLUMNS, "record_key")
_KEY = len(INCIDENT_COLUMNS)
# Columns compared to tell a correction from a repeat: everything but the run, the raw text and the key.
_SAME = slice(0, INCIDENT_COLUMNS.index("run_id"))
_INSERT = f"INSERT OR IGNORE INTO incidents ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' for _ in RECORD_COLUMNS)})"
_SELECT = f"SELECT {', '.join(RECORD_COLUMNS)} FROM incidents WHERE id = ?"
_SUPPORT = "INSERT OR REPLACE INTO incident_records(record_key, incident_id, run_id) VALUES (?, ?, ?)"
# A record without an id that repeats an incident made by a record with one: it supports the incident
# too (one anonymous support per incident, "\x1e" + incident id), so a correction cannot take it away.
_ANONYMOUS = (
    "INSERT OR IGNORE INTO incident_records(record_key, incident_id, run_id) SELECT ?, ?, ? "
    "WHERE EXISTS (SELECT 1 FROM incidents WHERE id = ? AND record_key IS NOT NULL)"
)
_CHUNK = 500  # bound parameters per look-up (SQLite allows 999 in old builds)


def env_whole(name: str, default: int) -> int:
    """A whole number >= 0 from the environment (a size, a row count); `default` when it is unset or is
    not one ('abc', '', '-5', '1e3'): a setting the operator mistyped never stops a command."""
    text = os.environ.get(name, "").strip()
    return int(text) if text.isdigit() else default


# SQLite's page cache for ingest's connection, in MiB (part of ingest's memory bound, see the README).
# 64 MiB keeps a large ingest near 200 MB of memory; 512 MiB measured 11% less CPU at 10^6 rows (131
# against 147 us/row) for about 500 MB more (README, "How costs grow"): a choice left to the operator.
CACHE_MB = env_whole("INCIDENTS_INGEST_CACHE_MB", 64)
# Memory-mapped reads of the store, in MiB (0: none, the default). Measured once, 2 GiB beside the 512 MiB
# cache at 10^6 rows; the per-10^5 CPU of the cache alone (first 10^6 rows of the 10^7 run) was no worse,
# and mapped pages add to the process's RSS (README, "How costs grow").
MMAP_MB = env_whole("INCIDENTS_INGEST_MMAP_MB", 0)


@contextmanager
def tuned(conn: sqlite3.Connection) -> Iterator[None]:
    """Ingest's connection settings for the time of a file (page cache of CACHE_MB), then the old ones."""
    previous = conn.execute("PRAGMA cache_size").fetchone()[0]
    mmap = conn.execute("PRAGMA mmap_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {-CACHE_MB * 1024}")
    conn.execute(f"PRAGMA mmap_size = {MMAP_MB << 20}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(previous)}")
        conn.execute(f"PRAGMA mmap_size = {int(mmap)}")


def write_batch(conn: sqlite3.Connection, rows: Sequence[tuple], run_id: int) -> tuple[int, int]:
    """Store rows (RECORD_COLUMNS order) inside the caller's transaction; returns (accepted, corrected).

    accepted counts new incidents and corrections (corrected <= accepted); the rest are duplicates.
    """
    keys = list({r[_KEY] for r in rows if r[_KEY] is not None})
    known: dict[str, str] = {}  # record key -> the incident it supports
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        sql = f"SELECT record_key, incident_id FROM incident_records WHERE record_key IN ({', '.join('?' * len(chunk))})"
        known.update(conn.execute(sql, chunk).fetchall())
    plain: list[tuple] = []
    pending: dict[str, int] = {}  # record key -> index in `plain` (not yet written)
    accepted = corrected = 0

    def write_plain() -> None:
        nonlocal accepted
        if not plain:
            return
        # The search index, day_counts and incident_count are kept once for the batch (incidents.upkeep).
        accepted += insert_batch(conn, _INSERT, plain)
        conn.executemany(_SUPPORT, [(r[_KEY], r[0], run_id) for r in plain if r[_KEY] is not None])
        conn.executemany(_ANONYMOUS, [("\x1e" + r[0], r[0], run_id, r[0]) for r in plain if r[_KEY] is None])
        known.update((r[_KEY], r[0]) for r in plain if r[_KEY] is not None)
        plain.clear()
        pending.clear()

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
        supported = known.get(key)
        if supported is None:
            pending[key] = len(plain)
            plain.append(row)
            continue
        if row[0] == supported and _repeats(conn, row, supported):
            continue  # a record re-sent as it was: a duplicate, nothing to write (the batch stays whole)
        write_plain()  # corrections apply in the order of the file
        if _correct(conn, row, key, supported, run_id):
            accepted += 1
            corrected += 1
        known[key] = row[0]
    write_plain()
    return accepted, corrected


def _repeats(conn: sqlite3.Connection, row: tuple, incident: str) -> bool:
    """True when the stored incident has the same fields as `row` (all but run, raw and record key)."""
    old = conn.execute(_SELECT, (incident,)).fetchone()
    return old is not None and old[_SAME] == row[_SAME]


def _correct(conn: sqlite3.Connection, row: tuple, key: str, supported: str, run_id: int) -> bool:
    """Apply a stored record's new version; False if it changes nothing (a duplicate)."""
    old = conn.execute(_SELECT, (supported,)).fetchone()
    if old is None:  # the supported incident is gone (an older store): the record is new again
        conn.execute(_SUPPORT, (key, row[0], run_id))
        return conn.execute(_INSERT, row).rowcount > 0
    shared = _supported_by_others(conn, old, key)
    if row[0] == supported and (old[_SAME] == row[_SAME] or shared):
        return False  # the same incident: a repeat, or a change to one that other records also report
    _keep_history(conn, old, row, key, run_id)
    if not shared:
        conn.execute("DELETE FROM incidents WHERE id = ?", (supported,))
    conn.execute(_INSERT, row)  # OR IGNORE: another record's incident is never replaced nor absorbed
    conn.execute(_SUPPORT, (key, row[0], run_id))
    return True


def _supported_by_others(conn: sqlite3.Connection, incident: tuple, key: str) -> bool:
    if incident[_KEY] is None:
        return True  # made by a record without an id: nothing can correct that record away
    return (
        conn.execute(
            "SELECT 1 FROM incident_records WHERE incident_id = ? AND record_key != ? LIMIT 1",
            (incident[0], key),
        ).fetchone()
        is not None
    )


def _keep_history(conn: sqlite3.Connection, old: tuple, row: tuple, key: str, run_id: int) -> None:
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


def history_of(conn: sqlite3.Connection, incident_id: str) -> list[dict]:
    """Earlier versions of an incident, newest first (store.incident_history)."""
    from incidents.store import incident_history

    return incident_history(conn, incident_id)
