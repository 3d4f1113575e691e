"""Versioned schema migrations: step N brings a store from PRAGMA user_version N-1 to N.

Never edit a released step; append a new one, so a database made by an older release keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS ingest_runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,            -- 'ingest' (feed export) or 'scan' (raw logs through rules)
            file TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            format TEXT,
            started_at TEXT NOT NULL,      -- UTC, ISO 8601
            finished_at TEXT,
            rows_read INTEGER,
            accepted INTEGER,
            duplicate INTEGER,
            rejected INTEGER,
            status TEXT NOT NULL           -- running, ok, refused (--strict), failed
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS ingest_runs_sha256 ON ingest_runs(sha256)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS incidents (
            id TEXT PRIMARY KEY,           -- dedup key, see ingest.incident_id
            occurred_at TEXT NOT NULL,     -- UTC, 'YYYY-MM-DDTHH:MM:SSZ'
            day TEXT NOT NULL,             -- local date in the store's reporting zone
            category TEXT NOT NULL,
            taxonomy TEXT NOT NULL,        -- RSIT taxonomy
            type TEXT NOT NULL,            -- RSIT type
            target TEXT,                   -- attacked domain, URL or IP
            target_kind TEXT,              -- domain, url or ip
            source_ip TEXT,                -- where the attack came from, when known
            sector TEXT,
            feed TEXT,
            severity TEXT,
            status TEXT,
            description TEXT,
            run_id INTEGER REFERENCES ingest_runs(id),
            raw TEXT                       -- the original record, as JSON
        )
        """
    )
    # Covering index for every monthly and daily count: stats never touch the table itself.
    db.execute("CREATE INDEX IF NOT EXISTS incidents_day_category ON incidents(day, category)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS rejects (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES ingest_runs(id),
            line INTEGER,                  -- line (CSV, JSON Lines) or record number (JSON array)
            raw TEXT,
            reason TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS rejects_run ON rejects(run_id)")


def _v2_published(db: sqlite_utils.Database) -> None:
    # Figures as a ministry or press release published them, kept beside what the store computes
    # (incidents.published); one row per period and source, so a revised figure from a later release
    # sits next to the first one instead of overwriting it.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS published (
            period TEXT NOT NULL,          -- as written: '2020-10', '2019-01..2019-04', '2020'
            first_month TEXT NOT NULL,     -- 'YYYY-MM', first month the figure covers
            last_month TEXT NOT NULL,      -- 'YYYY-MM', last month it covers
            scope TEXT NOT NULL,           -- month, ytd, quarter, half, year
            total INTEGER,
            phishing INTEGER,
            deface INTEGER,
            malware INTEGER,
            status TEXT,                   -- published (stands in the release) or derived (arithmetic)
            published_change TEXT,         -- the % changes as published, e.g. '+11.07% MoM; +0.34% YoY'
            source TEXT NOT NULL DEFAULT '',
            note TEXT,
            file TEXT,                     -- the CSV it was imported from
            imported_at TEXT,              -- UTC
            PRIMARY KEY (period, source)
        )
        """
    )


def _v6_target_search(db: sqlite_utils.Database) -> None:
    # Substring search of targets (`incidents list --target X`, the TUI) through an FTS5 trigram index
    # (https://www.sqlite.org/fts5.html#the_trigram_tokenizer): `LIKE '%X%'` reads the whole table,
    # 50 s at 10^7 incidents. External content: the index holds trigrams and rowids, not a second copy
    # of the text; triggers keep it in step with every insert, delete and change of target.
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS incidents_target USING fts5("
        "target, content='incidents', content_rowid='rowid', tokenize='trigram case_sensitive 0', "
        "columnsize=0, detail='full')"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS incidents_target_ai AFTER INSERT ON incidents "
        "WHEN new.target IS NOT NULL BEGIN "
        "INSERT INTO incidents_target(rowid, target) VALUES (new.rowid, new.target); END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS incidents_target_ad AFTER DELETE ON incidents "
        "WHEN old.target IS NOT NULL BEGIN "
        "INSERT INTO incidents_target(incidents_target, rowid, target) VALUES ('delete', old.rowid, old.target); "
        "END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS incidents_target_au AFTER UPDATE OF target ON incidents BEGIN "
        "INSERT INTO incidents_target(incidents_target, rowid, target) "
        "SELECT 'delete', old.rowid, old.target WHERE old.target IS NOT NULL; "
        "INSERT INTO incidents_target(rowid, target) SELECT new.rowid, new.target WHERE new.target IS NOT NULL; "
        "END"
    )
    # Index the incidents already stored (a store upgraded from an older release).
    db.execute("INSERT INTO incidents_target(incidents_target) VALUES ('rebuild')")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1_initial, _v2_published, _v6_target_search]
