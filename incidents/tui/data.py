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
from dataclasses import asdict, dataclass, fields, is_dataclass, replace
from pathlib import Path
from urllib.parse import quote

from incidents import stats, store

PAGE = 50
ORDERS = ("day", "category", "target", "sector", "feed", "severity")


class TuiDataError(Exception):
    """The store cannot be read by the TUI."""


# --- opening -------------------------------------------------------------------------------------------


def open_read(path: str | Path | None) -> sqlite3.Connection:
    """A read-only connection to an incidents store; raises TuiDataError (not a store, no file)."""
    file = store.resolve_path(path)
    if not file.is_file():
        raise TuiDataError(f"no database at {file} (run 'incidents ingest' or 'incidents demo' first)")
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(file.resolve()))}?mode=ro", uri=True, timeout=5.0, check_same_thread=False
        )
        conn.execute("PRAGMA query_only = 1")
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise TuiDataError(f"{file}: {e}") from None
    if not {"incidents", "ingest_runs", "rejects", "meta"} <= names:
        conn.close()
        raise TuiDataError(f"{file} is not an incidents store (no incidents table)")
    return conn


# --- incident search (contract 4: incidents/search.py, owner `cli`) -----------------------------------


@dataclass(frozen=True)
class IncidentFilter:
    category: str | None = None
    since: str | None = None  # local days, inclusive
    until: str | None = None
    sector: str | None = None
    feed: str | None = None
    severity: str | None = None
    target: str | None = None  # substring, case-insensitive
    run_id: int | None = None

    def with_(self, **changes) -> IncidentFilter:
        return replace(self, **changes)

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, "") for f in fields(self))


_LISTED = "id, occurred_at, day, category, target, sector, feed, severity, status, source_ip, description"


def _where(flt: IncidentFilter) -> tuple[str, list]:
    clauses, args = [], []
    for column in ("category", "sector", "feed", "severity", "run_id"):
        value = getattr(flt, column)
        if value not in (None, ""):
            clauses.append(f"{column} = ?")
            args.append(value)
    if flt.since:
        clauses.append("day >= ?")
        args.append(flt.since)
    if flt.until:
        clauses.append("day <= ?")
        args.append(flt.until)
    if flt.target:  # the FTS5 trigram index, the same clause as incidents list (search.target_clause)
        from incidents.search import target_clause

        sql, targs = target_clause(flt.target)
        clauses.append(sql)
        args.extend(targs)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def _find(conn, flt: IncidentFilter, order: str, descending: bool, limit: int, offset: int) -> list[dict]:
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    where, args = _where(flt)
    direction = "DESC" if descending else "ASC"
    # A substring of the target matches few rows anywhere: walking the day index backwards to find them
    # reads the whole table at random (5 s on 10^6 rows); `+day` lets SQLite scan once and sort the few.
    day = "+day" if flt.target else "day"
    keys = (
        f"{day} {direction}, occurred_at {direction}"
        if order == "day"
        else f"{order} {direction}, {day} DESC"
    )
    sql = f"SELECT {_LISTED} FROM incidents {where} ORDER BY {keys}, id LIMIT ? OFFSET ?"
    cur = conn.execute(sql, [*args, int(limit), int(offset)])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _count(conn, flt: IncidentFilter) -> int:
    where, args = _where(flt)
    if not where:  # kept by triggers: no walk over every row
        from incidents.store import stored_count

        known = stored_count(conn)
        if known is not None:
            return known
    return conn.execute(f"SELECT count(*) FROM incidents {where}", args).fetchone()[0]


def _get(conn, incident_id: str) -> dict | None:
    cur = conn.execute("SELECT * FROM incidents WHERE id = ?", [incident_id])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


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
    kept: bool  # True: read from the kept verdicts; False: computed by this process
    judged_at: str | None = None


def _alarm_from(a) -> SpikeAlarm:
    return SpikeAlarm(
        series=a.series,
        day=getattr(a, "date", None) or a.day,
        count=int(a.count),
        expected=float(a.expected),
        upper=float(a.upper),
        level=getattr(a, "level", None),
        explanation=a.explanation,
        span=int(getattr(a, "span", 1) or 1),
        provisional=bool(getattr(a, "provisional", False)),
    )


_JUDGED: dict[tuple, Spikes] = {}


# --- the store as the TUI sees it ----------------------------------------------------------------------


class _Lane:
    """One read-only connection and the lock that gives it one statement at a time. A lane whose
    requests supersede each other (the page of a filter being typed) interrupts the running one."""

    def __init__(self, path: Path) -> None:
        self.conn = open_read(path)
        self.lock = threading.Lock()
        self.busy = False

    def run(self, fn: Callable, *args, supersede: bool = False, **kwargs):
        if supersede and self.busy:
            self.conn.interrupt()
        with self.lock:
            self.busy = True
            try:
                return fn(self.conn, *args, **kwargs)
            except sqlite3.OperationalError as e:
                if "interrupt" in str(e):
                    raise Superseded() from None
                raise TuiDataError(str(e)) from None
            except sqlite3.DatabaseError as e:
                raise TuiDataError(str(e)) from None
            finally:
                self.busy = False

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class Superseded(TuiDataError):
    """A query was interrupted because a newer one of the same kind replaced it."""


class StoreReader:
    """Read-only connections shared by the UI's worker threads: one for the short queries, one for
    pages of incidents and one for their counts, so a long count never holds up a page."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = store.resolve_path(path)
        self._main = _Lane(self.path)
        self._pages = _Lane(self.path)
        self._counts = _Lane(self.path)

    def close(self) -> None:
        for lane in (self._main, self._pages, self._counts):
            lane.close()

    def _run(self, fn: Callable, *args, **kwargs):
        return self._main.run(fn, *args, **kwargs)

    # change detection: PRAGMA data_version changes when another connection commits (sqlite.org/pragma)
    def data_version(self) -> int:
        return self._run(lambda c: c.execute("PRAGMA data_version").fetchone()[0])

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
        row = self._run(_get, incident_id)
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

    # spikes
    def kept_spikes(self, since: str, until: str) -> Spikes | None:
        """Alarms from the kept verdicts, or None when the store keeps none (compute them instead)."""
        try:
            from incidents.spikes import kept
        except ImportError:
            return None

        def q(conn):
            status = kept.kept_status(conn)
            if status is None:
                return None
            alarms = kept.kept_alarms(conn, since=since, until=until)
            return Spikes([_alarm_from(a) for a in alarms], True, getattr(status, "judged_at", None))

        return self._run(q)

    def fingerprint(self) -> tuple:
        """What identifies the stored incidents' content: (largest rowid, count, last day)."""
        return self._run(
            lambda c: c.execute("SELECT max(rowid), count(*), max(day) FROM incidents").fetchone()
        )

    def computed_spikes(self, since: str | None, until: str | None) -> Spikes:
        """Alarms judged now over the stored daily counts (seconds on a large store: call from a worker).

        Uses its own read-only connection so that the UI's short queries are not held behind it. The
        verdicts of one content are judged once per process (the detector is deterministic).
        """
        from incidents.spikes import store_alarms

        key = (str(self.path.resolve()), self.fingerprint(), since, until)
        if key not in _JUDGED:
            conn = open_read(self.path)
            try:
                alarms = store_alarms(conn, freq="day", since=since, until=until)
            finally:
                conn.close()
            _JUDGED.clear()
            _JUDGED[key] = Spikes([_alarm_from(a) for a in alarms], False)
        return _JUDGED[key]

    def series_window(self, series: str, day: str, before: int = 28, after: int = 7) -> list[DayPoint]:
        """Counts, expected and upper bound of one series around a day (kept verdicts, else computed)."""
        try:
            from incidents.spikes import kept
        except ImportError:
            kept = None
        if kept is not None:
            rows = self._run(lambda c: kept.series_window(c, series, day, before=before, after=after))
            if rows:
                return [DayPoint(r.day, r.count, r.expected, r.upper, r.alarm) for r in rows]
        return _computed_window(self.path, series, day, before, after)

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
    if is_dataclass(row):
        return asdict(row)
    return dict(row)


def _computed_window(path: Path, series: str, day: str, before: int, after: int) -> list[DayPoint]:
    import numpy as np

    from incidents.spikes.series import judge, store_table

    conn = open_read(path)
    try:
        table = store_table(conn, freq="day", category=None if series == "total" else series)
    finally:
        conn.close()
    if series not in table.names:
        return []
    verdicts, _ = judge(table)
    i = table.names.index(series)
    at = int(np.searchsorted(table.starts, np.datetime64(day)))
    lo, hi = max(0, at - before), min(len(table.starts), at + after + 1)

    def val(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    return [
        DayPoint(
            str(table.starts[c]),
            int(table.counts[i, c]),
            val(verdicts.expected[i, c]),
            val(verdicts.upper[i, c]),
            bool(verdicts.alarm[i, c]),
        )
        for c in range(lo, hi)
    ]
