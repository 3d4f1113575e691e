"""`incidents doctor`'s integrity line: SQLite's `PRAGMA integrity_check` in one sentence, with the way to
rebuild a damaged store (https://sqlite.org/pragma.html#pragma_integrity_check, https://sqlite.org/recovery.html).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from incidents.doctor_report import OK, PROBLEM, Check

# integrity_check stops after this many messages.
INTEGRITY_LIMIT = 100

REBUILD = (
    "Stop writing to it, keep a copy, and rebuild it: `sqlite3 {path} .recover | sqlite3 repaired.db`, or "
    "ingest the feed files again into a new store."
)


def integrity_check(conn: sqlite3.Connection, path: Path) -> Check:
    """SQLite's `PRAGMA integrity_check`, reported on one line: the first message and how many others."""
    # A row may hold several messages on separate lines (SQLite joins some with newlines).
    found = [
        m.strip()
        for r in conn.execute(f"PRAGMA integrity_check({INTEGRITY_LIMIT})")
        for m in r[0].splitlines()
    ]
    found = [m for m in found if m and not m.startswith("*** in database")]
    if found == ["ok"]:
        return Check("integrity", OK, "PRAGMA integrity_check found no damage.")
    others = len(found) - 1
    more = (
        f" and {'at least ' if len(found) >= INTEGRITY_LIMIT else ''}{others:,} other problem(s)"
        if others
        else ""
    )
    return Check(
        "integrity",
        PROBLEM,
        f"The store is damaged: {found[0]}{more}. {REBUILD.format(path=path)}",
        {"first": found[0], "others": others, "limit": INTEGRITY_LIMIT},
    )


def damaged(conn: sqlite3.Connection, path: Path, error: sqlite3.DatabaseError) -> Check:
    """The integrity line of a store whose damage stopped the checks: integrity_check's own findings, or,
    when the damage stops integrity_check too (it lies in pages it must read first), SQLite's error."""
    try:
        return integrity_check(conn, path)
    except sqlite3.DatabaseError as again:
        return Check(
            "integrity",
            PROBLEM,
            f"The store is damaged: {again} (PRAGMA integrity_check itself stops there"
            f"{'' if str(again) == str(error) else f'; first met as {str(error)!r}'}). {REBUILD.format(path=path)}",
            {"first": str(again), "others": None, "limit": INTEGRITY_LIMIT},
        )
