"""CLI contracts (issue 13, point 5; issue 15, point 5): exit codes, paging, CSV, stable JSON, literal output."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from tests.conftest import add_counts

runner = CliRunner()


@pytest.fixture
def counted(db_path):
    database = store.open_db(db_path)
    counts = {}
    for month in (
        "2019-07",
        "2019-08",
        "2019-09",
        "2020-04",
        "2020-05",
        "2020-06",
        "2020-07",
        "2020-08",
        "2020-09",
    ):
        counts[(f"{month}-03", "phishing")] = 3
        counts[(f"{month}-04", "deface")] = 2
    counts[("2020-08-05", "malware")] = 4
    add_counts(database, counts)
    database.close()
    return db_path


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--month", "2020-10 "],
        ["list", "--month", "2020-13"],
        ["list", "--since", "2021-02-30"],
        ["list", "--until", "0001-01-01"],
        ["list", "--category", "nosuch"],
        ["list", "--severity", "urgent"],
        ["list", "--order", "color"],
        ["list", "--csv", "--json"],
        ["list", "--month", "2020-10", "--since", "2020-10-01"],
        ["list", "--limit", "0"],
        ["stats"],
        ["stats", "--month", "2020-10", "--period", "2020"],
        ["stats", "--period", "2020-Q5"],
        ["stats", "--month", "October"],
        ["bulletin", "--month", "2020-10 "],
        ["bulletin", "--month", "2020-10", "--lang", "fr"],
        ["bulletin", "--month", "2020-10", "--format", "pdf"],
        ["bulletin", "--month", "2020-10", "--edition", "secret"],
        ["bulletin", "--month", "2020-10", "--tlp", "white"],
        ["bulletin", "--month", "2020-10", "--format", "eml", "--to", "a@example.vn\nBcc: x@evil.example"],
        ["bulletin", "--month", "2020-10", "--format", "eml", "--to", "a@example.vn, b@example.vn"],
        ["bulletin", "--month", "2020-10", "--issued", "2020-11-31"],
        ["demo", "--month", "2020-1"],
    ],
)
def test_usage_errors_exit_2(args, counted):
    r = invoke(*args, "--db", counted)
    assert r.exit_code == 2, (args, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr


def test_help_lists_the_choices():
    r = invoke("list", "--help")
    assert r.exit_code == 0
    for text in (
        "YYYY-MM",
        "YYYY-MM-DD",
        "phishing",
        "Lừa đảo",
        "critical",
        "--all",
        "--offset",
        "--csv",
        "--nl",
    ):
        assert text in r.stdout, text
    r = invoke("bulletin", "--help")
    for text in ("vi|en", "public|internal", "md|html|json|eml"):
        assert text in r.stdout, text


def test_list_says_how_many_of_how_many(counted):
    r = invoke("list", "--db", counted, "--limit", "5")
    assert r.exit_code == 0
    assert "5 of 49 (rows 1-5; --offset 5 for the next page, --all for every row)" in " ".join(
        r.stdout.split()
    )
    r = invoke("list", "--db", counted, "--limit", "5", "--json")
    data = json.loads(r.stdout)
    assert (data["total"], data["offset"], data["limit"], len(data["incidents"])) == (49, 0, 5, 5)
    assert "Note: 5 of 49" in r.stderr
    r = invoke("list", "--db", counted, "--all", "--json")
    assert len(json.loads(r.stdout)["incidents"]) == 49 and r.stderr == ""
    ids = set()
    for offset in range(0, 49, 20):
        page = json.loads(invoke("list", "--db", counted, "--limit", 20, "--offset", offset, "--json").stdout)
        ids |= {i["id"] for i in page["incidents"]}
    assert len(ids) == 49


def test_list_filters_and_labels(counted):
    r = invoke(
        "list",
        "--db",
        counted,
        "--category",
        "Lừa đảo",
        "--since",
        "2020-07-01",
        "--until",
        "2020-09-30",
        "--nl",
    )
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 9 and {row["category"] for row in rows} == {"phishing"}
    r = invoke("list", "--db", counted, "--feed", "test", "--month", "2020-08", "--json")
    assert json.loads(r.stdout)["total"] == 9
    r = invoke("list", "--db", counted, "--feed", "nope", "--json")
    assert json.loads(r.stdout)["total"] == 0


def test_stats_json_has_every_category_every_month(counted):
    keys = set()
    for month in ("2019-07", "2020-08", "2020-09"):
        r = invoke("stats", "--db", counted, "--month", month, "--json")
        assert r.exit_code == 0
        keys.add(tuple(json.loads(r.stdout)["categories"]))
    assert keys == {("phishing", "deface", "malware", "intrusion", "ddos", "scanning", "other")}


def test_stats_period(counted):
    r = invoke("stats", "--db", counted, "--period", "2020-Q3", "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert (data["first_month"], data["last_month"]) == ("2020-07", "2020-09")
    assert data["total"]["count"] == 19 and data["total"]["previous_period"] == 15
    assert data["total"]["change_vs_previous"] == 26.67 and data["total"]["same_period_last_year"] == 15
    assert data["categories"]["malware"]["count"] == 4
    r = invoke("stats", "--db", counted, "--period", "2020-Q3")
    assert "Incidents in 2020-Q3" in r.stdout and "+26.67%" in r.stdout
    r = invoke("stats", "--db", counted, "--period", "2019-Q3", "--json")
    assert json.loads(r.stdout)["total"]["previous_period"] is None  # 2019-Q2 is before the data
    r = invoke("stats", "--db", counted, "--period", "2018")
    assert r.exit_code == 1 and "Note:" in r.stderr


def test_show_one_incident_with_its_original_record(counted):
    first = json.loads(invoke("list", "--db", counted, "--limit", 1, "--json").stdout)["incidents"][0]
    r = invoke("show", first["id"], "--db", counted, "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["id"] == first["id"] and data["record"] == {} and data["raw"] == "{}"
    r = invoke("show", first["id"], "--db", counted)
    assert r.exit_code == 0 and "Original record:" in r.stdout
    r = invoke("show", "no-such-incident", "--db", counted)
    assert r.exit_code == 1 and r.stderr.startswith("Error: no incident with id")
    r = invoke("show", "2020-0", "--db", counted)  # a prefix of many ids
    assert r.exit_code == 1 and "give more characters" in r.stderr


def test_read_commands_never_create_a_store(tmp_path):
    missing = tmp_path / "none.db"
    for args in (["list"], ["show", "abcdefgh"]):
        r = invoke(*args, "--db", missing)
        assert r.exit_code == 1 and r.stderr.startswith("Error: no database")
    assert not missing.exists()


# --- hostile values (../shared/cases/hostile/) ------------------------------------------------------


def test_rich_markup_in_fields_is_printed_literally(shared_dir, tmp_path):
    db = tmp_path / "h.db"
    invoke("ingest", shared_dir / "cases/hostile/31-csv-rich-markup.csv", "--db", db)
    r = invoke("list", "--db", db, env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    assert r.exit_code == 0, r.stderr
    assert "[/red]bad.example.vn" in r.stdout and "[link=https://evil.example]click me[/link]" in r.stdout
    assert "\x1b]8;" not in r.stdout  # no terminal hyperlink
    r = invoke("rejects", "--db", db, env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    assert r.exit_code == 0 and "[/]" in r.stdout and "\x1b]8;" not in r.stdout
    incident = json.loads(invoke("list", "--db", db, "--json").stdout)["incidents"][0]
    r = invoke("show", incident["id"], "--db", db, env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "[bold red]GOV[/bold red]" in r.stdout


def test_control_characters_are_shown_escaped(db_path):
    database = store.open_db(db_path)
    add_counts(database, {("2020-10-05", "deface"): 1})
    database.execute(
        "UPDATE incidents SET description = ?, target = ?", ["\x1b[31mred\x1b[0m\nnext", "a\u202eb.vn"]
    )
    database.conn.commit()
    r = invoke("list", "--db", db_path, env={"COLUMNS": "200"})
    assert "\x1b" not in r.stdout and "\\x1b[31mred" in r.stdout and "\\u202e" in r.stdout
    assert "\\nnext" in r.stdout


def test_json_is_valid_utf8_whatever_the_bytes(db_path):
    database = store.open_db(db_path)
    add_counts(database, {("2020-10-05", "deface"): 1})
    database.execute("UPDATE incidents SET description = CAST(X'41FF42C3' AS TEXT)")
    database.conn.commit()
    r = invoke("list", "--db", db_path, "--json")
    assert r.exit_code == 0, r.stderr
    text = r.stdout_bytes.decode("utf-8")  # strict
    assert json.loads(text)["incidents"][0]["description"] == "A\ufffdB\ufffd"
    r = invoke("list", "--db", db_path, "--csv")
    assert r.exit_code == 0 and "A\ufffdB" in r.stdout_bytes.decode("utf-8")


def test_ingest_json_of_a_header_that_is_not_utf8(shared_dir, tmp_path):
    r = invoke(
        "ingest", shared_dir / "cases/hostile/16-csv-random-header.csv", "--db", tmp_path / "x.db", "--json"
    )
    assert "Traceback" not in r.stderr
    json.loads(r.stdout_bytes.decode("utf-8"))


def test_csv_formula_prefixes_are_neutralised(shared_dir, tmp_path):
    db = tmp_path / "f.db"
    invoke("ingest", shared_dir / "cases/hostile/33-csv-html-crlf-formula-fields.csv", "--db", db)
    for fmt, delimiter in (("--csv", ","), ("--tsv", "\t")):
        r = invoke("list", "--db", db, "--all", fmt)
        assert r.exit_code == 0
        rows = list(csv.reader(io.StringIO(r.stdout, newline=""), delimiter=delimiter))
        assert len(rows) > 100
        cells = [cell for row in rows[1:] for cell in row]
        assert any(c.startswith("'=") for c in cells) and any(c.startswith("'@") for c in cells)
        for cell in cells:
            assert not cell.lstrip(" \t\r\n").startswith(("=", "+", "-", "@")), cell
