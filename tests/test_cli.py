"""The command line as a user meets it: exit codes and the one line they read."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from incidents.cli import app
from tests.conftest import add_counts

runner = CliRunner()
HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description"


def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.startswith("incidents ")


def test_every_command_has_help():
    """sqlite-utils' test_docs idea: no command ships without a docstring and an example."""
    import typer.main

    group = typer.main.get_command(app)
    names = list(group.commands)
    assert {"ingest", "stats", "demo", "rejects"} <= set(names)
    for name in names:
        command = group.commands[name]
        assert command.help, f"{name} has no help"
        sub = getattr(command, "commands", None) or {}
        for sub_name, sub_command in sub.items():
            assert sub_command.help, f"{name} {sub_name} has no help"
        r = runner.invoke(app, [name, "--help"])
        assert r.exit_code == 0, name


def test_ingest_and_stats(tmp_path):
    db = tmp_path / "x.db"
    f = tmp_path / "a.csv"
    f.write_text(f"{HEADER}\n1,2020-10-05T10:00:00Z,deface,a.gov.vn,,,,,,\n2,,deface,b.gov.vn,,,,,,\n")
    r = runner.invoke(app, ["ingest", str(f), "--db", str(db), "--json"])
    assert r.exit_code == 0
    [summary] = json.loads(r.stdout)
    assert (summary["read"], summary["accepted"], summary["rejected"]) == (2, 1, 1)
    r = runner.invoke(app, ["stats", "--month", "2020-10", "--db", str(db), "--json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["total"]["count"] == 1
    r = runner.invoke(app, ["stats", "--month", "2020-10", "--db", str(db)])
    assert r.exit_code == 0 and "Total" in r.stdout
    r = runner.invoke(app, ["rejects", "--db", str(db), "--json"])
    assert json.loads(r.stdout)[0]["reason"] == "missing timestamp"


def test_ingest_unknown_format_is_one_line(tmp_path):
    f = tmp_path / "junk.bin"
    f.write_bytes(b"\x00\x01garbage")
    r = runner.invoke(app, ["ingest", str(f), "--db", str(tmp_path / "x.db")])
    assert r.exit_code == 1
    assert r.stderr == f"Error: {f}: binary file (NUL bytes), not a feed export\n"


def test_ingest_missing_file_goes_on_with_the_others(tmp_path):
    good = tmp_path / "a.csv"
    good.write_text(f"{HEADER}\n1,2020-10-05T10:00:00Z,deface,a.gov.vn,,,,,,\n")
    missing = tmp_path / "nope.csv"
    r = runner.invoke(app, ["ingest", str(missing), str(good), "--db", str(tmp_path / "x.db"), "--json"])
    assert r.exit_code == 1
    assert r.stderr.strip() == f"Error: {missing}: cannot read: No such file or directory"
    assert [x["status"] for x in json.loads(r.stdout)] == ["failed", "ok"]


def test_ingest_strict_exit_code(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text(
        f"{HEADER}\n1,2020-10-05T10:00:00Z,deface,a.gov.vn,,,,,,\n2,2021-02-30T00:00:00,deface,b,,,,,,\n"
    )
    r = runner.invoke(app, ["ingest", "--strict", str(f), "--db", str(tmp_path / "x.db")])
    assert r.exit_code == 1
    assert r.stderr == (
        f"Error: {f}: line 3: impossible date '2021-02-30T00:00:00'; "
        "--strict: nothing ingested from this file\n"
    )


def test_ingest_bad_format_option_is_a_usage_error(tmp_path):
    r = runner.invoke(app, ["ingest", "x.csv", "--format", "xml", "--db", str(tmp_path / "x.db")])
    assert r.exit_code == 2


@pytest.mark.parametrize("month", ["2020-13", "last month", "2020-10 "])
def test_stats_bad_month_is_a_usage_error(tmp_path, db, db_path, month):
    r = runner.invoke(app, ["stats", "--month", month, "--db", str(db_path)])
    assert r.exit_code == 2
    assert f"{month!r} is not a month YYYY-MM" in r.stderr


def test_stats_without_a_store(tmp_path):
    r = runner.invoke(app, ["stats", "--month", "2020-10", "--db", str(tmp_path / "none.db")])
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: no database at ")


def test_stats_month_without_data_says_so(db, db_path):
    add_counts(db, {("2020-01-10", "deface"): 3})
    r = runner.invoke(app, ["stats", "--month", "2019-05", "--db", str(db_path)])
    assert r.exit_code == 1
    assert "Note: 2019-05 is before the first data (2020-01)" in r.stderr
    # Probe finding: a table of zeros with "-100.00%" came with it; the note is the answer.
    after = runner.invoke(app, ["stats", "--month", "2020-03", "--db", str(db_path)])
    assert after.exit_code == 1 and after.stdout == ""
    assert "Note: 2020-03 is after the last data (2020-01)" in after.stderr
    as_json = runner.invoke(app, ["stats", "--month", "2020-03", "--json", "--db", str(db_path)])
    assert as_json.exit_code == 1 and '"has_data": false' in as_json.stdout


def test_db_from_environment(tmp_path, monkeypatch, db, db_path):
    add_counts(db, {("2020-01-10", "deface"): 3})
    monkeypatch.setenv("INCIDENTS_DB", str(db_path))
    r = runner.invoke(app, ["stats", "--month", "2020-01", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["total"]["count"] == 3


def test_list(db, db_path):
    add_counts(db, {("2020-10-01", "deface"): 3, ("2020-11-01", "phishing"): 1})
    r = runner.invoke(app, ["list", "--db", str(db_path), "--month", "2020-10", "--json"])
    assert r.exit_code == 0 and [x["category"] for x in json.loads(r.stdout)["incidents"]] == ["deface"] * 3
    r = runner.invoke(app, ["list", "--db", str(db_path), "--category", "gardening"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["list", "--db", str(db_path), "--month", "2020-13"])
    assert r.exit_code == 2 and "'2020-13' is not a month YYYY-MM" in r.stderr
