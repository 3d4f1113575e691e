"""Alerts that failed for good: `incidents alert --retry-failed / --dismiss-failed`, `--status` and doctor,
against a real SMTP server on 127.0.0.1 (aiosmtpd) and real SQLite files; migration 16 on an older store."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from incidents import store
from incidents.alerts import alert_counts, last_alert_run, list_alerts
from incidents.alerts.joblock import RunLock, lock_path
from incidents.cli import app
from incidents.migrations import MIGRATIONS
from tests.test_alert_job import DESKS, NOW, Env, add, config_text
from tests.test_store_opening import pragma, release1_store

PHISHING = "phishing-desk@example.vn"
MALWARE = "malware-desk@example.vn"
LATER = NOW + timedelta(minutes=15)


@pytest.fixture
def env(tmp_path, smtp, monkeypatch):
    monkeypatch.chdir(tmp_path)  # doctor finds no stray ./incidents.toml
    monkeypatch.delenv("INCIDENTS_CONFIG", raising=False)
    e = Env(tmp_path, smtp)
    yield e
    e.db.close()


def refused_run(env, *refusing: str):
    """One phishing and one malware incident, a run in which the server answers 550 to `refusing`."""
    add(env.db, [{"id": "p1", "category": "phishing"}, {"id": "m1", "category": "malware"}])
    for address in refusing:
        env.smtp.handler.answers[address] = "550 5.1.1 no such mailbox here"
    result = env.run()
    assert result.exit_code == 1, result.output
    env.smtp.handler.answers.clear()  # the cause is fixed: the server takes every recipient again
    return result


def doctor(env):
    r = env.runner.invoke(app, ["doctor", "--db", str(env.db_path), "--config", str(env.config), "--json"])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    checks = json.loads(r.stdout)["checks"]
    names = [c["name"] for c in checks]
    assert len(names) == len(set(names)), names  # probe finding: 'alerts' came twice (problem, then ok)
    return r.exit_code, {(c["name"], c["level"]): c["message"] for c in checks}


def stored_message_id(env, recipient: str) -> str:
    with env.conn() as conn:
        return conn.execute("SELECT message_id FROM alert_mails WHERE recipient = ?", [recipient]).fetchone()[
            0
        ]


def test_retry_sends_a_refused_alert_exactly_once_with_its_message_id_and_doctor_is_ok(env):
    refused_run(env, PHISHING)
    message_id = stored_message_id(env, PHISHING)
    code, checks = doctor(env)
    assert code == 1
    problem = checks[("alerts", "problem")]
    assert problem.startswith("1 alert(s) failed for good (the server refused them)")
    assert "`incidents alert --retry-failed`" in problem and "`incidents alert --dismiss-failed`" in problem
    assert ("alert run", "warning") in checks  # the run went through; the alerts line is the problem
    assert problem.endswith("Alerts: 1 sent, 0 pending, 0 held, 1 failed."), problem

    result = env.run("--retry-failed", now=LATER)
    assert result.exit_code == 0, result.output
    assert result.stdout == "requeued 1 failed alerts\nsent 1 mails (0 new alerts)\n"
    (mail,) = env.smtp.handler.to(PHISHING)
    assert mail.message_id == message_id  # the stored mail, as it was composed
    assert alert_counts(env.conn()) == {"pending": 0, "sent": 2, "failed": 0, "held": 0, "dismissed": 0}
    (sent,) = list_alerts(env.conn(), recipient=PHISHING)
    assert sent.status == "sent" and sent.error is None

    # Never twice: neither another retry nor the next run sends it again.
    assert env.run("--retry-failed", now=LATER + timedelta(minutes=15)).stdout == "requeued 0 failed alerts\n"
    assert env.run(now=LATER + timedelta(minutes=30)).exit_code == 0
    assert len(env.smtp.handler.to(PHISHING)) == 1 and len(env.smtp.received) == 2
    code, checks = doctor(env)
    assert code == 0, checks
    assert not any(level == "problem" for _, level in checks)


def test_dismissed_alerts_stay_as_a_record_never_sent_and_doctor_is_ok(env):
    refused_run(env, PHISHING)
    result = env.run("--dismiss-failed")
    assert result.exit_code == 0, result.output
    assert result.stdout == "dismissed 1 failed alerts\n" and result.stderr == ""
    (dismissed,) = list_alerts(env.conn(), status="dismissed")
    assert dismissed.recipient == PHISHING and dismissed.error == "550 5.1.1 no such mailbox here"
    assert dismissed.dismissed_at and dismissed.dismissed_at.endswith("Z")
    with env.conn() as conn:
        assert conn.execute("SELECT status FROM alert_mails WHERE recipient = ?", [PHISHING]).fetchone() == (
            "dismissed",
        )

    code, checks = doctor(env)
    assert code == 0, checks
    assert checks[("alerts", "ok")].endswith("1 sent, 0 pending, 0 held, 0 failed, 1 dismissed.")
    assert "none is left failed" in checks[("alert run", "ok")]

    status = env.runner.invoke(app, ["alert", "--status", "--db", str(env.db_path)])
    assert status.exit_code == 0
    assert "alerts: 0 pending, 0 held, 1 sent, 0 failed, 1 dismissed" in status.stdout
    (line,) = [x for x in status.stdout.splitlines() if x.startswith("dismissed ")]
    assert PHISHING in line and "[550 5.1.1 no such mailbox here] (dismissed " in line
    data = json.loads(
        env.runner.invoke(app, ["alert", "--status", "--json", "--db", str(env.db_path)]).stdout
    )
    assert data["counts"]["dismissed"] == 1 and data["counts"]["failed"] == 0
    (row,) = [a for a in data["alerts"] if a["status"] == "dismissed"]
    assert row["dismissed_at"] == dismissed.dismissed_at

    # A dismissed alert is never sent, by a run or by a retry.
    assert env.run("--retry-failed", now=LATER).stdout == "requeued 0 failed alerts\n"
    assert env.smtp.handler.to(PHISHING) == []
    assert alert_counts(env.conn())["dismissed"] == 1


def test_retry_and_dismiss_can_be_limited_to_one_recipient(env):
    refused_run(env, PHISHING, MALWARE)
    assert env.run("--dismiss-failed", "--recipient", MALWARE).stdout == "dismissed 1 failed alerts\n"
    assert alert_counts(env.conn())["failed"] == 1
    result = env.run("--retry-failed", "--recipient", PHISHING, now=LATER)
    assert (
        result.exit_code == 0 and result.stdout == "requeued 1 failed alerts\nsent 1 mails (0 new alerts)\n"
    )
    assert [r.rcpt_tos for r in env.smtp.received] == [[PHISHING]]
    assert alert_counts(env.conn()) == {"pending": 0, "sent": 1, "failed": 0, "held": 0, "dismissed": 1}


def test_a_recipient_corrected_in_the_configuration_leaves_its_old_alerts_failed_until_dismissed(env):
    """The tester's case: a wrong address in the configuration. The corrected one gets what comes next;
    the mail composed for the wrong one is not sent again (it would only fail): the retry says so."""
    refused_run(env, PHISHING)
    env.config.write_text(config_text(env.smtp.port, DESKS.replace(PHISHING, "phishing@example.vn")))
    result = env.run("--retry-failed", now=LATER)
    assert result.exit_code == 0, result.output
    assert result.stdout == "requeued 0 failed alerts\n"
    assert result.stderr == (
        "Note: 1 failed alerts are for recipients no longer in the configuration and stay failed; "
        "`incidents alert --dismiss-failed` acknowledges them\n"
    )
    assert env.smtp.handler.to(PHISHING) == [] and alert_counts(env.conn())["failed"] == 1
    assert doctor(env)[0] == 1
    assert env.run("--dismiss-failed").stdout == "dismissed 1 failed alerts\n"
    assert doctor(env)[0] == 0


def test_a_retry_while_the_server_is_down_keeps_them_pending_for_the_next_run(env):
    refused_run(env, PHISHING)
    message_id = stored_message_id(env, PHISHING)
    env.smtp.stop()
    result = env.run("--retry-failed", now=LATER)
    assert result.exit_code == 75
    assert result.stdout == "requeued 1 failed alerts\n"
    assert result.stderr.startswith("Error: mail server 127.0.0.1:") and result.stderr.count("\n") == 1
    assert alert_counts(env.conn())["pending"] == 1
    env.smtp.start()
    assert env.run(now=LATER + timedelta(minutes=15)).stdout == "sent 1 mails (0 new alerts)\n"
    assert [r.message_id for r in env.smtp.handler.to(PHISHING)] == [message_id]


def test_an_alert_failed_before_it_was_composed_is_composed_when_retried(env):
    """An alert held by the hourly limit whose recipient then leaves the configuration fails without a
    mail. Once the recipient is back, a retry composes it like a new one."""
    limited = DESKS.replace('min_severity = "high"', 'min_severity = "high"\nmax_per_hour = 1', 1)
    env.config.write_text(config_text(env.smtp.port, limited))
    add(env.db, [{"id": "p1", "category": "phishing"}])
    assert env.run().exit_code == 0
    add(env.db, [{"id": "p2", "category": "phishing", "target": "second.example.vn"}])
    assert env.run(now=NOW + timedelta(minutes=5)).exit_code == 0  # past the limit: held
    assert [a.incident_id for a in list_alerts(env.conn(), status="held")] == ["p2"]
    malware_only = DESKS[DESKS.index(f'[[recipients]]\nemail = "{MALWARE}"') :]
    env.config.write_text(config_text(env.smtp.port, malware_only))
    assert env.run(now=NOW + timedelta(minutes=10)).exit_code == 0
    (failed,) = list_alerts(env.conn(), status="failed")
    assert failed.message_id is None and failed.error.startswith("recipient no longer in the configuration")

    env.config.write_text(config_text(env.smtp.port, limited))
    result = env.run("--retry-failed", now=NOW + timedelta(hours=2))
    assert result.exit_code == 0, result.output
    assert result.stdout == "requeued 1 failed alerts\nsent 1 mails (0 new alerts)\n"
    first, second = env.smtp.handler.to(PHISHING)
    assert "second[.]example[.]vn" in second.text and first.message_id != second.message_id
    assert alert_counts(env.conn()) == {"pending": 0, "sent": 2, "failed": 0, "held": 0, "dismissed": 0}


@pytest.mark.parametrize(
    "args, words",
    [
        (["--retry-failed", "--dismiss-failed"], "--retry-failed: cannot go with --dismiss-failed"),
        (["--retry-failed", "--dry-run"], "--retry-failed: cannot go with --dry-run"),
        (["--dismiss-failed", "--status"], "--dismiss-failed: cannot go with --status"),
        (["--recipient", PHISHING], "--recipient: goes with --retry-failed or --dismiss-failed"),
        # Probe finding: these were silently ignored (env.run gives --now, except with --dismiss-failed).
        (["--status", "--dry-run"], "--dry-run: cannot go with --status"),
        (["--status"], "--now: goes with a run, not with --status"),
    ],
)
def test_options_that_do_not_go_together_are_a_usage_error(env, args, words):
    result = env.run(*args)
    assert result.exit_code == 2 and f"Invalid value for {words}" in result.stderr, result.output
    assert "Traceback" not in result.output and env.smtp.received == []


def test_a_dismissal_takes_no_now(env):
    """Probe finding: `--dismiss-failed --now T` read as "dismiss what failed before T" but dismissed all."""
    args = ["alert", "--db", str(env.db_path), "--dismiss-failed", "--now", NOW.isoformat()]
    result = env.runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Invalid value for --now: goes with a run, not with --dismiss-failed" in result.stderr


def test_no_store_and_a_running_job_are_one_line(env, tmp_path):
    missing = env.runner.invoke(app, ["alert", "--dismiss-failed", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1
    assert (
        missing.stderr
        == f"Error: no database at {tmp_path / 'none.db'} (run 'incidents ingest' or 'incidents demo' first)\n"
    )
    with RunLock(lock_path(env.db_path)):
        busy = env.run("--dismiss-failed")
    assert busy.exit_code == 75 and busy.stderr.startswith("Error: another incidents alert is running")
    assert busy.stderr.count("\n") == 1


def test_an_older_store_is_read_as_it_is_and_migrated_by_the_first_dismissal(tmp_path, monkeypatch):
    """Migration 16 (dismissed_at, alert_runs.refused): a reader never migrates; a writer backs the store
    up, migrates it, and recovers how many mails the old runs saw refused from the error they wrote."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_CONFIG", raising=False)
    previous = len(MIGRATIONS) - 1
    path = release1_store(tmp_path / "old.db", version=previous)
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO alert_runs(started_at, finished_at, outcome, sent, failed, error) VALUES (?, ?, ?, 0, ?, ?)",
        [
            (
                "2020-11-12T02:00:00Z",
                "2020-11-12T02:00:05Z",
                "failed",
                0,
                "mail server x:25 refused the login",
            ),
            (
                "2020-11-12T03:00:00Z",
                "2020-11-12T03:00:05Z",
                "failed",
                2,
                f"mail to {PHISHING} refused: 550 no such mailbox; mail to {MALWARE} refused: 550 no",
            ),
        ],
    )
    conn.executemany(
        "INSERT INTO alert_outbox(key, kind, subject_key, recipient, status, created_at, error, payload) "
        "VALUES (?, 'incident', ?, ?, 'failed', '2020-11-12T03:00:00Z', '550 no such mailbox', '{}')",
        [("k1", "p1", PHISHING), ("k2", "m1", MALWARE)],
    )
    conn.commit()
    conn.close()

    from typer.testing import CliRunner

    runner = CliRunner()
    status = runner.invoke(app, ["alert", "--status", "--json", "--db", str(path)])
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert data["counts"]["failed"] == 2 and data["counts"]["dismissed"] == 0
    # Read as it is, the old run's refusals are recovered from its error, as the migration does: doctor
    # tells a run that only saw refusals (a warning; the failed alerts are the problem) as on a new store.
    assert data["last_run"]["refused"] == 2 and all(a["dismissed_at"] is None for a in data["alerts"])
    r = runner.invoke(app, ["doctor", "--db", str(path), "--json"])
    assert r.exit_code == 1
    levels = {(c["name"], c["level"]) for c in json.loads(r.stdout)["checks"]}
    assert ("alert run", "warning") in levels and ("alerts", "problem") in levels
    assert pragma(path, "user_version") == previous  # readers leave it as it was

    result = runner.invoke(app, ["alert", "--dismiss-failed", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "dismissed 2 failed alerts\n"
    assert pragma(path, "user_version") == len(MIGRATIONS)
    assert pragma(tmp_path / f"old.db.v{previous}-backup.db", "user_version") == previous
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT refused FROM alert_runs ORDER BY id").fetchall() == [(0,), (2,)]
    conn.close()
    assert last_alert_run(store.open_read(path)).refused == 2
    r = runner.invoke(app, ["doctor", "--db", str(path), "--json"])
    assert r.exit_code == 0, r.stdout
    levels = {(c["name"], c["level"]) for c in json.loads(r.stdout)["checks"]}
    assert ("alert run", "ok") in levels and ("alerts", "problem") not in levels


@pytest.mark.parametrize("spelling", ["PHISHING-DESK@example.vn", f" {PHISHING}", "phishing-desk"])
def test_a_recipient_that_matches_no_failed_alert_is_named_with_those_that_do(env, spelling):
    """A typo or another spelling than the configuration's changes nothing: the "0" comes with a note
    naming the recipients whose alerts failed, instead of reading as "none left"."""
    refused_run(env, PHISHING)
    for option in ("--dismiss-failed", "--retry-failed"):
        result = env.run(option, "--recipient", spelling, now=LATER)
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(("dismissed 0 failed alerts\n", "requeued 0 failed alerts\n"))
        assert result.stderr == (
            f"Note: no failed alerts for {spelling!r}; the failed alerts are for {PHISHING} "
            "(give --recipient as written there)\n"
        )
    assert alert_counts(env.conn())["failed"] == 1 and env.smtp.handler.to(PHISHING) == []
    # Nothing failed left: "0" is the whole truth, no note.
    assert env.run("--dismiss-failed", "--recipient", PHISHING).stdout == "dismissed 1 failed alerts\n"
    quiet = env.run("--dismiss-failed", "--recipient", spelling)
    assert quiet.stdout == "dismissed 0 failed alerts\n" and quiet.stderr == ""


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_recipient_is_a_usage_error(env, blank):
    result = env.run("--dismiss-failed", "--recipient", blank)
    assert result.exit_code == 2 and "Invalid value for --recipient: needs an address" in result.stderr
