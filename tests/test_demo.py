"""`incidents demo` on the shipped sample data prints the published October 2020 figures."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from incidents import stats, store
from incidents.cli import app

runner = CliRunner()


def test_demo_reproduces_the_october_2020_report(tmp_path):
    db_path = tmp_path / "demo.db"
    r = runner.invoke(app, ["demo", "--db", str(db_path)])
    assert r.exit_code == 0, r.output
    assert (
        "582 incidents in 2020-10; +11.07% vs 2020-09; +0.34% vs 2019-10; 4,161 year to date, -7.82%"
        in r.stdout
    )
    assert f"Demo store: {db_path.resolve()}" in r.stdout
    db = store.open_db(db_path, create=False)
    t = stats.month_report(db, "2020-10").total
    assert (t.count, t.month_over_month, t.year_over_year) == (582, 11.07, 0.34)
    assert (t.year_to_date, t.year_to_date_change) == (4161, -7.82)
    # The other published months hold too: the 2020 year and December's -54.48% vs November.
    dec = stats.month_report(db, "2020-12").total
    assert (dec.count, dec.month_over_month, dec.year_over_year, dec.year_to_date) == (
        315,
        -54.48,
        -0.94,
        5168,
    )
    # Nothing is lost: every row read is accepted, a duplicate, or quarantined.
    runs = db.execute(
        "SELECT sum(rows_read), sum(accepted), sum(duplicate), sum(rejected) FROM ingest_runs "
        "WHERE kind = 'ingest'"
    ).fetchone()
    assert runs[0] == runs[1] + runs[2] + runs[3]
    assert runs[3] == db.execute("SELECT count(*) FROM rejects").fetchone()[0] > 0
    # The scan of the raw logs (January 2021) stored its incidents without touching the calibrated months.
    assert "SSH brute force" in r.stdout
    scanned = db.execute(
        "SELECT count(*), min(i.day) FROM incidents i JOIN ingest_runs r ON r.id = i.run_id "
        "WHERE r.kind = 'scan'"
    ).fetchone()
    assert scanned[0] > 0 and scanned[1] >= "2021-01-01"
    # The detector finds the November 2020 phishing campaign the sample data carries (10-13 November).
    assert "A phishing campaign from 10 to 13 November 2020: 200 incidents" in r.stdout
    # The stats command then explores the same store.
    r = runner.invoke(app, ["stats", "--db", str(db_path), "--month", "2020-08", "--json"])
    assert json.loads(r.stdout)["total"]["month_over_month"] == -0.77


def test_demo_twice_rebuilds_its_own_store(tmp_path):
    db_path = tmp_path / "demo.db"
    assert runner.invoke(app, ["demo", "--db", str(db_path)]).exit_code == 0
    assert runner.invoke(app, ["demo", "--db", str(db_path)]).exit_code == 0
    assert store.count_incidents(store.open_db(db_path)) >= 10_344


def test_demo_never_overwrites_a_real_store(db, db_path):
    r = runner.invoke(app, ["demo", "--db", str(db_path)])
    assert r.exit_code == 1
    assert r.stderr == f"Error: {db_path} exists and is not a demo store; choose another --db\n"


def test_next_commands_paste_into_a_fresh_clone(tmp_path):
    """A fresh clone has no `incidents` on its PATH: the demo's suggestions go through `uv run`, and a
    path with a space stays one argument."""
    import shlex

    from incidents.demo import next_commands

    commands = next_commands(tmp_path / "my demo.db", "2020-10")
    assert all(c.startswith("uv run incidents ") for c in commands)
    stats = shlex.split(commands[0])
    assert stats == [
        "uv",
        "run",
        "incidents",
        "stats",
        "--db",
        str(tmp_path / "my demo.db"),
        "--month",
        "2020-10",
    ]
