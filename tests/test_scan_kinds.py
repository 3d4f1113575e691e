"""Other instances of the kinds of misreading in ../shared/cases/scan/: the same kind of log, as other
versions, other daemons and other setups write it. Each test builds its own input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidents.scan import load_ruleset, scan_paths


def incidents(db) -> list[tuple]:
    rows = db.query(
        "SELECT occurred_at, category, source_ip, target, raw FROM incidents ORDER BY occurred_at, raw"
    )
    return [
        (r["occurred_at"], r["category"], r["source_ip"], r["target"], json.loads(r["raw"])["rule"])
        for r in rows
    ]


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


# --- SigmaHQ rules as published -------------------------------------------------------------------


def test_sigmahq_sshd_brute_force_correlation_with_its_cef_process_field(db, tmp_path):
    """SigmaHQ's correlation_lnx_sshd_brute_force_attempt.yml names the process `deviceProcessName` (CEF)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "correlation_lnx_sshd_brute_force_attempt.yml").write_text(
        "title: 'Failed Logon - Public IP Attempting Frequently Targeted Account - Linux'\n"
        "id: f698fb2a-f888-4b4f-b309-fcc56d7096b5\nlevel: 'informational'\nstatus: 'experimental'\n"
        "logsource:\n    product: 'linux'\n    service: 'sshd'\n"
        "detection:\n    keywords:\n        - 'failed password'\n        - 'authentication failure'\n"
        "    selection_targeted_accounts:\n        user_name|contains:\n            - 'root'\n            - 'admin'\n"
        '        deviceProcessName: "sshd"\n        user_name|exists: true\n        client_ip|exists: true\n'
        "    selection_privateIPRange:\n        client_ip|cidr:\n            - '10.0.0.0/8'\n            - 'fc00::/7'\n"
        "    condition: keywords and selection_targeted_accounts and not selection_privateIPRange\n"
        "---\ntitle: 'Potential Brute Force - Public IP Targeting Commonly Abused Accounts - Linux'\n"
        "id: f55634e2-baa3-489b-bbce-0c9818cf62ee\ntags:\n    - attack.credential-access\n    - attack.t1110.001\n"
        "level: 'medium'\nstatus: 'experimental'\ncorrelation:\n    type: event_count\n    rules:\n"
        "        - f698fb2a-f888-4b4f-b309-fcc56d7096b5\n    timespan: 15m\n    condition:\n        gte: 10\n"
        "    group-by:\n        - 'client_ip'\n        - 'host'\n"
    )
    log = write(
        tmp_path,
        "auth.log",
        [
            f"Mar  5 09:0{i // 6}:{i * 9 % 60:02d} bastion sshd[{900 + i}]: Failed password for invalid user "
            f"admin{i} from 2001:db8::bad:1 port {50000 + i} ssh2"
            for i in range(11)
        ],
    )
    report = scan_paths(db, [log], rules_dir=rules, year=2024)
    assert report.rule_problems == [] and report.complete
    assert [(r[1], r[2], r[3]) for r in incidents(db)] == [("intrusion", "2001:db8::bad:1", "bastion")]


# --- a bracket opening a line is not a JSON array ---------------------------------------------------


def test_an_apache_error_log_is_not_taken_for_an_eve_json_array(db, tmp_path):
    log = write(
        tmp_path,
        "error.log",
        [
            (
                "[Fri Mar 01 10:15:22.123456 2024] [core:error] [pid 1234:tid 140] [client 198.51.100.23:52144] "
                "AH00126: Invalid URI in request GET /../../etc/passwd HTTP/1.1"
            ),
            (
                "[Fri Mar 01 10:15:24.000000 2024] [authz_core:error] [pid 1236] [client 198.51.100.24:1234] "
                "AH01630: client denied by server configuration: /var/www/html/.git"
            ),
        ],
    )
    report = scan_paths(db, [log])
    f = report.files[0]
    assert f.fmt is None and f.error.startswith("line 1 fits none of the formats scan reads")


def test_journalctl_short_monotonic_is_not_taken_for_an_eve_json_array(db, tmp_path):
    log = write(
        tmp_path,
        "j.log",
        ["[  123.000001] deb12 sshd[100]: Failed password for root from 198.51.100.56 port 1 ssh2"],
    )
    report = scan_paths(db, [log])
    assert report.files[0].fmt != "suricata" and not report.complete


# --- Suricata eve.json of other versions -----------------------------------------------------------


def test_eve_v2_alert_dns_query_list_and_answer_give_the_look_up(db, tmp_path):
    """Suricata 5-7 put an alert's DNS look-up in `dns.query[]`, and the reply that fired one in `dns.answer`."""
    ts = "2024-03-01T10:15:22.123456+0700"
    on_query = {
        "timestamp": ts, "event_type": "alert", "src_ip": "192.0.2.54", "src_port": 53002, "dest_ip": "192.0.2.1",
        "dest_port": 53, "proto": "UDP",
        "alert": {"signature_id": 1, "signature": "ET DNS Query to a *.test domain", "category": "Potentially Bad Traffic",
                  "severity": 2},
        "dns": {"query": [{"type": "query", "id": 3, "rrname": "cdn-sync.test", "rrtype": "A", "tx_id": 0}]},
    }  # fmt: skip
    on_answer = {
        "timestamp": ts, "event_type": "alert", "src_ip": "192.0.2.1", "src_port": 53, "dest_ip": "192.0.2.56",
        "dest_port": 53004, "proto": "UDP",
        "alert": {"signature_id": 2, "signature": "ET DNS Reply Sinkhole", "category": "Misc activity", "severity": 3},
        "dns": {"answer": {"version": 2, "type": "answer", "id": 5, "rrname": "botnet-c2.example", "rrtype": "A",
                           "rcode": "NOERROR"}},
    }  # fmt: skip
    log = write(tmp_path, "eve.json", [json.dumps(on_query), json.dumps(on_answer)])
    report = scan_paths(db, [log])
    assert report.complete
    looked_up = {(r[2], r[3]) for r in incidents(db) if r[4] == "DNS look-up of a listed malware domain"}
    assert looked_up == {
        ("192.0.2.54", "192.0.2.54"),
        ("192.0.2.56", "192.0.2.56"),
    }  # the clients, never the resolver


# --- DNS servers' query logs -----------------------------------------------------------------------


def test_dnsmasq_query_of_a_type_it_has_no_name_for(db, tmp_path):
    log = write(
        tmp_path,
        "dnsmasq.log",
        [
            "Mar  1 10:15:23 dnsmasq[812]: query[type=65] update.avsvmcloud.com from 192.0.2.61",
            "Mar  1 10:15:23 dnsmasq[812]: forwarded update.avsvmcloud.com to 198.51.100.53",
        ],
    )
    report = scan_paths(db, [log], year=2024)
    assert report.files[0].events == 1 and report.complete
    assert [r[2] for r in incidents(db)] == ["192.0.2.61"]


def test_dnsmasq_as_openwrt_logread_writes_it(db, tmp_path):
    log = write(
        tmp_path,
        "logread.txt",
        [
            "Fri Mar  1 10:15:22 2024 daemon.info dnsmasq[812]: query[A] botnet-c2.example from 192.0.2.75",
            "Fri Mar  1 10:15:22 2024 daemon.info dnsmasq[812]: forwarded botnet-c2.example to 198.51.100.53",
            "Fri Mar  1 10:15:23 2024 daemon.info dnsmasq[812]: query[AAAA] www.example.vn from 192.0.2.76",
        ],
    )
    report = scan_paths(db, [log], log_zone="UTC")
    assert report.files[0].fmt == "dns" and report.complete
    assert [r[:3] for r in incidents(db)] == [("2024-03-01T10:15:22Z", "malware", "192.0.2.75")]


def test_named_lines_that_are_no_query_are_read_and_skipped(db, tmp_path):
    log = write(
        tmp_path,
        "named.log",
        [
            (
                "01-Mar-2024 10:15:22.123 queries: info: client @0x7f2c8c0a1b68 192.0.2.80#53324 (botnet-c2.example): "
                "query: botnet-c2.example IN A +E(0)K (198.51.100.53)"
            ),
            (
                "01-Mar-2024 10:15:26.000 query-errors: info: client @0x7f 192.0.2.83#4000 (x.example): query failed "
                "(SERVFAIL) for x.example/IN/A at query.c:7000"
            ),
            "Mar  1 10:15:27 ns1 named[900]: zone example.vn/IN: loaded serial 2024030101",
        ],
    )
    report = scan_paths(db, [log], year=2024)
    f = report.files[0]
    assert report.complete and f.unparsed == 0 and f.skipped == {"DNS server line that is not a query": 2}
    assert [r[2] for r in incidents(db)] == ["192.0.2.80"]


def test_unbound_log_queries(db, tmp_path):
    log = write(
        tmp_path,
        "unbound.log",
        [
            "[1709262900] unbound[812:0] notice: init module 0: validator",
            "[1709262922] unbound[812:0] info: 192.0.2.90 botnet-c2.example. A IN",
            "[1709262923] unbound[812:0] info: 2001:db8::91 www.example.vn. AAAA IN NOERROR 0.000000 0 45",
        ],
    )
    report = scan_paths(db, [log])
    assert report.files[0].fmt == "dns" and report.complete
    assert [r[:3] for r in incidents(db)] == [("2024-03-01T03:15:22Z", "malware", "192.0.2.90")]


# --- syslog headers: journalctl's other outputs, RFC 5424 without <PRI> ------------------------------


def _failures(stamp, count=10, source="198.51.100.53"):
    return [
        f"{stamp(i)} deb12 sshd[{100 + i}]: Failed password for root from {source} port {4000 + i} ssh2"
        for i in range(count)
    ]


@pytest.mark.parametrize(
    "name, stamp, zone",
    [
        ("short-full", lambda i: f"Fri 2024-03-01 10:00:{i * 3:02d} +07", None),
        ("short-full-utc", lambda i: f"Fri 2024-03-01 03:00:{i * 3:02d} UTC", None),
        ("short-full-abbreviation", lambda i: f"Fri 2024-03-01 04:00:{i * 3:02d} CET", "Europe/Paris"),
        ("short-unix", lambda i: f"{1709262000 + i * 3}.{i:06d}", None),
        ("rfc5424-without-pri", lambda i: f"1 2024-03-01T10:00:{i * 3:02d}+07:00", None),
    ],
)
def test_other_syslog_headers(db, tmp_path, name, stamp, zone):
    lines = ["-- Logs begin at Mon 2024-02-26 09:00:01 +07, end at Fri 2024-03-01 10:20:00 +07. --"]
    if name == "rfc5424-without-pri":  # HOST APP PROCID MSGID SD, then the message
        lines = [
            f"{stamp(i)} web04 sshd {100 + i} - - Failed password for root from 198.51.100.53 port 1 ssh2"
            for i in range(10)
        ]
    else:
        lines += _failures(stamp)
    log = write(tmp_path, f"{name}.log", lines)
    report = scan_paths(db, [log], log_zone=zone)
    assert report.complete and report.files[0].unparsed == 0
    assert [r[:3] for r in incidents(db)] == [("2024-03-01T03:00:00Z", "intrusion", "198.51.100.53")]


# --- web access logs --------------------------------------------------------------------------------


def test_apache_virtual_host_without_its_port_is_the_target_not_the_source(db, tmp_path):
    ua = '"sqlmap/1.8#stable (https://sqlmap.org)"'
    log = write(
        tmp_path,
        "access.log",
        [
            'www.example.vn 192.0.2.15 - - [01/Mar/2024:10:15:22 +0700] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0"',
            (
                f'shop.example.vn 198.51.100.23 - - [01/Mar/2024:10:16:02 +0700] "GET /dl.php?f=../../../../etc/passwd '
                f'HTTP/1.1" 200 2048 "-" {ua}'
            ),
            (
                f'shop.example.vn 2001:db8:1::23 - - [01/Mar/2024:10:16:03 +0700] "GET /dl.php?f=../../../../etc/passwd '
                f'HTTP/1.1" 200 2048 "-" {ua}'
            ),
        ],
    )
    report = scan_paths(db, [log])
    assert report.complete
    assert {(r[2], r[3]) for r in incidents(db)} == {
        ("198.51.100.23", "shop.example.vn"),
        ("2001:db8:1::23", "shop.example.vn"),
    }


def test_deface_words_in_the_path_of_a_search_or_tag_page_are_no_defacement(db, tmp_path):
    ua = '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/122.0"'
    log = write(
        tmp_path,
        "access.log",
        [
            f'192.0.2.31 - - [01/Mar/2024:10:30:01 +0700] "GET /search/hacked%20by HTTP/1.1" 200 5120 "-" {ua}',
            f'192.0.2.32 - - [01/Mar/2024:10:30:02 +0700] "GET /tag/hacked+by/ HTTP/1.1" 200 5120 "-" {ua}',
            f'192.0.2.40 - - [01/Mar/2024:10:31:01 +0700] "GET /index_hacked.html HTTP/1.1" 200 5120 "-" {ua}',
        ],
    )
    scan_paths(db, [log])
    assert [(r[1], r[2]) for r in incidents(db)] == [("deface", "192.0.2.40")]


def test_dns_look_ups_inside_a_file_read_as_auth_are_not_passed_over_in_silence(db, tmp_path):
    lines = [
        f"Mar  1 10:0{i // 6}:{i * 9 % 60:02d} router sshd[{100 + i}]: Failed password for root from 198.51.100.95 "
        f"port {4000 + i} ssh2"
        for i in range(12)
    ]
    lines.insert(3, "Mar  1 10:00:20 router dnsmasq[812]: query[A] botnet-c2.example from 192.0.2.96")
    report = scan_paths(db, [write(tmp_path, "syslog", lines)], year=2024)
    f = report.files[0]
    assert f.fmt == "auth" and not report.complete
    assert any("DNS look-ups" in n and "--format dns" in n for n in f.notes)


# --- FreeBSD / macOS sshd with OpenPAM ------------------------------------------------------------------


@pytest.mark.parametrize("named", ["scanner.example.net", "198.51.100.20"], ids=["UseDNS yes", "UseDNS no"])
def test_openpam_naming_the_client_by_dns_name_still_counts_each_attempt_once(db, tmp_path, named):
    """sshd with `UseDNS yes` on FreeBSD: OpenPAM's line names the client by DNS name, the Failed line
    that follows names its address. Each attempt was counted twice, under two sources: a second brute
    force from a source that is no address."""
    lines = []
    for k in range(12):
        pam = f"error: PAM: Authentication error for root from {named}"
        failed = f"Failed keyboard-interactive/pam for root from 198.51.100.20 port {61000 + k} ssh2"
        lines += [f"Mar  4 02:10:{k * 4:02d} fw1 sshd[{700 + k}]: {pam}",
                  f"Mar  4 02:10:{k * 4 + 1:02d} fw1 sshd[{700 + k}]: {failed}"]  # fmt: skip
    report = scan_paths(db, [write(tmp_path, "auth.log", lines)], year=2024)
    assert report.complete
    found = incidents(db)
    assert [(when, source, rule) for when, _, source, _, rule in found] == [
        (
            "2024-03-03T19:10:00Z" if named[0].isdigit() else "2024-03-03T19:10:01Z",
            "198.51.100.20",
            "SSH brute force",
        )
    ], found
    raw = json.loads(next(db.query("SELECT raw FROM incidents"))["raw"])
    assert raw["events"] == 12, raw  # one per attempt, never two


# --- correlations across the files of a rules folder -----------------------------------------------------

CROSS_BASE = """title: Failed Logon On A Targeted Account
id: 2b1f1c3e-0000-4a8b-9c1d-000000000001
name: failed_logon_targeted
level: informational
logsource: {product: linux, service: sshd}
detection:
    keywords: ['failed password']
    accounts:
        user_name|contains: ['root', 'admin']
    condition: keywords and accounts
"""
CROSS_CORRELATION = """title: Brute Force On A Targeted Account
id: 2b1f1c3e-0000-4a8b-9c1d-000000000002
level: medium
correlation:
    type: event_count
    rules: [{ref}]{generate}
    group-by: [client_ip]
    timespan: 15m
    condition: {{gte: 5}}
"""


@pytest.mark.parametrize("ref", ["failed_logon_targeted", "2b1f1c3e-0000-4a8b-9c1d-000000000001"])
@pytest.mark.parametrize("generate", [False, True])
def test_a_correlation_may_refer_to_a_rule_of_another_file_of_the_folder(db, tmp_path, ref, generate):
    """The Sigma correlation specification lets a correlation name any rule of its collection (a rules
    folder), by name or id. It was refused ("Rule ... not found in rule collection"): each file was
    converted alone. The base rule feeds the correlation and makes no incident of its own unless the
    correlation says `generate: true`."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a_failed_logon.yml").write_text(CROSS_BASE)
    (rules / "b_brute_force.yml").write_text(
        CROSS_CORRELATION.format(ref=ref, generate="\n    generate: true" if generate else "")
    )
    log = write(tmp_path, "auth.log", [
        f"Mar  4 02:10:{k * 5:02d} web1 sshd[{900 + k}]: Failed password for root from 198.51.100.9 port {40000 + k} ssh2"
        for k in range(8)
    ])  # fmt: skip
    report = scan_paths(db, [log], rules_dir=rules, year=2024)
    assert report.complete and report.rule_problems == [], report.rule_problems
    found = {r["rule"]: r["incidents"] for r in report.per_rule()}
    assert found.get("Brute Force On A Targeted Account") == 1, found
    assert found.get("Failed Logon On A Targeted Account", 0) == (1 if generate else 0), found  # one episode


def test_a_correlation_whose_base_file_does_not_load_names_that_file(db, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a_failed_logon.yml").write_text(CROSS_BASE + "    broken: [unclosed\n")
    (rules / "b_brute_force.yml").write_text(
        CROSS_CORRELATION.format(ref="failed_logon_targeted", generate="")
    )
    _, ruleset = load_ruleset(rules)
    problems = {p.file: p.message for p in ruleset.problems}
    assert "YAML error" in problems["a_failed_logon.yml"], problems
    assert problems["b_brute_force.yml"].endswith("; it may be in a_failed_logon.yml, which did not load")
