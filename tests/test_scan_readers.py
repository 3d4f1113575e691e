"""Log readers: format detection, fields, timestamps, and bad input that must not stop a scan."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.scan import events
from incidents.scan.readers import UnknownFormat, detect_format
from incidents.scan.readers.clock import SyslogYears
from incidents.scan.readers.lines import MAX_LINE_BYTES, LineReader, ReadError, check_text_file
from incidents.scan.readers.syslog import classify

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def load(path: Path, fmt: str | None = None, year: int | None = 2020):
    conn = events.connect()
    read = events.load(conn, path, fmt or detect_format(path), zone=HCM, year=year)
    rows = [
        dict(zip([d[0] for d in c.description], r)) for c in [conn.execute("SELECT * FROM events")] for r in c
    ]
    return read, rows


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


AUTH = (
    "Oct  5 07:00:01 web01 sshd[2001]: Failed password for invalid user oracle from 203.0.113.5 port 40001 ssh2\n"
    "Oct  5 07:00:02 web01 sshd[2002]: Invalid user test from 203.0.113.5 port 40002\n"
    "Oct  5 07:00:03 web01 sshd[2003]: Accepted publickey for deploy from 10.0.0.5 port 50122 ssh2\n"
    "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh "
    "ruser= rhost=218.188.2.4  user=root\n"
    "Oct  5 07:00:04 web01 sshd[2004]: message repeated 3 times: [ Failed password for root from 198.51.100.1 port 1 ssh2]\n"
    "Jun 19 04:09:11 combo syslogd 1.4.1: restart.\n"
)


def test_auth_fields_and_local_time(tmp_path):
    read, rows = load(write(tmp_path, "auth.log", AUTH))
    assert read.fmt == "auth" and read.unparsed == 0 and read.lines == 6
    first = rows[0]
    assert (first["event"], first["user"], first["source_ip"], first["source_port"]) == (
        "failed_password", "oracle", "203.0.113.5", 40001,
    )  # fmt: skip
    # syslog time is local time in the reporting zone (UTC+7)
    assert datetime.fromtimestamp(first["epoch"], UTC) == datetime(2020, 10, 5, 0, 0, 1, tzinfo=UTC)
    assert rows[1]["event"] == "invalid_user" and rows[1]["user"] == "test"
    assert rows[2]["event"] == "accepted"
    assert rows[3]["program"] == "sshd(pam_unix)" and rows[3]["event"] == "auth_failure"
    assert rows[3]["source_ip"] == "218.188.2.4" and rows[3]["user"] == "root"
    # "message repeated 3 times" stands for three failed logins
    assert [r["source_ip"] for r in rows].count("198.51.100.1") == 3
    assert rows[-1]["program"] is None and rows[-1]["message"].startswith("syslogd 1.4.1")


def test_syslog_year_from_mtime_rolls_back_for_later_months():
    years = SyslogYears(year=None, modified=datetime(2021, 1, 3).date())
    assert years.year(1, 2) == 2021
    assert years.year(12, 31) == 2020


def test_syslog_explicit_year_moves_on_at_new_year():
    years = SyslogYears(year=2020, modified=datetime(2030, 1, 1).date())
    assert [years.year(m, 1) for m in (11, 12, 1, 2)] == [2020, 2020, 2021, 2021]


def test_syslog_year_defaults_to_file_mtime(tmp_path):
    path = write(tmp_path, "auth.log", AUTH)
    stamp = datetime(2019, 12, 31, 12, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    _, rows = load(path, year=None)
    assert datetime.fromtimestamp(rows[0]["epoch"], HCM).year == 2019


def test_web_combined_and_quoted_variant(tmp_path):
    plain = '203.0.113.9 - bob [05/Oct/2020:10:00:00 +0700] "GET /a.php?id=1%27%20or%201=1 HTTP/1.1" 500 12 "-" "sqlmap/1.4"'
    path = write(tmp_path, "access.log", plain + "\n" + f'"{plain}"\n')
    read, rows = load(path)
    assert read.fmt == "web" and read.unparsed == 0
    for row in rows:
        assert row["source_ip"] == "203.0.113.9" and row["user"] == "bob" and row["status"] == 500
        assert row["uri_path"] == "/a.php" and row["uri_query"] == "id=1%27%20or%201=1"
        assert row["uri_decoded"] == "/a.php?id=1' or 1=1"
        assert row["user_agent"] == "sqlmap/1.4" and row["referrer"] is None
        assert datetime.fromtimestamp(row["epoch"], UTC) == datetime(2020, 10, 5, 3, tzinfo=UTC)


def test_suricata_json_lines_and_array(tmp_path):
    record = {
        "timestamp": "2020-10-05T01:00:00.000000+0000", "event_type": "alert", "src_ip": "203.0.113.70",
        "dest_ip": "10.2.0.5", "dest_port": 22,
        "alert": {"signature": "ET SCAN Potential SSH Scan", "category": "Attempted Information Leak", "severity": 2},
    }  # fmt: skip
    lines = write(tmp_path, "eve.json", json.dumps(record) + "\n" + json.dumps(record) + "\n")
    array = write(tmp_path, "alerts.json", json.dumps([record, record], indent=2))
    for path in (lines, array):
        read, rows = load(path)
        assert read.fmt == "suricata" and read.events == 2 and read.unparsed == 0
        assert rows[0]["alert_category"] == "Attempted Information Leak" and rows[0]["dest_port"] == 22


def test_truncated_json_array_keeps_the_records_before_the_break(tmp_path):
    record = {"timestamp": "2020-10-05T01:00:00+00:00", "event_type": "alert", "src_ip": "203.0.113.70"}
    text = json.dumps([record, record, record], indent=2)
    read, rows = load(write(tmp_path, "alerts.json", text[: len(text) - 40]))
    assert len(rows) == 2
    assert read.unparsed == 1 and "invalid JSON" in read.rejects[0][2]


def test_dns_bind_and_zeek(tmp_path):
    bind = write(
        tmp_path, "query.log",
        "05-Oct-2020 08:00:01.123 queries: info: client @0x7f3a 10.3.0.22#53211 (evil.example): "
        "query: evil.example IN A +E(0)K (10.3.0.1)\n",
    )  # fmt: skip
    read, rows = load(bind)
    assert (
        read.fmt == "dns" and rows[0]["source_ip"] == "10.3.0.22" and rows[0]["dns_query"] == "evil.example"
    )
    zeek = Path(__file__).resolve().parent.parent / "rules/fixtures/dns-malware-domain/zeek-match.log"
    read, rows = load(zeek)
    assert read.fmt == "dns" and read.unparsed == 0 and len(rows) == 2
    assert (
        rows[0]["dns_query"] == "cdn-sync.test"
        and rows[0]["dns_qtype"] == "A"
        and rows[0]["epoch"] == 1601884800.123456
    )


def test_lines_that_fit_no_format_are_counted_with_their_line(tmp_path):
    path = write(tmp_path, "auth.log", AUTH + "this is not syslog\n" + AUTH)
    read, _ = load(path)
    assert read.unparsed == 1 and read.rejects[0][0] == 7 and "fits no auth line" in read.rejects[0][2]


def test_truncated_last_line_is_named(tmp_path):
    read, rows = load(write(tmp_path, "auth.log", AUTH + "Oct  5 07:0"), fmt="auth")
    assert len(rows) == 8 and read.unparsed == 1
    assert read.rejects[0][0] == 7 and "no final newline" in read.rejects[0][2]


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    raw = AUTH.encode().replace(b"oracle", b"or\xe1cle")
    read, rows = load(write(tmp_path, "auth.log", raw))
    assert read.bad_utf8 == 1 and rows[0]["user"] == "or\ufffdcle" and read.unparsed == 0


def test_ten_megabyte_line_is_skipped_not_held(tmp_path):
    path = write(tmp_path, "auth.log", AUTH.encode() + b"x" * (10 * 1024 * 1024) + b"\n" + AUTH.encode())
    read, rows = load(path, fmt="auth")
    assert len(rows) == 16 and read.unparsed == 1
    line, _, reason = read.rejects[0]
    assert line == 7 and "10,485,760 bytes" in reason


def test_binary_file_is_refused(tmp_path):
    path = write(tmp_path, "core", bytes(range(256)) * 10)
    with pytest.raises(ReadError, match="binary"):
        check_text_file(path)


def test_empty_file_has_no_format(tmp_path):
    with pytest.raises(UnknownFormat, match="empty"):
        detect_format(write(tmp_path, "empty.log", ""))


def test_line_reader_numbers_lines_across_long_ones(tmp_path):
    path = write(tmp_path, "x.log", b"a\n" + b"b" * (MAX_LINE_BYTES + 5) + b"\nc\nd")
    reader = LineReader(path)
    assert list(reader) == [(1, "a"), (3, "c"), (4, "d")]
    assert reader.problems.too_long == [(2, MAX_LINE_BYTES + 5)] and reader.problems.no_final_newline


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_classify_never_raises_on_any_message(message):
    result = classify(message)
    assert len(result) == 4 and (result[0] is None or isinstance(result[0], str))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_reading_arbitrary_bytes_never_raises(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "x.log"
    path.write_bytes(data)
    conn = events.connect()
    for fmt in ("auth", "web", "dns", "suricata"):
        read = events.load(conn, path, fmt, zone=HCM, year=2020)
        assert read.events + read.unparsed <= max(read.lines, 1) * 10_000
