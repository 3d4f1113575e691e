"""The TUI's only door to the store: read-only, short statements, plain data out.

Every screen asks this module, never the store, so swapping an implementation (the `cli` branch's
incidents.search, the `spikes` branch's kept verdicts, the `alerts` outbox) touches this file only.
The connection is opened read-only (`mode=ro`): the TUI never writes, migrates or switches the journal,
and each query is one autocommit statement whose rows are fetched at once, so no read transaction is
left open to hold back a checkpoint of the cron job's writes (in WAL mode readers never block writers).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path

from incidents import completed, search, stats, store
from incidents.search import IncidentFilter
from incidents.tui.lanes import Superseded, TuiDataError, _Lane, _Thread, open_read

PAGE = 50
# The sort keys the incidents screen cycles through (`s`), all of them incidents.search.ORDERS.
ORDERS = ("day", "category", "severity", "target", "sector", "feed")


# --- opening (contract 5: store.open_read) and searching (contract 4: incidents.search) ----------------


def empty(flt: IncidentFilter) -> bool:
    """True when the filter restricts nothing."""
    return all(getattr(flt, f.name) in (None, "") for f in fields(flt))


def _find(conn, flt: IncidentFilter, order: str, descending: bool, limit: int, offset: int) -> list:
    return search.find_incidents(conn, flt, order=order, descending=descending, limit=limit, offset=offset)


def _count(conn, flt: IncidentFilter) -> int:
    return search.count_incidents(conn, flt)


# --- runs and rejects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    id: int
    kind: str
    file: str
    started_at: str
    finished_at: str | None
    read: int | None
    accepted: int | None
    duplicate: int | None
    rejected: int | None
    status: str


@dataclass(frozen=True)
class Reject:
    id: int
    run_id: int
    line: int | None
    reason: str
    raw: str | None


# --- spikes (contract 1: incidents/spikes/kept.py, owner `spikes`) -------------------------------------


@dataclass(frozen=True)
class SpikeAlarm:
    series: str
    day: str
    count: int
    expected: float
    upper: float
    level: float | None
    explanation: str
    span: int = 1
    provisional: bool = False


@dataclass(frozen=True)
class DayPoint:
    day: str
    count: int
    expected: float | None
    upper: float | None
    alarm: bool


@dataclass(frozen=True)
class Spikes:
    alarms: list[SpikeAlarm]
    kept: bool  # True: read from fresh kept verdicts; False: days judged now, in memory
    judged_at: str | None = None  # when the kept verdicts were judged (UTC)
    source: str = "kept"  # 'kept', 'kept+memory' (new days judged in memory), 'memory' (none kept)


def _alarm_from(a, lang: str = "en") -> SpikeAlarm:
    from incidents.tui.fmt import explanation

    return SpikeAlarm(
        series=a.series,
        day=getattr(a, "date", None) or a.day,
        count=int(a.count),
        expected=float(a.expected),
        upper=float(a.upper),
        level=getattr(a, "level", None),
        explanation=explanation(a, lang),
        span=int(getattr(a, "span", 1) or 1),
        provisional=bool(getattr(a, "provisional", False)),
    )


class _SpikeLane:
    """The thread where verdicts are read or judged: the store's read connection and, when the kept
    verdicts are stale, the in-memory database they were judged in (a connection stays in its thread)."""

    def __init__(self, path: Path) -> None:
        self._thread = _Thread("incidents-tui-spikes")
        self.path = path
        self._reader: sqlite3.Connection | None = None
        self.memory: sqlite3.Connection | None = None
        self.verdicts: sqlite3.Connection | None = None
        self._pending: dict[str, Future] = {}
        self._lock = threading.Lock()

    def reader(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = open_read(self.path)
        else:  # a store read as an immutable file that changed is read again (store.reopened)
            fresh = store.reopened(self._reader)
            if fresh is not self._reader:
                if self.verdicts is self._reader:
                    self.verdicts = fresh
                self._reader = fresh
        return self._reader

    def submit(self, kind: str, fn: Callable, *args) -> Future:
        """Queue `fn` behind what the lane is doing; a request of the same `kind` still waiting in the
        queue is cancelled (its future raises CancelledError at once), so the lane holds at most one
        waiting request per kind (one judgement, one series window) however often the UI asks."""
        with self._lock:
            older = self._pending.get(kind)
            if older is not None:
                older.cancel()  # only a request not started yet: a running one finishes
            future = self._thread.submit(self._call, fn, args)
            self._pending[kind] = future
        return future

    def run(self, kind: str, fn: Callable, *args):
        """Wait for the result of `fn`; raises Superseded when a newer request of `kind` replaced it."""
        try:
            return self.submit(kind, fn, *args).result()
        except CancelledError:
            raise Superseded() from None

    def _call(self, fn: Callable, args: tuple):
        try:
            if fn is _judge_spikes:
                return fn(self, *args)
            if self.verdicts is None or self.verdicts is self._reader:
                # Kept verdicts are read from the store: a new snapshot each time, never a stale one.
                completed.refresh(self.reader())  # runs not completed stay hidden
            return fn(self.verdicts or self.reader(), *args)
        except sqlite3.DatabaseError as e:
            raise TuiDataError(str(store.explain(e, self.path))) from None
        except store.StoreError as e:  # the store read again (store.reopened) and now refused
            raise TuiDataError(str(e)) from None

    def close(self) -> None:
        def close_all() -> None:
            for conn in (self._reader, self.memory):
                if conn is not None:
                    conn.close()

        self._thread.submit(close_all)  # after the judgement in progress, if any; never waited for
        self._thread.stop()


class StoreReader:
    """Read-only connections shared by the UI's worker threads: one for the short queries, one for
    pages of incidents and one for their counts, so a long count never holds up a page."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = store.resolve_path(path)
        self._main = _Lane(self.path)
        self._pages = _Lane(self.path)
        self._counts = _Lane(self.path)
        self._spike_lane = _SpikeLane(self.path)

    def close(self) -> None:
        for lane in (self._main, self._pages, self._counts, self._spike_lane):
            lane.close()

    def _run(self, fn: Callable, *args, **kwargs):
        return self._main.run(fn, *args, **kwargs)

    # change detection: PRAGMA data_version changes when another connection commits (sqlite.org/pragma);
    # a store read as an immutable file never commits under us: there the lane opens it again when the
    # file changed (store.reopened), and the count of those openings tells the change.
    def data_version(self) -> int:
        version = self._run(lambda c: c.execute("PRAGMA data_version").fetchone()[0])
        return (self._main.generation << 32) + version

    # the month
    def data_span(self) -> tuple[str | None, str | None]:
        return self._run(store.data_span)

    def default_month(self) -> str | None:
        last = self.data_span()[1]
        return last[:7] if last else None

    def month_report(self, month: str) -> stats.MonthReport:
        return self._run(stats.month_report, month)

    def monthly_counts(self, first: str, last: str) -> dict[str, dict[str, int]]:
        return self._run(stats.monthly_counts, first, last)

    # incidents
    def find_incidents(
        self,
        flt: IncidentFilter,
        *,
        order: str = "day",
        descending: bool = True,
        limit: int = PAGE,
        offset: int = 0,
    ) -> list[dict]:
        """One page of incidents; a newer call interrupts an older one still running (raises Superseded)."""
        rows = self._pages.run(_find, flt, order, descending, limit, offset, supersede=True)
        return [_as_dict(r) for r in rows]

    def count_incidents(self, flt: IncidentFilter) -> int:
        """How many incidents match; a newer call interrupts an older one still running (Superseded)."""
        return self._counts.run(_count, flt, supersede=True)

    def get_incident(self, incident_id: str) -> dict | None:
        row = self._run(search.get_incident, incident_id)
        return _as_dict(row) if row is not None else None

    # runs and quarantine
    def runs(self, *, kind: str | None = None, limit: int = 200) -> list[Run]:
        def q(conn):
            where, args = ("WHERE kind = ?", [kind]) if kind else ("", [])
            return conn.execute(
                "SELECT id, kind, file, started_at, finished_at, rows_read, accepted, duplicate, rejected, "
                f"status FROM ingest_runs {where} ORDER BY id DESC LIMIT ?",
                [*args, limit],
            ).fetchall()

        return [Run(*row) for row in self._run(q)]

    def last_run(self, kind: str) -> Run | None:
        runs = self.runs(kind=kind, limit=1)
        return runs[0] if runs else None

    def rejects(self, run_id: int, *, limit: int = 200, offset: int = 0) -> list[Reject]:
        rows = self._run(
            lambda c: c.execute(
                "SELECT id, run_id, line, reason, raw FROM rejects WHERE run_id = ? ORDER BY id LIMIT ? OFFSET ?",
                [run_id, limit, offset],
            ).fetchall()
        )
        return [Reject(*row) for row in rows]

    # spikes (contract 1: incidents.spikes.kept)
    def spikes(
        self,
        *,
        now: datetime | None = None,
        progress: Callable[[int, int], None] | None = None,
        lang: str = "en",
    ) -> Spikes:
        """Every kept daily alarm, oldest first. When the kept verdicts are missing or stale (incidents
        stored since, a new day), the days not kept are judged in memory, from the kept ones, as
        `incidents spikes` does on a read-only store: nothing is written. Seconds on a large store
        without kept verdicts: call from a worker; `progress(done, total)` reports the days judged.
        Explanations are in `lang`, worded as the bulletin words them.
        A call made while an earlier one still waits behind a running judgement replaces it (the
        earlier one raises Superseded): one judgement runs, at most one more waits."""
        return self._spike_lane.run("spikes", _judge_spikes, self.path, now, progress, lang)

    def series_window(self, series: str, day: str, before: int = 28, after: int = 7) -> list[DayPoint]:
        """Counts, expected count and upper bound of one series around a day, from the verdicts that
        `spikes()` last read (kept, or judged in memory). Raises Superseded when a newer window was
        asked for before this one started."""
        try:
            return self.series_window_later(series, day, before, after).result()
        except CancelledError:
            raise Superseded() from None

    def series_window_later(self, series: str, day: str, before: int = 28, after: int = 7) -> Future:
        """`series_window` without waiting: a Future of its list[DayPoint], cancelled when a newer
        window is asked for before it starts (so no thread ever waits for a window nobody wants)."""
        from incidents.spikes import kept

        def window(conn) -> list[DayPoint]:
            rows = kept.series_window(conn, series, day, before=before, after=after)
            return [DayPoint(r.day, r.count, r.expected, r.upper, r.alarm) for r in rows]

        return self._spike_lane.submit("window", window)

    # alerts (contract 3: incidents/alerts/outbox.py, owner `alerts`)
    def alerts(self, *, status: str | None = None, limit: int = 200):
        """(counts, rows, last run) of the alert outbox; None when this release has no outbox."""
        try:
            from incidents.alerts import outbox
        except ImportError:
            return None
        return self._run(
            lambda c: (
                outbox.alert_counts(c),
                [_as_dict(r) for r in outbox.list_alerts(c, status=status, limit=limit)],
                outbox.last_alert_run(c),
            )
        )

    def last_alert_run(self):
        try:
            from incidents.alerts import outbox
        except ImportError:
            return None
        return self._run(outbox.last_alert_run)


def _as_dict(row) -> dict:
    if isinstance(row, dict):
        return row
    if hasattr(row, "as_dict"):
        return row.as_dict()
    if is_dataclass(row):
        return asdict(row)
    return dict(row)


def _judge_spikes(lane: _SpikeLane, path: Path, now: datetime | None, progress, lang: str) -> Spikes:
    from incidents.spikes import kept
    from incidents.spikes.judging import judge_new_days
    from incidents.spikes.report import in_memory

    now = now or datetime.now(UTC)
    conn = lane.reader()
    completed.refresh(conn)  # a new snapshot: the verdicts and incidents as the store holds them now
    status = kept.kept_status(conn, now=now)
    if status is not None and status.fresh:
        lane.verdicts = conn
        judged_at, source = status.judged_at, "kept"
    else:
        if lane.memory is not None:
            lane.memory.close()
        lane.memory = in_memory(conn, path)
        judge_new_days(lane.memory, now=now, progress=progress)
        lane.verdicts = lane.memory
        judged_at, source = None, ("kept+memory" if status is not None else "memory")
    alarms = [_alarm_from(a, lang) for a in kept.kept_alarms(lane.verdicts)]
    return Spikes(alarms, source == "kept", judged_at, source)
