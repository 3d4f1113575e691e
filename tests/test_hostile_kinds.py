"""Other instances of the hostile kinds of ../shared/cases/hostile/, each built here in the shape a real
tool or attacker writes it: integers past Python's 4,300-digit limit in JSON, impossible eve dates, ..."""

from __future__ import annotations

import json
import shutil
from datetime import UTC
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents.cli import app
from incidents.ingest import ingest_file
from incidents.scan.readers import eve
from incidents.scan.readers.lines import Rejected

runner = CliRunner()
SHIPPED_RULES = Path(__file__).resolve().parent.parent / "rules"
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


# --- NUL bytes in a text file, UTF-16 logs -------------------------------------------------------------

AUTH = "Jan  4 00:{m:02d}:00 mail01 sshd[{pid}]: Failed password for root from 198.51.100.{n} port 22 ssh2\n"


def auth_lines(count: int) -> list[bytes]:
    return [AUTH.format(m=i % 60, pid=1000 + i, n=i % 5 + 1).encode() for i in range(count)]


@pytest.mark.parametrize(
    "hole",
    [b"\x00" * 3000, b"\x00"],  # blocks never written before a power cut; one stray NUL in a line
)
def test_nul_bytes_early_in_a_log_refuse_their_line_not_the_file(tmp_path, hole):
    lines = auth_lines(40)
    f = tmp_path / "auth.log"
    f.write_bytes(b"".join(lines[:5]) + lines[5][:10] + hole + lines[5][10:] + b"".join(lines[6:]))
    result = runner.invoke(app, ["scan", "--db", str(tmp_path / "t.db"), "--year", "2021", "--json", str(f)])
    (report,) = json.loads(result.stdout)["files"]
    assert report["error"] is None, report
    assert (report["fmt"], report["lines"], report["events"]) == ("auth", 40, 39)
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {f}: line 6: fits no auth line")


def test_binary_data_is_still_refused_whole(tmp_path):
    f = tmp_path / "core"
    f.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 40)
    result = runner.invoke(app, ["scan", "--db", str(tmp_path / "t.db"), str(f)])
    assert result.stderr == f"Error: {f}: binary data (NUL bytes), not a text log\n"
    g = tmp_path / "dump.csv"
    g.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    result = runner.invoke(app, ["ingest", "--db", str(tmp_path / "t.db"), str(g)])
    assert result.stderr == f"Error: {g}: binary file (NUL bytes), not a feed export\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf16_log_is_refused_naming_utf16(tmp_path, encoding):
    f = tmp_path / "auth.log"
    f.write_text(b"".join(auth_lines(5)).decode(), encoding=encoding)
    result = runner.invoke(app, ["scan", "--db", str(tmp_path / "t.db"), str(f)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {f}: UTF-16 text, not UTF-8: convert it with `iconv")


def test_a_nul_byte_in_a_csv_field_quarantines_its_row_only(db, tmp_path):
    f = tmp_path / "feed.csv"
    f.write_bytes(
        b"id,time,category,target\n"
        b"g1,2020-10-01T10:00:00+07:00,phishing,good1.example.vn\n"
        b"b1,2020-10-01T10:00:00+07:00,phishing,http://bad.example.vn/\x00x\n"
        b"g2,2020-10-02T10:00:00+07:00,phishing,good2.example.vn\n"
    )
    r = ingest_file(db, f)
    assert counts(r) == (3, 2, 0, 1), r.reasons
    (reject,) = db.query("SELECT line, reason, raw FROM rejects")
    assert reject["reason"] == "a NUL byte in a field (a corrupted row)"
    assert reject["line"] == 3 and "\x00" in reject["raw"]


# --- one record nested too deep among good ones ---------------------------------------------------------

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


def good_record(n: int) -> str:
    return json.dumps(GOOD | {"target": f"good{n}.example.vn", "time": f"2020-10-0{n + 1}T10:00:00+07:00"})


@pytest.mark.parametrize("deep", [DEEP_ARRAY, DEEP_OBJECT])
@pytest.mark.parametrize("layout", ["array", "hits", "hits-first"])
def test_a_record_nested_too_deep_is_refused_alone_in_an_array_or_hits_export(db, tmp_path, deep, layout):
    bad = '{"time": "2020-10-01T10:00:00+07:00", "category": "malware", "x": %s}' % deep  # noqa: UP031
    records = [good_record(0), bad, good_record(1), good_record(2)]
    if layout == "hits-first":
        records = records[1:]
    if layout == "array":
        text = "[" + ",\n".join(records) + "]"
    else:
        text = '{"took": 3, "hits": {"total": 4, "hits": [' + ",".join(f'{{"_source": {r}}}' for r in records)
        text += "]}}"
    f = tmp_path / "export.json"
    f.write_text(text, encoding="utf-8")
    r = ingest_file(db, f)
    good = len(records) - 1
    assert counts(r) == (good + 1, good, 0, 1), r.reasons
    (reason,) = db.query("SELECT reason FROM rejects")
    assert reason["reason"] == "invalid JSON: nested too deep"


def test_an_eve_array_scans_the_records_after_one_nested_too_deep(tmp_path):
    records = [json.dumps(eve_record(src_ip=f"198.51.100.{n}")) for n in range(4)]
    deep = '{"timestamp": "2021-01-04T19:48:53+0700", "x": %s}' % DEEP_ARRAY  # noqa: UP031
    f = tmp_path / "alerts.json"
    f.write_text("[" + ",\n".join(records[:2] + [deep] + records[2:]) + "]", encoding="utf-8")
    result = runner.invoke(app, ["scan", "--db", str(tmp_path / "t.db"), "--json", str(f)])
    (report,) = json.loads(result.stdout)["files"]
    assert (report["lines"], report["events"]) == (5, 4), report
    assert result.stderr == f"Error: {f}: line 3: JSON nested too deep\n"


# --- lines ended by CR alone inside a LF or CRLF file ---------------------------------------------------


def web_lines(count: int) -> list[str]:
    return [
        f'198.51.100.{i % 5 + 1} - - [05/Oct/2020:01:00:{i:02d} +0700] "GET /index.php?id=1%27%20UNION%20SELECT'
        f'%201,2-- HTTP/1.1" 200 5 "-" "sqlmap/1.4"'
        for i in range(count)
    ]


@pytest.mark.parametrize("last", ["\n", "\r", ""])
def test_cr_only_lines_among_lf_and_crlf_lines_are_each_a_line(tmp_path, last):
    lines = web_lines(30)
    f = tmp_path / "access.log"
    text = "\r\n".join(lines[:10]) + "\r\n" + "\r".join(lines[10:20]) + "\r" + "\n".join(lines[20:]) + last
    f.write_bytes(text.encode())
    result = runner.invoke(app, ["scan", "--db", str(tmp_path / "t.db"), "--json", str(f)])
    (report,) = json.loads(result.stdout)["files"]
    assert (report["fmt"], report["lines"], report["events"], report["complete"]) == ("web", 30, 30, True)


def test_mixed_line_ends_split_the_same_without_the_fast_path(tmp_path):
    from incidents.scan.readers.lines import LineReader

    f = tmp_path / "auth.log"
    f.write_bytes(b"a\rb\r\nc\nd\re")
    assert [t for _, t in LineReader(f)] == ["a", "b", "c", "d", "e"]
    assert [n for n, _ in LineReader(f)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"\r\r\n", [""]),  # stray CRs before a LF end that line, as rstrip takes them (hypothesis found it)
        (b"x\r\r\ny\n", ["x", "y"]),
        (b"a\r\rb\nc\n", ["a", "b", "c"]),  # a run of CRs inside a line is one line end
    ],
)
def test_runs_of_cr_split_the_same_in_blocks_and_line_by_line(tmp_path, data, lines):
    from incidents.scan.readers.lines import LineReader

    f = tmp_path / "web.log"
    f.write_bytes(data)
    assert [t for _, t in LineReader(f)] == lines
    blocks = LineReader(f).blocks()
    assert [t.rstrip("\r") for _, b in blocks for t in b.decode().split("\n")[:-1]] == lines


# --- hostile YAML in a custom rule ----------------------------------------------------------------------

RULE_HEAD = "title: Probe\nid: 44444444-4444-4444-4444-444444444444\nlogsource:\n  category: webserver\n"
RULE_TAIL = "  condition: sel\nlevel: high\nincident: {category: intrusion}\n"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- a\n- b\n", "a rule is a YAML mapping (title:, detection:, ...), not a list"),
        ("just text\n", "a rule is a YAML mapping (title:, detection:, ...), not a single value"),
        (
            RULE_HEAD + "detection:\n  sel:\n    c-uri|contains: " + "9" * 5000 + "\n" + RULE_TAIL,
            "YAML error: a value that cannot be read (Exceeds the limit (4300 digits)",
        ),
        (
            RULE_HEAD
            + "detection:\n  sel:\n    c-uri|contains: "
            + "[" * 50_000
            + "]" * 50_000
            + "\n"
            + RULE_TAIL,
            "YAML error: nested too deep",
        ),
        (
            RULE_HEAD
            + "detection:\n  sel:\n    c-uri|contains: x\n  sel:\n    c-uri|contains: y\n"
            + RULE_TAIL,
            "line 8: YAML error: the key 'sel' is written twice",
        ),
        (
            RULE_HEAD + "detection:\n  sel:\n    c-uri|contains: 2021-02-30\n" + RULE_TAIL,
            "YAML error: a value that cannot be read (day is out of range for month)",
        ),
    ],
    ids=["list", "scalar", "huge-int", "deep", "duplicate-key", "impossible-date"],
)
def test_a_hostile_rule_file_is_one_error_line_and_the_other_rules_load(tmp_path, text, said):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(SHIPPED_RULES / "pipeline.yml", rules / "pipeline.yml")
    shutil.copytree(SHIPPED_RULES / "lists", rules / "lists")
    (rules / "bad.yml").write_text(text, encoding="utf-8")
    (rules / "good.yml").write_text(
        RULE_HEAD.replace("4444", "5555") + "detection:\n  sel:\n    c-uri|contains: '/admin'\n" + RULE_TAIL,
        encoding="utf-8",
    )
    log = tmp_path / "access.log"
    log.write_text('198.51.100.7 - - [05/Oct/2020:01:00:00 +0700] "GET /admin HTTP/1.1" 200 5 "-" "curl"\n')
    result = runner.invoke(app, ["scan", "--db", str(tmp_path / "t.db"), "--rules", str(rules), str(log)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: rule bad.yml: {said}"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Probe" in result.stdout  # the good rule ran
