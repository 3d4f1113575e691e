"""Writers and readers on one store at once for 60 s (issue 15 point 2).

- one `incidents ingest` process at a time works through a stream of files (new ones generated while it
  runs), committing every 100 rows (INCIDENTS_INGEST_COMMIT_ROWS), so its runs are often half-committed;
- `incidents alert` runs again and again against a real SMTP server on 127.0.0.1 (aiosmtpd), with two
  desks for severe incidents and one for spike episodes (so each run also judges and keeps verdicts);
- `incidents stats --month 2020-10 --json` runs in a loop;
- the TUI's StoreReader (incidents/tui/data.py, no textual App) asks for the month and the incident count
  in a loop.
Then one last alert run. Asserted: no "database is locked" and no traceback in any stderr, every command
exit 0; the store holds exactly the files' distinct records (none lost, none doubled); each reader's
totals only grew and were always the total after a whole number of files (each file all or nothing);
every queued alert was sent, each mail received once (by Message-ID at the server), and each severe
incident reached each desk in exactly one item.

INCIDENTS_CONCURRENCY_SECONDS shortens the 60 s locally.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from incidents.search import IncidentFilter
from incidents.tui.data import StoreReader
from tests.smtpd import SmtpServer

pytestmark = [pytest.mark.slow, pytest.mark.concurrency]

CMD = [sys.executable, "-m", "incidents.cli"]
HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description\n"
SECONDS = float(os.environ.get("INCIDENTS_CONCURRENCY_SECONDS", "60"))
ROWS_PER_FILE = 700
FILES_PER_INGEST = 3


def write_file(path: Path, k: int) -> tuple[int, int]:
    """A file of distinct records (unique targets) in October 2020, local time too; returns (rows, severe)."""
    rng = random.Random(k)
    severe = 0
    with open(path, "w") as fh:
        fh.write(HEADER)
        for i in range(ROWS_PER_FILE):
            severity = rng.choices(("low", "medium", "high", "critical"), (60, 30, 7, 3))[0]
            severe += severity in ("high", "critical")
            category = rng.choice(("phishing", "deface", "malware", "intrusion"))
            fh.write(
                f"f{k}-{i},2020-10-{rng.randint(1, 30):02d}T{rng.randint(0, 16):02d}:00:00Z,{category},"
                f"f{k}-host{i}.example.vn,government,feed{k % 3},{severity},new,203.0.113.{i % 250},rec {i}\n"
            )
    return ROWS_PER_FILE, severe


class Runs:
    """stderr and exit codes of every command run, from every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.counts = Counter()

    def run(self, args: list[str], env: dict | None = None, timeout: float = 300) -> str:
        proc = subprocess.run(
            [*CMD, *args], check=False, capture_output=True, text=True, env=env, timeout=timeout
        )
        with self.lock:
            self.counts[args[0]] += 1
            if proc.returncode != 0 or "Traceback" in proc.stderr or "locked" in proc.stderr:
                self.failures.append(f"{args[0]} exit {proc.returncode}: {proc.stderr[-1500:]}")
        return proc.stdout


def test_ingest_alert_and_readers_for_a_minute(tmp_path, figures):
    db = tmp_path / "store.db"
    server = SmtpServer().start()
    config = tmp_path / "incidents.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\nsender = "soc@example.vn"\n'
        "timeout = 10\n"
        '[[recipients]]\nemail = "desk1@example.vn"\nmin_severity = "high"\nmax_per_hour = 100000\n'
        '[[recipients]]\nemail = "desk2@example.vn"\nmin_severity = "critical"\nmax_per_hour = 100000\n'
        '[[recipients]]\nemail = "spikes@example.vn"\nspikes = true\nmax_per_hour = 100000\n'
    )
    runs = Runs()
    # The store exists and has an alert watermark before the first file: every later severe incident alerts.
    write_file(tmp_path / "f0.csv", 0)
    runs.run(["ingest", "--db", str(db), str(tmp_path / "f0.csv")])
    runs.run(["alert", "--db", str(db), "--config", str(config)])
    # The valid totals: after each whole file, in the order the one ingester takes them.
    totals = [ROWS_PER_FILE]
    severe = {}
    stop = threading.Event()
    seen: dict[str, list[int]] = {"stats": [], "tui_month": [], "tui_count": []}
    errors: list[str] = []
    env = {**os.environ, "INCIDENTS_INGEST_COMMIT_ROWS": "100"}

    def ingester():
        k = 1
        while not stop.is_set():
            files = []
            for _ in range(FILES_PER_INGEST):
                path = tmp_path / f"f{k}.csv"
                rows, severe[k] = write_file(path, k)
                totals.append(totals[-1] + rows)
                files.append(str(path))
                k += 1
            runs.run(["ingest", "--db", str(db), *files], env=env)

    def alerter():
        while not stop.is_set():
            runs.run(["alert", "--db", str(db), "--config", str(config)])

    def stats_reader():
        while not stop.is_set():
            out = runs.run(["stats", "--db", str(db), "--month", "2020-10", "--json"])
            if out:
                seen["stats"].append(json.loads(out)["total"]["count"])

    def tui_reader():
        reader = StoreReader(db)
        try:
            while not stop.is_set():
                seen["tui_month"].append(reader.month_report("2020-10").total.count)
                seen["tui_count"].append(reader.count_incidents(IncidentFilter()))
                time.sleep(0.05)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"tui reader: {type(e).__name__}: {e}")
        finally:
            reader.close()

    threads = [threading.Thread(target=f) for f in (ingester, alerter, stats_reader, tui_reader)]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join(timeout=600)
    held = time.monotonic() - started
    runs.run(["alert", "--db", str(db), "--config", str(config)])  # what the last ingest brought
    server.stop()

    assert not errors and not runs.failures, (errors, runs.failures)
    final = totals[-1]
    conn = sqlite3.connect(db)
    try:
        stored = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        kept = conn.execute("SELECT n FROM incident_count").fetchone()[0]
        statuses = dict(conn.execute("SELECT status, count(*) FROM ingest_runs GROUP BY status"))
        severe_ids = conn.execute(
            "SELECT count(*) FROM incidents WHERE severity IN ('high', 'critical') AND id NOT IN "
            "(SELECT id FROM incidents WHERE feed IS NULL) AND rowid > ?",
            [ROWS_PER_FILE],
        ).fetchone()[0]
        critical = conn.execute(
            "SELECT count(*) FROM incidents WHERE severity = 'critical' AND rowid > ?", [ROWS_PER_FILE]
        ).fetchone()[0]
        items = dict(
            conn.execute(
                "SELECT recipient, count(*) FROM alert_outbox WHERE kind = 'incident' GROUP BY recipient"
            ).fetchall()
        )
        item_status = dict(conn.execute("SELECT status, count(*) FROM alert_outbox GROUP BY status"))
        mails = conn.execute("SELECT count(*) FROM alert_mails").fetchone()[0]
        per_incident = conn.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM alert_outbox WHERE kind = 'incident' "
            "GROUP BY incident_id, recipient)"
        ).fetchone()[0]
    finally:
        conn.close()
    # No row lost or doubled: every file's distinct records, each once; every run completed.
    assert stored == kept == final, (stored, kept, final)
    assert set(statuses) == {"ok"}, statuses
    assert severe_ids == sum(severe.values())
    # Readers: totals only grew, each the total after a whole number of files.
    valid = set(totals)
    for name, values in seen.items():
        assert values, f"{name} never read"
        assert values == sorted(values), f"{name} went back: {values}"
        assert set(values) <= valid, f"{name} saw part of a file: {sorted(set(values) - valid)}"
    # Alerts: each severe incident once per desk whose rule takes it, every item and mail sent once.
    assert items.get("desk1@example.vn") == severe_ids and items.get("desk2@example.vn") == critical
    assert per_incident == 1
    assert set(item_status) == {"sent"}, item_status
    received = Counter(r.message_id for r in server.received)
    assert len(received) == mails and set(received.values()) == {1}, "a mail sent twice or not at all"
    figures(
        f"concurrency: {held:.0f} s held; {dict(runs.counts)} commands; files {len(totals)}; "
        f"incidents {stored} of {final} expected (lost {max(final - stored, 0)}, doubled "
        f"{max(stored - final, 0)}); reads stats {len(seen['stats'])}, tui {len(seen['tui_month'])}; "
        f"mails {mails}, each received once; load {os.getloadavg()[0]:.1f}"
    )
