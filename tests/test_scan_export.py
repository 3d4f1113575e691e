"""`incidents rules export` means what scan means (issue 10, kind 7).

The Lucene check runs every exported OpenSearch query through Lucene 8's classic query parser (as
../shared/cases/scan/lucene-check/ does) against every event of every rule fixture, and compares with
scan's own SQL verdict on the same event: same selection, or the test fails. Skipped where Java or
Debian's liblucene8-java is absent (`apt-get install liblucene8-java default-jdk-headless`).
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC
from pathlib import Path

import pytest

from incidents.scan import events
from incidents.scan.export import COLUMN_ECS, export_rules
from incidents.scan.readers import detect_format
from incidents.scan.rules import load_rules, shipped_rules_dir

RULES = shipped_rules_dir()
JARS = ("core", "queryparser", "memory", "analyzers-common", "queries", "sandbox")


def lucene_classpath() -> str | None:
    found = []
    for name in JARS:
        jars = sorted(Path("/usr/share/java").glob(f"lucene-{name}-8*.jar"))
        if not jars:
            return None
        found.append(str(jars[-1]))
    return ":".join(found)


def cases_for(rule, query: str) -> list[tuple[str, str, bool]]:
    """(label, field=value|..., scan's verdict) for every event of the rule's fixtures."""
    out = []
    for fixture in rule.fixtures:
        conn = events.connect()
        fmt = fixture.fmt or detect_format(fixture.file)
        events.load(conn, fixture.file, fmt, zone=UTC, year=fixture.year)
        cursor = conn.execute(f"SELECT *, ({rule.predicate}) AS scan_match FROM events")
        names = [d[0] for d in cursor.description]
        for row in cursor:
            values = dict(zip(names, row))
            pairs = [
                f"{COLUMN_ECS[k]}={v}"
                for k, v in values.items()
                if k in COLUMN_ECS and v is not None and k != "message"
            ]
            text = "|".join(pairs)
            if any(c in text for c in "\t\n\r") or any(
                "|" in str(v) for v in values.values() if v is not None and "|" in str(v)
            ):
                continue
            out.append(
                (f"{rule.file.name}:{fixture.file.name}:{values['line']}", text, bool(values["scan_match"]))
            )
        conn.close()
    return out


def test_every_rule_exports_for_every_target():
    for target in ("opensearch", "elasticsearch", "splunk"):
        exported, problems = export_rules(RULES, target)
        assert problems == []
        assert len(exported) == len(list(RULES.glob("*.yml"))) - 1  # all but pipeline.yml


def test_field_names_follow_the_target_schema():
    lucene = "\n".join(q for e in export_rules(RULES, "opensearch")[0] for q in e.queries)
    assert "user_agent.original:" in lucene and "url.path:" in lucene and "event.action:" in lucene
    assert "c-useragent" not in lucene and "sc-status" not in lucene and "dns.question.name:" in lucene
    spl = "\n".join(q for e in export_rules(RULES, "splunk")[0] for q in e.queries)
    assert "http_user_agent IN" in spl and "by src" in spl and "c-useragent" not in spl


def test_splunk_counts_in_a_sliding_window_not_fixed_buckets():
    spl = {e.file: e.queries[0] for e in export_rules(RULES, "splunk")[0]}["ssh-brute-force.yml"]
    assert "streamstats time_window=5m count as event_count by src" in spl and "bin _time" not in spl


def test_a_regex_lucene_cannot_express_is_named(tmp_path):
    (tmp_path / "b.yml").write_text(
        "title: boundary\nid: 0e3c1c8e-0000-4000-8000-000000000009\nlogsource: {category: webserver}\n"
        "detection:\n  sel: {c-uri|re: '\\badmin\\b'}\n  condition: sel\nlevel: low\n"
    )
    exported, problems = export_rules(tmp_path, "opensearch")
    assert exported == [] and "b.yml: cannot be translated for opensearch" in problems[0]
    assert "\\b" in problems[0]


@pytest.mark.slow
def test_lucene_selects_what_scan_selects(tmp_path, shared_dir):
    classpath = lucene_classpath()
    if classpath is None or shutil.which("javac") is None:
        pytest.skip("Java or liblucene8-java is not installed")
    source = shared_dir / "cases" / "scan" / "lucene-check" / "LuceneCheck.java"
    shutil.copy(source, tmp_path)
    subprocess.run(["javac", "-cp", classpath, "LuceneCheck.java"], cwd=tmp_path, check=True)
    queries = {e.file: " OR ".join(f"({q})" for q in e.queries) for e in export_rules(RULES, "opensearch")[0]}
    lines, expected = [], {}
    for rule in load_rules(RULES).rules:
        for label, pairs, verdict in cases_for(rule, queries[rule.file.name]):
            if not pairs:
                continue
            lines.append(f"{label}\t{queries[rule.file.name]}\t{pairs}")
            expected[label] = verdict
    (tmp_path / "cases.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = subprocess.run(
        ["java", "-cp", f"{classpath}:.", "LuceneCheck", "cases.tsv"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    results = dict(line.split(" -> ", 1) for line in run.stdout.splitlines())
    assert len(results) == len(expected) > 200
    errors = [label for label, out in results.items() if out.startswith("PARSE ERROR")]
    assert errors == []
    wrong = [
        (label, expected[label])
        for label, out in results.items()
        if out.startswith("MATCH") != expected[label]
    ]
    assert wrong == []
    assert sum(expected.values()) > 20  # fixtures hold matches, not only clean events
