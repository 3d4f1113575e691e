"""Schema steps that keep reads fast at national scale (steps 8, 9, 11, 12, 13 and 14 of
incidents.migrations.MIGRATIONS): the incident count and the per-day counts kept by triggers, and the
indexes that serve `list`, the TUI and the undoing of a run without walking every row.

Never edit a released step; append a new one to incidents.migrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incidents.store_sql import SEVERITY_RANK

if TYPE_CHECKING:
    import sqlite_utils


def _v8_incident_count(db: sqlite_utils.Database) -> None:
    # The number of stored incidents, kept by triggers: `count(*)` over the whole table walks an index
    # of every row (about 1 s at 10^7), and `incidents list` and the TUI show "50 of N" on every page.
    db.execute("CREATE TABLE IF NOT EXISTS incident_count (n INTEGER NOT NULL)")
    db.execute("DELETE FROM incident_count")
    db.execute("INSERT INTO incident_count(n) SELECT count(*) FROM incidents")
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS incident_count_ai AFTER INSERT ON incidents BEGIN "
        "UPDATE incident_count SET n = n + 1; END"
    )
    db.execute(
        "CREATE TRIGGER IF NOT EXISTS incident_count_ad AFTER DELETE ON incidents BEGIN "
        "UPDATE incident_count SET n = n - 1; END"
    )


def _v9_day_counts(db: sqlite_utils.Database) -> None:
    # Incidents per local day and category, kept by triggers: `stats --month` (two years of months for
    # the year-to-date figures), the bulletin and the spike series read a few thousand rows instead of
    # walking the index of every incident in those years (29x the month's bare GROUP BY at 10^5).
    db.execute(
        "CREATE TABLE IF NOT EXISTS day_counts (day TEXT NOT NULL, category TEXT NOT NULL, "
        "n INTEGER NOT NULL, PRIMARY KEY (day, category)) WITHOUT ROWID"
    )
    db.execute("DELETE FROM day_counts")
    db.execute(
        "INSERT INTO day_counts(day, category, n) SELECT day, category, count(*) FROM incidents GROUP BY 1, 2"
    )
    add = (
        "INSERT INTO day_counts(day, category, n) VALUES (new.day, new.category, 1) "
        "ON CONFLICT(day, category) DO UPDATE SET n = n + 1;"
    )
    remove = "UPDATE day_counts SET n = n - 1 WHERE day = old.day AND category = old.category;"
    db.execute(f"CREATE TRIGGER IF NOT EXISTS day_counts_ai AFTER INSERT ON incidents BEGIN {add} END")
    db.execute(f"CREATE TRIGGER IF NOT EXISTS day_counts_ad AFTER DELETE ON incidents BEGIN {remove} END")
    db.execute(
        f"CREATE TRIGGER IF NOT EXISTS day_counts_au AFTER UPDATE OF day, category ON incidents BEGIN {remove} {add} END"
    )


def _v11_incidents_run(db: sqlite_utils.Database) -> None:
    # The rows of one ingest run: undoing a run (runs.undo, a kill's recovery) deletes them, and readers
    # hide the rows of a run not completed yet (incidents.completed); without it both walk every row.
    # Run ids only grow, so ingest appends at the index's right edge.
    db.execute("CREATE INDEX IF NOT EXISTS incidents_run ON incidents(run_id)")


def _v12_category_sector_days(db: sqlite_utils.Database) -> None:
    # `list --category X` / `--sector X` without a day range: the covering index starts with the day,
    # so SQLite scanned all of it (a page under a LIMIT reads everything when nothing matches). With
    # (category, day) and (sector, day) the page is an index search in day order (ties sorted within
    # a day: "TEMP B-TREE FOR RIGHT PART OF ORDER BY") and the count of a sector one index range.
    db.execute("CREATE INDEX IF NOT EXISTS incidents_category_day ON incidents(category, day)")
    db.execute("CREATE INDEX IF NOT EXISTS incidents_sector_day ON incidents(sector, day)")


def _v13_batch_upkeep(db: sqlite_utils.Database) -> None:
    # Ingest keeps the target search index, day_counts and incident_count once per batch
    # (incidents.upkeep.insert_batch). The index on incidents(record_key) is read by nothing since
    # incident_records (_v10) holds each record's incident: it only cost a B-tree insert per incident.
    db.execute("DROP INDEX IF EXISTS incidents_record_key")


def _v14_feed_severity_target_days(db: sqlite_utils.Database) -> None:
    # The last filters and sort orders of `list` and the TUI that still walked a whole index without a
    # day range: `--feed X`, `--severity X`, `--order feed|severity|target`. Each is now an index search
    # in day order (ties sorted within a day), and a count one index range. Severity is indexed by its
    # rank (store_sql.SEVERITY_RANK), which serves both the filter and the order by meaning.
    db.execute("CREATE INDEX IF NOT EXISTS incidents_feed_day ON incidents(feed, day)")
    db.execute(f"CREATE INDEX IF NOT EXISTS incidents_severity_day ON incidents(({SEVERITY_RANK}), day)")
    db.execute("CREATE INDEX IF NOT EXISTS incidents_target_day ON incidents(target, day)")
