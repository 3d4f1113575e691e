"""The incident store: one SQLite file, opened in WAL mode, with versioned migrations.

Every later stage (stats, spikes, alerts, bulletin, TUI) reads through the functions here, never
through another stage's internals. This module is the store's face: `from incidents import store`,
then `store.open_db(...)`, `store.day_counts(...)`. The code lives in one module per idea:
store_errors (errors, explain), store_lock (the write lock every writer takes), store_open (opening, backup, migrations, meta), store_runs (ingest and
scan runs, rejects), store_counts (counts per day and month) and store_incidents (adding, browsing,
target search, one incident and its history), store_sql (WHERE clauses, table checks).

Writing functions (add_incidents, start_run, ...) run inside the caller's transaction and let sqlite3
errors through; `explain` turns one into the StoreError subclass a command reports (busy, full,
read-only, not a store). Read functions take a writer's sqlite_utils Database or open_read's connection.
"""

from __future__ import annotations

from incidents.store_counts import (
    count_incidents,
    cutoff,
    data_span,
    day_counts,
    day_spread,
    month_counts,
    new_targets,
    stored_count,
)
from incidents.store_errors import (
    BUSY_TIMEOUT_S,
    NewerSchema,
    NotAStore,
    StoreBusy,
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreReadOnly,
    busy_timeout,
    explain,
    store_file,
)
from incidents.store_incidents import (
    INCIDENT_COLUMNS,
    LISTED_COLUMNS,
    TARGET_INDEX,
    TRIGRAM,
    add_incidents,
    find_incidents,
    get_incident,
    incident_history,
    like_pattern,
    target_clause,
    target_match,
)
from incidents.store_lock import begin_write, is_busy, set_wait_notice, write_transaction
from incidents.store_open import (
    CORE_TABLES,
    DEFAULT_PATH,
    DEFAULT_ZONE,
    SQLITE_HEADER,
    ReadConnection,
    backup_old_store,
    backup_path,
    get_meta,
    has_table,
    migrate,
    open_db,
    open_read,
    reopened,
    reporting_zone,
    resolve_path,
    schema_version,
    set_meta,
)
from incidents.store_runs import add_rejects, finish_run, previous_run, start_run, storable, utc_now
from incidents.store_sql import connection, has_tables, where_clause

__all__ = [
    "BUSY_TIMEOUT_S",
    "CORE_TABLES",
    "DEFAULT_PATH",
    "DEFAULT_ZONE",
    "INCIDENT_COLUMNS",
    "LISTED_COLUMNS",
    "SQLITE_HEADER",
    "TARGET_INDEX",
    "TRIGRAM",
    "NewerSchema",
    "NotAStore",
    "ReadConnection",
    "StoreBusy",
    "StoreDamaged",
    "StoreError",
    "StoreFull",
    "StoreReadOnly",
    "add_incidents",
    "add_rejects",
    "backup_old_store",
    "backup_path",
    "begin_write",
    "busy_timeout",
    "connection",
    "count_incidents",
    "cutoff",
    "data_span",
    "day_counts",
    "day_spread",
    "explain",
    "find_incidents",
    "finish_run",
    "get_incident",
    "get_meta",
    "has_table",
    "has_tables",
    "incident_history",
    "is_busy",
    "like_pattern",
    "migrate",
    "month_counts",
    "new_targets",
    "open_db",
    "open_read",
    "previous_run",
    "reopened",
    "reporting_zone",
    "resolve_path",
    "schema_version",
    "set_meta",
    "set_wait_notice",
    "start_run",
    "storable",
    "store_file",
    "stored_count",
    "target_clause",
    "target_match",
    "utc_now",
    "where_clause",
    "write_transaction",
]
