"""Converted rules cached by content hash (issue 14, point 2)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from incidents.scan.rules import load_rules, shipped_rules_dir


def test_cached_rules_equal_converted_ones_and_a_change_invalidates(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENTS_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "rules"
    shutil.copytree(shipped_rules_dir(), folder)
    fresh = load_rules(folder, cache=False)
    first = load_rules(folder)
    assert len(list((tmp_path / "cache").glob("rules-*.json"))) == 1
    again = load_rules(folder)
    assert (
        [r.__dict__ for r in again.rules]
        == [r.__dict__ for r in fresh.rules]
        == [r.__dict__ for r in first.rules]
    )
    # an edited list changes what a rule matches: a new entry, never the stale one
    lists = folder / "lists" / "scanner_user_agents.txt"
    lists.write_text(lists.read_text() + "evilscanner\n")
    edited = load_rules(folder)
    assert len(list((tmp_path / "cache").glob("rules-*.json"))) == 2
    scanner = next(r for r in edited.rules if r.title == "Web vulnerability scanner user agent")
    assert "evilscanner" in scanner.predicate


def test_a_warm_load_imports_no_pysigma(tmp_path):
    code = (
        "import sys; from incidents.scan.rules import load_rules, shipped_rules_dir; "
        "load_rules(shipped_rules_dir()); "
        "import importlib; [sys.modules.pop(m) for m in list(sys.modules) if m.startswith('sigma')]; "
        "load_rules(shipped_rules_dir()); print('sigma' in sys.modules)"
    )
    env = {"INCIDENTS_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_two_copies_of_the_same_rules_keep_their_own_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENTS_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("a", "b"):
        shutil.copytree(shipped_rules_dir(), tmp_path / name)
        rules = load_rules(tmp_path / name).rules
        assert all(
            f.file.is_relative_to(tmp_path / name) and f.file.exists() for r in rules for f in r.fixtures
        )
        shutil.rmtree(tmp_path / name) if name == "a" else None
