"""Other instances of the hostile kinds of ../shared/cases/hostile/, each built here in the shape a real
tool or attacker writes it: integers past Python's 4,300-digit limit in JSON, impossible eve dates, ..."""

from __future__ import annotations

import json
from datetime import UTC

import pytest
from typer.testing import CliRunner

from incidents.cli import app
from incidents.ingest import ingest_file
from incidents.scan.readers import eve
from incidents.scan.readers.lines import Rejected

runner = CliRunner()
GOOD = {"time": "2020-10-01T10:00:00+07:00", "category": "malware"}
HUGE = "9" * 5000  # past sys.get_int_max_str_digits() (4,300): json raises a bare ValueError on it


def counts(r) -> tuple[int, int, int, int]:
    assert r.read == r.accepted + r.duplicate + r.rejected
    return r.read, r.accepted, r.duplicate, r.rejected


def records_with_huge_int() -> list[str]:
    return [
        json.dumps(GOOD | {"target": "good1.example.vn"}),
        json.dumps(GOOD | {"target": "big.example.vn"}).replace('"2020-10-01T10:00:00+07:00"', HUGE),
        json.dumps(GOOD | {"target": "n.example.vn", "time": "2020-10-02T10:00:00+07:00"})[:-1]
        + f', "n": -{HUGE}}}',
        json.dumps(GOOD | {"target": "good2.example.vn"}),
    ]


@pytest.mark.parametrize("layout", ["jsonl", "array", "hits", "hits-first"])
def test_an_integer_past_the_int_limit_is_one_record_not_a_traceback(db, tmp_path, layout):
    lines = records_with_huge_int()
    if layout == "hits-first":
        lines = lines[1:] + lines[:1]  # the huge number in the first record, where the layout is sniffed
    if layout == "jsonl":
        text = "\n".join(lines) + "\n"
    elif layout == "array":
        text = "[\n" + ",\n".join(lines) + "\n]"
    else:
        text = '{"hits": {"hits": [' + ",".join(f'{{"_source": {x}}}' for x in lines) + "]}}"
    f = tmp_path / f"big.{'jsonl' if layout == 'jsonl' else 'json'}"
    f.write_text(text, encoding="utf-8")
    r = ingest_file(db, f)
    # The time of 5,000 digits is out of any range; the other number is in a field nobody reads.
    assert counts(r) == (4, 3, 0, 1), r.reasons
    (reason,) = r.reasons
    assert "timestamp" in reason
    targets = {row["target"] for row in db.query("SELECT target FROM incidents")}
    assert targets == {"good1.example.vn", "good2.example.vn", "n.example.vn"}


def eve_record(**fields) -> dict:
    return {
        "timestamp": "2021-01-04T19:48:53.000000+0700", "event_type": "alert", "src_ip": "198.51.100.5",
        "src_port": 42031, "dest_ip": "10.20.0.10", "dest_port": 123, "proto": "TCP",
        "alert": {"signature_id": 2000123, "signature": "ET DOS x", "category": "Attempted Denial of Service",
                  "severity": 2},
    } | fields  # fmt: skip


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("2021-02-30T00:00:00Z", "impossible date '2021-02-30T00:00:00Z'"),
        ("2016-12-31T23:59:60Z", "impossible date '2016-12-31T23:59:60Z'"),
        ("2021-01-04T24:00:00Z", "impossible date '2021-01-04T24:00:00Z'"),
        ("9999-12-31T23:59:59Z", "timestamp out of range '9999-12-31T23:59:59Z'"),
        ("NaN", "unparsable timestamp 'NaN'"),
    ],
)
def test_an_eve_timestamp_that_is_no_time_names_its_value(stamp, reason):
    row = eve.Reader(zone=UTC).parse(1, json.dumps(eve_record(timestamp=stamp)))
    assert row == Rejected(reason)


def test_an_eve_file_with_a_huge_integer_is_scanned_around_it(tmp_path):
    f = tmp_path / "eve.json"
    lines = [json.dumps(eve_record()), json.dumps(eve_record())[:-1] + f', "flow_id": {HUGE}}}']
    lines.append(json.dumps(eve_record(src_ip="198.51.100.7")))
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["scan", "--db", str(tmp_path / "t.db"), "--json", str(f)])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    files = json.loads(result.stdout)["files"]
    assert files[0]["events"] == 3, files
