"""Opening the store: its path, a read-only connection, a writing one (backup, then migrations), meta."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from incidents import completed
from incidents.migrations import MIGRATIONS
from incidents.store_disk import remember_sidecars, remove_unused_sidecars
from incidents.store_errors import NewerSchema, NotAStore, StoreError, StoreReadOnly, busy_timeout, explain
from incidents.store_lock import write_transaction

if TYPE_CHECKING:  # sqlite_utils imports pandas (~0.5 s): writers import it when they open the store
    import sqlite_utils

DEFAULT_PATH = "incidents.db"
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"

SQLITE_HEADER = b"SQLite format 3\x00"
# Tables every incidents store has had since the first release (migration _v1_initial).
CORE_TABLES = frozenset({"meta", "ingest_runs", "incidents", "rejects"})


def resolve_path(path: str | Path | None = None) -> Path:
    """The database path: the argument, else $INCIDENTS_DB, else ./incidents.db."""
    return Path(path or os.environ.get("INCIDENTS_DB") or DEFAULT_PATH)


class ReadConnection(sqlite3.Connection):
    """A read-only sqlite3 connection (see open_read).

    Besides the sqlite3 API it answers the two sqlite_utils calls read code makes, `query(sql, params)`
    (an iterator of dicts) and `.conn` (itself), so one read function serves a writer's
    sqlite_utils.Database and a reader's connection alike.
    """

    path: Path
    immutable: bool = False  # read with immutable=1 (read_uri): see reopened
    signature: tuple | None = None

    def query(self, sql: str, params: Sequence | dict | None = None) -> Iterator[dict]:
        """Rows of `sql` as dicts {column: value}, lazily, as sqlite_utils' Database.query gives them."""
        cursor = self.execute(sql, params if params is not None else [])
        names = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(names, row))

    @property
    def conn(self) -> ReadConnection:
        """The connection itself (a sqlite_utils Database's `.conn` is its sqlite3 connection)."""
        return self


def _check_file(file: Path, *, reading: bool) -> None:
    """Refuse what is not a store before SQLite sees it: not a regular file, empty, not SQLite."""
    if not file.exists():
        if reading:
            raise StoreError(f"no database at {file} (run 'incidents ingest' or 'incidents demo' first)")
        return
    if not file.is_file():
        raise NotAStore(f"{file} is not a regular file, so not an incidents store")
    size = file.stat().st_size
    if size == 0:
        if reading:
            raise NotAStore(
                f"{file} is an empty file, not an incidents store (a writing command such as "
                "'incidents ingest' makes a store in it)"
            )
        return
    # The header is left to SQLite ('file is not a database' -> NotAStore, store_errors.explain): opening
    # and closing a file descriptor on the store here would drop every POSIX lock this process holds on
    # it (close() releases them all, https://sqlite.org/howtocorrupt.html#_posix_advisory_locks_canceled_
    # by_a_separate_thread_doing_close_). A writer in another process would then take this process's
    # readers for gone, checkpoint and delete the WAL under their held snapshots, and those readers would
    # read a mix of old and new pages ('database disk image is malformed').
    if not os.access(file, os.R_OK):
        raise StoreReadOnly(f"{file} cannot be read: permission denied")


def _check_schema(conn: sqlite3.Connection, file: Path) -> int:
    """The store's schema version; NotAStore when the SQLite file holds another tool's tables."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    if version == 0 and not tables:
        return 0  # a fresh SQLite file: a writer makes it a store
    missing = CORE_TABLES - tables
    if version == 0 or missing:
        shown = ", ".join(sorted(t for t in tables if not t.startswith("sqlite_"))[:5]) or "none"
        raise NotAStore(
            f"{file} is an SQLite database without the incidents schema (its tables: {shown}); "
            "it was left untouched: give --db an incidents store or a new file"
        )
    return version


def open_read(path: str | Path | None = None) -> ReadConnection:
    """Open an existing store for reading only: a `sqlite3.Connection` (ReadConnection) opened `mode=ro`.

    Never creates, migrates or switches the journal of a file, and never creates a -wal or -shm file
    beside a store this process cannot write (read_uri). Raises StoreError when there is no file,
    NotAStore when the file is empty, not SQLite, or an SQLite database without the incidents schema,
    NewerSchema never (a newer store is read as far as its tables allow). A store older than this
    release is read as it is: tables added since are simply absent (read functions return nothing for
    them); a writing command upgrades it.
    """
    file = resolve_path(path)
    _check_file(file, reading=True)
    remember_sidecars(file)
    conn = None
    try:
        conn = _connect_ro(file)
        conn.path = file
        _check_schema(conn, file)
        # One snapshot for the whole read; the rows of runs not completed in it are hidden (completed.py).
        completed.begin_snapshot(conn)
        completed.hide_running(conn)
    except (sqlite3.Error, StoreError) as e:
        if conn is not None:
            conn.close()
        remove_unused_sidecars(file)  # e.g. the -shm SQLite could not grow on a full disk
        raise explain(e, file) from None
    return conn


def writable_by_us(file: Path) -> bool:
    """True when this process may write the store and create files beside it (its -wal and -shm).

    A file with no write permission bit at all counts as not writable even for root, who could write it:
    files root made beside it (0444, owned by root) would refuse the store's owner once it is writable."""
    folder = file.parent if str(file.parent) else Path(".")
    try:
        no_write_bits = file.stat().st_mode & 0o222 == 0
    except OSError:
        return os.access(folder, os.W_OK)
    return not no_write_bits and os.access(file, os.W_OK) and os.access(folder, os.W_OK)


def read_uri(file: Path) -> str:
    """The SQLite URI a read of `file` opens: `mode=ro`, plus `immutable=1` when this process cannot
    write the store (writable_by_us) and no write-ahead log (-wal) lies beside it.

    Why: a WAL store read with plain `mode=ro` makes SQLite create the -wal and -shm files when they are
    absent and the folder is writable (https://sqlite.org/wal.html#readonly), with the store's mode
    (0444) and this process's owner, and then the next writer fails ('attempt to write a readonly
    database'); in a folder it cannot write, the read fails. `immutable=1` reads the file with no lock
    and no -shm (https://sqlite.org/uri.html#uriimmutable). It is safe only if nobody writes the file
    meanwhile: no -wal means no connection has it open in WAL mode now (SQLite keeps the -wal while one
    is open and removes it at the last close), and this process cannot write it, so a writer would have
    to be its owner (or root) starting during this read: such a read may then miss the new rows or, if
    the writer checkpoints into the file during the read, fail ('database disk image is malformed');
    running the command again reads the new state. A -wal present means a writer is (or was) at work:
    then the read takes SQLite's normal path, which uses the existing files and creates none.
    """
    uri = file.resolve().as_uri() + "?mode=ro"
    if not writable_by_us(file) and not Path(f"{file}-wal").exists():
        uri += "&immutable=1"
    return uri


def _connect_ro(file: Path) -> ReadConnection:
    uri = read_uri(file)
    conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout(), factory=ReadConnection)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error:
        conn.close()
        raise
    conn.immutable = uri.endswith("&immutable=1")
    conn.signature = _signature(file) if conn.immutable else None
    return conn


def _signature(file: Path) -> tuple | None:
    """What tells that a store read as an immutable file changed: its mtime, size, and a -wal beside it."""
    try:
        st = file.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, Path(f"{file}-wal").exists())


def reopened(conn: ReadConnection) -> ReadConnection:
    """`conn`, or a new read of the same store when `conn` reads it as an immutable file (read_uri) and
    the file has changed since, or a writer's -wal has appeared beside it: an immutable read never sees
    a change by itself, so a long-lived reader (the TUI) asks this before each new snapshot. The old
    connection is closed when a new one is returned. Raises what open_read raises."""
    if not getattr(conn, "immutable", False) or _signature(conn.path) == conn.signature:
        return conn
    fresh = open_read(conn.path)
    conn.close()
    return fresh


def open_db(
    path: str | Path | None = None, *, zone: str | None = None, create: bool = True
) -> sqlite_utils.Database:
    """Open the store for writing, creating it when `create`, and bring its schema up to date.

    `zone` is the reporting zone, fixed when the store is created. A store from an older release is
    copied first (`VACUUM INTO` <file>.v<N>-backup.db, see backup_path) and then migrated; the copy is
    left for the user. Raises NotAStore for a file that is not an incidents store (left untouched),
    NewerSchema, StoreBusy, StoreFull, StoreReadOnly or StoreError.
    """
    import sqlite_utils

    file = resolve_path(path)
    if not create and not file.exists():
        raise StoreError(f"no database at {file} (run 'incidents ingest' or 'incidents demo' first)")
    if file.parent and not file.parent.exists():
        raise StoreError(f"folder {file.parent} does not exist")
    _check_file(file, reading=False)
    folder = file.parent if str(file.parent) else Path(".")
    if (file.exists() and not os.access(file, os.W_OK)) or not os.access(folder, os.W_OK):
        raise explain(sqlite3.OperationalError("attempt to write a readonly database"), file)
    remember_sidecars(file)
    conn = None
    try:
        conn = sqlite3.connect(file, timeout=busy_timeout())
        db = sqlite_utils.Database(conn)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise NewerSchema(
                f"{file}: schema version {version} is newer than this release knows ({len(MIGRATIONS)})"
            )
        _check_schema(conn, file)
        if 0 < version < len(MIGRATIONS):
            backup_old_store(conn, file, version)
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode; only a power cut may lose the last commit.
        db.execute("PRAGMA synchronous=NORMAL")
        # 64 MB of page cache: the dedup index of a million incidents stays in memory during ingest.
        db.execute("PRAGMA cache_size=-65536")
        # An INSERT OR REPLACE deletes the row it replaces: with recursive triggers the delete triggers
        # (the target search index's) see that deletion too.
        db.execute("PRAGMA recursive_triggers=ON")
        migrate(db)
        if zone is not None or get_meta(db, "reporting_zone") is None:
            with write_transaction(db):
                _set_zone(db, zone or DEFAULT_ZONE)
    except (sqlite3.Error, StoreError) as e:
        if conn is not None:
            conn.close()
        remove_unused_sidecars(file)  # e.g. the -shm SQLite could not grow on a full disk
        raise explain(e, file) from None
    return db


def backup_path(file: Path, version: int) -> Path:
    """Where the copy of a store at schema `version` goes before it is migrated: beside it, never overwritten."""
    candidate = file.with_name(f"{file.name}.v{version}-backup.db")
    n = 2
    while candidate.exists():
        candidate = file.with_name(f"{file.name}.v{version}-backup-{n}.db")
        n += 1
    return candidate


def backup_old_store(conn: sqlite3.Connection, file: Path, version: int) -> Path:
    """Copy the store with `VACUUM INTO` (a consistent, compact copy) before a migration; returns the copy."""
    target = backup_path(file, version)
    try:
        conn.execute("VACUUM INTO ?", [str(target)])
    except sqlite3.Error:
        target.unlink(missing_ok=True)
        raise
    return target


def _set_zone(db: sqlite_utils.Database, zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise StoreError(f"unknown time zone {zone!r}") from None
    current = get_meta(db, "reporting_zone")
    if current and current != zone and db.execute("SELECT 1 FROM incidents LIMIT 1").fetchone():
        raise StoreError(
            f"this store counts months in {current}; it holds incidents, so its zone cannot change to {zone}"
        )
    set_meta(db, "reporting_zone", zone)


def migrate(db: sqlite_utils.Database) -> int:
    """Bring the schema up to date; returns the schema version. Each migration runs in its own transaction.

    Raises NewerSchema for a store made by a newer release (more steps than MIGRATIONS)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise NewerSchema(f"schema version {version} is newer than this release knows ({len(MIGRATIONS)})")
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with write_transaction(db):  # the store's one write lock (a note while busy, StoreBusy after)
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


def schema_version(db: sqlite_utils.Database) -> int:
    """The store's schema version (PRAGMA user_version): the number of MIGRATIONS applied to it."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def get_meta(db: sqlite_utils.Database, key: str) -> str | None:
    """The `meta` table's value for `key` ('reporting_zone', ...), None when it is not set."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    """Set `meta[key] = value`, committing at once unless the caller holds a transaction."""
    db.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    if not db.conn.in_transaction:
        db.conn.commit()


def reporting_zone(db: sqlite_utils.Database) -> ZoneInfo:
    """The zone in which this store counts days and months."""
    return ZoneInfo(get_meta(db, "reporting_zone") or DEFAULT_ZONE)


def has_table(db, name: str) -> bool:
    """True when the store has a table, view or index named `name` (sqlite_master)."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [name]).fetchone() is not None
