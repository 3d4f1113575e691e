"""Versioned schema migrations: step N brings a store from PRAGMA user_version N-1 to N.

Never edit a released step; append a new one, so a database made by an older release keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from incidents.migrations_alerts import _v16_alert_dismissal
from incidents.migrations_counts import (
    _v8_incident_count,
    _v9_day_counts,
    _v11_incidents_run,
    _v12_category_sector_days,
    _v13_batch_upkeep,
    _v14_feed_severity_target_days,
)

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


def _v3_search_index(db: sqlite_utils.Database) -> None:
    # incidents.search filters by day range with category, severity, feed and sector, and counts the
    # matches ("50 of 582"). One covering index over all five serves every such filter and count as an
    # index range scan that never reads the table; it replaces (day, category), whose every use (the
    # monthly and daily counts) it still covers, so ingest keeps maintaining a single index.
    db.execute(
        "CREATE INDEX IF NOT EXISTS incidents_day_category_filters "
        "ON incidents(day, category, severity, feed, sector)"
    )
    db.execute("DROP INDEX IF EXISTS incidents_day_category")


def _v4_spike_verdicts(db: sqlite_utils.Database) -> None:
    # Spike verdicts kept once judged (incidents.spikes.kept): the detector is prospective, so a day's
    # verdict never changes unless its own count (or an earlier one) does; a run judges only new days.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS spike_days (
            series TEXT NOT NULL,          -- 'total' or a category
            day TEXT NOT NULL,             -- local day of the store's zone, 'YYYY-MM-DD'
            count INTEGER NOT NULL,        -- incidents that day (so far, when not final)
            expected REAL,                 -- NULL while the series is too short to judge
            upper REAL,                    -- the day's own upper bound (incidents)
            level REAL,                    -- tail probability of the bound the verdict used
            score REAL,                    -- (count - expected) / (upper - expected), of the alarm's total
            alarm INTEGER NOT NULL,        -- 1 when above the bound
            final INTEGER NOT NULL,        -- 0: today's provisional verdict, its count may still grow
            span INTEGER,                  -- alarm: days its total covers (1: the day alone)
            span_count INTEGER,            -- alarm: the total over those days
            span_expected REAL,
            span_upper REAL,
            since TEXT,                    -- alarm: last earlier day as high; NULL: none on record
            records_from TEXT,             -- alarm: the series' first day
            judged_at TEXT NOT NULL,       -- UTC, ISO 8601
            PRIMARY KEY (series, day)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS spike_days_alarm ON spike_days(alarm, day)")
    # What the next run starts from (row id and count of the incidents judged, first and last day).
    db.execute("CREATE TABLE IF NOT EXISTS spike_state (key TEXT PRIMARY KEY, value TEXT)")
    # Level shifts and too-short series, as the detector noted them on the last run.
    db.execute("CREATE TABLE IF NOT EXISTS spike_notes (series TEXT NOT NULL, kind TEXT NOT NULL, text TEXT)")
    # The unusual-mix detector's inputs per day (so the whole history is not re-read) and its flags.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS spike_mix_days (
            day TEXT PRIMARY KEY,
            targets INTEGER NOT NULL,      -- distinct targets that day
            sources INTEGER NOT NULL,      -- distinct source addresses that day
            fresh INTEGER NOT NULL         -- targets seen that day for the first time in the store
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS spike_mix_flags (
            day TEXT PRIMARY KEY,
            score REAL NOT NULL,
            threshold REAL NOT NULL,
            features TEXT NOT NULL,        -- JSON [[feature, value, usual low, usual high], ...]
            explanation TEXT NOT NULL,
            final INTEGER NOT NULL
        ) WITHOUT ROWID
        """
    )
    # Each target's first day in the store, so "share of new targets" needs only the new rows.
    db.execute(
        "CREATE TABLE IF NOT EXISTS spike_targets (target TEXT PRIMARY KEY, first_day TEXT NOT NULL) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX IF NOT EXISTS spike_targets_first_day ON spike_targets(first_day)")
    # Incidents per feed and day and the feed's latest incident time: a silent feed (silence.py).
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS spike_feed_days (
            feed TEXT NOT NULL,            -- '' for incidents without a feed
            day TEXT NOT NULL,
            count INTEGER NOT NULL,
            last_at TEXT NOT NULL,         -- UTC, the latest occurred_at that day
            PRIMARY KEY (feed, day)
        ) WITHOUT ROWID
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


def _v7_record_history(db: sqlite_utils.Database) -> None:
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


def _v10_incident_records(db: sqlite_utils.Database) -> None:
    # Which records support each incident (the one that made it and every duplicate of it), so that a
    # correction of one record never deletes an incident another record still reports
    # (incidents.ingest.writer). Records without an id have no row, except one anonymous support
    # ("\x1e" + incident id) for an incident made by a record with an id.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS incident_records (
            record_key TEXT PRIMARY KEY,   -- "feed\x1frecord id"
            incident_id TEXT NOT NULL,     -- the incident the record's latest version describes
            run_id INTEGER                 -- the run that stored this support (undone with it)
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS incident_records_incident ON incident_records(incident_id)")
    db.execute("CREATE INDEX IF NOT EXISTS incident_records_run ON incident_records(run_id)")
    db.execute(
        "INSERT OR IGNORE INTO incident_records(record_key, incident_id, run_id) "
        "SELECT record_key, id, run_id FROM incidents WHERE record_key IS NOT NULL"
    )


def _v15_sector_names(db: sqlite_utils.Database) -> None:
    # One spelling per sector (store_sql.sector_name): 'Government' and 'government' were two sectors,
    # so the bulletin ranked one sector twice and `list --sector government` missed half of it. Feeds
    # write a handful of sectors, so each distinct spelling is one UPDATE through the (sector, day) index.
    from incidents.store_sql import sector_name

    for (sector,) in db.execute("SELECT DISTINCT sector FROM incidents WHERE sector IS NOT NULL").fetchall():
        folded = sector_name(sector)
        if folded != sector:
            db.execute("UPDATE incidents SET sector = ? WHERE sector = ?", [folded, sector])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1_initial,
    _v2_published,
    _v3_search_index,
    _v4_spike_verdicts,
    _v5_alert_outbox,
    _v6_target_search,
    _v7_record_history,
    _v8_incident_count,
    _v9_day_counts,
    _v10_incident_records,
    _v11_incidents_run,
    _v12_category_sector_days,
    _v13_batch_upkeep,
    _v14_feed_severity_target_days,
    _v15_sector_names,
    _v16_alert_dismissal,
]
