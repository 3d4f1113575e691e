"""Kept spike verdicts (incidents.spikes.kept): judged once, day by day, identical to a recomputation."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from incidents import store
from incidents.spikes import store_alarms
from incidents.spikes.kept import (
    judge_new_days,
    kept_alarms,
    kept_episodes,
    kept_mix,
    kept_status,
    series_window,
)
from incidents.spikes.mix import store_mix
from incidents.taxonomy import rsit

FIRST = date(2020, 1, 6)
DAYS = 230
KEPT_TABLES = {
    "spike_days": "series, day",
    "spike_mix_days": "day",
    "spike_mix_flags": "day",
    "spike_targets": "target",
    "spike_feed_days": "feed, day",
    "spike_notes": "series, kind, text",
}


def make_rows(day: date, category: str, n: int, *, tag: str = "", feed: str = "feed-a") -> list[tuple]:
    taxonomy, kind = rsit(category)
    return [
        (
            f"{tag}{category}{day}{k}",
            f"{day}T0{k % 10}:00:00Z",
            str(day),
            category,
            taxonomy,
            kind,
            f"{tag}site{k % 30}.{category}.vn" if k % 3 else f"{tag}new{day}{k}.vn",
            "domain",
            f"10.0.{k % 20}.1",
            None,
            feed,
            None,
            None,
            None,
            None,
            "{}",
        )
        for k in range(n)
    ]


def history(seed: int = 3) -> dict[date, list[tuple]]:
    """DAYS days of phishing and malware with a campaign near the end, rows per day."""
    rng = np.random.default_rng(seed)
    out = {}
    for k in range(DAYS):
        day = FIRST + timedelta(days=k)
        rows = make_rows(day, "phishing", int(rng.poisson(4 if day.weekday() >= 5 else 9)))
        rows += make_rows(day, "malware", int(rng.poisson(3)), tag="m", feed="feed-b")
        if 200 <= k < 204:
            rows += make_rows(day, "phishing", 40, tag=f"c{k}")
        out[day] = rows
    return out


def snapshot(conn) -> dict[str, list]:
    out = {}
    for table, order in KEPT_TABLES.items():
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "judged_at"]
        out[table] = conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}").fetchall()
    return out


def add(db, rows) -> None:
    with db.atomic():
        store.add_incidents(db, rows)


@pytest.fixture(scope="module")
def incremental(tmp_path_factory) -> tuple[Path, Path]:
    """The same incidents stored twice: judged day by day (with late records), and all at once."""
    folder = tmp_path_factory.mktemp("kept")
    days = history()
    step = store.open_db(folder / "step.db")
    ordered = sorted(days)
    cut = len(ordered) - 5
    add(step, [r for d in ordered[:cut] for r in days[d]])
    judge_new_days(step)
    late = make_rows(ordered[cut - 20], "malware", 7, tag="late")
    for k, day in enumerate(ordered[cut:]):
        noon = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
        half = len(days[day]) // 2
        add(step, days[day][:half])
        judge_new_days(step, now=noon)  # today's count so far: provisional
        add(step, days[day][half:])
        if k == 2:
            add(step, late)  # late records for a day judged three weeks ago
        run = judge_new_days(step)
        assert run.judged_days >= 1
        if k == 2:
            assert run.first_changed == str(ordered[cut - 20])
    step.close()
    full = store.open_db(folder / "full.db")
    add(full, [r for d in ordered for r in days[d]] + late)
    judge_new_days(full)
    full.close()
    return folder / "step.db", folder / "full.db"


def test_kept_verdicts_judged_day_by_day_equal_a_full_recomputation(incremental):
    step, full = (sqlite3.connect(p) for p in incremental)
    a, b = snapshot(step), snapshot(full)
    assert a["spike_days"] and a["spike_mix_days"] and a["spike_targets"]
    for table in KEPT_TABLES:
        assert a[table] == b[table], table
    assert step.execute("SELECT count(*) FROM spike_days WHERE final = 0").fetchone()[0] == 0


def test_kept_alarms_are_the_detectors_alarms(incremental):
    db = store.open_db(incremental[0])
    assert [a.as_dict() for a in kept_alarms(db, annotate=False)] == [a.as_dict() for a in store_alarms(db)]
    assert [m.as_dict() for m in kept_mix(db)] == [m.as_dict() for m in store_mix(db)]
    campaign = [e for e in kept_episodes(db) if e.series == "phishing" and e.first_day >= "2020-07-20"]
    assert campaign and campaign[0].first_day == str(FIRST + timedelta(days=200))


def test_nothing_new_judges_nothing_and_a_new_day_only_that_day(incremental, tmp_path):
    path = tmp_path / "copy.db"
    path.write_bytes(incremental[0].read_bytes())
    db = store.open_db(path)
    assert kept_status(db).fresh
    run = judge_new_days(db)
    assert (run.judged_days, run.first_changed) == (0, None)
    day = FIRST + timedelta(days=DAYS)
    add(db, make_rows(day, "phishing", 5, tag="next"))
    assert not kept_status(db).fresh
    run = judge_new_days(db)
    assert (run.judged_days, run.first_changed, run.last_day) == (1, str(day), str(day))
    assert kept_status(db).fresh and kept_status(db).last_day == str(day)


def test_today_alarms_as_soon_as_its_count_so_far_exceeds_the_bound(tmp_path):
    db = store.open_db(tmp_path / "today.db")
    days = history()
    ordered = sorted(days)[:120]
    add(db, [r for d in ordered for r in days[d]])
    today = ordered[-1] + timedelta(days=1)
    add(db, make_rows(today, "phishing", 45, tag="burst"))
    now = datetime(today.year, today.month, today.day, 4, tzinfo=UTC)  # 11:00 in Ho Chi Minh City
    judge_new_days(db, now=now)
    alarms = kept_alarms(db, since=str(today))
    assert {a.series for a in alarms} == {"phishing", "total"}
    assert all(not a.final for a in alarms)
    assert not kept_alarms(db, since=str(today), include_provisional=False)
    window = series_window(db, "phishing", str(today), before=3, after=0)
    assert [v.day for v in window][-1] == str(today) and not window[-1].final and window[0].final
    (ep,) = kept_episodes(db, since=str(today))
    assert ep.provisional and ep.series == "phishing" and ep.folded[0].series == "total"


def test_read_functions_on_a_read_only_store_and_on_one_without_the_tables(incremental, tmp_path):
    conn = sqlite3.connect(f"file:{incremental[0]}?mode=ro", uri=True)
    assert kept_alarms(conn) and kept_episodes(conn) and kept_status(conn).fresh
    with pytest.raises(sqlite3.OperationalError):
        judge_new_days(conn)
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("CREATE TABLE incidents (id TEXT PRIMARY KEY, day TEXT)")
    assert kept_alarms(old) == [] and kept_episodes(old) == [] and kept_mix(old) == []
    assert kept_status(old) is None and series_window(old, "total", "2020-01-01") == []
