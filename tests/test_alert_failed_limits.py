"""`incidents alert --retry-failed` and the recipients' hourly limit, against a real SMTP server on
127.0.0.1 (aiosmtpd): failed mails do not count toward `max_per_hour`, so a recipient refused for a
while gathers more of them than its limit; requeued, they go out as the limit allows, never all at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents.alerts import alert_counts
from tests.test_alert_job import DESKS, NOW, Env, add, config_text

PHISHING = "phishing-desk@example.vn"


@pytest.fixture
def env(tmp_path, smtp, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_CONFIG", raising=False)
    e = Env(tmp_path, smtp)
    limited = DESKS.replace('min_severity = "high"', 'min_severity = "high"\nmax_per_hour = 2', 1)
    e.config.write_text(config_text(smtp.port, limited))
    yield e
    e.db.close()


def test_requeued_mails_past_the_hourly_limit_wait_for_it_each_sent_once(env):
    env.smtp.handler.answers[PHISHING] = "550 5.1.1 no such mailbox here"
    for i in range(5):  # five runs, each refused one incident mail: 5 failed mails, limit 2
        add(env.db, [{"id": f"p{i}", "category": "phishing", "target": f"bank{i}.example.vn"}])
        assert env.run(now=NOW + timedelta(minutes=i)).exit_code == 1
    assert alert_counts(env.conn())["failed"] == 5
    with env.conn() as conn:
        stored = {r[0] for r in conn.execute("SELECT message_id FROM alert_mails")}
    env.smtp.handler.answers.clear()  # the mailbox exists now

    later = NOW + timedelta(minutes=15)
    result = env.run("--retry-failed", now=later)
    assert result.exit_code == 0, result.output
    assert result.stdout == "requeued 5 failed alerts\nsent 2 mails (0 new alerts)\n"
    assert result.stderr == (
        "Note: 3 requeued mails wait for their recipient's hourly limit (max_per_hour); "
        "the next runs send them as it allows\n"
    )
    assert len(env.smtp.handler.to(PHISHING)) == 2
    # Within the hour nothing more goes; a cron run says nothing.
    quiet = env.run(now=later + timedelta(minutes=15))
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert len(env.smtp.handler.to(PHISHING)) == 2
    assert env.run(now=later + timedelta(minutes=61)).stdout == "sent 2 mails (0 new alerts)\n"
    assert env.run(now=later + timedelta(minutes=122)).stdout == "sent 1 mails (0 new alerts)\n"
    assert env.run(now=later + timedelta(minutes=183)).stdout == ""
    received = [m.message_id for m in env.smtp.handler.to(PHISHING)]
    assert len(received) == 5 and set(received) == stored  # each stored mail once, as composed
    assert alert_counts(env.conn()) == {"pending": 0, "sent": 5, "failed": 0, "held": 0, "dismissed": 0}
