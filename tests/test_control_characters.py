"""Control characters never reach the output raw (issue 15, point 5; probe finding 8): the bulletin (md
and html on stdout) and every CSV/TSV export show ESC, BEL and C1 controls as text (`\\x1b`), the way the
terminal views do (incidents.controls); TAB, LF and CR stay data inside a quoted CSV field."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents.cli import app

runner = CliRunner()

SECTOR = "\x1b[31mred\x1b[0m"  # in the one spelling ingest stores (lower case)
FEED = "feed\x1b]8;;https://evil.example\x07x\x1b]8;;\x07"  # an OSC 8 hyperlink, ended by BEL
DESCRIPTION = "desc \x1b[2J\x1b[H cleared \x07 bell \x85 c1\tand a tab\nand a line"
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("controls")
    src = folder / "hostile.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "time", "category", "target", "sector", "feed", "description"])
        for n in range(3):
            writer.writerow(
                [
                    f"h{n}",
                    "2020-10-06T10:00:00+07:00",
                    "deface",
                    f"t{n}.example.vn",
                    SECTOR,
                    FEED,
                    DESCRIPTION,
                ]
            )
    db = folder / "h.db"
    r = runner.invoke(app, ["ingest", "--db", str(db), str(src)])
    assert r.exit_code == 0, r.stderr
    return db


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_bulletin_shows_control_characters_as_text(hostile_store, fmt):
    r = runner.invoke(
        app, ["bulletin", "--db", str(hostile_store), "--month", "2020-10", "--lang", "en", "--format", fmt]
    )
    assert r.exit_code == 0, r.stderr
    assert not RAW.search(r.stdout), RAW.search(r.stdout)
    assert "\\x1b" in r.stdout and "red" in r.stdout


@pytest.mark.parametrize("flag, delimiter", [("--csv", ","), ("--tsv", "\t")])
def test_csv_and_tsv_exports_show_control_characters_as_text(hostile_store, flag, delimiter):
    args = ["list", "--db", str(hostile_store), "--since", "2020-10-06", "--until", "2020-10-06", "--all"]
    r = runner.invoke(app, [*args, flag])
    assert r.exit_code == 0, r.stderr
    assert not RAW.search(r.stdout), RAW.search(r.stdout)
    rows = list(csv.DictReader(io.StringIO(r.stdout, newline=""), delimiter=delimiter))
    assert len(rows) == 3
    for row in rows:
        assert row["sector"] == "\\x1b[31mred\\x1b[0m"
        assert row["feed"] == "feed\\x1b]8;;https://evil.example\\x07x\\x1b]8;;\\x07"
        # TAB and LF are data inside the quoted field; the other controls are text.
        assert row["description"] == "desc \\x1b[2J\\x1b[H cleared \\x07 bell \\x85 c1\tand a tab\nand a line"


def test_the_spikes_counts_output_shows_control_characters_as_text(tmp_path):
    src = tmp_path / "in.csv"
    lines = ["series,date,count"] + [f"\x1b[31mS\x07,2021-01-{d:02d},{d % 4}" for d in range(1, 29)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["spikes", "--counts", str(src), "--output", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert not RAW.search(text)
    assert {row["series"] for row in csv.DictReader(io.StringIO(text))} == {"\\x1b[31mS\\x07"}


def store_with_description(tmp_path: Path, value: str) -> Path:
    """A store holding one incident (October 2020) whose description is `value`, ingested from CSV."""
    src = tmp_path / "one.csv"
    src.write_text(
        f"id,time,category,target,description\nb1,2020-10-06T10:00:00+07:00,deface,b.example.vn,{value}\n",
        encoding="utf-8",
    )
    db = tmp_path / "one.db"
    assert runner.invoke(app, ["ingest", "--db", str(db), str(src)]).exit_code == 0
    return db


@pytest.mark.parametrize("flag", ["--json", "--nl"])
def test_json_outputs_escape_c1_bidi_and_del_and_parse_to_the_same_text(tmp_path, flag):
    """JSON escapes C0 itself; DEL, C1 (U+009B is CSI) and the bidi overrides are written as \\uXXXX
    too (the probe saw list/show --json print them raw), and the JSON still reads back to the stored
    value (RFC 8259: an escape is the same character)."""
    import json

    value = "x\u202eRLO\x9b31m\x7f\u2066y"
    db = store_with_description(tmp_path, value)
    unsafe = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    r = runner.invoke(app, ["list", "--db", str(db), "--month", "2020-10", flag])
    assert r.exit_code == 0, r.stderr
    assert not unsafe.search(r.stdout)
    rows = json.loads(r.stdout) if flag == "--json" else [json.loads(line) for line in r.stdout.splitlines()]
    rows = rows["incidents"] if isinstance(rows, dict) else rows
    assert [row["description"] for row in rows] == [value]
    shown = runner.invoke(app, ["show", "--db", str(db), rows[0]["id"], "--json"])
    assert shown.exit_code == 0, shown.stderr
    assert not unsafe.search(shown.stdout)
    assert json.loads(shown.stdout)["description"] == value


# Unicode's Bidi_Control property, from PropList.txt (UAX #9): the probe found U+061C printed raw.
BIDI_CONTROL = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_every_bidi_control_is_escaped_by_every_escaper():
    from incidents.alerts.inert import inert
    from incidents.controls import printable, printable_lines
    from incidents.delimited import to_json
    from incidents.tui.fmt import escape_controls

    for ch in BIDI_CONTROL:
        want = f"\\u{ord(ch):04x}"
        for escape in (printable, printable_lines, inert, escape_controls, to_json):
            assert ch not in escape(f"a{ch}b") and want in escape(f"a{ch}b"), (escape.__name__, hex(ord(ch)))


@pytest.mark.parametrize("flag", ["", "--plain", "--csv", "--tsv"])
def test_arabic_letter_mark_and_marks_are_shown_escaped_in_list(tmp_path, flag):
    db = store_with_description(tmp_path, "pay\u061cpal\u200eroute\u200fx")
    r = runner.invoke(app, ["list", "--db", str(db), "--month", "2020-10", *([flag] if flag else [])])
    assert r.exit_code == 0, r.stderr
    assert not any(ch in r.stdout for ch in BIDI_CONTROL), repr(r.stdout)
    assert "\\u061c" in r.stdout.replace("\n", "").replace(" ", "").replace("│", "") or flag == "", r.stdout
