"""`incidents scan` and `incidents rules ...` through Typer's CliRunner: exit codes and the lines users see."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from incidents.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "rules" / "fixtures"
runner = CliRunner()


def test_scan_prints_incidents_per_rule_and_is_idempotent(db_path):
    args = ["scan", str(FIXTURES / "ssh-brute-force/match.log"), "--year", "2020", "--db", str(db_path)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "SSH brute force" in first.stdout and "completely" in first.stdout
    again = runner.invoke(app, [*args, "--json"])
    assert again.exit_code == 0
    report = json.loads(again.stdout)
    brute = next(r for r in report["per_rule"] if r["rule"] == "SSH brute force")
    assert (brute["incidents"], brute["new"]) == (2, 0)


def test_scan_bad_file_exit_1_with_one_line_naming_it(db_path, tmp_path):
    binary = tmp_path / "dump.bin"
    binary.write_bytes(b"\x00\x01\x02" * 1000)
    result = runner.invoke(
        app, ["scan", str(binary), str(FIXTURES / "web-xss/match.log"), "--db", str(db_path)]
    )
    assert result.exit_code == 1
    assert result.stderr == f"Error: {binary}: binary data (NUL bytes), not a text log\n"
    assert "Cross-site scripting" in result.stdout  # the good file still went through


def test_scan_unknown_format_is_a_usage_error_free_message(db_path):
    result = runner.invoke(
        app, ["scan", str(FIXTURES / "web-xss/match.log"), "--format", "pcap", "--db", str(db_path)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unknown format 'pcap'")


def test_rules_list_and_test():
    listed = runner.invoke(app, ["rules", "list", "--json"])
    assert listed.exit_code == 0
    assert '"title": "SSH brute force"' in listed.stdout
    tested = runner.invoke(app, ["rules", "test"])
    assert tested.exit_code == 0, tested.stderr
    assert tested.stderr == ""


def test_rules_test_fails_on_a_broken_rule(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    (folder / "oops.yml").write_text("title: [\n")
    result = runner.invoke(app, ["rules", "test", "--rules", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: rule oops.yml: line 2: YAML error")


def test_rules_export_targets():
    result = runner.invoke(app, ["rules", "export", "--target", "splunk"])
    assert result.exit_code == 0 and "# SSH brute force (ssh-brute-force.yml)" in result.stdout
    bad = runner.invoke(app, ["rules", "export", "--target", "qradar"])
    assert bad.exit_code == 2
