"""`incidents rules test`: every rule against its own fixtures (a log that must match, one that must not)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from zoneinfo import ZoneInfo

from incidents.scan import events as events_table
from incidents.scan.engine import detect
from incidents.scan.readers import UnknownFormat, detect_format
from incidents.scan.readers.lines import ReadError, check_text_file
from incidents.scan.rules import Fixture, Rule, RuleSet


@dataclass
class FixtureResult:
    rule: Rule
    fixture: Fixture | None
    expected: int | None
    found: int | None
    message: str

    @property
    def passed(self) -> bool:
        return self.fixture is not None and self.found == self.expected

    def as_dict(self) -> dict:
        return {
            "rule": self.rule.title,
            "id": self.rule.id,
            "fixture": str(self.fixture.file) if self.fixture else None,
            "expected": self.expected,
            "found": self.found,
            "passed": self.passed,
            "message": self.message,
        }


def run_fixture(rule: Rule, fixture: Fixture, zone: ZoneInfo = UTC) -> FixtureResult:
    """How many incidents `rule` finds in one fixture file, against how many it should."""
    try:
        check_text_file(fixture.file)
        fmt = fixture.fmt or detect_format(fixture.file)
    except (ReadError, UnknownFormat) as e:
        return FixtureResult(rule, fixture, fixture.incidents, None, f"{fixture.file.name}: {e}")
    if fmt not in rule.readers:
        return FixtureResult(
            rule,
            fixture,
            fixture.incidents,
            None,
            f"{fixture.file.name} is {fmt}; the rule reads {rule.readers}",
        )
    conn = events_table.connect()
    try:
        read = events_table.load(conn, fixture.file, fmt, zone=zone, year=fixture.year)
        found = len(detect(conn, rule))
    finally:
        conn.close()
    problem = f" ({read.unparsed} unparsed lines)" if read.unparsed else ""
    verdict = "ok" if found == fixture.incidents else "FAILED"
    message = f"{verdict}: {found} incidents, expected {fixture.incidents}{problem}"
    return FixtureResult(rule, fixture, fixture.incidents, found, message)


def test_rules(ruleset: RuleSet, zone: ZoneInfo = UTC) -> list[FixtureResult]:
    """Every fixture of every rule; a rule lacking a must-match or a must-not-match fixture fails too."""
    results = []
    for rule in ruleset.rules:
        if not any(f.incidents > 0 for f in rule.fixtures):
            results.append(FixtureResult(rule, None, None, None, "FAILED: no fixture that must match"))
        if not any(f.incidents == 0 for f in rule.fixtures):
            results.append(FixtureResult(rule, None, None, None, "FAILED: no fixture that must not match"))
        results.extend(run_fixture(rule, f, zone) for f in rule.fixtures)
    return results


test_rules.__test__ = False  # not a pytest test, despite its name
