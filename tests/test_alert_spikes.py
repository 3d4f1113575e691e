"""`incidents alert` on spike episodes and silent feeds, day by day as cron would see them (aiosmtpd)."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from incidents import store
from incidents.taxonomy import rsit
from tests.smtpd import SmtpServer
from tests.test_alert_job import Env

START = date(2020, 3, 1)
HISTORY = 150  # days of quiet history before the test's events


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware UTC time for a local time in Asia/Ho_Chi_Minh (UTC+7)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


def incident(
    key: str, when: datetime, day: str, category: str, *, target: str, source: str, feed: str
) -> tuple:
    """One incident row (store.INCIDENT_COLUMNS order): medium, new, sector government, at `when` (aware)."""
    taxonomy, type_ = rsit(category)
    occurred = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (key, occurred, day, category, taxonomy, type_, target, "domain", source, "government", feed,
            "medium", "new", None, None, "{}")  # fmt: skip


def add_day(
    db, day: date, category: str, n: int, *, feed: str = "feed-a", tag: str = "", hour: int = 1
) -> None:
    """`n` distinct incidents of `category` on local `day`, from `feed`, spread over the day from `hour`."""
    rows = [
        incident(
            f"{day}-{category}-{feed}-{tag}{i}",
            local(day, hour) + timedelta(seconds=(i * 37) % max(1, (23 - hour) * 3600)),
            day.isoformat(),
            category,
            target=f"site{i % 17}.example.vn",
            source=f"203.0.113.{i % 5}",
            feed=feed,
        )
        for i in range(n)
    ]
    with db.atomic():
        store.add_incidents(db, rows)


def quiet_history(db, days: int = HISTORY, seed: int = 3) -> date:
    """Poisson-like quiet counts for phishing (feed-a) and deface (feed-b); returns the first day after."""
    rng = random.Random(seed)
    for k in range(days):
        day = START + timedelta(days=k)
        add_day(db, day, "phishing", max(0, round(rng.gauss(8, 2.8))), feed="feed-a")
        add_day(db, day, "deface", max(0, round(rng.gauss(6, 2.4))), feed="feed-b")
    return START + timedelta(days=days)


SPIKES = """
[[recipients]]
email = "phishing-desk@example.vn"
categories = ["phishing"]
spikes = true
[[recipients]]
email = "deface-desk@example.vn"
categories = ["deface"]
spikes = true
[[recipients]]
email = "duty@example.vn"
feeds = true
"""


def mails(server, to: str):
    return [r for r in server.received if to in r.rcpt_tos]


@pytest.mark.slow
def test_a_week_long_campaign_is_one_alert_plus_updates_on_new_peaks(tmp_path, smtp):
    e = Env(tmp_path, smtp, SPIKES)
    day = quiet_history(e.db)
    assert e.run(now=local(day - timedelta(days=1), 22)).exit_code == 0  # the first run: history only
    assert smtp.received == []
    campaign = [40, 55, 50, 70, 60, 45, 40]
    for k, n in enumerate(campaign):
        d = day + timedelta(days=k)
        add_day(e.db, d, "phishing", n)
        add_day(e.db, d, "deface", 6, feed="feed-b")
        result = e.run(now=local(d, 22))
        assert result.exit_code == 0, result.output
    for k in range(3):  # quiet days after it
        d = day + timedelta(days=len(campaign) + k)
        add_day(e.db, d, "phishing", 8)
        add_day(e.db, d, "deface", 6, feed="feed-b")
        assert e.run(now=local(d, 22)).exit_code == 0
    desk = mails(smtp, "phishing-desk@example.vn")
    subjects = [m.subject for m in desk]
    assert len(desk) == 3, subjects
    assert subjects[0].startswith("[incidents] spike: a phishing")
    assert subjects[1].startswith("[incidents] spike update, new peak:")
    assert subjects[2].startswith("[incidents] spike update, new peak:")
    first = desk[0].text
    assert "observed 40" in first and "expected" in first and "times the expected" in first
    assert "site" in first and "203[.]0[.]113" in first
    assert re.search(r"incidents spikes --category phishing --since \S+ --until \S+ --db ", first)
    assert "Update: this episode reached a new peak." in desk[1].text
    assert "peak: 55" in desk[1].text and "peak: 70" in desk[2].text
    assert mails(smtp, "deface-desk@example.vn") == []  # never another desk's items
    assert mails(smtp, "duty@example.vn") == []
    e.db.close()


def test_a_spike_still_growing_today_alerts_before_midnight(tmp_path, smtp):
    e = Env(tmp_path, smtp, SPIKES)
    day = quiet_history(e.db)
    assert e.run(now=local(day - timedelta(days=1), 22)).exit_code == 0
    add_day(e.db, day, "phishing", 6, tag="morning-", hour=1)
    add_day(e.db, day, "deface", 3, feed="feed-b", hour=1)
    assert e.run(now=local(day, 9)).output == ""
    add_day(e.db, day, "phishing", 30, tag="noon-", hour=9)
    result = e.run(now=local(day, 14))
    assert result.exit_code == 0 and result.output.startswith("sent 1 mails")
    (mail,) = smtp.received
    assert mail.message["Date"] == "Wed, 29 Jul 2020 07:00:00 +0000"  # 14:00 local, before midnight
    assert "today, still counting" in mail.text and "observed 36" in mail.text
    add_day(e.db, day, "phishing", 20, tag="evening-", hour=14)
    assert e.run(now=local(day, 20)).output == ""  # the same day growing is not a new alert
    assert len(smtp.received) == 1
    e.db.close()


@pytest.fixture(scope="module")
def silent_then_back(tmp_path_factory):
    """Phishing's feed silent for 10 days (zeros), then back at its usual level for 16 days; one run a
    day at 10:00. Returns what the server received."""
    server = SmtpServer().start()
    e = Env(
        tmp_path_factory.mktemp("silence"),
        server,
        SPIKES
        + """
[[recipients]]
email = "everything@example.vn"
spikes = true
""",
    )
    try:
        day = quiet_history(e.db)
        assert e.run(now=local(day - timedelta(days=1), 22)).exit_code == 0
        rng = random.Random(9)
        for k in range(3 + 10 + 16):
            d = day + timedelta(days=k)
            if not 3 <= k < 13:
                add_day(e.db, d, "phishing", max(0, round(rng.gauss(8, 2.8))))
            add_day(e.db, d, "deface", max(0, round(rng.gauss(6, 2.4))), feed="feed-b")
            result = e.run(now=local(d, 10))
            assert result.exit_code == 0, result.output
    finally:
        e.db.close()
        server.stop()
    return server.received


@pytest.mark.slow
def test_a_feed_silent_for_ten_days_raises_one_silence_alert_to_the_feeds_recipients(silent_then_back):
    duty = [m for m in silent_then_back if m.rcpt_tos == ["duty@example.vn"]]
    assert len(duty) == 1, [m.subject for m in duty]
    subject = duty[0].subject
    assert re.fullmatch(
        r"\[incidents\] silent feed: no records from feed feed-a for \d+ hours, usually \d+(\.\d)? a day",
        subject,
    )
    assert "incidents list --feed feed-a --db " in duty[0].text
    assert all("silent feed" not in m.subject for m in silent_then_back if m.rcpt_tos != ["duty@example.vn"])


@pytest.mark.slow
def test_a_feed_back_from_a_ten_day_silence_raises_no_spike(silent_then_back):
    assert [m.subject for m in silent_then_back if "spike" in m.subject] == []
