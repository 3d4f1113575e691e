"""Published figures: import of the CSV, the comparison with the store, the migration that adds them."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from incidents import published, store
from incidents.bulletin import numbers, render
from incidents.cli import app
from incidents.migrations import MIGRATIONS
from tests.test_bulletin import seed

runner = CliRunner()
HEADER = "period,scope,total,phishing,deface,malware,status,published_change,source,note\n"


def write(tmp_path, text, name="figures.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "span"),
    [("2020-10", ("2020-10", "2020-10")), ("2019-01..2019-04", ("2019-01", "2019-04")), ("2020", ("2020-01", "2020-12")),
     (" 2019-07..2019-09 ", ("2019-07", "2019-09"))],
)  # fmt: skip
def test_parse_period(text, span):
    assert published.parse_period(text) == span


@pytest.mark.parametrize(
    "text", ["2020-13", "20-10", "2020-04..2020-01", "2020-1", "2020/10", "", "2019..2020"]
)
def test_parse_period_refuses(text):
    with pytest.raises(published.BadPeriod):
        published.parse_period(text)


def test_import_the_shared_file_twice_stores_it_once(db, shared_dir):
    path = shared_dir / "data" / "published-vn-2019-2020.csv"
    first = published.import_file(db, path)
    assert (first.read, first.stored, first.rejected) == (28, 28, 0)
    published.import_file(db, path)
    assert db.execute("SELECT count(*) FROM published").fetchone()[0] == 28
    (oct2020,) = published.stored(db, first_month="2020-10", last_month="2020-10")
    assert (oct2020.total, oct2020.status, oct2020.published_change) == (
        582,
        "published",
        "+11.07% MoM; +0.34% YoY",
    )
    (h1,) = published.stored(db, first_month="2019-01", last_month="2019-06")
    assert (h1.total, h1.phishing, h1.deface, h1.malware) == (3159, 1556, 968, 635)


def test_check_against_the_store(db, shared_dir):
    seed(db)
    published.import_file(db, shared_dir / "data" / "published-vn-2019-2020.csv")
    comparisons = published.check(db)
    found = {(c.period, c.figure): c for c in comparisons}
    # Totals the fixture was built from agree, and so do the published % changes at their own precision.
    assert found[("2020-10", "total")].verdict == "same"
    assert (
        found[("2020-10", "change MoM")].computed == 11.07
        and found[("2020-10", "change MoM")].verdict == "same"
    )
    assert found[("2020-01..2020-10", "change vs same period 2019")].computed == -7.82
    assert found[("2020", "change vs 2019")].verdict == "same"  # 5168 vs 5176 = -0.15%
    assert found[("2020-04", "change MoM")].computed == -28.01  # published "-28%": same at 0 decimals
    assert found[("2020-04", "change MoM")].verdict == "same"
    assert found[("2020-04", "phishing")].verdict == "same"  # the fixture uses April's published split
    # The published H1 2020 split (805 + 788 + 296 = 1889) cannot match a total of 2017.
    assert found[("2020-01..2020-06", "malware")].verdict == "differs"
    # H1 2018 is not in the store: no verdict rather than a wrong one.
    assert found[("2019-01..2019-06", "change vs H1 2018")].verdict == "no data"
    assert {c.verdict for c in comparisons} <= {"same", "differs", "no data", "not checked"}


def test_check_with_an_empty_store_has_no_verdict(db, tmp_path):
    published.import_file(db, write(tmp_path, HEADER + "2020-10,month,582,,,,published,+11.07% MoM,x,\n"))
    assert [c.verdict for c in published.check(db)] == ["no data", "no data"]


def test_bad_rows_are_reported_and_the_rest_stored(db, tmp_path):
    text = HEADER + (
        "2020-10,month,582,,,,published,,a,\n"
        "2020-13,month,1,,,,published,,b,\n"
        "2020-11,month,lots,,,,published,,c,\n"
        "2020-12,month,315,,,\n"
        "2020-09,month,,,,,derived,,d,\n"
        "2020-08,month,517,199,160,158,published,about -0.77%,e,\n"
        "\n"
        "2020-07,month,521,,,,derived,-0.77% MoM,f,\n"
    )
    result = published.import_file(db, write(tmp_path, text))
    assert (result.read, result.stored, result.rejected) == (7, 2, 5)
    assert result.rejects == [
        (3, "period must be YYYY, YYYY-MM or YYYY-MM..YYYY-MM, got '2020-13'"),
        (4, "total must be a whole number, got 'lots'"),
        (5, "6 fields where the header has 10"),
        (6, "no figure: total and splits are all empty"),
        (7, "published_change 'about -0.77%' is not like '+11.07% MoM'"),
    ]
    assert [f.period for f in published.stored(db)] == ["2020-07", "2020-10"]


def test_cli_import_and_check(tmp_path):
    db_path = tmp_path / "s.db"
    db = store.open_db(db_path)
    seed(db, {"2020-09": 524, "2020-10": 582})
    db.close()
    csv_file = write(
        tmp_path, HEADER + "2020-10,month,590,,,,published,+11.07% MoM,release,\n2020-99,month,1,,,,,,x,\n"
    )
    result = runner.invoke(app, ["published", "import", str(csv_file), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{csv_file}: read 2, stored 1, rejected 1\n"
    assert (
        result.stderr
        == f"Rejected: {csv_file}: line 3: period must be YYYY, YYYY-MM or YYYY-MM..YYYY-MM, got '2020-99'\n"
    )

    result = runner.invoke(app, ["published", "check", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert (
        "2020-10" in result.stdout
        and "590" in result.stdout
        and "582" in result.stdout
        and "differs" in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "2 published figures compared: 1 differs, 1 same"

    result = runner.invoke(app, ["published", "check", "--json", "--db", str(db_path)])
    rows = __import__("json").loads(result.stdout)
    assert [(r["figure"], r["published"], r["computed"], r["verdict"]) for r in rows] == [
        ("total", 590, 582, "differs"), ("change MoM", 11.07, 11.07, "same")]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "is empty"), ("a,b\n1,2\n", "no column period, scope, total"), (HEADER + "x,month,1,,,,,,,\n", "no usable row (line 2: period")],
)  # fmt: skip
def test_cli_import_of_an_unusable_file_exits_1(tmp_path, text, message):
    path = write(tmp_path, text)
    result = runner.invoke(app, ["published", "import", str(path), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 1
    assert (
        result.stderr.startswith("Error: ")
        and message in result.stderr
        and len(result.stderr.splitlines()) == 1
    )


def test_cli_import_of_a_missing_file_exits_1(tmp_path):
    result = runner.invoke(
        app, ["published", "import", str(tmp_path / "no.csv"), "--db", str(tmp_path / "s.db")]
    )
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot read {tmp_path / 'no.csv'}: No such file or directory\n"


def test_bulletin_notes_a_revised_figure(db, tmp_path):
    seed(db, {"2020-09": 524, "2020-10": 582})
    published.import_file(
        db, write(tmp_path, HEADER + "2020-10,month,590,,,,published,,release of 2020-11-02,\n")
    )
    b = numbers.build(db, "2020-10", alarms=[])
    assert [(c.published, c.computed) for c in b.revisions] == [(590, 582)]
    md = render.markdown(b, "vi")
    assert (
        "- 2020-10, tổng số: **Khác với số liệu đã công bố**: đã công bố 590, hiện tại 582 — release of 2020-11-02"
        in md
    )
    html = render.html(b, "en")
    assert "<strong>Differs from the published figure</strong>: published 590, now 582" in html


def test_migration_adds_the_table_to_an_older_store(tmp_path):
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    import sqlite_utils

    old = sqlite_utils.Database(conn)
    MIGRATIONS[0](old)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    db = store.open_db(path)
    assert store.schema_version(db) == len(MIGRATIONS) >= 2
    assert "published" in db.table_names()
    assert db.execute("SELECT count(*) FROM published").fetchone()[0] == 0


def test_bulletin_says_when_every_published_figure_matches(db, tmp_path):
    seed(db, {"2020-09": 524, "2020-10": 582})
    published.import_file(
        db, write(tmp_path, HEADER + "2020-10,month,582,,,,published,+11.07% MoM,release,\n")
    )
    b = numbers.build(db, "2020-10", alarms=[])
    assert b.revisions == []
    assert "\nAll 2 published figures for these periods match the store's.\n" in render.markdown(b, "en")
    assert "Cả 2 số liệu đã công bố của các kỳ này đều khớp với số liệu hiện tại." in render.html(b, "vi")
