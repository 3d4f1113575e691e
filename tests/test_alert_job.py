"""`incidents alert` against a real SMTP server on 127.0.0.1 (aiosmtpd): incident alerts, delivery, limits."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.alerts import alert_counts, last_alert_run, list_alerts
from incidents.alerts.joblock import RunLock, lock_path
from incidents.cli import app
from incidents.taxonomy import rsit
from tests.smtpd import SmtpServer, smtp_table

NOW = datetime(2020, 11, 12, 3, 0, tzinfo=UTC)  # 10:00 in Asia/Ho_Chi_Minh


def config_text(port: int, recipients: str) -> str:
    return smtp_table(port) + f"{recipients}\n"


DESKS = """
[[recipients]]
email = "phishing-desk@example.vn"
categories = ["phishing"]
min_severity = "high"
[[recipients]]
email = "malware-desk@example.vn"
categories = ["malware"]
min_severity = "medium"
"""


def add(db, rows: list[dict]) -> None:
    """Store incidents given as dicts (id, occurred_at, category, severity, target, ...)."""
    tuples = []
    for r in rows:
        taxonomy, type_ = rsit(r["category"])
        occurred = r.get("occurred_at", "2020-11-12T02:00:00Z")
        tuples.append(
            (
                r["id"],
                occurred,
                r.get("day", occurred[:10]),
                r["category"],
                taxonomy,
                type_,
                r.get("target", "example.gov.vn"),
                "domain",
                r.get("source_ip"),
                r.get("sector", "government"),
                r.get("feed", "feed-a"),
                r.get("severity", "high"),
                "new",
                r.get("description"),
                None,
                "{}",
            )
        )
    with db.atomic():
        store.add_incidents(db, tuples)


class Env:
    def __init__(self, tmp_path: Path, smtp: SmtpServer, recipients: str = DESKS):
        self.db_path = tmp_path / "store.db"
        self.db = store.open_db(self.db_path)
        self.config = tmp_path / "incidents.toml"
        self.config.write_text(config_text(smtp.port, recipients))
        self.smtp = smtp
        self.runner = CliRunner()

    def run(self, *args: str, now: datetime = NOW):
        """`incidents alert` on this store and configuration, judged as of `now` (a dismissal takes no
        --now: it acts on the outbox as it is)."""
        moment = [] if "--dismiss-failed" in args else ["--now", now.isoformat()]
        return self.runner.invoke(
            app, ["alert", "--db", str(self.db_path), "--config", str(self.config), *moment, *args]
        )

    def conn(self):
        return sqlite3.connect(f"{self.db_path.absolute().as_uri()}?mode=ro", uri=True)

    def command(self) -> list[str]:
        """`incidents alert` on this store and configuration, as a process of its own runs it."""
        import sys

        return [
            sys.executable,
            "-m",
            "incidents.cli",
            "alert",
            "--db",
            str(self.db_path),
            "--config",
            str(self.config),
        ]


@pytest.fixture
def env(tmp_path, smtp):
    e = Env(tmp_path, smtp)
    yield e
    e.db.close()


def test_severe_incidents_go_to_the_desks_whose_rules_match_and_never_twice(env):
    add(
        env.db,
        [
            {"id": "p1", "category": "phishing", "severity": "critical", "target": "bank-login.example.com"},
            {"id": "p2", "category": "phishing", "severity": "medium"},  # below the phishing desk's high
            {"id": "m1", "category": "malware", "severity": "medium", "target": "10.0.0.7"},
            {"id": "d1", "category": "deface", "severity": "critical"},  # nobody's category
        ],
    )
    result = env.run()
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "sent 2 mails (2 new alerts)"
    phishing = env.smtp.handler.to("phishing-desk@example.vn")
    malware = env.smtp.handler.to("malware-desk@example.vn")
    assert len(phishing) == 1 and len(malware) == 1 and len(env.smtp.received) == 2
    assert all(len(r.rcpt_tos) == 1 for r in env.smtp.received)  # one envelope recipient per message
    mail = phishing[0]
    assert mail.subject == (
        "[incidents] incident: a critical phishing incident on bank-login[.]example[.]com at "
        "2020-11-12T02:00:00Z, reported by feed-a"
    )
    assert mail.message["From"] == "soc@example.vn" and mail.message["To"] == "phishing-desk@example.vn"
    assert mail.message["Date"] and mail.message_id.startswith("<") and mail.message["Auto-Submitted"]
    assert "incidents show p1 --db" in mail.text and "p2" not in mail.text and "m1" not in mail.text
    assert "10[.]0[.]0[.]7" in malware[0].text and "p1" not in malware[0].text
    # Nothing new: nothing printed, exit 0, nothing sent.
    again = env.run(now=NOW + timedelta(minutes=15))
    assert again.exit_code == 0 and again.output == ""
    assert len(env.smtp.received) == 2


def test_late_records_alert_by_when_they_were_stored(env):
    add(env.db, [{"id": "p1", "category": "phishing", "severity": "high"}])
    assert env.run().exit_code == 0
    # An incident of a week ago, ingested now: it was stored after the last run, so it alerts.
    add(
        env.db,
        [{"id": "late", "category": "phishing", "occurred_at": "2020-11-05T01:00:00Z", "severity": "high"}],
    )
    assert env.run(now=NOW + timedelta(minutes=15)).exit_code == 0
    subjects = [r.subject for r in env.smtp.received]
    assert len(subjects) == 2 and "2020-11-05T01:00:00Z" in subjects[1]


def test_first_run_sends_only_the_last_day_not_the_history(env):
    add(
        env.db,
        [
            {"id": "old", "category": "phishing", "occurred_at": "2020-10-01T00:00:00Z"},
            {"id": "new", "category": "phishing", "occurred_at": "2020-11-12T01:00:00Z"},
        ],
    )
    assert env.run().exit_code == 0
    (mail,) = env.smtp.received
    assert "incidents show new" in mail.text and "show old" not in mail.text


def test_several_incidents_make_one_mail_with_the_count_and_the_worst(env):
    add(
        env.db,
        [
            {"id": "a", "category": "phishing", "severity": "high", "target": "a.example.vn"},
            {"id": "b", "category": "phishing", "severity": "critical", "target": "b.example.vn"},
            {"id": "c", "category": "phishing", "severity": "high", "target": "c.example.vn"},
        ],
    )
    assert env.run().exit_code == 0
    (mail,) = env.smtp.received
    assert mail.subject.startswith(
        "[incidents] 3 incidents; worst: a critical phishing incident on b[.]example[.]vn"
    )
    text = mail.text
    assert text.index("b[.]example[.]vn") < text.index("a[.]example[.]vn")  # worst first
    for needle in ("incidents show a ", "incidents show b ", "incidents show c "):
        assert needle in text
    assert "<li>" in mail.html and "incidents show b" in mail.html


def test_server_down_then_up_gets_every_alert_exactly_once(env):
    add(env.db, [{"id": "p1", "category": "phishing"}, {"id": "m1", "category": "malware"}])
    env.smtp.stop()
    down = env.run()
    assert down.exit_code == 75
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: mail server 127.0.0.1:")
    assert "2 mails (2 alerts) pending, they go out on the next run" in lines[0]
    assert alert_counts(env.conn())["pending"] == 2
    assert last_alert_run(env.conn()).outcome == "tempfail"
    env.smtp.start()
    add(env.db, [{"id": "p2", "category": "phishing"}])
    up = env.run(now=NOW + timedelta(minutes=15))
    assert up.exit_code == 0, up.output
    assert env.run(now=NOW + timedelta(minutes=30)).output == ""
    got = sorted(m for r in env.smtp.received for m in re.findall(r"incidents show (\S+)", r.text))
    assert got == ["m1", "p1", "p2"]
    assert alert_counts(env.conn()) == {"pending": 0, "sent": 3, "failed": 0, "held": 0, "dismissed": 0}


def test_a_4xx_is_temporary(env):
    add(env.db, [{"id": "p1", "category": "phishing"}])
    env.smtp.handler.answers["phishing-desk@example.vn"] = "451 4.3.0 mailbox busy, try later"
    result = env.run()
    assert result.exit_code == 75 and "451 4.3.0 mailbox busy" in result.stderr
    del env.smtp.handler.answers["phishing-desk@example.vn"]
    assert env.run(now=NOW + timedelta(minutes=15)).exit_code == 0
    assert len(env.smtp.received) == 1


def test_a_5xx_for_one_recipient_fails_its_alerts_and_the_others_still_go(env):
    add(env.db, [{"id": "p1", "category": "phishing"}, {"id": "m1", "category": "malware"}])
    env.smtp.handler.answers["phishing-desk@example.vn"] = "550 5.1.1 no such mailbox here"
    result = env.run()
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == "Error: mail to phishing-desk@example.vn refused: 550 5.1.1 no such mailbox here"
    )
    assert [r.rcpt_tos for r in env.smtp.received] == [["malware-desk@example.vn"]]
    (failed,) = list_alerts(env.conn(), status="failed")
    assert failed.recipient == "phishing-desk@example.vn" and failed.error == "550 5.1.1 no such mailbox here"
    # Failed alerts are not retried: the next run has nothing to do.
    assert env.run(now=NOW + timedelta(minutes=15)).output == ""


def test_hourly_limit_holds_the_rest_and_a_digest_goes_when_the_limit_allows(tmp_path, smtp):
    e = Env(
        tmp_path,
        smtp,
        """
[[recipients]]
email = "desk@example.vn"
min_severity = "high"
max_per_hour = 2
""",
    )
    for i in range(5):  # five runs, each with new incidents: the limit allows two mails an hour
        add(
            e.db,
            [{"id": f"i{i}-{k}", "category": "phishing", "target": f"t{i}-{k}.example.vn"} for k in range(3)],
        )
        assert e.run(now=NOW + timedelta(minutes=10 * i)).exit_code == 0
    assert len(smtp.received) == 2
    assert alert_counts(e.conn())["held"] == 9
    # Within the hour: still held.
    assert e.run(now=NOW + timedelta(minutes=55)).output == ""
    assert len(smtp.received) == 2
    # An hour after the first mail, one digest with all nine.
    assert e.run(now=NOW + timedelta(minutes=61)).exit_code == 0
    assert len(smtp.received) == 3
    digest = smtp.received[2]
    assert digest.subject.startswith("[incidents] 9 alerts held back by the hourly limit; worst:")
    assert all(f"i{i}-{k}" in digest.text for i in range(2, 5) for k in range(3))
    assert alert_counts(e.conn()) == {"pending": 0, "sent": 15, "failed": 0, "held": 0, "dismissed": 0}
    e.db.close()


def test_a_big_digest_names_the_first_and_counts_the_rest(tmp_path, smtp):
    e = Env(
        tmp_path, smtp, '[[recipients]]\nemail = "desk@example.vn"\nmin_severity = "high"\nmax_per_hour = 1\n'
    )
    add(e.db, [{"id": "first", "category": "phishing"}])
    assert e.run().exit_code == 0
    add(e.db, [{"id": f"x{k:02d}", "category": "phishing"} for k in range(47)])
    assert e.run(now=NOW + timedelta(minutes=15)).exit_code == 0
    assert e.run(now=NOW + timedelta(minutes=75)).exit_code == 0
    digest = smtp.received[-1]
    assert "and 37 more, held back by the hourly limit" in digest.text
    e.db.close()


HOSTILE_TARGET = "evil.example\r\nBcc: thief@attacker.example\r\nSubject: pwned"
HOSTILE_DESCRIPTION = (
    "<script>alert(1)</script> \x1b[31mred\x1b[0m \u202egnp.exe\n.\r\nRCPT TO:<thief@attacker.example>"
)


def test_hostile_field_values_stay_inert(env):
    add(
        env.db,
        [
            {
                "id": "h1",
                "category": "phishing",
                "target": HOSTILE_TARGET,
                "description": HOSTILE_DESCRIPTION,
                "feed": "feed\r\nBcc: x@attacker.example",
                "source_ip": "<img src=x onerror=alert(1)>",
            }
        ],
    )
    assert env.run().exit_code == 0
    (mail,) = env.smtp.received
    assert mail.rcpt_tos == ["phishing-desk@example.vn"]
    msg = mail.message
    assert msg["Bcc"] is None and msg["Cc"] is None and msg.get_all("Subject") == [mail.subject]
    assert msg.get_all("To") == ["phishing-desk@example.vn"]
    assert "\\x0d\\x0aBcc: thief" in mail.subject
    html = mail.html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    assert "\x1b" not in mail.text and "\\x1b[31m" in mail.text and "\u202e" not in mail.text
    assert "attacker" not in "".join(r for rcpt in (mail.rcpt_tos,) for r in rcpt)


def test_links_in_a_description_arrive_defanged(env):
    """Probe 2 finding: URLs and addresses in a description reached the mail live, beside a defanged
    target: the phishing desk could click the phishing link its own alert reported."""
    add(
        env.db,
        [
            {
                "id": "u1",
                "category": "phishing",
                "target": '=HYPERLINK("http://evil.example")',
                "description": "Kit at https://login.bank-secure.example.com/reset from user@victim.example.vn, "
                "see www.evil.example.org",
            }
        ],
    )
    assert env.run().exit_code == 0
    (mail,) = env.smtp.received
    for part in (mail.text, mail.html):
        for live in ("https://", "http://", "user@victim", "bank-secure.example", "www.evil.example"):
            assert live not in part, (live, part)
    assert "hxxps://login[.]bank-secure[.]example[.]com/reset" in mail.text
    assert "user[@]victim[.]example[.]vn" in mail.text and "www[.]evil[.]example[.]org" in mail.text


def test_dry_run_prints_the_mails_and_marks_nothing(env):
    add(env.db, [{"id": "p1", "category": "phishing", "target": HOSTILE_TARGET}])
    result = env.run("--dry-run")
    assert result.exit_code == 0
    assert "To: phishing-desk@example.vn" in result.stdout and "incidents show p1" in result.stdout
    assert "(dry run: 1 mails, nothing sent or marked)" in result.stdout
    assert "\r" not in result.stdout
    assert env.smtp.received == [] and alert_counts(env.conn())["pending"] == 0
    assert last_alert_run(env.conn()) is None
    assert env.run().exit_code == 0 and len(env.smtp.received) == 1


def test_a_second_run_while_one_runs_exits_at_once_with_one_line(env):
    with RunLock(lock_path(env.db_path)):
        result = env.run()
    assert result.exit_code == 75
    assert result.stderr.strip().startswith("Error: another incidents alert is running (pid ")
    with RunLock(lock_path(env.db_path)):  # released on exit: taken again at once
        pass


def test_status_lists_alerts_and_the_last_run(env):
    add(env.db, [{"id": "p1", "category": "phishing"}, {"id": "m1", "category": "malware"}])
    env.smtp.handler.answers["malware-desk@example.vn"] = "550 5.7.1 rejected"
    env.run()
    result = env.runner.invoke(app, ["alert", "--status", "--db", str(env.db_path)])
    assert result.exit_code == 0
    assert "alerts: 0 pending, 0 held, 1 sent, 1 failed" in result.stdout
    assert "last run: started" in result.stdout and "failed" in result.stdout
    data = json.loads(
        env.runner.invoke(app, ["alert", "--status", "--json", "--db", str(env.db_path)]).stdout
    )
    assert data["counts"] == {"pending": 0, "sent": 1, "failed": 1, "held": 0, "dismissed": 0}
    assert data["last_run"]["outcome"] == "failed" and data["last_run"]["sent"] == 1
    assert {a["status"] for a in data["alerts"]} == {"sent", "failed"}


def test_read_api_on_a_store_without_the_tables(tmp_path):
    conn = sqlite3.connect(tmp_path / "other.db")
    assert list_alerts(conn) == [] and last_alert_run(conn) is None
    assert alert_counts(conn) == {"pending": 0, "sent": 0, "failed": 0, "held": 0, "dismissed": 0}


def test_a_missing_config_is_one_line_exit_1(tmp_path, db):
    result = CliRunner().invoke(
        app, ["alert", "--db", str(tmp_path / "test.db"), "--config", str(tmp_path / "no.toml")]
    )
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        == f"Error: no configuration at {tmp_path / 'no.toml'} (write one with 'incidents config init')"
    )


def test_daily_summary_once_a_day_after_digest_at(tmp_path, smtp):
    e = Env(
        tmp_path,
        smtp,
        '[[recipients]]\nemail = "chief@example.vn"\ncategories = ["phishing", "malware"]\ndigest_at = "08:00"\n',
    )
    add(
        e.db,
        [{"id": f"y{k}", "category": "phishing", "day": "2020-11-11"} for k in range(4)]
        + [
            {"id": "ym", "category": "malware", "day": "2020-11-11"},
            {"id": "yd", "category": "deface", "day": "2020-11-11"},
        ],
    )
    before = datetime(2020, 11, 12, 0, 50, tzinfo=UTC)  # 07:50 local
    assert e.run(now=before).output == "" and smtp.received == []
    assert e.run(now=before + timedelta(minutes=15)).exit_code == 0
    (daily,) = smtp.received
    assert (
        daily.subject == "[incidents] daily summary 2020-11-11: 5 incidents on 2020-11-11 in your categories"
    )
    assert "phishing: 4" in daily.text and "malware: 1" in daily.text and "deface" not in daily.text
    assert e.run(now=before + timedelta(hours=5)).output == ""
    assert e.run(now=before + timedelta(hours=24, minutes=15)).exit_code == 0
    assert len(smtp.received) == 2
    e.db.close()


@pytest.mark.slow
def test_a_kill_between_acceptance_and_the_mark_repeats_the_mail_with_the_same_message_id(env):
    import os
    import signal
    import subprocess

    add(env.db, [{"id": "p1", "category": "phishing"}])
    proc = None

    def kill_client():
        os.kill(proc.pid, signal.SIGKILL)

    env.smtp.handler.on_data = kill_client
    cmd = env.command()
    proc = subprocess.Popen([*cmd, "--now", NOW.isoformat()], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert len(env.smtp.received) == 1 and alert_counts(env.conn())["pending"] == 1
    assert last_alert_run(env.conn()).outcome == "interrupted"
    env.smtp.handler.on_data = None
    again = subprocess.run(
        [*cmd, "--now", (NOW + timedelta(minutes=15)).isoformat()],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    first, repeat = env.smtp.received
    assert first.message_id == repeat.message_id and first.raw == repeat.raw
    assert alert_counts(env.conn()) == {"pending": 0, "sent": 1, "failed": 0, "held": 0, "dismissed": 0}
    third = subprocess.run(
        [*cmd, "--now", (NOW + timedelta(minutes=30)).isoformat()],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert third.returncode == 0 and third.stdout == b"" and len(env.smtp.received) == 2


def test_the_job_waits_for_a_writer_holding_the_store_and_misses_nothing(env):
    import threading
    import time

    add(env.db, [{"id": "p1", "category": "phishing"}])
    writer = sqlite3.connect(env.db_path, timeout=30, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # an ingest in the middle of a file
    taxonomy, type_ = rsit("phishing")
    writer.execute(
        "INSERT INTO incidents (id, occurred_at, day, category, taxonomy, type, severity, raw) "
        "VALUES ('p2', '2020-11-12T02:30:00Z', '2020-11-12', 'phishing', ?, ?, 'critical', '{}')",
        [taxonomy, type_],
    )

    def commit_later():
        time.sleep(2)
        writer.commit()

    thread = threading.Thread(target=commit_later)
    thread.start()
    result = env.run()
    thread.join()
    assert result.exit_code == 0, result.output
    assert env.run(now=NOW + timedelta(minutes=15)).exit_code == 0
    got = sorted(m for r in env.smtp.received for m in re.findall(r"incidents show (\S+)", r.text))
    assert got == ["p1", "p2"]
    writer.close()


def test_a_recipient_removed_from_the_configuration_gets_nothing_more(env):
    add(env.db, [{"id": "p1", "category": "phishing"}, {"id": "m1", "category": "malware"}])
    env.smtp.stop()
    assert env.run().exit_code == 75
    env.smtp.start()
    add(env.db, [{"id": "p2", "category": "phishing"}])
    env.config.write_text(
        env.config.read_text().split("[[recipients]]")[0]
        + "[[recipients]]"
        + DESKS.split("[[recipients]]")[2]
    )
    result = env.run(now=NOW + timedelta(minutes=15))
    assert result.exit_code == 1
    assert (
        "mail to phishing-desk@example.vn not sent: recipient no longer in the configuration" in result.stderr
    )
    assert [r.rcpt_tos for r in env.smtp.received] == [["malware-desk@example.vn"]]
    failed = list_alerts(env.conn(), status="failed")
    assert [a.incident_id for a in failed] == ["p1"]  # p2 came after: no rule gives it to anyone


def test_a_large_ingest_of_severe_incidents_is_one_readable_mail(env):
    add(env.db, [{"id": f"x{k:03d}", "category": "phishing"} for k in range(300)])
    assert env.run().exit_code == 0
    (mail,) = env.smtp.received
    assert mail.subject.startswith("[incidents] 300 incidents; worst:")
    assert mail.text.count("look deeper:") == 25 and "and 275 more:" in mail.text
    assert "and 75 more\n" in mail.text.replace("\r\n", "\n")


def _ingest_run(db, pid: int) -> int:
    """An ingest run left 'running' by process `pid` (alive: still ingesting; gone: killed)."""
    import socket

    cur = db.conn.execute(
        "INSERT INTO ingest_runs(kind, file, sha256, format, started_at, status, pid, host) "
        "VALUES ('ingest', 'big.csv', 'x', 'csv', '2020-11-12T02:30:00Z', 'running', ?, ?)",
        (pid, socket.gethostname()),
    )
    db.conn.commit()
    return cur.lastrowid


def _add_in_run(db, run_id: int, ids: list[str]) -> None:
    add(db, [{"id": i, "category": "phishing", "severity": "critical"} for i in ids])
    db.conn.execute(
        f"UPDATE incidents SET run_id = ? WHERE id IN ({','.join('?' * len(ids))})", [run_id, *ids]
    )
    db.conn.commit()


def test_an_ingest_still_running_alerts_only_once_it_has_completed(env):
    """Rows an unfinished ingest run committed in batches may yet be undone: no alert for them until the
    run is marked ok; then they alert once, together with any stored after them meanwhile."""
    import subprocess
    import sys

    add(env.db, [{"id": "before", "category": "phishing", "severity": "critical"}])
    assert env.run().exit_code == 0 and len(env.smtp.received) == 1
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run_id = _ingest_run(env.db, alive.pid)
        _add_in_run(env.db, run_id, ["batch1", "batch2"])
        add(
            env.db, [{"id": "after", "category": "phishing", "severity": "critical"}]
        )  # e.g. a scan meanwhile
        result = env.run(now=NOW + timedelta(minutes=15))
        assert result.exit_code == 0, result.output
        assert len(env.smtp.received) == 1  # nothing of the unfinished run, nor what came after it yet
        env.db.conn.execute("UPDATE ingest_runs SET status = 'ok' WHERE id = ?", [run_id])
        env.db.conn.commit()
        assert env.run(now=NOW + timedelta(minutes=30)).exit_code == 0
    finally:
        alive.kill()
        alive.wait()
    texts = [r.text for r in env.smtp.received[1:]]
    assert len(env.smtp.received) == 2
    assert all(i in texts[0] for i in ("batch1", "batch2", "after")) and "before" not in texts[0]


def test_an_ingest_killed_mid_file_never_alerts_and_holds_the_rest_until_the_next_ingest_undoes_it(env):
    """A killed ingest leaves its committed batches under a 'running' run until the next ingest undoes it
    (ingest.runs.recover): the alert job sends nothing of them, holds what came after, then sends that."""
    import subprocess
    import sys

    from incidents.ingest.runs import recover

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_id = _ingest_run(env.db, dead.pid)
    _add_in_run(env.db, run_id, ["half1", "half2"])
    add(env.db, [{"id": "whole", "category": "phishing", "severity": "critical"}])
    assert env.run().exit_code == 0
    assert env.smtp.received == []
    assert recover(env.db) == [run_id]  # what the next `incidents ingest` does first
    result = env.run(now=NOW + timedelta(minutes=15))
    assert result.exit_code == 0, result.output
    assert len(env.smtp.received) == 1
    text = env.smtp.received[0].text
    assert "whole" in text and "half1" not in text and "half2" not in text


def test_a_run_still_sending_reads_running_not_interrupted(env):
    """Probe 2 finding: `alert --status` and doctor called a live run 'interrupted' / 'killed?'. A run
    without an end is running while its process holds the store's .alert-lock."""
    import subprocess
    import threading
    import time

    add(env.db, [{"id": "p1", "category": "phishing"}])
    release = threading.Event()
    env.smtp.handler.on_data = lambda: release.wait(30)  # the server holds the mail: the run is mid-send
    cmd = env.command()
    proc = subprocess.Popen([*cmd, "--now", NOW.isoformat()], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (last_alert_run(env.conn()) is None):
            time.sleep(0.05)
        assert last_alert_run(env.conn()).outcome == "running"
        status = CliRunner().invoke(app, ["alert", "--status", "--json", "--db", str(env.db_path)])
        assert '"outcome": "running"' in status.stdout, status.stdout
    finally:
        release.set()
        env.smtp.handler.on_data = None
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    assert last_alert_run(env.conn()).outcome == "ok"
