"""`incidents spikes` on stored incidents and on count CSVs, store_alarms, and the unusual-mix forest."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from incidents.spikes import Alarm, explain, store_alarms
from incidents.spikes.mix import store_mix
from incidents.taxonomy import rsit

runner = CliRunner()
FIRST = date(2019, 1, 7)


def rows(
    day: date, category: str, n: int, *, salt: str = "", sources: int | None = None, fresh: bool = False
):
    """n incidents of one category on one day; targets repeat from a small pool unless fresh."""
    taxonomy, kind = rsit(category)
    out = []
    for k in range(n):
        target = f"new-{salt}{day}-{k}.vn" if fresh else f"site{k % 40}.{category}.vn"
        source = f"10.0.{k % (sources or 50)}.1"
        out.append(
            (
                f"{salt}{category}{day}{k}",
                f"{day}T03:00:00Z",
                str(day),
                category,
                taxonomy,
                kind,
                target,
                "domain",
                source,
                None,
                "test",
                None,
                None,
                None,
                None,
                "{}",
            )
        )
    return out


@pytest.fixture(scope="module")
def spiked(tmp_path_factory) -> Path:
    """Two years of steady phishing and malware, 60 extra phishing incidents on 2020-10-14."""
    path = tmp_path_factory.mktemp("spikes") / "spiked.db"
    db = store.open_db(path)
    rng = np.random.default_rng(1)
    batch = []
    for k in range(700):
        day = FIRST + timedelta(days=k)
        weekend = day.weekday() >= 5
        batch += rows(day, "phishing", int(rng.poisson(6 if weekend else 12)))
        batch += rows(day, "malware", int(rng.poisson(4)), salt="m")
    batch += rows(date(2020, 10, 14), "phishing", 60, salt="spike", sources=2, fresh=True)
    with db.atomic():
        store.add_incidents(db, batch)
    db.close()
    return path


def test_store_alarms_finds_the_spike_and_explains_it(spiked):
    db = store.open_db(spiked)
    alarms = store_alarms(db, since="2020-10-01", until="2020-10-31")
    on_the_day = {a.series: a for a in alarms if a.date == "2020-10-14"}
    assert {"phishing", "total"} <= set(on_the_day)
    a = on_the_day["phishing"]
    assert isinstance(a, Alarm) and a.freq == "day" and a.count >= 60 and a.score > 1 and a.upper < a.count
    assert re.fullmatch(
        r"phishing: \d+ incidents on 2020-10-14, expected \d+, upper bound \d+ \((99\.9\d*)%\), "
        r"highest since records began \(2019-01-07\)",
        a.explanation,
    ), a.explanation
    # the sentence names the level of the bound this day was judged by
    assert f"({100 * (1 - a.level):.3f}".rstrip("0") in a.explanation
    assert all(x.date >= "2020-10-01" for x in alarms)
    weekly = store_alarms(db, freq="week", category="phishing", since="2020-10-01")
    assert any(w.date == "2020-10-12" and "in the week of 2020-10-12" in w.explanation for w in weekly)


def test_an_alarm_carries_the_parts_of_its_sentence(spiked, tmp_path):
    # The bulletin words alarms in Vietnamese from these parts; they must say what the English says.
    db = store.open_db(tmp_path / "burst.db")
    rng = np.random.default_rng(4)
    batch = []
    for k in range(420):
        day = FIRST + timedelta(days=k)
        burst = 8 if 400 <= k < 405 else 0  # five days of about +2.5 sd: only totals show it
        batch += rows(day, "malware", int(rng.poisson(10)) + burst, salt="b")
    with db.atomic():
        store.add_incidents(db, batch)
    alarms = store_alarms(db, since="2020-01-01") + store_alarms(store.open_db(spiked), since="2020-06-01")
    assert len(alarms) > 3 and any(a.span > 1 for a in alarms)
    for a in alarms:
        assert a.explanation.startswith(f"{a.series}: {a.period_count} incident")
        assert (f"since {a.since}" if a.since else f"records began ({a.records_from})") in a.explanation
        assert f"({explain.level_text(a.level)})" in a.explanation
        if a.span > 1:
            assert f", {a.count} over the last {a.span} days" in a.explanation


def test_cli_episodes_days_check_and_json(spiked, tmp_path):
    path = tmp_path / "copy.db"
    path.write_bytes(spiked.read_bytes())
    window = ["--since", "2020-10-01", "--until", "2020-10-31"]
    result = runner.invoke(app, ["spikes", "--db", str(path), *window], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    # one row per episode: the phishing spike, with the total's alarm folded into it
    assert "a phishing spike on 14 October 2020: " in result.stdout
    assert not re.search(r"^\s*2020-10-14\s+2020-10-14\s+total", result.stdout, re.MULTILINE)
    assert "Note:" not in result.stdout  # notes go to stderr
    result = runner.invoke(
        app, ["spikes", "--db", str(path), *window, "--days", "--check"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 3
    assert "phishing: " in result.stdout and "on 2020-10-14" in result.stdout and "total: " in result.stdout
    quiet = ["--since", "2020-08-01", "--until", "2020-08-02", "--check"]
    assert runner.invoke(app, ["spikes", "--db", str(path), *quiet]).exit_code == 0
    result = runner.invoke(
        app, ["spikes", "--db", str(path), "--category", "phishing", "--since", "2020-10-01", "--json"]
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["verdicts"]["source"] == "kept"  # judged by the first run, read as kept since
    assert "2020-10-14" in {a["date"] for a in data["alarms"]} and {a["series"] for a in data["alarms"]} == {
        "phishing"
    }
    assert [e["first_day"] for e in data["episodes"]] == ["2020-10-14"]


def test_a_store_this_process_cannot_write_is_judged_in_memory(spiked, tmp_path, monkeypatch):
    from incidents.spikes import report

    path = tmp_path / "copy.db"
    path.write_bytes(spiked.read_bytes())
    before = path.read_bytes()
    monkeypatch.setattr(report, "_writable", lambda file: False)
    result = runner.invoke(app, ["spikes", "--db", str(path), "--since", "2020-10-01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdicts"]["source"] == "memory" and "read-only" in result.stderr
    assert "2020-10-14" in {a["date"] for a in data["alarms"]}
    assert path.read_bytes() == before


def _with_run(spiked: Path, path: Path, status: str) -> Path:
    """A copy of `spiked` plus 80 phishing incidents on the quiet 2020-09-10 under an ingest run `status`."""
    path.write_bytes(spiked.read_bytes())
    db = store.open_db(path)
    with db.atomic():
        run_id = store.start_run(db, file="late.csv", sha256="0" * 64, kind="ingest", fmt="csv")
        extra = rows(date(2020, 9, 10), "phishing", 80, salt="late", fresh=True)
        store.add_incidents(db, [r[:14] + (run_id, r[15]) for r in extra])
        if status != "running":
            db.execute("UPDATE ingest_runs SET status = ? WHERE id = ?", [status, run_id])
    db.close()
    return path


def test_judging_in_memory_leaves_out_the_rows_of_a_running_ingest(spiked, tmp_path, monkeypatch):
    """A read-only store judged in memory sees completed runs only, as every other read does: a run left
    'running' (an ingest between two batches, or killed) gives the verdicts of the store without it."""
    from incidents.spikes import report

    monkeypatch.setattr(report, "_writable", lambda file: False)
    args = ["--since", "2020-09-01", "--until", "2020-10-31", "--days", "--json"]

    def verdicts(path: Path) -> dict:
        result = runner.invoke(app, ["spikes", "--db", str(path), *args])
        assert result.exit_code in (0, 3), result.output
        data = json.loads(result.stdout)
        assert data["verdicts"]["source"] == "memory"
        return {k: data[k] for k in ("alarms", "episodes")}

    plain = tmp_path / "plain.db"
    plain.write_bytes(spiked.read_bytes())
    running = _with_run(spiked, tmp_path / "running.db", "running")
    done = _with_run(spiked, tmp_path / "done.db", "ok")
    before = running.read_bytes()
    assert verdicts(running) == verdicts(plain)
    assert running.read_bytes() == before
    # The same rows under a completed run do change the verdicts (the test above could fail).
    assert "2020-09-10" in {a["date"] for a in verdicts(done)["alarms"]}


def test_a_read_only_store_is_judged_in_memory_and_left_untouched(spiked, tmp_path):
    import os
    import stat

    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "store.db"
    path.write_bytes(spiked.read_bytes())
    before = path.read_bytes()
    path.chmod(stat.S_IRUSR)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(path, os.W_OK):
            pytest.skip("running as a user who can write a read-only file (root)")
        result = runner.invoke(app, ["spikes", "--db", str(path), "--since", "2020-10-01", "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["verdicts"]["source"] == "memory" and "read-only" in result.stderr
        assert "2020-10-14" in {a["date"] for a in data["alarms"]}
    finally:
        folder.chmod(stat.S_IRWXU)
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert path.read_bytes() == before


def test_the_unusual_mix_is_flagged_with_its_features(spiked):
    db = store.open_db(spiked)
    flags = store_mix(db, since="2020-10-01")
    day = {f.date: f for f in flags}
    assert "2020-10-14" in day, [f.explanation for f in flags]
    names = [f[0] for f in day["2020-10-14"].features]
    assert "share of new targets" in names
    assert day["2020-10-14"].explanation.startswith("unusual mix on 2020-10-14: ")


def test_cli_usage_errors(spiked):
    result = runner.invoke(app, ["spikes", "--db", str(spiked), "--category", "spamalot"])
    said = " ".join(result.stderr.replace("│", " ").split())  # rich folds the usage error in a box
    assert result.exit_code == 2 and "'spamalot' is not a category: one of phishing" in said
    result = runner.invoke(app, ["spikes", "--db", str(spiked), "--since", "14/10/2020"])
    assert result.exit_code == 2 and "is not a date YYYY-MM-DD" in result.stderr
    result = runner.invoke(app, ["spikes", "--counts", "x.csv"])
    assert result.exit_code == 2 and "--counts and --output go together" in result.stderr


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_counts_csv_with_many_awkward_series(tmp_path):
    """Many series per file: a long one with a spike and gaps, zeros, a constant, a single day, a short one."""
    rng = np.random.default_rng(2)
    lines = ["series,date,count"]
    start = date(2021, 1, 4)
    for k in range(400):
        day = start + timedelta(days=k)
        if 100 <= k < 110:
            continue  # a gap: those days are not judged and not used
        lines.append(f"long,{day},{int(rng.poisson(20)) + (80 if k == 300 else 0)}")
        lines.append(f"zeros,{day},0")
        lines.append(f"constant,{day},5")
    lines.append("single,2021-06-01,3")
    lines += [f"short,{start + timedelta(days=k)},{k % 3}" for k in range(30)]
    src = write(tmp_path / "in.csv", lines)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["spikes", "--counts", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Judged 5 series (1201 rows): ")
    assert "Note: single: 1 days of history, under the 56 needed" in result.stderr
    assert "Note: short: 30 days of history" in result.stderr
    with out.open() as f:
        got = list(csv.DictReader(f))
    assert list(got[0]) == ["series", "date", "count", "expected", "upper", "score", "alarm"]
    assert len(got) == 1201
    alarms = {(r["series"], r["date"]) for r in got if r["alarm"] == "1"}
    assert ("long", str(start + timedelta(days=300))) in alarms
    assert not any(s in ("zeros", "constant", "single", "short") for s, _ in alarms)
    assert {r["expected"] for r in got if r["series"] in ("single", "short")} == {""}


@pytest.mark.parametrize(
    "lines, message",
    [
        (["series,day,count", "a,2021-01-01,3"], "header lacks date (expected series,date,count)"),
        (
            ["series,date,count", "a,2021-01-01,3", "a,01/02/2021,4"],
            "line 3: date '01/02/2021' is not YYYY-MM-DD",
        ),
        (["series,date,count", "a,2021-01-01,-3"], "line 2: count '-3' is not a whole number >= 0"),
        (["series,date,count", "a,2021-01-01,2.5"], "line 2: count '2.5' is not a whole number >= 0"),
        (["series,date,count", "a,2021-01-01,1", "a,2021-01-01,2"], "line 3: series 'a' already has a row"),
        (["series,date,count"], "has a header but no rows"),
    ],
)
def test_bad_counts_csv_is_one_line_and_exit_1(tmp_path, lines, message):
    src = write(tmp_path / "bad.csv", lines)
    result = runner.invoke(app, ["spikes", "--counts", str(src), "--output", str(tmp_path / "o.csv")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr and result.stderr.count("\n") == 1
