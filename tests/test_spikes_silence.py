"""Silent feeds (feed_silences): "no records from feed X for N hours, usually M a day"; and the same
outage seen through the kept verdicts: the silence is reported, the return raises no spike."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

import numpy as np

from incidents import store
from incidents.spikes.kept import feed_silences, judge_new_days, kept_alarms
from incidents.taxonomy import rsit

FIRST = date(2020, 1, 6)


def rows(day: date, n: int, feed: str, tag: str, category: str = "phishing") -> list[tuple]:
    taxonomy, kind = rsit(category)
    return [
        (f"{tag}{feed}{day}{k}", f"{day}T{k % 24:02d}:10:00Z", str(day), category, taxonomy, kind,
         f"{tag}h{k}.{feed}.vn", "domain", None, None, feed, None, None, None, None, "{}")
        for k in range(n)
    ]  # fmt: skip


def test_a_feed_silent_for_much_longer_than_usual_is_reported(tmp_path):
    db = store.open_db(tmp_path / "feeds.db")
    rng = np.random.default_rng(2)
    batch = []
    for k in range(60):
        day = FIRST + timedelta(days=k)
        batch += rows(day, int(rng.poisson(12)), "shadowserver", "a")
        if k % 2 == 0:
            batch += rows(day, 1, "partner-cert", "b")  # one every other day
        if k < 5:
            batch += rows(day, 3, "one-off", "c")  # a feed seen on five days only: too irregular
    with db.atomic():
        store.add_incidents(db, batch)
    judge_new_days(db)
    conn = sqlite3.connect(f"file:{tmp_path / 'feeds.db'}?mode=ro", uri=True)
    (seen,) = conn.execute("SELECT max(occurred_at) FROM incidents WHERE feed = 'shadowserver'").fetchone()
    now = datetime.fromisoformat(seen) + timedelta(hours=40)
    (silent,) = feed_silences(conn, now=now)
    assert silent.feed == "shadowserver" and silent.silent_hours == 40.0
    assert 10 <= silent.usual_per_day <= 14
    assert (
        silent.sentence()
        == f"no records from feed shadowserver for 40 hours, usually {silent.usual_per_day:.0f} a day"
    )
    # 20 hours of silence from a feed that sends 12 a day is not yet news; nor is any silence of
    # a feed that sends one every other day, within a few days
    assert feed_silences(conn, now=now - timedelta(hours=20)) == []
    later = feed_silences(conn, now=now + timedelta(days=20))
    assert [s.feed for s in later] == ["partner-cert", "shadowserver"]  # longest silence first


def test_a_feed_silent_for_ten_days_is_news_and_its_return_raises_no_spike(tmp_path):
    db = store.open_db(tmp_path / "outage.db")
    rng = np.random.default_rng(5)
    batch = []
    outage = range(200, 210)
    for k in range(240):
        day = FIRST + timedelta(days=k)
        if k not in outage:
            batch += rows(day, int(rng.poisson(9 if day.weekday() < 5 else 5)), "shadowserver", "a")
        batch += rows(day, int(rng.poisson(2)), "partner-cert", "b", "malware")
    with db.atomic():
        store.add_incidents(db, [r for r in batch if r[2] < str(FIRST + timedelta(days=205))])
    judge_new_days(db)
    now = datetime.combine(FIRST + timedelta(days=205), datetime.min.time(), UTC)
    assert [s.feed for s in feed_silences(db, now=now)] == ["shadowserver"]
    with db.atomic():
        store.add_incidents(db, [r for r in batch if r[2] >= str(FIRST + timedelta(days=205))])
    judge_new_days(db)
    back = str(FIRST + timedelta(days=210))
    assert kept_alarms(db, since=back, category="phishing") == []
    assert kept_alarms(db, since=back, category="total") == []
