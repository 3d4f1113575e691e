"""Count series in and verdicts out: the `series,date,count` CSV contract and the store's daily counts.

A series is laid on a regular calendar of periods (days, Monday-weeks, months). In a CSV a missing
row is a gap: no data that period, so it is neither used nor judged. In the store a day without
incidents is a zero (the store records incidents, not days).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from incidents.spikes.detector import SETTINGS, Verdicts, detect


class CountsError(Exception):
    """The counts file cannot be read as series,date,count rows."""


@dataclass
class CountTable:
    """Many series on one calendar: counts and observed are (series x periods)."""

    names: list[str]
    starts: np.ndarray  # datetime64[D] (datetime64[h] for hourly data) period starts
    counts: np.ndarray
    observed: np.ndarray
    freq: str
    labels: dict[tuple[int, int], str] | None = None  # (series, period) -> date as written in the input


def period_start(days: np.ndarray, freq: str) -> np.ndarray:
    """The start of the period each day falls in: the day, its Monday, or the 1st of its month."""
    days = days.astype("datetime64[D]")
    if freq == "week":
        return days - ((days.view("int64") + 3) % 7).astype("timedelta64[D]")
    if freq == "month":
        return days.astype("datetime64[M]").astype("datetime64[D]")
    return days


def calendar(first: np.datetime64, last: np.datetime64, freq: str) -> np.ndarray:
    """Every period start from `first` to `last` inclusive."""
    if freq == "month":
        return np.arange(first.astype("datetime64[M]"), last.astype("datetime64[M]") + 1).astype("datetime64[D]")
    if freq == "hour":
        return np.arange(first, last + 1, dtype="datetime64[h]")
    step = 7 if freq == "week" else 1
    return np.arange(first, last + 1, step, dtype="datetime64[D]")


def read_counts(path: Path, freq: str = "day") -> CountTable:
    """Read a `series,date,count` CSV (many series per file, any order)."""
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise CountsError(f"cannot read {path}: {e.strerror}") from None
    names: dict[str, int] = {}
    sid, dates, values, written = [], [], [], []
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise CountsError(f"{path} is empty (expected a header series,date,count)")
        cols = [c.strip().lower() for c in header]
        missing = [c for c in ("series", "date", "count") if c not in cols]
        if missing:
            raise CountsError(f"{path}: header lacks {', '.join(missing)} (expected series,date,count)")
        ci, di, ni = cols.index("series"), cols.index("date"), cols.index("count")
        for line, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            try:
                name, day, value = row[ci].strip(), row[di].strip(), row[ni].strip()
            except IndexError:
                raise CountsError(f"{path} line {line}: expected series,date,count, got {len(row)} fields") from None
            try:
                parsed = date.fromisoformat(day[:10])
            except ValueError:
                raise CountsError(f"{path} line {line}: date {day!r} is not YYYY-MM-DD") from None
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            if not np.isfinite(number) or number < 0 or number != int(number):
                raise CountsError(f"{path} line {line}: count {value!r} is not a whole number >= 0")
            sid.append(names.setdefault(name, len(names)))
            dates.append(parsed)
            values.append(number)
            written.append(day)
    if not sid:
        raise CountsError(f"{path} has a header but no rows")
    sid_a = np.array(sid)
    periods = period_start(np.array(dates, dtype="datetime64[D]"), freq)
    starts = calendar(periods.min(), periods.max(), freq)
    col = np.searchsorted(starts, periods)
    counts = np.zeros((len(names), len(starts)))
    observed = np.zeros((len(names), len(starts)), dtype=bool)
    taken = observed.copy()
    np.add.at(taken.view(np.uint8), (sid_a, col), 1) if False else None
    flat = sid_a * len(starts) + col
    uniq, first_at, n = np.unique(flat, return_index=True, return_counts=True)
    if (n > 1).any():
        dup = first_at[np.argmax(n > 1)]
        label = list(names)[sid_a[dup]]
        raise CountsError(
            f"{path}: series {label!r} has more than one row for the {freq} of {periods[dup]} (one row per {freq})"
        )
    counts[sid_a, col] = values
    observed[sid_a, col] = True
    labels = {(int(s), int(c)): w for s, c, w in zip(sid_a, col, written)}
    return CountTable(list(names), starts, counts, observed, freq, labels)


@dataclass
class SeriesNote:
    """Something a user must know about one series, e.g. that it is too short to judge."""

    series: str
    text: str


def judge(table: CountTable) -> tuple[Verdicts, list[SeriesNote]]:
    """Run the detector on every series of the table; notes for series it cannot judge."""
    settings = SETTINGS[table.freq]
    verdicts = detect(table.counts, table.observed, table.starts, settings)
    notes = []
    unit = {"day": "days", "week": "weeks", "month": "months", "hour": "hours"}[table.freq]
    for i, name in enumerate(table.names):
        seen = np.flatnonzero(table.observed[i])
        if np.isnan(verdicts.expected[i]).all():
            span = seen[-1] - seen[0] + 1 if seen.size else 0
            notes.append(SeriesNote(name, f"{name}: {span} {unit} of history, under the {settings.min_history} "
                                          f"needed (and a refit) to judge; no alarms"))
        for start, ratio in verdicts.shifts[i]:
            notes.append(SeriesNote(name, f"{name}: level shift from {table.starts[start]} "
                                          f"(x{ratio:.2f}); that level is the new baseline"))
    return verdicts, notes


def write_verdicts(path: Path, table: CountTable, verdicts: Verdicts) -> int:
    """Write series,date,count,expected,upper,score,alarm for every input row; returns the row count."""
    rows = 0
    try:
        handle = open(path, "w", newline="", encoding="utf-8")
    except OSError as e:
        raise CountsError(f"cannot write {path}: {e.strerror}") from None
    with handle:
        out = csv.writer(handle)
        out.writerow(["series", "date", "count", "expected", "upper", "score", "alarm"])
        for i, name in enumerate(table.names):
            exp, up, sc, al = (verdicts.expected[i], verdicts.upper[i], verdicts.score[i], verdicts.alarm[i])
            for c in np.flatnonzero(table.observed[i]):
                label = table.labels[(i, int(c))] if table.labels else str(table.starts[c])
                if np.isnan(exp[c]):
                    out.writerow([name, label, int(table.counts[i, c]), "", "", "", 0])
                else:
                    out.writerow([name, label, int(table.counts[i, c]), f"{exp[c]:.3f}", int(up[c]),
                                  f"{sc[c]:.3f}", int(al[c])])
                rows += 1
    return rows


def run_counts(source: Path, output: Path, freq: str = "day") -> tuple[int, list[SeriesNote]]:
    """`incidents spikes --counts IN --output OUT`: judge every series of IN, write OUT."""
    table = read_counts(source, freq)
    verdicts, notes = judge(table)
    return write_verdicts(output, table, verdicts), notes
