"""`incidents alert --now T` on a store filled past T: every mail tells the store as it was at T (aiosmtpd).

A run judged as of T sees the days up to T's local day (the store's zone) and the incidents that
occurred at or before T: never a later day of a spike episode, a feed's record after T, or an alert a
later run queued or sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from incidents import store
from tests.test_alert_job import NOW, Env, add
from tests.test_alert_spikes import SPIKES, add_day, incident, local, mails, quiet_history


def add_at(db, when: datetime, category: str, n: int, *, target: str, feed: str) -> None:
    """`n` incidents of `category` at `when` (aware), on its local day, all on `target` from `feed`."""
    day = (when + timedelta(hours=7)).date().isoformat()  # Asia/Ho_Chi_Minh, the store's zone
    rows = [
        incident(
            f"{feed}-{when:%Y%m%d%H%M}-{k}",
            when,
            day,
            category,
            target=target,
            source="198.51.100.9",
            feed=feed,
        )
        for k in range(n)
    ]
    with db.atomic():
        store.add_incidents(db, rows)


def test_a_spike_episode_is_told_up_to_the_day_of_now_only(tmp_path, smtp):
    """A campaign of 40, 55, 70 stored in full; a run as of the first evening tells a one-day episode:
    no later day, count or peak, and the top lists only from incidents that occurred by then."""
    e = Env(tmp_path, smtp, SPIKES)
    day = quiet_history(e.db)
    assert e.run(now=local(day - timedelta(days=1), 22)).exit_code == 0
    for k, n in enumerate((40, 55, 70)):
        add_day(e.db, day + timedelta(days=k), "phishing", n)
        add_day(e.db, day + timedelta(days=k), "deface", 6, feed="feed-b")
    # Later the same local day than the run: counted in the day's verdict, never named in the mail.
    add_at(e.db, local(day, 23), "phishing", 3, target="late.example.vn", feed="feed-late")
    result = e.run(now=local(day, 22))
    assert result.exit_code == 0, result.output
    (mail,) = mails(smtp, "phishing-desk@example.vn")
    text = mail.text
    assert mail.subject.startswith("[incidents] spike: a phishing")
    assert f"peak: 43 ({day}" in text
    for later in (day + timedelta(days=1), day + timedelta(days=2)):
        assert str(later) not in text and str(later) not in mail.subject
    assert f"--since {day} --until {day} " in text
    assert f"observed 43 ({day}..{day})" in text and ": 43 incidents, " in mail.subject
    # The day's verdict is kept for the whole day (43 with the 3 after 22:00); the lists name only
    # what had occurred by then.
    assert "top feeds: feed-a (40)\n" in text.replace("\r\n", "\n")
    assert "late[.]example" not in text and "feed-late" not in text and "198[.]51[.]100[.]9" not in text
    e.db.close()


def test_a_feed_silent_at_now_is_reported_though_it_came_back_later(tmp_path, smtp):
    """feed-a sends nothing for three days, then again late on the third evening and the day after:
    as of 22:00 that evening it has been silent for three days."""
    e = Env(tmp_path, smtp, SPIKES)
    day = quiet_history(e.db)
    for k in range(4):
        add_day(e.db, day + timedelta(days=k), "deface", 6, feed="feed-b")
    add_day(e.db, day + timedelta(days=2), "phishing", 8, hour=23)  # after the run's 22:00
    add_day(e.db, day + timedelta(days=3), "phishing", 8)
    now = local(day + timedelta(days=2), 22)
    result = e.run(now=now)
    assert result.exit_code == 0, result.output
    (mail,) = mails(smtp, "duty@example.vn")
    (seen,) = e.conn().execute("SELECT max(occurred_at) FROM incidents WHERE day < ?", [str(day)]).fetchone()
    hours = (now - datetime.fromisoformat(seen)).total_seconds() / 3600
    assert hours > 24 * 3
    assert mail.subject.startswith(
        f"[incidents] silent feed: no records from feed feed-a for {hours:.0f} hours"
    )
    assert f"last record: {seen}" in mail.text
    e.db.close()


def test_the_daily_summary_counts_only_alerts_queued_by_then(tmp_path, smtp):
    """A run as of two days ago after a run as of now: its daily summary's last 24 h of alerts is empty."""
    e = Env(
        tmp_path,
        smtp,
        '[[recipients]]\nemail = "chief@example.vn"\nmin_severity = "high"\ndigest_at = "08:00"\n',
    )
    later = NOW + timedelta(days=2)
    add(e.db, [{"id": "p1", "category": "phishing", "occurred_at": "2020-11-14T02:00:00Z"}])
    assert e.run(now=later).exit_code == 0  # the incident, and the daily summary of 2020-11-13
    assert e.run(now=NOW).exit_code == 0  # as of 2020-11-12 10:00: its own daily summary
    daily = [m for m in smtp.received if "daily summary 2020-11-11" in m.subject]
    assert len(daily) == 1, [m.subject for m in smtp.received]
    assert "24 h" not in daily[0].text, daily[0].text
    e.db.close()


def test_the_hourly_limit_counts_only_mails_sent_by_then(tmp_path, smtp):
    """Two mails sent by a run as of 12:00 do not use up the limit of a run as of 10:00."""
    e = Env(
        tmp_path, smtp, '[[recipients]]\nemail = "desk@example.vn"\nmin_severity = "high"\nmax_per_hour = 2\n'
    )
    for k in range(2):
        add(e.db, [{"id": f"later{k}", "category": "phishing", "occurred_at": "2020-11-12T04:50:00Z"}])
        assert e.run(now=NOW + timedelta(hours=2, minutes=k)).exit_code == 0
    add(e.db, [{"id": "early", "category": "phishing"}])
    result = e.run(now=NOW)
    assert result.exit_code == 0 and result.stdout.strip() == "sent 1 mails (1 new alerts)", result.output
    assert len(smtp.received) == 3
    e.db.close()
