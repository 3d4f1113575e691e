"""Scan in bounded memory (issue 15 point 4): the streamed correlation windows and the batched writes give
the same incidents as holding everything in memory did."""

from __future__ import annotations

import importlib.util
import operator
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents import store
from incidents.scan import found, scan_paths
from incidents.scan.engine import SAMPLE, Episode, _windows
from incidents.scan.rules import Rule

ROOT = Path(__file__).resolve().parent.parent


def rule(kind: str, count: int, timespan: int, op: str) -> Rule:
    return Rule(
        id="t", title="t", level="high", file=Path("t.yml"), kind=kind, category="intrusion",
        taxonomy="intrusion-attempts", type="brute-force", readers=("auth",), predicate="1",
        group_by=("source_ip",), value_field="user" if kind == "value_count" else None, timespan=timespan,
        op=op, count=count,
    )  # fmt: skip


_OPS = {"gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt, "eq": operator.eq}


def whole_group_windows(r: Rule, rows: list[tuple]) -> list[Episode]:
    """The engine as it was before it streamed (the whole group's rows in a list, indexes into it): the
    reference the streamed version must equal."""
    span, meets, threshold, distinct = r.timespan, _OPS[r.op], r.count, r.kind == "value_count"
    values: Counter = Counter()
    episodes: list[Episode] = []
    current, current_last, left, n = None, -1, 0, len(rows)
    epochs, lines = [x[1] for x in rows], [x[2] for x in rows]
    for i in range(n):
        epoch = epochs[i]
        if distinct and rows[i][3] is not None:
            values[str(rows[i][3]).lower()] += 1
        while epochs[left] < epoch - span:
            if distinct and rows[left][3] is not None:
                v = str(rows[left][3]).lower()
                values[v] -= 1
                if not values[v]:
                    del values[v]
            left += 1
        if i + 1 < n and epochs[i + 1] == epoch:
            continue
        metric = len(values) if distinct else i - left + 1
        if not meets(metric, threshold):
            continue
        if current is not None and epochs[left] - current.end <= span:
            current.metric = max(current.metric, metric)
            first_new = current_last + 1
        else:
            current = Episode(r, tuple(rows[i][4:]), epochs[left], epoch, 0, lines[left], lines[left], metric)
            episodes.append(current)
            first_new = left
        new_lines = lines[first_new : i + 1]
        current.events += len(new_lines)
        current.first_line = min(current.first_line, min(new_lines))
        current.last_line = max(current.last_line, max(new_lines))
        if len(current.sample) < SAMPLE:
            current.sample.extend(
                x[0] for x in rows[first_new : min(i + 1, first_new + SAMPLE - len(current.sample))]
            )
        current.end = epoch
        current_last = i
    return episodes


@st.composite
def groups(draw):
    """One source's matches sorted by time: bursts, ties (equal seconds), gaps, repeated users, and lines
    out of time order (a log's lines need not be)."""
    gaps = draw(st.lists(st.sampled_from([0, 0, 1, 2, 5, 30, 200, 400, 5000]), min_size=1, max_size=120))
    times, t = [], 0
    for g in gaps:
        t += g
        times.append(t)
    users = draw(st.lists(st.sampled_from(["root", "ROOT", "admin", "oracle", None]), min_size=len(times),
                          max_size=len(times)))  # fmt: skip
    lines = draw(st.permutations(range(1, len(times) + 1)))
    return [(k + 1, times[k], lines[k], users[k], "203.0.113.5") for k in range(len(times))]


@settings(max_examples=300, deadline=None)
@given(
    rows=groups(),
    kind=st.sampled_from(["event_count", "value_count"]),
    count=st.integers(1, 12),
    timespan=st.sampled_from([0, 1, 10, 300, 3600]),
    op=st.sampled_from(sorted(_OPS)),
)
def test_streamed_windows_equal_the_whole_group_in_memory(rows, kind, count, timespan, op):
    r = rule(kind, count, timespan, op)
    streamed = list(_windows(r, iter(rows)))  # an iterator: nothing can be indexed back
    assert [vars(e) for e in streamed] == [vars(e) for e in whole_group_windows(r, rows)]


def _auth_log(path: Path, lines: int) -> Path:
    spec = importlib.util.spec_from_file_location(
        "make_sample_logs", ROOT / "scripts" / "make_sample_logs.py"
    )
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    path.write_text("".join(gen.auth_lines(lines, seed=15)))
    return path


def _scan(tmp_path: Path, name: str, logs: list[Path]) -> tuple[list[tuple], list[dict]]:
    db = store.open_db(tmp_path / f"{name}.db")
    try:
        reports = []
        for log in logs:  # the same log twice: the second run finds every incident already stored
            report = scan_paths(db, [log], year=2021)
            reports.append([f.as_dict() for f in report.files])
        rows = db.execute("SELECT * FROM incidents ORDER BY rowid").fetchall()
    finally:
        db.close()
    return rows, reports


@pytest.mark.parametrize("batch", [1, 7])
def test_a_scan_split_across_batches_gives_the_same_incidents(tmp_path, monkeypatch, batch):
    log = _auth_log(tmp_path / "auth.log", 30_000)
    whole_rows, whole_reports = _scan(tmp_path, "whole", [log, log])
    assert len(whole_rows) > 3 * 7  # several batches of 7 (brute force and spraying from many sources)
    monkeypatch.setattr(found, "INCIDENT_BATCH", batch)
    split_rows, split_reports = _scan(tmp_path, f"split{batch}", [log, log])
    assert split_rows == whole_rows
    strip = [[{k: v for k, v in f.items() if k != "file"} for f in files] for files in whole_reports]
    assert [[{k: v for k, v in f.items() if k != "file"} for f in files] for files in split_reports] == strip
    first, again = whole_reports
    assert first[0]["new"] == first[0]["found"] == len(whole_rows) and again[0]["new"] == 0
