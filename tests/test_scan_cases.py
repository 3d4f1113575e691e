"""The real log shapes of ../shared/cases/scan/ (issue 10): each gives its right outcome."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from incidents.scan import scan_paths

runner = CliRunner()


@pytest.fixture
def cases(shared_dir) -> Path:
    return shared_dir / "cases" / "scan"


def incidents(db, category: str | None = None) -> list[dict]:
    rows = db.query(
        "SELECT occurred_at, day, category, source_ip, target, raw FROM incidents ORDER BY occurred_at"
    )
    return [r for r in rows if category is None or r["category"] == category]


def test_freebsd_openpam_brute_force(db, cases):
    report = scan_paths(db, [cases / "freebsd-pam-bruteforce.log"], year=2024)
    assert report.complete
    found = incidents(db)
    assert [(r["category"], r["source_ip"], r["target"], r["occurred_at"]) for r in found] == [
        ("intrusion", "198.51.100.20", "fw1", "2024-03-03T19:10:00Z")
    ]


def test_user_name_injection_never_makes_the_typed_address_the_source(db, cases):
    scan_paths(db, [cases / "username-injection.log"], year=2024)
    sources = {r["source_ip"] for r in incidents(db)}
    assert sources == {"198.51.100.66", "198.51.100.67"}
    titles = {r["raw"].split('"rule": ')[1].split('"')[1] for r in incidents(db)}
    assert titles == {"SSH brute force", "SSH password spraying"}


def test_journalctl_separators_are_read_not_rejected(db, cases):
    report = scan_paths(db, [cases / "journalctl-short.log"], year=2024)
    f = report.files[0]
    assert report.complete and f.unparsed == 0
    assert f.skipped == {"journalctl separator line": 2}
    assert [r["source_ip"] for r in incidents(db)] == ["198.51.100.9"]


@pytest.mark.parametrize(
    "name, target", [("nginx-main.log", None), ("apache-vhost-combined.log", "www.example.vn")]
)
def test_nginx_main_and_apache_vhost_combined(db, cases, name, target):
    report = scan_paths(db, [cases / name])
    assert report.complete and report.files[0].fmt == "web"
    found = incidents(db)
    assert {r["category"] for r in found} == {"intrusion", "scanning"}
    assert len(found) == 3  # SQL injection, path traversal, scanner
    assert {r["source_ip"] for r in found} == {"198.51.100.23"}
    assert {r["target"] for r in found} == {target}


def test_suricata8_dns_v3_and_the_affected_client(db, cases):
    report = scan_paths(db, [cases / "suricata8-eve.json"])
    assert report.complete
    dns = [r for r in incidents(db) if "DNS look-up" in r["raw"]]
    assert {r["source_ip"] for r in dns} == {"192.0.2.50", "192.0.2.52"}
    alert = [r for r in incidents(db) if "Suricata alert - malware" in r["raw"]]
    assert [r["target"] for r in alert] == ["192.0.2.52"]  # the client, not the resolver 198.51.100.53
    assert "198.51.100.53" not in {r["source_ip"] for r in incidents(db)}


def test_dnsmasq_is_read_as_dns(db, cases):
    report = scan_paths(db, [cases / "dnsmasq.log"], year=2024)
    f = report.files[0]
    assert f.fmt == "dns" and report.complete
    assert [(r["category"], r["source_ip"]) for r in incidents(db)] == [("malware", "192.0.2.50")]


def test_rotated_logs_gzip_included(db, cases):
    report = scan_paths(db, [cases / "rotated"], year=2024)
    assert report.complete and len(report.files) == 4
    assert sorted(r["source_ip"] for r in incidents(db)) == [f"198.51.100.{i}" for i in range(1, 5)]


def test_zone_states_the_log_clock(db_path, cases):
    result = runner.invoke(
        app,
        ["scan", str(cases / "utc-server-auth.log"), "--zone", "UTC", "--year", "2024", "--db", str(db_path)],
    )
    assert result.exit_code == 0, result.output
    db = store.open_db(db_path)
    assert [(r["occurred_at"], r["day"]) for r in incidents(db)] == [("2024-03-01T20:30:00Z", "2024-03-02")]
    db.close()


def test_unknown_zone_is_one_error(db_path, cases):
    result = runner.invoke(
        app, ["scan", str(cases / "utc-server-auth.log"), "--zone", "Mars/Olympus", "--db", str(db_path)]
    )
    assert result.exit_code == 1 and "unknown time zone" in result.stderr


def test_searches_and_404_probes_are_no_defacement(db, cases):
    scan_paths(db, [cases / "deface-false-positives.log"])
    assert incidents(db, "deface") == []
    assert [r["source_ip"] for r in incidents(db, "scanning")] == ["198.51.100.88"]


def test_rfc5424_syslog(db, cases):
    report = scan_paths(db, [cases / "rfc5424.log"])
    assert report.complete
    assert [(r["source_ip"], r["target"], r["occurred_at"]) for r in incidents(db)] == [
        ("198.51.100.12", "web03", "2024-03-01T03:15:10Z")
    ]


def test_burst_across_a_five_minute_boundary(db, cases):
    scan_paths(db, [cases / "burst-across-5min.log"], year=2024)
    assert [r["source_ip"] for r in incidents(db)] == ["198.51.100.77"]


# --- kind 1: silence ------------------------------------------------------------------------------


def test_a_path_through_dot_dot_and_dot_folders_is_scanned(db, tmp_path, cases):
    folder = tmp_path / ".hidden" / "logs"
    folder.mkdir(parents=True)
    shutil.copy(cases / "rfc5424.log", folder / "auth.log")
    (folder / ".secret.log").write_text("not read\n")
    report = scan_paths(db, [folder / ".." / "logs"])
    assert [Path(f.file).name for f in report.files] == ["auth.log"] and report.complete


def test_a_folder_with_nothing_to_scan_is_not_silent(db_path, tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / ".only-hidden").write_text("x\n")
    result = runner.invoke(app, ["scan", str(tmp_path / "logs"), "--db", str(db_path)])
    assert result.exit_code == 1 and "holds no file to scan" in result.stderr


def test_lines_read_but_no_event_recognised_is_not_silent(db_path, tmp_path):
    log = tmp_path / "syslog"
    log.write_text("".join(f"Mar  1 10:00:{i:02d} host cron[1]: (root) CMD (run-parts)\n" for i in range(20)))
    result = runner.invoke(app, ["scan", str(log), "--year", "2024", "--db", str(db_path)])
    assert result.exit_code == 1
    assert "recognised no sshd/PAM login event" in result.stderr


def test_a_guess_from_few_lines_says_so(db, tmp_path):
    log = tmp_path / "mixed.log"
    lines = ["Mar  1 10:00:00 gw sshd[1]: Failed password for root from 203.0.113.9 port 1 ssh2"]
    lines += [f"free text line {i}" for i in range(10)]
    log.write_text("\n".join(lines) + "\n")
    report = scan_paths(db, [log], year=2024)
    assert not report.complete and any("line 2" in n for n in report.files[0].notes)


def test_per_file_counts_in_json(db_path, cases):
    result = runner.invoke(
        app, ["scan", str(cases / "dnsmasq.log"), "--year", "2024", "--json", "--db", str(db_path)]
    )
    import json

    f = json.loads(result.stdout)["files"][0]
    assert (f["lines"], f["recognised"], f["unparsed"]) == (5, 2, 0)
    assert sum(f["skipped"].values()) == 3


def test_gzip_written_here_is_read(db, tmp_path):
    text = "".join(
        f"Mar  1 10:00:{i:02d} gw sshd[{i}]: Failed password for root from 203.0.113.9 port {i + 1000} ssh2\n"
        for i in range(12)
    )
    path = tmp_path / "auth.log.5.gz"
    path.write_bytes(gzip.compress(text.encode()))
    report = scan_paths(db, [path], year=2024)
    assert report.complete and report.files[0].lines == 12 and len(incidents(db)) == 1


def test_a_file_no_loaded_rule_reads_is_not_silent(db, cases, shared_dir):
    report = scan_paths(
        db, [cases / "rfc5424.log"], rules_dir=shared_dir / "cases" / "hostile" / "29-rules-redos"
    )
    assert not report.complete
    assert report.files[0].notes == ["no loaded rule reads auth logs, so nothing in this file was looked at"]
