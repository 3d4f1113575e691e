"""Monthly statistics: the bulletin's arithmetic, its rounding and its n/a cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents import stats
from tests.conftest import add_counts


@pytest.mark.parametrize(
    "current, baseline, expected",
    [
        (582, 524, 11.07),
        (582, 580, 0.34),
        (4161, 4514, -7.82),
        (315, 692, -54.48),
        (203, 282, -28.01),
        (1, 0, None),
        (0, 0, None),
        (5, None, None),
        (0, 5, -100.0),
        (10, 8, 25.0),
    ],
)
def test_pct_change_like_the_bulletin(current, baseline, expected):
    assert stats.pct_change(current, baseline) == expected


@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_pct_change_is_finite_and_has_two_decimals(current, baseline):
    value = stats.pct_change(current, baseline)
    assert value >= -100
    assert round(value, 2) == value
    assert abs(value - (current - baseline) * 100 / baseline) <= 0.005 + 1e-9


def test_shift_month():
    assert stats.shift_month("2020-01", -1) == "2019-12"
    assert stats.shift_month("2020-10", -12) == "2019-10"
    assert stats.shift_month("2019-12", 1) == "2020-01"


@pytest.mark.parametrize("bad", ["2020-13", "2020-1", "20-10", "October", ""])
def test_bad_month(bad):
    with pytest.raises(stats.BadMonth):
        stats.parse_month(bad)


def test_month_report(db):
    add_counts(
        db,
        {
            ("2019-01-15", "phishing"): 10,
            ("2019-10-02", "phishing"): 4,
            ("2019-10-03", "deface"): 1,
            ("2020-01-15", "phishing"): 3,
            ("2020-09-30", "deface"): 4,
            ("2020-10-01", "phishing"): 6,
            ("2020-10-31", "deface"): 2,
        },
    )
    r = stats.month_report(db, "2020-10")
    assert r.has_data
    t = r.total
    assert (t.count, t.previous_month, t.month_over_month) == (8, 4, 100.0)
    assert (t.same_month_last_year, t.year_over_year) == (5, 60.0)
    assert (t.year_to_date, t.year_to_date_last_year, t.year_to_date_change) == (15, 15, 0.0)
    p = r.categories["phishing"]
    assert (p.count, p.previous_month, p.month_over_month, p.share) == (6, 0, None, 75.0)
    assert r.categories["deface"].year_over_year == 100.0
    assert r.periods["year_to_date_last_year"] == "2019-01..2019-10"


def test_first_year_has_no_year_on_year(db):
    add_counts(db, {("2020-01-10", "deface"): 3, ("2020-02-10", "deface"): 6})
    r = stats.month_report(db, "2020-02")
    assert r.total.month_over_month == 100.0
    assert r.total.year_over_year is None and r.total.year_to_date_change is None
    assert any("no data for the same period of 2019" in n.text for n in r.notes)
    assert [n.code for n in r.notes] == ["no_last_year", "incomplete"]


def test_month_before_the_data_and_empty_store(db):
    r = stats.month_report(db, "2020-10")
    assert not r.has_data and [n.text for n in r.notes] == ["the store holds no incidents"]
    add_counts(db, {("2020-01-10", "deface"): 3})
    r = stats.month_report(db, "2019-05")
    assert not r.has_data and r.total.month_over_month is None
    assert [n.text for n in r.notes] == ["2019-05 is before the first data (2020-01)"]
    assert r.notes[0].params == {"month": "2019-05", "first": "2020-01"}


def test_monthly_counts_fills_zeros(db):
    add_counts(db, {("2020-01-10", "deface"): 3, ("2020-03-01", "malware"): 1})
    table = stats.monthly_counts(db, "2020-01", "2020-03")
    assert table == {"2020-01": {"deface": 3}, "2020-02": {}, "2020-03": {"malware": 1}}


def test_top_values(db):
    add_counts(db, {("2020-01-10", "deface"): 3})
    assert stats.top_values(db, "2020-01", "sector") == [("government", 3)]
    with pytest.raises(stats.StatsError):
        stats.top_values(db, "2020-01", "raw; DROP TABLE incidents")


def test_notes_for_a_partial_year_and_an_unfinished_month(db):
    add_counts(db, {("2020-03-10", "deface"): 3, ("2020-04-10", "deface"): 6})
    r = stats.month_report(db, "2020-04")
    texts = [n.text for n in r.notes]
    assert "the year to date counts from 2020-03, the first month with data" in texts
    assert "the data runs to 2020-04-10: 2020-04 may be incomplete" in texts
    assert r.total.year_to_date == 9


def test_one_sector_whatever_its_spelling(tmp_path):
    """Probe finding: 'government' and 'Government' were two sectors: the bulletin ranked one sector
    twice and `list --sector government` found half of it. Ingest stores one spelling
    (store_sql.sector_name), filters take any, and migration _v15 folds an older store's."""
    import sqlite3

    from typer.testing import CliRunner

    from incidents import store
    from incidents.cli import app
    from incidents.migrations import MIGRATIONS, _v15_sector_names

    runner = CliRunner()
    src = tmp_path / "s.csv"
    spellings = ["government", "Government", "GOVERNMENT ", "energy", "Tài Chính", "tài  chính"]
    src.write_text(
        "id,time,category,target,sector\n"
        + "".join(
            f"r{i},2020-10-{1 + i:02d}T01:00:00Z,deface,h{i}.example.vn,{s}\n"
            for i, s in enumerate(spellings * 2)
        ),
        encoding="utf-8",
    )
    db = tmp_path / "s.db"
    assert runner.invoke(app, ["ingest", "--db", str(db), str(src)]).exit_code == 0
    conn = sqlite3.connect(db)
    got = dict(conn.execute("SELECT sector, count(*) FROM incidents GROUP BY 1").fetchall())
    assert got == {"government": 6, "energy": 2, "tài chính": 4}
    for spelling in ("Government", "government", " GOVERNMENT"):
        r = runner.invoke(app, ["list", "--db", str(db), "--sector", spelling, "--json"])
        assert r.exit_code == 0 and '"total": 6' in r.stdout, (spelling, r.stdout[:200])
    r = runner.invoke(app, ["bulletin", "--db", str(db), "--month", "2020-10", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    import json

    def find(node):
        if isinstance(node, dict):
            if "top_sectors" in node:
                return node["top_sectors"]
            return next((f for f in map(find, node.values()) if f is not None), None)
        return None

    top = find(json.loads(r.stdout))
    assert top["values"][0] == {"sector": "government", "count": 6}, top
    assert [v["sector"] for v in top["values"]].count("government") == 1, top
    # An older store (before _v15) with the spellings as sent: the next writer folds them.
    conn.execute(
        "UPDATE incidents SET sector = 'Government' WHERE id IN (SELECT id FROM incidents WHERE sector = 'government' LIMIT 2)"
    )
    conn.execute(f"PRAGMA user_version = {MIGRATIONS.index(_v15_sector_names)}")  # the store before _v15
    conn.commit()
    conn.close()
    store.open_db(db).close()
    conn = sqlite3.connect(db)
    assert dict(conn.execute("SELECT sector, count(*) FROM incidents GROUP BY 1").fetchall()) == got
    conn.close()
