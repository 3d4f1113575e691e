"""What `incidents spikes` shows for the store's daily counts: kept verdicts, judged first when new
days came in (a read-only store is judged in memory instead), as episodes and alarm days."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from incidents.migrations import MIGRATIONS
from incidents.spikes import Alarm
from incidents.spikes.episodes import Episode
from incidents.spikes.judging import KeptRun, connection, has_tables, judge_new_days
from incidents.spikes.mix import MixFlag

if TYPE_CHECKING:
    from incidents.spikes.series import SeriesNote


@dataclass
class DailySpikes:
    """Episodes, alarm days, unusual-mix days and notes from `since` to `until` (local days)."""

    since: str | None
    until: str | None  # None: the store holds no incident
    episodes: list[Episode]
    alarms: list[Alarm]
    mix: list[MixFlag]
    notes: list[SeriesNote]
    judged: KeptRun | None  # what this call judged; None when the kept verdicts were fresh
    source: str  # 'kept' (read as kept), 'judged' (kept after judging new days), 'memory' (read-only store)
    judged_at: str | None = None
    extra: dict = field(default_factory=dict)
    # The first day the detector judged for the total series (the days before it had too little history
    # to have an upper bound); None when it has judged no day yet.
    first_judged: str | None = None
    last_judged: str | None = None  # the last day judged (the data's last day, or before it)


def daily_spikes(
    path: str | Path | None,
    *,
    since: str | None = None,
    until: str | None = None,
    category: str | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep: bool = True,
) -> DailySpikes:
    """Kept daily verdicts of the store at `path`, judging the days not kept yet first.

    A store that cannot be written (read-only file or folder) is judged in memory from its kept
    verdicts (or from scratch), and left untouched; so is every store when `keep` is False (a read
    command such as the bulletin: no verdict kept, no migration, no write lock waited for). `since` defaults to a year before `until`, which
    defaults to the last day judged. Raises store.StoreError (not a store, busy, ...).
    """
    from incidents import store
    from incidents.spikes.kept import kept_status

    conn = store.open_read(path)
    try:
        status = kept_status(conn, now=now)
        if status is not None and status.fresh:
            return _read(conn, since, until, category, None, "kept")
    except sqlite3.Error as e:
        conn.close()
        raise store.explain(e, store.resolve_path(path)) from None
    file = store.resolve_path(path)
    if keep and _writable(file):
        conn.close()
        try:
            run = _judge_in_store(file, now, progress)
        except sqlite3.OperationalError as e:
            if "readonly" not in str(e) and "read-only" not in str(e):
                raise store.explain(e, file) from None
        else:
            conn = store.open_read(path)
            try:
                return _read(conn, since, until, category, run, "judged")
            finally:
                conn.close()
        conn = store.open_read(path)
    try:
        memory = in_memory(conn, file)
        try:
            run = judge_new_days(memory, now=now, progress=progress)
            return _read(memory, since, until, category, run, "memory")
        finally:
            memory.close()  # its read-only attachment of the store too
    finally:
        conn.close()


# The kept verdicts' tables: a store without them is upgraded by open_db before judging.
_KEPT_TABLES = ("spike_days", "spike_state", "spike_mix_days", "spike_feed_days")


def _writable(file: Path) -> bool:
    from incidents.store_open import writable_by_us

    return writable_by_us(file)


def _judge_in_store(file: Path, now, progress) -> KeptRun:
    from incidents import store

    conn = sqlite3.connect(file, timeout=store.busy_timeout())
    try:
        running = (
            has_tables(conn, "ingest_runs")
            and conn.execute("SELECT 1 FROM ingest_runs WHERE status = 'running' LIMIT 1").fetchone()
        )
        # A store from an older release is upgraded first (open_db: a VACUUM INTO backup copy, then the
        # migrations), as every writing command does: keeping verdicts is writing.
        current = conn.execute("PRAGMA user_version").fetchone()[0] >= len(MIGRATIONS)
        if current and not running and has_tables(conn, *_KEPT_TABLES):
            return judge_new_days(conn, now=now, progress=progress)
    finally:
        conn.close()
    # An ingest run left 'running': the next writer undoes it first if its process died (kill -9), so
    # that its committed batches never reach a kept verdict (a live run's rows are judged again later).
    db = store.open_db(file, create=False)  # an older store: upgraded (after a backup copy) first
    try:
        from incidents.ingest.runs import recover

        recover(db)
        return judge_new_days(db, now=now, progress=progress)
    finally:
        db.close()


def in_memory(conn: sqlite3.Connection, file: Path) -> sqlite3.Connection:
    """An in-memory database that reads the store at `file` (attached read-only, its ingest runs left
    'running' hidden) and holds a copy of its kept verdicts, for judging a store this process cannot
    write."""
    from incidents.completed import running_runs, view_statements
    from incidents.migrations import _v4_spike_verdicts
    from incidents.store_open import read_uri

    memory = sqlite3.connect("file::memory:", uri=True)
    memory.execute("ATTACH DATABASE ? AS src", [read_uri(file)])  # creates no -wal/-shm (read_uri)
    # The rows of ingest runs still 'running' are hidden, as from every read (completed.py): TEMP views
    # named like the store's tables come first when the judging reads them unqualified.
    ids = running_runs(memory, "src")
    for sql in view_statements(memory, ids, "src") if ids else ():
        memory.execute(sql)

    class _Db:  # the migration step takes a sqlite_utils-like object
        execute = memory.execute

    _v4_spike_verdicts(_Db())
    kept = ("spike_days", "spike_state", "spike_notes", "spike_mix_days", "spike_mix_flags", "spike_targets")
    if has_tables(conn, *kept, "spike_feed_days"):
        for table in (*kept, "spike_feed_days"):
            memory.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
    memory.commit()
    return memory


def _read(conn, since, until, category, run: KeptRun | None, source: str) -> DailySpikes:
    from incidents.spikes.kept import kept_alarms, kept_episodes, kept_mix, kept_notes, kept_status

    conn = connection(conn)
    status = kept_status(conn)
    last = until or (status.last_day if status else None)
    if last is None:
        return DailySpikes(since, None, [], [], [], [], run, source)
    since = since or str(date.fromisoformat(last) - timedelta(days=365))
    episodes = kept_episodes(conn, since=since, until=last, category=category)
    alarms = kept_alarms(conn, since=since, until=last, category=category)
    mix = kept_mix(conn, since=since, until=last) if category is None else []
    notes = [
        n for n in kept_notes(conn) if (category is None or n.series == category) and _within(n, since, last)
    ]
    first_judged, last_judged = conn.execute(
        "SELECT min(day), max(day) FROM spike_days WHERE series = 'total' AND expected IS NOT NULL"
    ).fetchone()
    return DailySpikes(
        since, last, episodes, alarms, mix, notes, run, source, status.judged_at if status else None,
        first_judged=first_judged, last_judged=last_judged,
    )  # fmt: skip


def _within(note, since: str, until: str) -> bool:
    """Series notes that concern the days shown: a level shift that started in them, or a short series."""
    import re

    found = re.search(r"level shift from (\d{4}-\d{2}-\d{2})", note.text)
    return found is None or since <= found.group(1) <= until
