"""The run record of `incidents alert` (`--status`, `--status --json`) after a run that ended early (aiosmtpd)."""

from __future__ import annotations

import json
from datetime import timedelta

from incidents.alerts import alert_counts, last_alert_run
from incidents.cli import app
from tests.smtpd import TEMPFAIL_ANSWER
from tests.test_alert_job import DESKS, NOW, Env, add

THREE_DESKS = (
    DESKS
    + """
[[recipients]]
email = "duty@example.vn"
min_severity = "high"
"""
)


def _status(env: Env) -> tuple[str, dict]:
    text = env.runner.invoke(app, ["alert", "--status", "--db", str(env.db_path)])
    data = env.runner.invoke(app, ["alert", "--status", "--json", "--db", str(env.db_path)])
    assert text.exit_code == 0 and data.exit_code == 0, (text.output, data.output)
    return text.stdout, json.loads(data.stdout)


def test_a_server_that_defers_mid_run_leaves_the_true_counts_in_the_run_record(tmp_path, smtp):
    """Three mails (one per desk); the server takes the first, then answers 451 to the rest: the run
    record says 1 mail sent and 4 new alerts (items), and what is left pending, not 0 and 0."""
    env = Env(tmp_path, smtp, THREE_DESKS)
    add(env.db, [{"id": "p1", "category": "phishing"}, {"id": "m1", "category": "malware"}])
    smtp.handler.accept_only = 1
    result = env.run()
    assert result.exit_code == 75, result.output
    assert TEMPFAIL_ANSWER in result.stderr
    assert len(smtp.received) == 1
    counts = alert_counts(env.conn())
    # The line counts the mails and the alerts in them, as --status counts alerts.
    pending = (
        f"; 1 mails sent before it, 2 mails ({counts['pending']} alerts) pending, they go out on the next run"
    )
    assert pending in result.stderr, result.stderr
    assert counts["sent"] >= 1 and counts["pending"] >= 1
    assert counts["sent"] + counts["pending"] == 4  # p1 and m1 to their desks, both to duty
    text, data = _status(env)
    run = data["last_run"]
    assert run["outcome"] == "tempfail"
    assert (run["sent"], run["queued"], run["pending"]) == (1, 4, counts["pending"])
    assert data["counts"] == counts
    line = next(x for x in text.splitlines() if x.startswith("last run:"))
    assert ", tempfail, 1 mails sent, 4 new alerts (" in line
    assert last_alert_run(env.conn()).sent == 1

    # The next run sends the two mails left, each once; nothing is new.
    smtp.handler.accept_only = None
    again = env.run(now=NOW + timedelta(minutes=15))
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "sent 2 mails (0 new alerts)"
    assert len(smtp.received) == 3 and len({m.message_id for m in smtp.received}) == 3
    assert sorted(r for m in smtp.received for r in m.rcpt_tos) == [
        "duty@example.vn",
        "malware-desk@example.vn",
        "phishing-desk@example.vn",
    ]
    _, data = _status(env)
    assert (data["last_run"]["sent"], data["last_run"]["queued"], data["last_run"]["pending"]) == (2, 0, 0)
    assert data["counts"] == {"pending": 0, "sent": 4, "failed": 0, "held": 0, "dismissed": 0}
    env.db.close()


def test_a_server_gone_before_the_first_mail_records_none_sent_and_the_alerts_queued(tmp_path, smtp):
    """Down from the start: 0 mails sent, but the 2 alerts the run queued are counted, and pending."""
    env = Env(tmp_path, smtp)
    add(env.db, [{"id": "p1", "category": "phishing"}, {"id": "m1", "category": "malware"}])
    env.smtp.stop()
    assert env.run().exit_code == 75
    _, data = _status(env)
    run = data["last_run"]
    assert (run["outcome"], run["sent"], run["queued"], run["pending"]) == ("tempfail", 0, 2, 2)
    env.db.close()
