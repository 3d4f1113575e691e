"""kill -9 at random moments of `incidents alert` sending hundreds of mails (issue 15 point 1).

A store with severe incidents and 200 recipients (one incident mail each) is copied fresh for every
round; `incidents alert` runs as a real process against a real SMTP server on 127.0.0.1 (aiosmtpd,
tests/smtpd.py) whose DATA handler is slow (it records the message, then waits before its 250), so kills
land in every phase: start-up, queueing and composing (one transaction), and sending. It is killed with
SIGKILL after a seeded random delay within its clean running time, then run again to completion.

After each kill: `PRAGMA integrity_check` passes and the outbox is consistent (every item of a mail has
the mail's status; a mail marked sent was received by the server; items and mails are pending or sent,
never failed). After the re-run: every mail was received, each item sent.

Duplicates: the documented window (incidents/alerts/job.py, outbox.py) is a kill between the server's
acceptance of a mail and the job's mark: the next run sends that mail again with the SAME Message-ID.
So, counted by Message-ID at the server, a mail may be received twice only if it was received but
still pending right after a kill (the mail in flight), and at most one such mail per kill. Any other
repeat fails the test.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from incidents import store
from incidents.taxonomy import rsit
from tests.smtpd import SmtpServer
from tests.test_crash import run_or_kill

pytestmark = [pytest.mark.crash, pytest.mark.slow]

CMD = [sys.executable, "-m", "incidents.cli"]
NOW = "2020-11-12T03:00:00+00:00"
RECIPIENTS = 200
KILLS = 10
DATA_PAUSE_S = 0.01  # the server waits this long between recording a message and its 250


def make_store(path: Path) -> None:
    db = store.open_db(path)
    rows = []
    for i in range(20):
        category = ("phishing", "malware", "deface", "intrusion")[i % 4]
        taxonomy, type_ = rsit(category)
        occurred = f"2020-11-12T0{i % 3}:{i:02d}:00Z"
        rows.append(
            (f"sev{i}", occurred, "2020-11-12", category, taxonomy, type_, f"host{i}.example.vn", "domain",
             None, "government", "feed-a", "critical" if i % 2 else "high", "new", f"incident {i}", None, "{}")
        )  # fmt: skip
    with db.atomic():
        store.add_incidents(db, rows)
    db.close()


def write_config(path: Path, port: int) -> None:
    desks = "".join(
        f'[[recipients]]\nemail = "desk{k}@example.vn"\nmin_severity = "high"\nmax_per_hour = 100\n'
        for k in range(RECIPIENTS)
    )
    path.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "soc@example.vn"\n'
        f"timeout = 10\n{desks}"
    )


def run_alert(db: Path, config: Path, delay: float | None) -> bool:
    """Run `incidents alert`; with `delay`, SIGKILL it after that many seconds. True if killed running."""
    return run_or_kill(["alert", "--db", str(db), "--config", str(config), "--now", NOW], delay, ok=(0,))


def outbox_state(db: Path) -> dict:
    """Integrity and the outbox: mails by status, items whose status differs from their mail's."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alert_mails" not in tables:
            return {"integrity": integrity, "mails": {}, "items": Counter(), "mismatched": 0, "orphans": 0}
        mails = dict(conn.execute("SELECT message_id, status FROM alert_mails"))
        items = Counter(s for (s,) in conn.execute("SELECT status FROM alert_outbox"))
        mismatched = conn.execute(
            "SELECT count(*) FROM alert_outbox o JOIN alert_mails m ON m.message_id = o.message_id "
            "WHERE o.status != m.status"
        ).fetchone()[0]
        orphans = conn.execute(
            "SELECT count(*) FROM alert_outbox o WHERE o.message_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM alert_mails m WHERE m.message_id = o.message_id)"
        ).fetchone()[0]
        return {
            "integrity": integrity,
            "mails": mails,
            "items": items,
            "mismatched": mismatched,
            "orphans": orphans,
        }
    finally:
        conn.close()


def test_kill_9_during_alert_sends_every_mail_and_repeats_only_the_one_in_flight(tmp_path, figures):
    template = tmp_path / "template.db"
    make_store(template)
    server = SmtpServer().start()
    server.handler.on_data = lambda: time.sleep(DATA_PAUSE_S)
    config = tmp_path / "incidents.toml"
    write_config(config, server.port)
    try:
        clean = tmp_path / "clean.db"
        shutil.copy(template, clean)
        started = time.monotonic()
        run_alert(clean, config, None)
        duration = time.monotonic() - started
        clean_ids = Counter(r.message_id for r in server.received)
        assert len(clean_ids) == RECIPIENTS and set(clean_ids.values()) == {1}

        rng = random.Random(15)
        counts = Counter()
        rounds = 0
        while counts["kills"] < KILLS:
            rounds += 1
            assert rounds < 3 * KILLS, "the job kept finishing before its kill"
            server.handler.received.clear()
            db = tmp_path / f"round{rounds}.db"
            shutil.copy(template, db)
            killed = run_alert(db, config, rng.uniform(0.1, 0.9) * duration)
            if not killed:
                continue
            counts["kills"] += 1
            s = outbox_state(db)
            assert s["integrity"] == "ok"
            assert s["mismatched"] == 0 and s["orphans"] == 0, "an item's status differs from its mail's"
            assert set(s["mails"].values()) <= {"pending", "sent"} and set(s["items"]) <= {"pending", "sent"}
            received = Counter(r.message_id for r in server.received)
            sent = {m for m, status in s["mails"].items() if status == "sent"}
            assert sent <= set(received), "a mail marked sent that the server never received"
            in_flight = set(received) - sent  # received, not marked: the acceptance-to-mark window
            assert len(in_flight) <= 1, f"more than the one mail in flight received unmarked: {in_flight}"
            counts["in_window"] += len(in_flight)
            counts["mails_before_kill"] += len(received)
            counts["queued_at_kill"] += bool(s["mails"])

            run_alert(db, config, None)
            s = outbox_state(db)
            assert s["integrity"] == "ok" and s["mismatched"] == 0
            assert set(s["mails"].values()) == {"sent"} and set(s["items"]) == {"sent"}
            assert len(s["mails"]) == RECIPIENTS
            received = Counter(r.message_id for r in server.received)
            assert set(received) == set(s["mails"]), "every composed mail reached the server"
            twice = {m for m, n in received.items() if n > 1}
            assert twice <= in_flight, (
                f"a mail repeated outside the acceptance-to-mark window: {twice - in_flight}"
            )
            assert max(received.values()) <= 2
            counts["duplicates"] += len(twice)
            counts["delivered"] += len(received)
        figures(f"kill -9 during alert: clean run {duration:.1f} s, {dict(counts)}")
        assert counts["duplicates"] <= counts["kills"]
    finally:
        server.stop()
