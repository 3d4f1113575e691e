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


def _v5_alert_outbox(db: sqlite_utils.Database) -> None:
    # The alert outbox (incidents.alerts.outbox): alert items and composed mails recorded before sending,
    # marked sent after the server accepted them, and one row per `incidents alert` run.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS alert_outbox (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,      -- kind|subject key|day|recipient: the same news is never queued twice
            kind TEXT NOT NULL,            -- spike, spike-update, incident, silence, daily
            subject_key TEXT NOT NULL,     -- episode key, incident id, feed name, 'daily'
            day TEXT,                      -- local day the item is about ('YYYY-MM-DD')
            recipient TEXT NOT NULL,
            series TEXT,                   -- spike items: 'total' or a category
            episode_key TEXT,              -- spike items: Episode.key ('series:first_day')
            incident_id TEXT,              -- incident items
            feed TEXT,                     -- silence items
            peak INTEGER,                  -- spike items: the episode's peak count when queued
            severity TEXT,                 -- incident items
            status TEXT NOT NULL,          -- pending, held, sent, failed
            created_at TEXT NOT NULL,      -- UTC ISO 8601
            sent_at TEXT,
            error TEXT,                    -- the server's words when it refused
            message_id TEXT,               -- the mail that carries the item (alert_mails)
            subject TEXT,                  -- that mail's subject
            payload TEXT NOT NULL          -- JSON: what the mail says about the item, frozen when queued
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS alert_outbox_recipient ON alert_outbox(recipient, status)")
    db.execute("CREATE INDEX IF NOT EXISTS alert_outbox_status ON alert_outbox(status, created_at)")
    db.execute("CREATE INDEX IF NOT EXISTS alert_outbox_episode ON alert_outbox(episode_key, recipient)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS alert_mails (
            message_id TEXT PRIMARY KEY,
            recipient TEXT NOT NULL,
            kind TEXT NOT NULL,            -- spike, spike-update, incident, silence, digest, daily
            subject TEXT NOT NULL,
            items INTEGER NOT NULL,
            status TEXT NOT NULL,          -- pending, sent, failed
            created_at TEXT NOT NULL,
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            message TEXT NOT NULL          -- the whole RFC 5322 message, resent byte for byte
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS alert_mails_recipient ON alert_mails(recipient, status, sent_at)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS alert_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,      -- UTC
            finished_at TEXT,              -- NULL: still running, or killed
            now TEXT,                      -- the time the run judged for (--now), UTC
            outcome TEXT NOT NULL,         -- running, ok, nothing, tempfail, failed
            queued INTEGER NOT NULL DEFAULT 0,
            sent INTEGER NOT NULL DEFAULT 0,
            pending INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            held INTEGER NOT NULL DEFAULT 0,
            error TEXT
        )
        """
    )
    db.execute("CREATE TABLE IF NOT EXISTS alert_state (key TEXT PRIMARY KEY, value TEXT)")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1_initial, _v2_published, _v5_alert_outbox]
