"""Every file read besides the main input (configuration, published figures, rules, rule lists, the
pipeline, templates, the recommendations template) must be a regular file: a FIFO given there made the
command wait forever for a writer. Each case runs as a real subprocess under a timeout, so a hang fails.
An unreadable or folder configuration gives one line too (`config check` raised a traceback).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.test_bulletin import seeded_store

ROOT = Path(__file__).resolve().parent.parent
AUTH = "Oct  5 01:00:00 web1 sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2\n"
FIFO = "not a regular file (a FIFO)"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def run(args: list, cwd: Path, *, as_nobody: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "incidents.cli", *map(str, args)]
    if as_nobody and os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: an unreadable file cannot be made here")
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    env["XDG_CACHE_HOME"] = str(cwd / ".cache")
    try:
        return subprocess.run(
            command, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"incidents {' '.join(map(str, args))} hung (killed after 30 s)")


def one_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def folder():
    """A folder every user may enter (pytest's tmp_path is private to its owner), holding a FIFO `f`."""
    path = Path(tempfile.mkdtemp(prefix="secondary-"))
    path.chmod(0o777)
    os.mkfifo(path / "f")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize(
    "args",
    [
        ["alert", "--config", "f", "--db", "s.db"],
        ["bulletin", "--month", "2020-10", "--config", "f", "--db", "s.db"],
        ["config", "check", "--config", "f"],
        ["published", "import", "f", "--db", "s.db"],
        ["spikes", "--counts", "f", "--output", "o.csv"],
    ],
    ids=["alert", "bulletin", "config-check", "published-import", "spikes-counts"],
)
def test_a_fifo_config_or_csv_is_refused(folder, args):
    one_error(run(args, folder), f"f is {FIFO}")


def test_doctor_reports_a_fifo_config(folder):
    result = run(["doctor", "--config", "f", "--db", "s.db"], folder)
    assert result.returncode == 1
    assert FIFO in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture
def rules(folder):
    """A copy of the shipped rules with a FIFO among the rules."""
    copy = folder / "R"
    shutil.copytree(ROOT / "rules", copy)
    os.mkfifo(copy / "zz.yml")
    (folder / "a.log").write_text(AUTH)
    return copy


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "--rules", "R", "a.log", "--db", "s.db"],
        ["rules", "list", "--rules", "R"],
        ["rules", "export", "--target", "splunk", "--rules", "R"],
    ],
    ids=["scan", "rules-list", "rules-export"],
)
def test_a_fifo_rule_is_one_problem_among_the_others(folder, rules, args):
    result = run(args, folder)
    assert "Traceback" not in result.stderr + result.stdout
    about = [line for line in result.stderr.splitlines() if "zz.yml" in line]
    assert about == [f"Error: rule zz.yml: cannot read: {FIFO}"], result.stderr


def test_a_fifo_rule_list_or_pipeline_is_refused(folder, rules):
    os.unlink(rules / "zz.yml")
    os.mkfifo(rules / "lists" / "zz.txt")
    one_error(run(["rules", "list", "--rules", "R"], folder), f"zz.txt is {FIFO}")
    os.unlink(rules / "lists" / "zz.txt")
    os.unlink(rules / "pipeline.yml")
    os.mkfifo(rules / "pipeline.yml")
    one_error(run(["scan", "--rules", "R", "a.log", "--db", "s.db"], folder), f"pipeline.yml is {FIFO}")
    one_error(
        run(["rules", "export", "--target", "splunk", "--rules", "R"], folder), f"pipeline.yml is {FIFO}"
    )


def test_an_unreadable_rule_is_worded_as_rules_list_words_it(folder, rules):
    os.unlink(rules / "zz.yml")
    (rules / "zz.yml").write_text("title: x\n")
    (rules / "zz.yml").chmod(0)
    for args in (
        ["rules", "export", "--target", "splunk", "--rules", "R"],
        ["rules", "list", "--rules", "R"],
    ):
        result = run(args, folder, as_nobody=True)
        assert "Traceback" not in result.stderr
        about = [line for line in result.stderr.splitlines() if "zz.yml" in line]
        assert about == ["Error: rule zz.yml: cannot read: Permission denied"], result.stderr


def test_a_fifo_template_is_refused(folder, tmp_path):
    db = seeded_store(tmp_path / "incidents.db")
    (folder / "T").mkdir()
    os.mkfifo(folder / "T" / "lead.en.j2")
    args = ["bulletin", "--month", "2020-10", "--lang", "en", "--templates", "T", "--db", db]
    one_error(run(args, folder), "lead.en.j2", FIFO)


def test_a_broken_template_is_refused_before_the_figures(folder, tmp_path):
    """The centre's templates are checked first: a month without data would otherwise answer (NoData)
    after the month's spikes were judged, and a FIFO or a syntax error only then."""
    from incidents.bulletin import TemplateProblem, bulletin_text
    from incidents.store import open_db

    db = open_db(seeded_store(tmp_path / "incidents.db"))
    (folder / "T").mkdir()
    (folder / "T" / "labels.en.j2").write_text("{% if %}\n")
    with pytest.raises(TemplateProblem, match="template labels.en.j2 line 1"):
        bulletin_text(db, "2031-01", lang="en", templates_dir=folder / "T")
    os.mkfifo(folder / "T" / "lead.en.j2")
    (folder / "T" / "labels.en.j2").unlink()
    with pytest.raises(TemplateProblem, match="lead.en.j2"):
        bulletin_text(db, "2031-01", lang="en", templates_dir=folder / "T")


def test_a_fifo_recommendations_template_is_refused(folder, tmp_path):
    db = seeded_store(tmp_path / "incidents.db")
    os.mkfifo(folder / "rec.j2")
    (folder / "c.toml").write_text('[bulletin]\nrecommendations = "rec.j2"\n')
    one_error(run(["config", "check", "--config", "c.toml"], folder), "bulletin.recommendations", FIFO)
    one_error(run(["bulletin", "--month", "2020-10", "--config", "c.toml", "--db", db], folder), FIFO)


@pytest.mark.parametrize("kind", ["unreadable", "folder"])
@pytest.mark.parametrize(
    "args",
    [
        ["config", "check", "--config", "c.toml"],
        ["alert", "--config", "c.toml", "--db", "s.db"],
        ["bulletin", "--month", "2020-10", "--config", "c.toml", "--db", "s.db"],
    ],
    ids=["config-check", "alert", "bulletin"],
)
def test_an_unreadable_or_folder_config_is_one_line(folder, kind, args):
    if kind == "folder":
        (folder / "c.toml").mkdir()
        one_error(run(args, folder), "c.toml is not a regular file (a folder)")
    else:
        (folder / "c.toml").write_text("[bulletin]\n")
        (folder / "c.toml").chmod(0)
        one_error(run(args, folder, as_nobody=True), "cannot read c.toml: Permission denied")
