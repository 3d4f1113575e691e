"""An unreadable input file (issue 15, point 3): one `Error:` line for it, exit 1, the other files still go in.

Typer turns a `pathlib.Path` parameter into a Click path that checks `os.access(R_OK)` before the command
runs, which made one unreadable file a usage error (exit 2) that stopped every other file. The check is
the library's, per file, as for a missing file. Root reads any file: as root the commands run as `nobody`.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from incidents.cli import app
from tests.conftest import minimal_alert_config

ROOT = Path(__file__).resolve().parent.parent
GOOD_CSV = (
    "time,category,target\n2020-10-05T01:00:00Z,deface,a.gov.vn\n2020-10-05T02:00:00Z,deface,b.gov.vn\n"
)
AUTH = "Oct  5 01:00:00 web1 sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2\n"


@pytest.fixture
def folder():
    """A folder every user may enter (pytest's own tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="unreadable-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_as_user(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`incidents ARGS` in a subprocess; as root, as `nobody` (setpriv) so that file modes apply."""
    command = [sys.executable, "-m", "incidents.cli", *args]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: an unreadable file cannot be made here")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(command, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def unreadable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0)
    return path


def readable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o644)
    return path


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def test_ingest_reports_an_unreadable_file_and_stores_the_others(folder):
    bad = unreadable(folder / "unread.csv", GOOD_CSV)
    good = readable(folder / "good.csv", GOOD_CSV)
    r = run_as_user(["ingest", "--db", str(folder / "s.db"), str(bad), str(good)], folder)
    assert r.returncode == 1, r.stderr
    assert error_lines(r.stderr) == [f"Error: {bad}: cannot read: Permission denied"], r.stderr
    assert "Usage:" not in r.stderr
    with sqlite3.connect(folder / "s.db") as conn:
        assert conn.execute("select count(*) from incidents").fetchone()[0] == 2


def test_scan_reports_an_unreadable_file_and_scans_the_others(folder):
    bad = unreadable(folder / "unread.log", AUTH)
    good = readable(folder / "auth.log", AUTH * 3)
    r = run_as_user(
        [
            "scan",
            "--db",
            str(folder / "s.db"),
            "--format",
            "auth",
            "--year",
            "2020",
            "--json",
            str(bad),
            str(good),
        ],
        folder,
    )
    assert r.returncode == 1, r.stderr
    assert error_lines(r.stderr) == [f"Error: {bad}: cannot read: Permission denied"], r.stderr
    assert "Usage:" not in r.stderr
    files = {f["file"]: f for f in json.loads(r.stdout)["files"]}
    assert files[str(bad)]["error"] == "cannot read: Permission denied"
    assert files[str(good)]["complete"] and files[str(good)]["lines"] == 3


def _path_parameters(group, prefix: str = ""):
    # Typer vendors its own Click: its classes are recognised by shape, not by isinstance.
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _path_parameters(command, f"{prefix}{name} ")
            continue
        for param in command.params:
            if hasattr(param.type, "readable") and hasattr(param.type, "dir_okay"):
                yield f"{prefix}{name} {param.name}", param.type


def test_no_path_parameter_checks_access_before_the_command_runs():
    """Every file or folder parameter is checked by the library, so an unreadable one is an `Error:`."""
    from typer.main import get_command

    click_app = get_command(app)
    found = list(_path_parameters(click_app))
    assert len(found) >= 10
    checked = [name for name, kind in found if kind.readable or kind.exists]
    assert checked == []


@pytest.mark.parametrize(
    "args",
    [
        ["spikes", "--counts", "{bad}", "--output", "{folder}/out.csv"],
        ["published", "import", "{bad}", "--db", "{folder}/s.db"],
        ["alert", "--db", "{folder}/s.db", "--config", "{bad}"],
        ["bulletin", "--db", "{folder}/s.db", "--month", "2020-10", "--config", "{bad}"],
        ["stats", "--db", "{bad}", "--month", "2020-10"],
    ],
    ids=["spikes-counts", "published-import", "alert-config", "bulletin-config", "stats-db"],
)
def test_every_command_taking_a_file_says_it_cannot_read_it(folder, args):
    bad = unreadable(folder / "unread.csv", "series,date,count\n")
    r = run_as_user([a.format(bad=bad, folder=folder) for a in args], folder)
    assert r.returncode == 1, r.stderr
    (line,) = error_lines(r.stderr)
    assert str(bad) in line and "permission denied" in line.lower(), line
    assert "Usage:" not in r.stderr and "Errno" not in line


def test_scan_names_a_folder_it_cannot_list_and_scans_the_rest(folder):
    logs = folder / "logs"
    (logs / "closed").mkdir(parents=True)
    readable(logs / "auth.log", AUTH * 3)
    (logs / "closed").chmod(0)
    logs.chmod(0o755)
    r = run_as_user(["scan", "--db", str(folder / "s.db"), "--year", "2020", "--json", str(logs)], folder)
    (logs / "closed").chmod(0o755)
    assert r.returncode == 1, r.stderr
    assert error_lines(r.stderr) == [f"Error: {logs / 'closed'}: cannot read the folder: Permission denied"]
    assert [f["file"] for f in json.loads(r.stdout)["files"]] == [str(logs / "auth.log")]


def rules_copy(folder: Path, closed: str) -> Path:
    """A copy of the shipped rules readable by all, with `closed` (a file or folder in it) unreadable."""
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules", rules)
    for path in [rules, *rules.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (rules / closed).chmod(0)
    return rules


def test_an_unreadable_rule_is_one_problem_and_the_others_run(folder):
    rules = rules_copy(folder, "dns-malware-domain.yml")
    good = readable(folder / "auth.log", AUTH * 3)
    args = ["scan", "--db", str(folder / "s.db"), "--rules", str(rules), "--format", "auth", "--year", "2020"]
    r = run_as_user([*args, "--json", str(good)], folder)
    assert r.returncode == 1, r.stderr
    assert error_lines(r.stderr) == ["Error: rule dns-malware-domain.yml: cannot read: Permission denied"]
    assert json.loads(r.stdout)["files"][0]["complete"]


@pytest.mark.parametrize(
    "command", [["rules", "import", "{rules}"], ["scan", "--rules", "{rules}", "--db", "{db}", "{log}"]]
)
def test_an_unreadable_rules_folder_is_one_error_line(folder, command):
    rules = rules_copy(folder, ".")
    log = readable(folder / "auth.log", AUTH)
    r = run_as_user([a.format(rules=rules, log=log, db=folder / "s.db") for a in command], folder)
    rules.chmod(0o755)
    assert r.returncode == 1, r.stderr
    (line,) = error_lines(r.stderr)
    assert line.startswith(f"Error: {rules}") and line.endswith("cannot read: Permission denied"), line
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["bulletin", "--db", "{db}", "--month", "2020-10", "--templates", "{closed}"],
        ["rules", "import", str(ROOT / "rules"), "--into", "{closed}"],
    ],
    ids=["bulletin-templates", "rules-import-into"],
)
def test_a_folder_that_cannot_be_used_is_one_error_line(folder, small_store, args):
    db = folder / "s.db"
    shutil.copyfile(small_store, db)
    db.chmod(0o644)
    closed = folder / "closed"
    closed.mkdir()
    closed.chmod(0)
    r = run_as_user([a.format(db=db, closed=closed) for a in args], folder)
    closed.chmod(0o755)
    assert r.returncode == 1, r.stderr
    (line,) = error_lines(r.stderr)
    assert str(closed) in line and line.endswith("Permission denied"), line
    assert "Traceback" not in r.stderr


def test_alert_names_a_folder_given_as_the_store_as_every_command_does(tmp_path):
    """Probe finding: `alert --db FOLDER` said SQLite's 'unable to open database file'."""
    from typer.testing import CliRunner

    from incidents.cli import app

    config = minimal_alert_config(tmp_path)
    folder = tmp_path / "store-folder"
    folder.mkdir()
    for dry in (["--dry-run"], []):
        r = CliRunner().invoke(app, ["alert", *dry, "--config", str(config), "--db", str(folder)])
        assert r.exit_code == 1, r.output
        assert r.stderr == f"Error: {folder} is not a regular file (a folder)\n", r.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["incidents.toml", "store-folder"]


@pytest.mark.parametrize("moment", ["0001-01-01", "0001-01-02", "9999-12-31T23:00Z", "1969-12-31"])
def test_alert_now_at_the_ends_of_time_is_a_usage_error(tmp_path, moment):
    """Probe finding: `alert --now 0001-01-01` overflowed the day arithmetic: a traceback, exit 1."""
    from typer.testing import CliRunner

    from incidents.cli import app

    config = minimal_alert_config(tmp_path)
    db = tmp_path / "s.db"
    r = CliRunner().invoke(
        app, ["alert", "--dry-run", "--config", str(config), "--db", str(db), "--now", moment]
    )
    assert r.exit_code == 2, (r.output, r.exception)
    assert "outside the years 1970-9998" in r.stderr
