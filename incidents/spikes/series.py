"""Count series in and verdicts out: the `series,date,count` CSV contract and the store's daily counts.

A series is laid on a regular calendar of periods (days, Monday-weeks, months). In a CSV a missing
row is a gap: no data that period, so it is neither used nor judged. In the store a day without
incidents is a zero (the store records incidents, not days).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from incidents.delimited import neutralise
from incidents.files import NotRegularFile, open_regular

if TYPE_CHECKING:  # the detector imports scipy: only judging needs it, not reading kept notes
    from incidents.spikes.detector import Verdicts


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
    labels: np.ndarray | None = None  # (series x periods) the date as written in the input


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
        return np.arange(first.astype("datetime64[M]"), last.astype("datetime64[M]") + 1).astype(
            "datetime64[D]"
        )
    if freq == "hour":
        return np.arange(first, last + 1, dtype="datetime64[h]")
    step = 7 if freq == "week" else 1
    return np.arange(first, last + 1, step, dtype="datetime64[D]")


def _read_rows(path: Path) -> tuple[list[list[str]], list[int]]:
    """Every record of a CSV with the line it starts on; a record whose field count is not the
    header's (extra or missing field, empty line, a quoted newline that swallows a row) fails it."""
    import csv

    rows: list[list[str]] = []
    starts: list[int] = []
    try:
        with open_regular(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, skipinitialspace=True, strict=True)
            start = 1
            for row in reader:
                rows.append(row)
                starts.append(start)
                start = reader.line_num + 1
    except FileNotFoundError:
        raise CountsError(f"no such file: {path}") from None
    except NotRegularFile as e:
        raise CountsError(str(e)) from None
    except OSError as e:  # permission denied, a folder, an I/O error: one line, not Python's repr
        raise CountsError(f"cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise CountsError(f"cannot read {path}: {e}") from None
    except csv.Error as e:
        raise CountsError(f"{path} line {start}: not a readable CSV record ({e})") from None
    if not rows:
        raise CountsError(f"{path} is empty (expected a header series,date,count)")
    width = len(rows[0])
    for row, n in zip(rows[1:], starts[1:], strict=True):
        if len(row) != width:
            what = "an empty line" if not row else f"{len(row)} fields"
            span = "" if "\n" not in "".join(row) else " (a quoted field holds a line break)"
            raise CountsError(
                f"{path} line {n}: {what} where the header has {width} ({','.join(rows[0])}){span}"
            )
    return rows, starts


def read_counts(path: Path, freq: str = "day") -> CountTable:
    """Read a `series,date,count` CSV (many series per file, any order); the first bad row fails it
    with CountsError (file and line: a missing column, a date that is not YYYY-MM-DD, a bad count)."""
    import pandas as pd

    rows, line = _read_rows(path)
    header = [str(c).strip().lower().lstrip("\ufeff") for c in rows[0]]
    missing = [c for c in ("series", "date", "count") if c not in header]
    if missing:
        raise CountsError(f"{path}: header lacks {', '.join(missing)} (expected series,date,count)")
    if len(rows) == 1:
        raise CountsError(f"{path} has a header but no rows")
    frame = pd.DataFrame(rows[1:], columns=header, dtype=str)
    line = np.asarray(line[1:])
    written = frame["date"].str.strip().to_numpy()
    days = pd.to_datetime(pd.Series(written).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    bad = days.isna().to_numpy()
    if bad.any():
        k = int(np.argmax(bad))
        raise CountsError(f"{path} line {line[k]}: date {written[k]!r} is not YYYY-MM-DD")
    values = pd.to_numeric(frame["count"].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.floor(values))
    if bad.any():
        k = int(np.argmax(bad))
        raise CountsError(
            f"{path} line {line[k]}: count {frame['count'].iloc[k]!r} is not a whole number >= 0"
        )
    codes, names = pd.factorize(frame["series"].str.strip(), sort=False)
    periods = period_start(days.to_numpy().astype("datetime64[D]"), freq)
    starts = calendar(periods.min(), periods.max(), freq)
    col = np.searchsorted(starts, periods)
    flat = codes.astype(np.int64) * len(starts) + col
    order = np.argsort(flat, kind="stable")
    dup = np.flatnonzero(np.diff(flat[order]) == 0)
    if dup.size:
        k = int(order[dup[0] + 1])
        raise CountsError(
            f"{path} line {line[k]}: series {names[codes[k]]!r} already has a row for the {freq} of "
            f"{periods[k]} (one row per series and {freq})"
        )
    counts = np.zeros((len(names), len(starts)))
    observed = np.zeros((len(names), len(starts)), dtype=bool)
    counts[codes, col] = values
    observed[codes, col] = True
    labels = np.full((len(names), len(starts)), "", dtype=object)
    labels[codes, col] = written
    return CountTable([str(n) for n in names], starts, counts, observed, freq, labels)


@dataclass
class SeriesNote:
    """Something a user must know about one series: too short to judge, or a new level accepted."""

    series: str
    text: str
    kind: str = "short"  # "short" | "shift"


def judge(table: CountTable, **resume) -> tuple[Verdicts, list[SeriesNote]]:
    """Run the detector on every series of the table; notes for series it cannot judge.
    `resume` passes detect's `resume` and `checkpoint_at` on."""
    from incidents.spikes.detector import SETTINGS, detect

    settings = SETTINGS[table.freq]
    verdicts = detect(table.counts, table.observed, table.starts, settings, **resume)
    notes = []
    unit = {"day": "days", "week": "weeks", "month": "months", "hour": "hours"}[table.freq]
    for i, name in enumerate(table.names):
        seen = np.flatnonzero(table.observed[i])
        if np.isnan(verdicts.expected[i]).all():
            span = seen[-1] - seen[0] + 1 if seen.size else 0
            notes.append(
                SeriesNote(
                    name,
                    f"{name}: {span} {unit} of history, under the {settings.min_history} "
                    f"needed (and a refit) to judge; no alarms",
                )
            )
        for start, ratio in verdicts.shifts[i]:
            notes.append(
                SeriesNote(
                    name,
                    f"{name}: level shift from {table.starts[start]} "
                    f"(x{ratio:.2f}); that level is the new baseline",
                    "shift",
                )
            )
    return verdicts, notes


def write_verdicts(path: Path, table: CountTable, verdicts: Verdicts) -> int:
    """Write series,date,count,expected,upper,score,alarm for every observed period; returns the rows.

    Periods without a verdict (the first weeks of a series) have empty expected/upper/score, alarm 0.
    Raises CountsError when the file cannot be written.
    """
    import pandas as pd

    si, ci = np.nonzero(table.observed)
    exp = verdicts.expected[si, ci]
    has = ~np.isnan(exp)
    label = table.labels[si, ci] if table.labels is not None else table.starts[ci].astype(str)

    def fmt(values: np.ndarray, spec: str) -> np.ndarray:
        out = np.full(len(values), "", dtype=object)
        out[has] = np.char.mod(spec, values[has])
        return out

    frame = pd.DataFrame(
        {
            # Series names come from the user's file: a spreadsheet must not run one as a formula (OWASP).
            "series": [neutralise(name) for name in np.asarray(table.names, dtype=object)[si]],
            "date": [neutralise(d) for d in label],
            "count": table.counts[si, ci].astype(np.int64),
            "expected": fmt(exp, "%.3f"),
            "upper": fmt(verdicts.upper[si, ci], "%d"),
            "score": fmt(verdicts.score[si, ci], "%.3f"),
            "alarm": verdicts.alarm[si, ci].astype(int),
        }
    )
    try:
        frame.to_csv(path, index=False)
    except OSError as e:
        raise CountsError(f"cannot write {path}: {e.strerror or e}") from None
    return len(frame)


@dataclass
class CountsRun:
    """What `incidents spikes --counts` did."""

    rows: int
    series: int
    alarms: int
    notes: list[SeriesNote]


def run_counts(source: Path, output: Path, freq: str = "day") -> CountsRun:
    """`incidents spikes --counts IN --output OUT`: judge every series of IN, write OUT."""
    table = read_counts(source, freq)
    verdicts, notes = judge(table)
    rows = write_verdicts(output, table, verdicts)
    return CountsRun(rows, len(table.names), int(verdicts.alarm.sum()), notes)


def store_table(
    db, *, freq: str = "day", category: str | None = None, until: str | None = None
) -> CountTable:
    """Total and per-category counts from the store, one period per row of a regular calendar.

    Days without incidents are zeros, from the store's first day to `until` (default: its last day).
    With `category`, only that category's series.
    """
    from incidents import store

    first, last = store.data_span(db)
    until = until or last
    if first is None or until < first:
        return CountTable(
            [], np.array([], dtype="datetime64[D]"), np.zeros((0, 0)), np.zeros((0, 0), bool), freq
        )
    rows = store.day_counts(db, until=until, category=category, by_category=True)
    days = calendar(np.datetime64(first), np.datetime64(until), "day")
    names = [category] if category else ["total", *sorted({r[1] for r in rows})]
    daily = np.zeros((len(names), len(days)))
    index = {n: k for k, n in enumerate(names)}
    for day, cat, count in rows:
        col = (np.datetime64(day) - days[0]).astype(int)
        daily[index[cat], col] += count
        if not category:
            daily[0, col] += count
    starts = calendar(period_start(days[:1], freq)[0], period_start(days[-1:], freq)[0], freq)
    col = np.searchsorted(starts, period_start(days, freq))
    counts = np.zeros((len(names), len(starts)))
    np.add.at(counts.T, col, daily.T)
    return CountTable(names, starts, counts, np.ones_like(counts, dtype=bool), freq)
