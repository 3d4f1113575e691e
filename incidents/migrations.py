"""Versioned schema migrations: step N brings a store from PRAGMA user_version N-1 to N.

Never edit a released step; append a new one, so a database made by an older release keeps working.
"""

from __future__ import annotations

from collections.abc import Callable

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


def _v3_record_history(db: sqlite_utils.Database) -> None:
    # A feed that re-sends a record (same feed, same record id) with a corrected day, target or field
    # replaces the stored incident; the replaced values are kept here, as IntelMQ and MISP keep an
    # event's updates. `record_key` is "feed\x1frecord id" of the record that made the incident.
    columns = {row[1] for row in db.execute("PRAGMA table_info(incidents)").fetchall()}
    if "record_key" not in columns:
        db.execute("ALTER TABLE incidents ADD COLUMN record_key TEXT")
    # An ingest run commits in batches and counts only once marked ok; the process that runs it is
    # recorded so that the next ingest can tell a live run from one whose process died (and undo it).
    run_columns = {row[1] for row in db.execute("PRAGMA table_info(ingest_runs)").fetchall()}
    if "pid" not in run_columns:
        db.execute("ALTER TABLE ingest_runs ADD COLUMN pid INTEGER")
        db.execute("ALTER TABLE ingest_runs ADD COLUMN host TEXT")
    db.execute(
        "CREATE INDEX IF NOT EXISTS incidents_record_key ON incidents(record_key) WHERE record_key IS NOT NULL"
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS incident_history (
            id INTEGER PRIMARY KEY,
            incident_id TEXT NOT NULL,     -- the incident as it was stored before the correction
            new_incident_id TEXT,          -- the incident that replaced it (its id changes with day/target)
            record_key TEXT NOT NULL,      -- feed and record id that tie the two versions together
            run_id INTEGER NOT NULL REFERENCES ingest_runs(id),  -- the run that brought the correction
            replaced_at TEXT NOT NULL,     -- UTC, ISO 8601
            old TEXT NOT NULL              -- the replaced row (every column, raw included) as JSON
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS incident_history_incident ON incident_history(incident_id)")
    db.execute("CREATE INDEX IF NOT EXISTS incident_history_run ON incident_history(run_id)")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1_initial, _v2_published, _v3_record_history]
