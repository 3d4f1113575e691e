"""The typed CLI values of incidents.cli.common: strict parsing, the choices, labels in both languages."""

from __future__ import annotations

import pytest
import typer

from incidents.cli import common
from incidents.taxonomy import CATEGORIES


@pytest.mark.parametrize("good", ["2020-10", "1900-01", "9998-12"])
def test_month_accepts(good):
    assert common.parse_month(good) == good


@pytest.mark.parametrize(
    "bad", ["2020-10 ", " 2020-10", "2020-1", "2020-13", "2020-00", "202010", "0001-01", "2020-10\n", ""]
)
def test_month_refuses(bad):
    with pytest.raises(typer.BadParameter):
        common.parse_month(bad)


@pytest.mark.parametrize(
    "bad", ["2021-02-30", "2020-10-05 ", "0001-01-01", "9999-12-31", "2020-1-05", "20201005", "2020-W01-1"]
)
def test_day_refuses(bad):
    with pytest.raises(typer.BadParameter):
        common.parse_day(bad)


def test_day_accepts_a_leap_day():
    assert common.parse_day("2020-02-29") == "2020-02-29"


@pytest.mark.parametrize(
    "text, first, last, scope",
    [
        ("2020", "2020-01", "2020-12", "year"),
        ("2020-H1", "2020-01", "2020-06", "half"),
        ("2020-h2", "2020-07", "2020-12", "half"),
        ("2020-Q3", "2020-07", "2020-09", "quarter"),
        ("2020-10", "2020-10", "2020-10", "month"),
        ("2019-01..2019-04", "2019-01", "2019-04", "range"),
    ],
)
def test_periods(text, first, last, scope):
    p = common.parse_period(text)
    assert (p.first_month, p.last_month, p.scope, p.label) == (first, last, scope, text)
    assert p.months[0] == first and p.months[-1] == last


@pytest.mark.parametrize(
    "bad", ["2020-Q5", "2020-H3", "2020 ", "2019-04..2019-01", "2020-Q3..", "20", "2020-13"]
)
def test_period_refuses(bad):
    with pytest.raises(typer.BadParameter):
        common.parse_period(bad)


@pytest.mark.parametrize(
    "label, name",
    [
        ("phishing", "phishing"),
        ("Lừa đảo", "phishing"),
        ("DEFACE", "deface"),
        ("Thay đổi giao diện", "deface"),
        ("mã độc", "malware"),
        ("fraud/phishing", "phishing"),
        ("Intrusion attempt", "intrusion"),
    ],
)
def test_category_labels_in_both_languages(label, name):
    assert common.parse_category(label) == name


def test_category_refuses_and_lists_every_choice():
    with pytest.raises(typer.BadParameter) as e:
        common.parse_category("[/red]")
    for name in CATEGORIES:
        assert name in str(e.value)
    assert common.category_choices().split("|") == list(CATEGORIES)


def test_severity():
    assert common.parse_severity("HIGH") == "high"
    with pytest.raises(typer.BadParameter):
        common.parse_severity("urgent")
