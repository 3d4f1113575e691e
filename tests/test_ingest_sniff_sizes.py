"""Format detection never depends on sizes (issue 15, probe finding 7): a first record longer than the
sniff sample (64 KiB) is read to its end before the format is decided."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from incidents.cli import app
from incidents.ingest.formats import _SNIFF_BYTES, detect_format

runner = CliRunner()


def record(n: int, size: int = 0) -> dict:
    return {
        "time": f"2020-10-05T0{n % 10}:00:00Z",
        "category": "deface",
        "target": f"site{n}.gov.vn",
        "description": "A" * size,
    }


def stored(db_path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("select count(*) from incidents").fetchone()[0]


@pytest.mark.parametrize("size", [70_000, 5_000_000])
def test_a_long_first_record_is_still_json_lines(tmp_path, size):
    path = tmp_path / f"l{size}.jsonl"
    path.write_text(json.dumps(record(1, size)) + "\n" + json.dumps(record(2)) + "\n")
    assert detect_format(path) == "jsonl"
    r = runner.invoke(app, ["ingest", "--db", str(tmp_path / "s.db"), str(path)])
    assert r.exit_code == 0, r.stderr
    assert stored(tmp_path / "s.db") == 2


def test_a_long_first_record_without_a_file_extension(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("\n" + json.dumps(record(1, 70_000)) + "\n" + json.dumps(record(2)) + "\n")
    assert detect_format(path) == "jsonl"


def test_a_pretty_printed_array_longer_than_the_sample_is_json(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([record(n, 200) for n in range(600)], indent=2))
    assert path.stat().st_size > 2 * _SNIFF_BYTES
    assert detect_format(path) == "json"
    r = runner.invoke(app, ["ingest", "--db", str(tmp_path / "s.db"), str(path)])
    assert r.exit_code == 0, r.stderr
    assert stored(tmp_path / "s.db") == 600


def test_a_pretty_printed_search_response_longer_than_the_sample_is_json(tmp_path):
    hits = [{"_id": str(n), "_source": record(n, 200)} for n in range(600)]
    path = tmp_path / "hits.json"
    path.write_text(json.dumps({"took": 3, "hits": {"total": 600, "hits": hits}}, indent=2))
    assert path.stat().st_size > 2 * _SNIFF_BYTES
    assert detect_format(path) == "json"


def test_a_first_value_that_ends_exactly_at_the_sample_end_is_not_the_whole_file(tmp_path):
    # A wrapper-like first line that fills the sample exactly: what follows it decides, not the sample.
    first = {"hits": [record(1)], "pad": ""}
    first["pad"] = "x" * (_SNIFF_BYTES - len(json.dumps(first)))
    line = json.dumps(first)
    assert len(line) == _SNIFF_BYTES
    path = tmp_path / "two.jsonl"
    path.write_text(line + "\n" + json.dumps({"hits": [record(2)]}) + "\n")
    assert detect_format(path) == "jsonl"
    single = tmp_path / "one.json"
    single.write_text(line + "\n\n")
    assert detect_format(single) == "json"


@pytest.mark.parametrize("shift", range(14))
def test_wherever_the_sample_cuts_the_first_record_it_is_json_lines(tmp_path, shift):
    # The sample's end falls in a \u escape, a number, `true`, a key or between tokens.
    first = {"a": "\u00e9\ud83d\ude00" * 3, "n": 123456789, "t": True, "pad": ""}
    first["pad"] = "x" * (_SNIFF_BYTES - len(json.dumps(first)) - shift)
    first["z"] = ["\ud83d\ude00", 1.5, False, None]
    path = tmp_path / "cut.txt"
    path.write_text(json.dumps(first) + "\n" + json.dumps(record(2)) + "\n")
    assert detect_format(path) == "jsonl"


def test_a_first_line_that_is_no_json_does_not_read_the_file(tmp_path):
    # An error inside the sample decides from the sample: JSON Lines whose first line is broken.
    path = tmp_path / "broken.jsonl"
    path.write_text('{"time": oops}\n' + "".join(json.dumps(record(n)) + "\n" for n in range(3000)))
    assert detect_format(path) == "jsonl"
