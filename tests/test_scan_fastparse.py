"""The readers' shortcuts against their full paths: the same row for every line.

syslog: `Reader.parse` reads the common sshd lines (Failed password/publickey, Invalid user, Accepted)
with one match; `Reader.parse_full` is the full path (header, tag, then classify). access: `parse` tries
the FAST shape before COMBINED; COMBINED alone is the oracle. lines: the cheap over-long-line check of
the block reader against splitting the block.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.scan.readers import access, syslog
from incidents.scan.readers.clock import SyslogYears
from incidents.scan.readers.lines import LineReader, _has_line_over

ROOT = Path(__file__).resolve().parent.parent
UTC = ZoneInfo("UTC")


def _syslog_reader():
    return syslog.Reader(zone=UTC, years=SyslogYears(year=2020, modified=date(2020, 12, 31)))


def _same_syslog(lines) -> int:
    """Both paths over the same lines in order (each reader with its own state): the same results."""
    fast, full = _syslog_reader(), _syslog_reader()
    shortcut = 0
    for number, text in enumerate(lines, 1):
        known = full._hours.get(text[:9]) is not None
        got, want = fast.parse(number, text), full.parse_full(number, text)
        assert got == want, text
        if known and syslog._EVENT_LINE.match(text, 10) and text[9:10] == ":":
            shortcut += 1
    return shortcut


def _auth_files() -> list[Path]:
    found = sorted((ROOT / "rules" / "fixtures").rglob("*.log")) + sorted(
        (ROOT / "sample_logs" / "raw").glob("auth*")
    )
    return [p for p in found if p.is_file()]


@pytest.mark.parametrize("path", _auth_files(), ids=lambda p: p.name)
def test_syslog_shortcut_reads_every_fixture_line_as_the_full_path(path):
    _same_syslog(text for _, text in LineReader(path))


def test_shortcuts_read_every_shared_case_as_the_full_paths(shared_dir, monkeypatch):
    folder = shared_dir / "cases" / "scan"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    files = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix not in (".md", ".java", ".tsv", ".yml")
    ]
    assert files
    texts = [[text for _, text in LineReader(path)] for path in files]
    shortcut = sum(_same_syslog(lines) for lines in texts)
    assert shortcut  # username-injection.log, utc-server-auth.log, ... have the usual sshd lines
    web = [[access.Reader().parse(n, t) for n, t in enumerate(lines, 1)] for lines in texts]
    oracle = _combined_only(monkeypatch)
    assert web == [[oracle.parse(n, t) for n, t in enumerate(lines, 1)] for lines in texts]


_HEADERS = [
    "Jan  4 00:00:01 ", "Jan  4 00:59:59 ", "Jan  4 01:02:03 ", "Jan  4 00:0x:01 ", "Jan  4 00:00:1 ", "Jan  4 00:00:01.5 ",
    "Jan  4 00:00:01  ", "Feb 30 00:00:01 ", "<38>Jan  4 00:00:01 ", "Jan  4 00:००:01 ",
]  # fmt: skip
_HOSTS = ["h ", "host-1 ", "ɦost ", "", "h  "]
_TAGS = [
    "sshd[11]: ", "sshd[11]:", "sshd: ", "sshd(pam_unix)[2]: ", "Failed: ", "Failed:", "Invalid[1]: ", "x(y z)[1]: ",
    "sshd[]: ", "", "sshd[1] ",
]  # fmt: skip
_MESSAGES = [
    "Failed password for root from 198.51.100.7 port 22 ssh2",
    "Failed password for invalid user x from 198.51.100.8 port 2 ssh2",
    "Failed password for illegal user  from 198.51.100.8 port 99999 ssh2",
    "Failed publickey for a from 10.0.0.1 port 5 ssh2: RSA SHA256:abc",
    "Failed keyboard-interactive/pam for u from 10.0.0.2 port 6 ssh2",
    "Failed password for x from 1.2.3.4 port 5 from 6.7.8.9 port 10 ssh2",
    "Failed password for a user from 1.2.3.4 port 22 ssh2 trailing words",
    "Failed none for u from 1.2.3.4 port 7 ssh2",
    "Failed password for root from 198.51.100.7 port 22",
    "Failed password for root from 198.51.100.7 port 2x ssh2",
    "Invalid user admin from 198.51.100.9 port 3",
    "Invalid user  from 198.51.100.9",
    "Illegal user bob from 198.51.100.9 port 3 [preauth]",
    "Invalid user x from y port 1 [preauth] more",
    "Accepted publickey for a from 10.0.0.1 port 5 ssh2",
    "Accepted password for b from 10.0.0.1 port 5 ssh2: ED25519 SHA256:q",
    "Accepted for from from from port 1",
    "error: PAM: Authentication error for root from 198.51.100.12",
    "message repeated 3 times: [ Failed password for root from 198.51.100.11 port 4 ssh2]",
    "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=",
    "pam_unix(sshd:auth): authentication failure; ruser=a rhost=b ruser= rhost=c user=d e",
    "pam_unix(sshd:auth): authentication failure; rhost=1.2.3.4 user=x",
    "pam_unix(sshd:auth): authentication failure; x authentication failure; ruser= rhost=5.6.7.8",
    "pam_unix(sshd:auth): authentication failure;ruser= rhost=1.2.3.4\tuser=tab",
    "session opened for user root", "", "é from 1.2.3.4 port 1",
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_HEADERS),
            st.sampled_from(_HOSTS),
            st.sampled_from(_TAGS),
            st.sampled_from(_MESSAGES),
        ).map("".join),
        min_size=1,
        max_size=30,
    )
)
def test_syslog_shortcut_reads_random_lines_as_the_full_path(lines):
    _same_syslog(lines)


def test_the_syslog_shortcut_is_taken_for_the_usual_sshd_lines():
    usual = [*_MESSAGES[:4], _MESSAGES[20]]
    lines = [h + "host sshd[1]: " + m for h in ("Jan  4 00:00:01 ", "Jan  4 00:00:02 ") for m in usual]
    assert _same_syslog(lines) >= 5  # the first line of an hour teaches the hour; the rest go the short way


def _combined_only(monkeypatch):
    reader = access.Reader()
    monkeypatch.setattr(access, "FAST", re.compile(r"(?!)"))
    return reader


_WEB_PIECES = [
    '198.51.100.23 - - [04/Jan/2021:21:27:23 +0700] "GET ', '10.0.0.1 - bob [31/Dec/2099:23:59:59 -0000] "POST ',
    'site.example:443 198.51.100.24 - - [05/Jan/2021:01:02:03 +0000] "PUT ', 'a:1 b c [05/Jan/2021:01:02:03 +0000] "GET ',
    '"10.0.0.2 - - [06/Jan/2021:00:00:00 +0000] "GET ', "10.0.0.3 - a b [07/Jan/2021:00:00:00 +0000] \"GET ",
    "x y z [07/Foo/2021:00:00:00 +0000] \"GET ", "/index.html", "/uploads/a.php?cmd=id", "/x?q=union+select",
    "/p\\\" x", " [08/Jan/2021:00:00:00 +0000] \"", " HTTP/1.1\" 200 12", " HTTP/1.1\" 404 -", "\" - -",
    ' "-" "Mozilla/5.0 (compatible)"', ' "ref" "ua" "1.2.3.4"', " 0.001", "\"", "é", "",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(_WEB_PIECES), min_size=1, max_size=6).map("".join), min_size=1, max_size=10
    )
)
def test_access_fast_shape_reads_lines_as_combined_alone(lines):
    fast = access.Reader()
    expected = []
    with pytest.MonkeyPatch.context() as mp:
        oracle = _combined_only(mp)
        expected = [oracle.parse(n, text) for n, text in enumerate(lines, 1)]
    assert [fast.parse(n, text) for n, text in enumerate(lines, 1)] == expected


def test_access_fast_shape_reads_the_fixtures_as_combined_alone(monkeypatch):
    files = [p for p in sorted((ROOT / "rules" / "fixtures").rglob("*")) if p.is_file() and "web" in str(p)]
    files += [p for p in sorted((ROOT / "sample_logs" / "raw").glob("*access*")) if p.is_file()]
    lines = [text for path in files for _, text in LineReader(path)]
    assert any(access.FAST.fullmatch(access._unwrap(t.rstrip())) for t in lines)  # the shortcut is taken
    got = [access.Reader().parse(n, t) for n, t in enumerate(lines, 1)]
    oracle = _combined_only(monkeypatch)
    assert got == [oracle.parse(n, t) for n, t in enumerate(lines, 1)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=8), st.integers(1, 30), st.booleans())
def test_the_over_long_line_check_agrees_with_splitting(lengths, limit, final_lf):
    block = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final_lf else b"")
    assert _has_line_over(block, limit) == (max(map(len, block.split(b"\n"))) > limit)


def test_a_php_site_is_not_read_line_by_line():
    """The web-shell rule wants .php beside an upload folder or cmd=: a PHP site's own pages hold
    none of the shipped web rules' literals, so the block reader parses none of them."""
    from incidents.scan import fastread, load_ruleset

    rules = [r for r in load_ruleset(None)[1].rules if "web" in r.readers]
    plan = fastread.make_plan(access, [r.predicate for r in rules])
    line = (
        '203.0.113.{i} - - [04/Jan/2021:21:27:{s:02d} +0700] "GET /index.php?p={i} HTTP/1.1" 200 5120 '
        '"https://example.vn/wp-admin/admin.php" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"\n'
    )
    block = "".join(line.format(i=i, s=i % 60) for i in range(200)).encode()
    assert fastread.Finder(plan.cover, plan.parse_atoms).starts(block) == set()
    shell = b'203.0.113.9 - - [04/Jan/2021:21:27:00 +0700] "POST /uploads/x.php HTTP/1.1" 200 1 "-" "-"\n'
    assert fastread.Finder(plan.cover, plan.parse_atoms).starts(block + shell) == {len(block)}
