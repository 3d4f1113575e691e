"""Every line a scan reads is an event, a skip with its reason, or a reject (FileRead.unaccounted)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.scan import events
from incidents.scan.readers.syslog import classify

MAXAUTH = (
    "Mar  3 10:00:{s:02d} srv1 sshd[{pid}]: error: maximum authentication attempts exceeded for root "
    "from 198.51.100.31 port {port} ssh2 [preauth]"
)


def load(tmp_path, text: str, fmt: str = "auth") -> events.FileRead:
    log = tmp_path / "x.log"
    log.write_text(text, encoding="utf-8")
    conn = events.connect()
    try:
        return events.load(conn, log, fmt, zone=ZoneInfo("UTC"), year=2020)
    finally:
        conn.close()


def test_max_auth_line_is_a_failed_login():
    message = (
        "error: maximum authentication attempts exceeded for invalid user admin from 198.51.100.31 "
        "port 40000 ssh2 [preauth]"
    )
    assert classify(message) == ("failed_password", "admin", "198.51.100.31", 40000)
    hostile = (
        "error: maximum authentication attempts exceeded for x from 10.10.1.2 port 55555 ssh2 "
        "from 198.51.100.31 port 40000 ssh2 [preauth]"
    )
    assert classify(hostile)[2] == "198.51.100.31"  # the last `from IP port N`, the one sshd wrote


def test_sshd_variants_every_line_accounted(tmp_path):
    lines = [MAXAUTH.format(s=i * 5, pid=1000 + i, port=40000 + i) for i in range(6)]
    lines += [
        "Mar  3 10:01:30 srv1 sshd[1006]: Failed password for root from 198.51.100.31 port 40006 ssh2",
        "Mar  3 10:01:31 srv1 sshd[1006]: Connection closed by 198.51.100.31 port 40006 [preauth]",
        "Mar  3 10:01:32 srv1 CRON[7]: pam_unix(cron:session): session opened for user root",
        "",
        "not syslog at all",
    ]
    read = load(tmp_path, "\n".join(lines) + "\n")
    assert read.lines == 11
    assert (read.event_lines, read.recognised, read.unparsed) == (7, 7, 1)
    assert read.skipped == {"a syslog line that is no sshd/PAM login event": 2, "blank line": 1}
    assert read.unaccounted == 0


_LINE = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=80),
    st.sampled_from(
        [
            MAXAUTH.format(s=1, pid=2, port=3),
            "Mar  3 10:00:00 h sshd[1]: message repeated 3 times: [ Failed password for root from 192.0.2.1 port 22 ssh2]",
            "Mar  3 10:00:00 h sshd[1]: Accepted password for bob from 192.0.2.2 port 22 ssh2",
            "Mar  3 10:00:00 h kernel: hello",
            "-- Boot 0123abcd --",
            "<34>1 - h app - - - msg",
            '192.0.2.1 - - [10/Oct/2020:13:55:36 +0700] "GET / HTTP/1.1" 404 12 "-" "x"',
            '{"timestamp":"2020-10-05T10:00:00+0700","event_type":"alert","src_ip":"192.0.2.1"}',
            "   ",
        ]
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(_LINE, min_size=1, max_size=15), fmt=st.sampled_from(["auth", "web", "suricata", "dns"])
)
def test_lines_equal_events_plus_skipped_plus_rejected(tmp_path, lines, fmt):
    read = load(tmp_path, "\n".join(lines) + "\n", fmt)
    assert read.lines == read.event_lines + sum(read.skipped.values()) + read.unparsed
