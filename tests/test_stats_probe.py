"""Findings of a bulletin writer's probe of `incidents stats` and `incidents bulletin` (branch
bulletin-probe), each on a real store file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents import stats, store
from incidents.cli import app
from tests.conftest import add_counts

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def october(tmp_path):
    """A store file with September and October 2020 (4 and 8 deface incidents)."""
    path = tmp_path / "incidents.db"
    db = store.open_db(path)
    add_counts(db, {("2020-09-10", "deface"): 4, ("2020-10-10", "deface"): 8})
    db.close()
    return path


@pytest.mark.parametrize(
    "option, value",
    [
        ("--month", "２０２０-10"),  # fullwidth digits
        ("--month", "٢٠٢٠-10"),  # Arabic-Indic digits
        ("--month", "2020-１0"),
        ("--period", "２０２０"),
        ("--period", "２０２０-Q4"),
        ("--period", "２０２０-09..2020-10"),
    ],
)
def test_months_in_other_scripts_digits_are_usage_errors(october, option, value):
    """Probe finding: `\\d` took any script's digits, and int() reads them, so `stats --month
    ２０２０-10` exited 0 with a count of 0, -100.00% against September and a "year to date" of every
    incident after 2020-01 (the month string compared with the stored ASCII days)."""
    r = invoke("stats", "--db", october, option, value, "--json")
    assert r.exit_code == 2, r.output
    assert "Invalid value" in r.output
    with pytest.raises(stats.BadMonth):
        stats.parse_month("２０２０-10")


def test_bulletin_refuses_other_scripts_digits(october):
    r = invoke("bulletin", "--db", october, "--month", "２０２０-10")
    assert r.exit_code == 2, r.output


def test_published_import_refuses_other_scripts_digits(october, tmp_path):
    """The published figures' periods: such a row was stored, and `published check` then compared it
    with nothing (now stats refuses the month, it would raise)."""
    src = tmp_path / "published.csv"
    src.write_text(
        "period,scope,total,phishing,deface,malware,status,published_change,source,note\n"
        "２０２０-10,month,8,,,,published,,x,\n"
        "2020-10,month,8,,,,published,,x,\n",
        encoding="utf-8",
    )
    r = invoke("published", "import", src, "--db", october)
    assert r.exit_code == 0, r.output
    assert "stored 1, rejected 1" in r.output
    r = invoke("published", "check", "--db", october, "--json")
    assert r.exit_code == 0, r.output


def test_a_fall_too_small_to_show_is_zero_not_minus_zero():
    """Probe finding: 200,000 incidents after 200,001 gave -0.0: `stats` printed "-0.00%" and its
    JSON "-0.0"."""
    import math

    from incidents.views import pct

    value = stats.pct_change(200_000, 200_001)
    assert value == 0 and math.copysign(1, value) == 1
    assert pct(value) == "+0.00%"
    assert json.dumps(value) == "0.0"
    assert stats.pct_change(19_999, 20_000) == -0.01  # exactly -0.005: away from zero
    # half away from zero, not to even, on both sides
    assert stats.pct_change(33, 32) == 3.13 and stats.pct_change(31, 32) == -3.13
    assert stats.pct_share(1, 32) == 3.13


def test_english_lead_says_one_incident(tmp_path):
    """Probe finding: "guided the response to 1 cyber-attack incidents" and "it recorded 1 incidents"."""
    path = tmp_path / "incidents.db"
    db = store.open_db(path)
    add_counts(db, {("2019-12-15", "deface"): 2, ("2020-02-10", "phishing"): 1})
    db.close()
    r = invoke("bulletin", "--db", path, "--month", "2020-02", "--lang", "en", "--issued", "2020-03-02")
    assert r.exit_code == 0, r.output
    assert "guided the response to 1 cyber-attack incident on" in r.stdout
    assert "including 1 phishing incident." in r.stdout
    assert "In the first two months of 2020, it recorded 1 incident," in r.stdout
    assert "1 incidents" not in r.stdout and "1 cyber-attack incidents" not in r.stdout
    r = invoke("bulletin", "--db", path, "--month", "2019-12", "--lang", "en", "--issued", "2020-01-02")
    assert "to 2 cyber-attack incidents on" in r.stdout


def test_incidents_without_a_sector_are_named_in_the_bulletins_language(tmp_path):
    """Probe finding: the sector ranking printed the placeholder "unknown" (English, lower case) in
    the Vietnamese edition for incidents whose record names no sector."""
    path = tmp_path / "incidents.db"
    db = store.open_db(path)
    add_counts(db, {("2020-10-10", "deface"): 3})
    db.execute("UPDATE incidents SET sector = NULL WHERE id LIKE '%-0' OR id LIKE '%-1'")
    db.conn.commit()
    db.close()
    vi = invoke("bulletin", "--db", path, "--month", "2020-10", "--lang", "vi")
    assert vi.exit_code == 0, vi.output
    assert "| Không rõ | 2 |" in vi.stdout and "unknown" not in vi.stdout
    en = invoke("bulletin", "--db", path, "--month", "2020-10", "--lang", "en", "--format", "html")
    assert en.exit_code == 0, en.output
    assert ">Unknown<" in en.stdout and ">unknown<" not in en.stdout


def test_a_labels_template_that_does_not_parse_is_one_line(tmp_path, october):
    """Probe finding: a syntax error in a --templates labels.<lang>.j2 ended in a Python traceback
    (the README promises one line naming the template and its line)."""
    from incidents.bulletin import templating

    folder = tmp_path / "tpl"
    folder.mkdir()
    source = Path(templating.__file__).parent / "templates" / "labels.en.j2"
    text = source.read_text(encoding="utf-8").replace('"Other",', '"Other",  # a Python comment', 1)
    (folder / "labels.en.j2").write_text(text, encoding="utf-8")
    r = invoke("bulletin", "--db", october, "--month", "2020-10", "--lang", "en", "--templates", folder)
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Error: template labels.en.j2 line " in r.stderr and "Traceback" not in r.output
