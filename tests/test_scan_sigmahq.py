"""Sigma as the community writes it (issue 10, kind 6), and hostile rules and records (kind 8)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents.cli import app
from incidents.scan import load_ruleset, scan_paths
from incidents.scan.classify import classify
from incidents.scan.importer import check_collection, summary

runner = CliRunner()


@pytest.fixture
def community(shared_dir) -> Path:
    return shared_dir / "cases" / "scan" / "sigma-rules"


def test_sigmahq_shaped_rules_load_unedited(community):
    _, ruleset = load_ruleset(community)
    assert ruleset.problems == []
    titles = {r.title.split(" (")[0]: r for r in ruleset.rules}
    assert set(titles) == {
        "Potential Brute Force",
        "Suspicious OpenSSH Daemon Error",
        "Suspicious User-Agents Related To Recon Tools",
        "SQL Injection Strings",
    }
    assert all(r.category == "other" for r in ruleset.rules)  # no tags, no incident: -> other
    brute = titles["Potential Brute Force"]
    assert brute.readers == ("auth",) and brute.group_by == ("source_ip", "host")  # mapped by the pipeline


def test_sigmahq_shaped_rules_run(db, community, shared_dir):
    cases = shared_dir / "cases" / "scan"
    report = scan_paths(
        db, [cases / "burst-across-5min.log", cases / "nginx-main.log"], rules_dir=community, year=2024
    )
    found = {r["rule"].split(" (")[0]: r["incidents"] for r in report.per_rule()}
    assert found["Potential Brute Force"] == 1  # keywords 'failed password' on the message, root, public IP
    assert found["SQL Injection Strings"] == 1  # GET, 'UNION%20SELECT' keyword, not a 404
    assert report.complete


def test_keyword_search_is_a_substring_of_the_message_case_insensitive(db, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "kw.yml").write_text(
        "title: kw\nid: 0e3c1c8e-0000-4000-8000-000000000001\nlogsource: {product: linux, service: sshd}\n"
        "detection:\n  keywords: ['corrupted MAC on input']\n  condition: keywords\nlevel: low\n"
        "tags: [attack.t1110]\n"
    )
    log = tmp_path / "auth.log"
    log.write_text(
        "Mar  1 10:00:00 h sshd[1]: Corrupted MAC on input. [preauth] from 203.0.113.1 port 1\n"
        "Mar  1 10:00:01 h sshd[2]: Failed password for root from 203.0.113.2 port 2 ssh2\n"
    )
    report = scan_paths(db, [log], rules_dir=rules, year=2024)
    assert report.per_rule()[0]["incidents"] == 1
    assert report.rules[0].category == "intrusion" and "t1110" in report.rules[0].classified_by


@pytest.mark.parametrize(
    "tags, category",
    [
        (["attack.credential-access", "attack.t1110.001"], "intrusion"),
        (["attack.t1190"], "intrusion"),
        (["attack.reconnaissance", "attack.t1595.002"], "scanning"),
        (["attack.command-and-control", "attack.t1071.004"], "malware"),
        (["attack.impact", "attack.t1491.002"], "deface"),
        (["attack.t1498"], "ddos"),
        (["attack.t1566.001"], "phishing"),
        (["attack.discovery"], "scanning"),
        (["attack.t9999", "car.2016-04-005"], "other"),
        ([], "other"),
    ],
)
def test_classification_from_attack_tags(tags, category):
    assert classify(tags)[0][0] == category


def test_import_reports_per_rule_and_copies_those_that_run(tmp_path, community):
    src = tmp_path / "sigma"
    (src / "windows").mkdir(parents=True)
    (src / "windows" / "proc.yml").write_text(
        "title: w\nid: 0e3c1c8e-0000-4000-8000-000000000002\nlogsource: {product: windows, category: "
        "process_creation}\ndetection:\n  sel: {Image|endswith: '\\\\cmd.exe'}\n  condition: sel\nlevel: low\n"
    )
    (src / "linux").mkdir()
    (src / "linux" / "proc.yml").write_text(
        "title: l\nid: 0e3c1c8e-0000-4000-8000-000000000003\nlogsource: {product: linux, category: "
        "process_creation}\ndetection:\n  keywords: [wget]\n  condition: keywords\nlevel: low\n"
    )
    for f in community.glob("*.yml"):
        (src / "web").mkdir(exist_ok=True)
        (src / "web" / f.name).write_text(f.read_text())
    into = tmp_path / "mine"
    results = check_collection(src, into=into)
    by_file = {r.file: r for r in results}
    assert not by_file["windows/proc.yml"].runs
    assert by_file["windows/proc.yml"].reason == "log source no reader here handles"
    assert not by_file["linux/proc.yml"].runs  # process events are no auth.log lines
    assert by_file["web/web_recon_ua.yml"].runs and by_file["web/web_recon_ua.yml"].readers == ("web",)
    counts = summary(results)
    assert counts["rules"] == 6 and counts["runs"] == 4
    assert sorted(p.name for p in into.rglob("*.yml")) == sorted(f.name for f in community.glob("*.yml"))
    result = runner.invoke(app, ["rules", "import", str(src), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["summary"]["runs"] == 4


# --- kind 8: one record, one rule never stops a scan ----------------------------------------------


def test_python_yaml_tag_is_refused_with_one_line(shared_dir):
    folder = shared_dir / "cases" / "hostile" / "30-rules-yaml-python-tag"
    result = runner.invoke(app, ["rules", "list", "--rules", str(folder)])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "evil-rule.yml" in lines[0] and "YAML error" in lines[0]


def test_catastrophic_regex_cannot_hang_a_scan(db, shared_dir, tmp_path):
    hostile = shared_dir / "cases" / "hostile"
    log = tmp_path / "redos.log"
    path = "/" + "a" * 5000 + "!"
    log.write_text(
        f'10.0.0.1 - - [04/Jan/2021:21:27:23 +0700] "GET {path} HTTP/1.1" 200 37 "-" "curl"\n' * 50
    )
    started = time.process_time()
    report = scan_paths(db, [hostile / "29-web-redos-40a.log", log], rules_dir=hostile / "29-rules-redos")
    assert time.process_time() - started < 5  # linear: backtracking would take longer than the universe
    assert report.complete and report.rules[0].title.startswith("Long repeated")


def test_a_regex_re2_cannot_run_is_refused_naming_the_rule(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "look.yml").write_text(
        "title: lookbehind\nid: 0e3c1c8e-0000-4000-8000-000000000004\nlogsource: {category: webserver}\n"
        "detection:\n  sel: {c-uri|re: '(?<=admin)/x'}\n  condition: sel\nlevel: low\n"
    )
    _, ruleset = load_ruleset(rules)
    assert ruleset.rules == [] and "no linear-time form" in str(ruleset.problems[0])


def test_eight_thousand_quotes_take_seconds(db, shared_dir):
    log = shared_dir / "cases" / "hostile" / "28-web-8kb-quotes-200-lines.log"
    started = time.process_time()
    report = scan_paths(db, [log])
    assert report.files[0].fmt == "web" and report.files[0].lines == 200
    assert time.process_time() - started < 20


@pytest.mark.parametrize("name", ["20-eve-src-ip-object.json", "22-eve-timestamp-year-0001.json"])
def test_a_bad_eve_record_is_rejected_and_later_files_scanned(db, shared_dir, name):
    hostile = shared_dir / "cases" / "hostile"
    report = scan_paths(db, [hostile / name, hostile / "26-auth-lf-reference.log"])
    bad, later = report.files
    assert bad.unparsed == 1 and bad.events == bad.lines - 1 and bad.run_id is not None
    assert later.complete and later.found == 26
    reason = db.execute("SELECT reason FROM rejects").fetchone()[0]
    assert "src_ip" in reason or "out of range" in reason


def test_cr_only_line_ends_are_split(db, shared_dir):
    hostile = shared_dir / "cases" / "hostile"
    report = scan_paths(db, [hostile / "26-auth-cr-only.log"])
    assert report.files[0].found == 26 and report.complete


def test_port_and_nesting_and_year_9999_in_eve(db, tmp_path):
    good = {"timestamp": "2021-01-04T19:48:53+0700", "event_type": "alert", "src_ip": "198.51.100.5",
            "dest_ip": "10.0.0.1", "alert": {"signature": "ET SCAN x", "category": "Detection of a Network Scan",
                                              "severity": 2}}  # fmt: skip
    lines = [
        json.dumps(good),
        json.dumps(good | {"src_port": 10**30}),
        json.dumps(good | {"timestamp": "9999-12-31T23:59:59+00:00"}),
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        json.dumps(good | {"alert": {"signature_id": 10**30}}),
        json.dumps(good),
    ]
    log = tmp_path / "eve.json"
    log.write_text("\n".join(lines) + "\n")
    report = scan_paths(db, [log])
    f = report.files[0]
    assert (f.lines, f.events, f.unparsed) == (6, 2, 4)
    reasons = [r[0] for r in db.execute("SELECT reason FROM rejects ORDER BY line")]
    assert "src_port" in reasons[0] and "out of range" in reasons[1] and "nested too deep" in reasons[2]


def test_out_of_range_years_in_text_logs_are_rejected_not_fatal(db, tmp_path):
    web = tmp_path / "access.log"
    good = '198.51.100.9 - - [01/Mar/2024:10:00:00 +0700] "GET /x HTTP/1.1" 200 1 "-" "sqlmap/1.8"\n'
    web.write_text(good + good.replace("2024", "9999") + good.replace("2024", "0001") + good)
    auth = tmp_path / "auth.log"
    auth.write_text(
        "<38>1 9999-12-31T23:59:59Z h sshd 1 - - Failed password for root from 198.51.100.1 port 1 ssh2\n"
        "Mar  1 10:00:00 h sshd[1]: Failed password for root from 198.51.100.1 port 99999999999999999999 ssh2\n"
        "Mar  1 10:00:01 h sshd[1]: Failed password for root from 198.51.100.1 port 2 ssh2\n"
    )
    report = scan_paths(db, [web, auth], year=2024)
    w, a = report.files
    assert (w.lines, w.events, w.unparsed) == (4, 2, 2) and w.found == 1
    assert a.lines == 3 and a.unparsed == 1 and a.run_id is not None
