"""scan_paths end to end: real logs into a real store, idempotence, bad input, transactions."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from incidents import store
from incidents.scan import ScanError, incident_id, scan_paths
from incidents.taxonomy import CATEGORIES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "rules" / "fixtures"
BRUTE_FORCE = "2a0c4e0e-8a3b-4f7e-b1f2-6a2d8c9e0b11"


def incidents(db, where: str = "1", args=()) -> list[dict]:
    return list(db.query(f"SELECT * FROM incidents WHERE {where} ORDER BY occurred_at", args))


def test_openssh_brute_force_sources(db, shared_dir):
    report = scan_paths(db, [shared_dir / "data/logs/loghub/OpenSSH_OpenSSH_2k.log"], year=2020)
    assert report.complete
    sources = {r["source_ip"] for r in incidents(db, "description LIKE 'SSH brute force%'")}
    assert {"183.62.140.253", "187.141.143.180"} <= sources
    assert len(sources) >= 5
    # one incident per source and episode: the heaviest source attacks in one burst
    assert (
        len(incidents(db, "source_ip = ? AND description LIKE 'SSH brute force%'", ["183.62.140.253"])) == 1
    )
    for row in incidents(db):
        assert row["category"] == "intrusion" and (row["taxonomy"], row["type"]) == (
            "intrusion-attempts",
            "brute-force",
        )
        assert (
            row["target"] == "LabSZ" and row["feed"] == "scan" and row["occurred_at"].startswith("2020-12-")
        )


def test_linux_syslog_pam_failures(db, shared_dir):
    scan_paths(db, [shared_dir / "data/logs/loghub/Linux_Linux_2k.log"], year=2005)
    rows = incidents(db, "description LIKE 'SSH brute force%'")
    assert "150.183.249.110" in {r["source_ip"] for r in rows}
    # PAM logs a host name when rhost resolves: it groups like an address, but is no source_ip
    named = [r for r in rows if r["source_ip"] is None]
    assert named
    for r in named:
        host = json.loads(r["raw"])["group"]["source_ip"]
        assert "." in host and f"source_ip={host}" in r["description"]


def test_w3af_scan_yields_scanning_and_injection(db, shared_dir):
    report = scan_paths(db, [shared_dir / "data/logs/apache-scanners/w3af.txt"])
    assert report.complete
    found = {r["rule"]: r["incidents"] for r in report.per_rule()}
    assert found["Web vulnerability scanner user agent"] >= 1
    assert found["SQL injection attempt in a web request"] >= 1
    assert found["Cross-site scripting attempt in a web request"] >= 1
    assert {r["category"] for r in incidents(db)} == {"scanning", "intrusion"}
    assert {r["source_ip"] for r in incidents(db, "category = 'intrusion'")} == {"192.168.4.163"}


def test_benign_apache_log_stays_quiet(db, shared_dir):
    report = scan_paths(db, [shared_dir / "data/logs/apache-benign/apache_logs"])
    assert report.files[0].lines == 10_000
    fired = [r for r in report.per_rule() if r["incidents"]]
    assert sum(r["incidents"] for r in fired) <= 1
    by_id = {r.id: r for r in report.rules}
    for r in fired:  # whatever fires must be explained in the rule's falsepositives
        assert by_id[r["id"]].falsepositives
    # the one malformed line of that file (an unterminated user agent) is reported, not dropped
    assert report.files[0].unparsed == 1 and "line 8899" in report.files[0].notes[0]


def test_suricata_alerts_map_to_categories(db, shared_dir):
    report = scan_paths(db, [shared_dir / "data/logs/suricata/honeypot-2018-alerts.json"])
    assert report.complete and report.files[0].lines == 44
    rows = incidents(db)
    assert {r["category"] for r in rows} == {"scanning", "intrusion"}
    assert all(r["category"] in CATEGORIES for r in rows)
    scanners = {r["source_ip"] for r in rows if r["category"] == "scanning"}
    assert "8.42.77.171" in scanners  # ET SCAN Potential SSH / VNC scans
    assert all(r["target"] == "138.68.3.71" and r["target_kind"] == "ip" for r in rows)


def test_scanning_twice_adds_nothing(db):
    path = FIXTURES / "ssh-brute-force/match.log"
    first = scan_paths(db, [path], year=2020)
    again = scan_paths(db, [path], year=2020)
    assert first.files[0].new == 2 and again.files[0].found == 2 and again.files[0].new == 0
    assert store.count_incidents(db) == 2
    runs = list(db.query("SELECT kind, status, accepted, duplicate FROM ingest_runs ORDER BY id"))
    assert runs == [
        {"kind": "scan", "status": "ok", "accepted": 2, "duplicate": 0},
        {"kind": "scan", "status": "ok", "accepted": 0, "duplicate": 2},
    ]


def test_incident_id_day_and_raw(db):
    scan_paths(db, [FIXTURES / "ssh-brute-force/match.log"], year=2020)
    row = incidents(db, "source_ip = ?", ["203.0.113.5"])[0]
    # 07:00:00 in Ho Chi Minh City is 00:00:00 UTC
    assert row["occurred_at"] == "2020-10-05T00:00:00Z" and row["day"] == "2020-10-05"
    start = 1601856000
    assert row["id"] == hashlib.sha1(f"{BRUTE_FORCE}|203.0.113.5|{start}".encode()).hexdigest()
    assert row["id"] == incident_id(BRUTE_FORCE, "203.0.113.5", start)
    assert row["severity"] == "high" and row["status"] == "new" and '"events": 12' in row["raw"]


def test_day_is_local_in_the_reporting_zone(tmp_path):
    db = store.open_db(tmp_path / "utc.db", zone="America/New_York")
    scan_paths(db, [FIXTURES / "web-xss/match.log"])
    row = incidents(db)[0]
    # 10:00 +0700 on 5 October is 23:00 on 4 October in New York
    assert row["occurred_at"] == "2020-10-05T03:00:00Z" and row["day"] == "2020-10-04"


def test_bad_files_are_reported_and_the_rest_goes_through(db, tmp_path):
    binary = tmp_path / "core.dump"
    binary.write_bytes(bytes(range(256)) * 40)
    empty = tmp_path / "empty.log"
    empty.write_text("")
    good = FIXTURES / "ssh-brute-force/match.log"
    report = scan_paths(db, [binary, empty, tmp_path / "missing.log", good], year=2020)
    by_name = {Path(f.file).name: f for f in report.files}
    assert "binary" in by_name["core.dump"].error
    assert by_name["empty.log"].notes == ["empty file, nothing to scan"]
    assert by_name["missing.log"].error == "no such file"
    assert by_name["match.log"].complete and by_name["match.log"].new == 2
    assert not report.complete
    assert store.count_incidents(db) == 2


def test_unparsed_lines_are_kept_as_rejects(db, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text((FIXTURES / "ssh-brute-force/match.log").read_text() + "garbage line\n")
    report = scan_paths(db, [log], year=2020)
    assert not report.complete and report.files[0].unparsed == 1
    rejects = list(db.query("SELECT line, raw, reason FROM rejects"))
    assert rejects == [{"line": 25, "raw": "garbage line", "reason": "fits no auth line"}]


def test_a_failing_store_write_leaves_nothing_half_written(db, monkeypatch):
    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "finish_run", refuse)  # fail after the incidents went in
    with pytest.raises(ScanError, match="nothing of this file was written"):
        scan_paths(db, [FIXTURES / "ssh-brute-force/match.log"], year=2020)
    assert store.count_incidents(db) == 0
    assert db.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] == 0


def test_bad_rules_are_named_and_the_others_run(db, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "broken.yml").write_text("title: broken\ndetection: [unclosed\n")
    (rules / "unknown-field.yml").write_text(
        (rules / "web-xss.yml").read_text().replace("c-uri-decoded|re", "TargetFilename|re")
        .replace("8a2d4c6e-1f3b-4a5c-9e7d-2b4f6a8c0e15", "8a2d4c6e-1f3b-4a5c-9e7d-2b4f6a8c0e99")
    )  # fmt: skip
    report = scan_paths(db, [FIXTURES / "ssh-brute-force/match.log"], rules_dir=rules, year=2020)
    problems = "\n".join(report.rule_problems)
    assert "broken.yml: line 3: YAML error" in problems
    assert (
        "unknown-field.yml: rule 'Cross-site scripting attempt in a web request': field 'TargetFilename'"
        in problems
    )
    assert report.files[0].new == 2 and not report.complete


def test_missing_rules_folder_is_one_error(db, tmp_path):
    with pytest.raises(ScanError, match="does not exist"):
        scan_paths(db, [FIXTURES / "ssh-brute-force/match.log"], rules_dir=tmp_path / "nope")


def test_folders_are_scanned_file_by_file(db):
    report = scan_paths(db, [FIXTURES / "suricata"])
    assert sorted(Path(f.file).name for f in report.files) == ["alerts.json", "clean.json"]
    assert report.complete
