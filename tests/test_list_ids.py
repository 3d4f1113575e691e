"""The ids `incidents list` prints are ids `incidents show` takes: the shortest unique prefix (at least 7
characters, like git) in its tables for people, boxed or --plain, never cut at 80 columns; whole in
--tsv, --csv and --json (for scripts)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from incidents import search, store
from incidents.taxonomy import rsit

runner = CliRunner()

# Ids as ingest makes them (32 hex digits), three of them alike in their first 7 characters and two of
# those in their first 12: the table's old 7-character id named none of them.
IDS = (
    "deadbee1" + "0" * 24,
    "deadbee2abc0" + "1" * 20,
    "deadbee2abc1" + "2" * 20,
    "0123456789abcdef0123456789abcdef",
)
ROW_LINE = re.compile(r"^[│ ]*(\S+)\s*│?\s+2020-10-0\d\b")


@pytest.fixture
def alike(db, db_path):
    taxonomy, type_ = rsit("deface")
    rows = [
        (i, f"2020-10-0{n + 1}T05:00:00Z", f"2020-10-0{n + 1}", "deface", taxonomy, type_,
         f"site-{n}.example.vn", "domain", None, "government", "test", None, "new",
         "a description long enough to be cut at eighty columns " * 2, None, "{}")
        for n, i in enumerate(IDS)
    ]  # fmt: skip
    with db.atomic():
        store.add_incidents(db, rows)
    return db_path


def printed_ids(output: str) -> list[str]:
    return [m.group(1) for line in output.splitlines() if (m := ROW_LINE.match(line))]


def shown_id(db_path, text: str) -> str:
    r = runner.invoke(app(), ["show", text, "--db", str(db_path), "--json"])
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["id"]


def app():
    from incidents.cli import app

    return app


@pytest.mark.parametrize("fmt", ["--tsv", "--csv", "--json"])
def test_script_formats_print_whole_ids(alike, fmt):
    r = runner.invoke(app(), ["list", "--db", str(alike), fmt], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.stderr
    for full in IDS:
        assert full in r.stdout


@pytest.mark.parametrize("columns", [80, 120, 160])
@pytest.mark.parametrize("plain", [[], ["--plain"]], ids=["table", "plain"])
def test_table_prints_the_shortest_prefix_show_resolves(alike, columns, plain):
    r = runner.invoke(app(), ["list", "--db", str(alike), *plain], env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.stderr
    printed = printed_ids(r.stdout)
    assert sorted(printed) == ["0123456", "deadbee1", "deadbee2abc0", "deadbee2abc1"], r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= columns
    for text in printed:
        full = shown_id(alike, text)
        assert full.startswith(text) and full in IDS


def test_the_old_seven_characters_are_ambiguous(alike):
    """What `list` printed before: `show` refuses it, naming the ids that share it."""
    r = runner.invoke(app(), ["show", "deadbee", "--db", str(alike)])
    assert r.exit_code == 1 and "give more characters" in r.stderr


def test_unique_prefixes(alike):
    conn = store.open_read(alike)
    try:
        prefixes = search.unique_prefixes(conn, IDS)
        assert prefixes == dict(
            zip(IDS, ("deadbee1", "deadbee2abc0", "deadbee2abc1", "0123456"), strict=True)
        )
        for full, prefix in prefixes.items():
            assert search.resolve_id(conn, prefix) == full
    finally:
        conn.close()
