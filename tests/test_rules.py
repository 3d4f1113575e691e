"""The shipped Sigma rules: each against its own fixtures, their classification, loading errors, export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from incidents.scan.export import TARGETS, export_rules
from incidents.scan.fixtures import run_fixture, test_rules
from incidents.scan.rules import load_rules
from incidents.taxonomy import CATEGORIES, category_from_rsit

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SHIPPED = load_rules(RULES)
CASES = [(r, f) for r in SHIPPED.rules for f in r.fixtures]


def test_shipped_rules_load_without_problems():
    assert SHIPPED.problems == []
    titles = {r.title for r in SHIPPED.rules}
    for needed in ("SSH brute force", "SSH password spraying", "Web vulnerability scanner user agent",
                   "SQL injection attempt in a web request", "Cross-site scripting attempt in a web request",
                   "Path traversal attempt in a web request", "Web shell upload or access",
                   "Website defacement indicator", "Suricata alert - scanning", "DNS look-up of a listed malware domain"):  # fmt: skip
        assert needed in titles


@pytest.mark.parametrize("rule,fixture", CASES, ids=[f"{r.file.stem}:{f.file.name}" for r, f in CASES])
def test_rule_fixture(rule, fixture):
    result = run_fixture(rule, fixture)
    assert result.found == fixture.incidents, result.message


def test_every_rule_has_a_must_match_and_a_must_not_match_fixture():
    assert all(r.passed for r in test_rules(SHIPPED))
    for rule in SHIPPED.rules:
        assert any(f.incidents > 0 for f in rule.fixtures) and any(f.incidents == 0 for f in rule.fixtures)


def test_classification_level_and_falsepositives():
    for rule in SHIPPED.rules:
        assert rule.category in CATEGORIES
        assert category_from_rsit(rule.taxonomy, rule.type) == rule.category
        assert rule.level in ("informational", "low", "medium", "high", "critical")
        assert rule.falsepositives, rule.title


def test_thresholds_come_from_the_correlation_yaml():
    by_title = {r.title: r for r in SHIPPED.rules}
    brute = by_title["SSH brute force"]
    assert (brute.kind, brute.count, brute.timespan, brute.group_by) == (
        "event_count",
        10,
        300,
        ("source_ip",),
    )
    spray = by_title["SSH password spraying"]
    assert (spray.kind, spray.count, spray.value_field) == ("value_count", 5, "user")
    assert brute.threshold == ">= 10 events per source_ip in 5m"


def test_list_placeholders_are_expanded_from_text_files():
    dns = next(r for r in SHIPPED.rules if r.title == "DNS look-up of a listed malware domain")
    assert "avsvmcloud.com" in dns.predicate and "%malware_domains%" not in dns.predicate


def copy_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    return folder


def test_a_failing_fixture_fails(tmp_path):
    folder = copy_rules(tmp_path)
    rule_file = folder / "web-xss.yml"
    rule_file.write_text(rule_file.read_text().replace("incidents: 1", "incidents: 4"))
    failed = [r for r in test_rules(load_rules(folder)) if not r.passed]
    assert [(r.rule.title, r.found, r.expected) for r in failed] == [
        ("Cross-site scripting attempt in a web request", 1, 4)
    ]


def test_a_list_edit_changes_what_matches(tmp_path):
    folder = copy_rules(tmp_path)
    (folder / "lists/malware_domains.txt").write_text("nothing-listed.example\n")
    dns = next(r for r in load_rules(folder).rules if r.title == "DNS look-up of a listed malware domain")
    assert run_fixture(dns, dns.fixtures[0]).found == 0


def bad_rule(
    detection: str, extra: str = "incident: {category: intrusion}", logsource: str = "category: webserver"
):
    return (
        f"title: x\nid: 0d2f4b6a-8c1e-4a3d-9f5b-6a8c0e2f4a99\nlogsource: {{{logsource}}}\n"
        f"detection: {{s: {{{detection}}}, condition: s}}\nlevel: high\n{extra}\n"
    )


@pytest.mark.parametrize(
    "text,message",
    [
        ("title: x\ndetection: {a: [b\n", "line 3: YAML error"),
        (bad_rule("Image|endswith: cmd.exe"), "rule 'x': field 'Image' is not a field of any log reader"),
        (
            bad_rule("c-uri|contains: x", extra="incident: {category: hacking}"),
            "category 'hacking' is none of",
        ),
        (
            bad_rule(
                "c-uri|contains: x", extra="incident: {category: deface, taxonomy: fraud, type: phishing}"
            ),
            "does not belong to category deface",
        ),
        (bad_rule("c-uri|contains: x", logsource="product: windows"), "to no log reader"),
        (bad_rule("c-uri|expand: '%nolist%'"), "Placeholder replacement variable 'nolist'"),
    ],
    ids=[
        "yaml",
        "unknown-field",
        "bad-category",
        "rsit-mismatch",
        "no-reader",
        "bad-list",
    ],
)
def test_bad_rules_become_one_problem_naming_file_and_rule(tmp_path, text, message):
    folder = copy_rules(tmp_path)
    (folder / "bad.yml").write_text(text)
    loaded = load_rules(folder)
    assert len(loaded.problems) == 1
    assert loaded.problems[0].file == "bad.yml" and message in loaded.problems[0].message
    assert len(loaded.rules) == len(SHIPPED.rules)


@pytest.mark.parametrize("target", TARGETS)
def test_export_converts_every_rule_file(target):
    exported, problems = export_rules(RULES, target)
    assert problems == []
    by_title = {e.title: e for e in exported}
    assert len(exported) == len(SHIPPED.rules)
    dns = by_title["DNS look-up of a listed malware domain"].queries[0]
    brute = by_title["SSH brute force"]
    if target == "splunk":  # a sliding window, as scan counts
        assert "avsvmcloud.com" in dns
        assert "event_count >= 10" in brute.queries[0] and not brute.note
    else:  # case-insensitive whole-term regexes
        assert "[aA][vV][sS][vV][mM][cC][lL][oO][uU][dD]\\.[cC][oO][mM]" in dns
        assert "[fF][aA][iI][lL][eE][dD]\\_[pP]" in brute.queries[0] and ">= 10" not in brute.queries[0]
        assert "gte 10 events per source.ip within 5m" in brute.note


def test_a_rule_without_incident_field_is_classified_from_its_tags(tmp_path):
    folder = copy_rules(tmp_path)
    (folder / "bare.yml").write_text(bad_rule("c-uri|contains: x", extra="tags: [attack.t1190]"))
    (folder / "unknown.yml").write_text(bad_rule("c-uri|contains: y", extra="").replace("4a99", "4a98"))
    loaded = load_rules(folder)
    assert loaded.problems == []
    by_id = {r.id[-4:]: r for r in loaded.rules}
    assert (by_id["4a99"].category, by_id["4a99"].type) == ("intrusion", "exploit")
    assert by_id["4a98"].category == "other"
