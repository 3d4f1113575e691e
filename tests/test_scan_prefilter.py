"""The block reader and the row filter against the full read: the same counts and the same incidents.

The full read (every line parsed, every row written, the rules' SQL run by SQLite) is the oracle; the
fast path (events.load with the rules' predicates) may only skip what no rule can select.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.scan import events, load_ruleset
from incidents.scan.cover import regex_literals
from incidents.scan.engine import detect
from incidents.scan.prefilter import parse_sql, row_filter
from incidents.scan.readers import EVENT_FIELDS, READERS, detect_format
from incidents.scan.readers.lines import sha256_of

ROOT = Path(__file__).resolve().parent.parent
UTC = ZoneInfo("UTC")


def _rules(rules_dir=None):
    return load_ruleset(rules_dir)[1].rules


def _run(path: Path, fmt: str, rules, fast: bool, year=2020):
    conn = events.connect()
    try:
        mine = [r for r in rules if fmt in r.readers]
        read = events.load(
            conn, path, fmt, zone=UTC, year=year, predicates=[r.predicate for r in mine] if fast else None
        )
        found = []
        if fast and read.masks is not None:  # as scan_file does: rows whose rule bit is clear are skipped
            conn.create_function("may", 2, lambda rowid, bit: read.masks[rowid - 1] >> bit & 1)
        for k, rule in enumerate(mine):
            for e in detect(conn, rule, k if fast and read.masks is not None else None):
                evidence = conn.execute(
                    f"SELECT line, message, source_ip, host FROM events WHERE rowid IN ({','.join('?' * len(e.sample))})"
                    " ORDER BY rowid",
                    e.sample,
                ).fetchall()
                found.append(
                    (
                        rule.id,
                        e.group,
                        e.start,
                        e.end,
                        e.events,
                        e.first_line,
                        e.last_line,
                        e.metric,
                        evidence,
                    )
                )
        counts = (
            read.lines, read.events, read.recognised, read.event_lines, dict(read.skipped), read.unparsed,
            read.rejects, read.bad_utf8, read.cr_only, read.unaccounted,
        )  # fmt: skip
        return counts, sorted(found, key=repr)
    finally:
        conn.close()


def _same(path: Path, fmt: str | None = None, rules=None, year=2020):
    rules = rules if rules is not None else _rules()
    fmt = fmt or detect_format(path)
    full = _run(path, fmt, rules, fast=False, year=year)
    fast = _run(path, fmt, rules, fast=True, year=year)
    assert fast[0] == full[0], f"{path.name}: counts differ"
    assert fast[1] == full[1], f"{path.name}: incidents differ"
    return full


def _fixture_files():
    files = []
    for rule in _rules():
        for fx in rule.fixtures:
            files.append(pytest.param(fx.file, fx.fmt, fx.year, id=f"{fx.file.parent.name}/{fx.file.name}"))
    return files


@pytest.mark.parametrize(("path", "fmt", "year"), _fixture_files())
def test_fixtures_give_the_same_counts_and_incidents(path, fmt, year):
    _same(path, fmt, year=year or 2020)


def test_shared_cases_give_the_same_counts_and_incidents(shared_dir):
    folder = shared_dir / "cases" / "scan"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    sigma = _rules(folder / "sigma-rules")
    files = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix not in (".md", ".java", ".tsv", ".yml")
    ]
    assert files
    for path in files:
        for rules in (None, sigma):
            _same(path, rules=rules, year=2024)


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_sample_logs", ROOT / "scripts" / "make_sample_logs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_logs_give_the_same_counts_and_incidents(tmp_path):
    gen = _generator()
    auth = tmp_path / "auth.log"
    auth.write_text("".join(gen.auth_lines(6000)))
    counts, found = _same(auth, "auth")
    assert found and counts[2] > 1000
    conn = events.connect()
    read = events.load(conn, auth, "auth", zone=UTC, year=2020, predicates=[])
    assert read.sha256 == sha256_of(auth)  # hashed while read, as the run record needs it
    web = tmp_path / "access.log.gz"  # compressed, as logrotate leaves it
    with gzip.open(web, "wt") as fh:
        fh.writelines(gen.web_lines())
    counts, found = _same(web, "web")
    assert found and counts[0] > 4000
    assert events.load(events.connect(), web, "web", zone=UTC, year=2020, predicates=[]).sha256 is None


# Pieces of lines that matter to some reader or rule: headers, sshd messages, URIs with and without
# percent-encoding and '+', rule literals in other cases, non-ASCII text, CRs, quotes and backslashes.
_AUTH_PIECES = [
    "Jan  4 00:00:01 host1 sshd[11]: ", "Jan  4 01:00:01 host1 sshd[12]: ", "Feb 29 10:00:00 h ", "Dec 31 23:59:59 h x: ",
    "<38>Jan  4 00:00:02 h sshd[3]: ", "<38>1 2020-01-04T00:00:03Z h sshd 4 - - ", "Jan  4 00:00:0x h: ",
    "Failed password for root from 198.51.100.7 port 22 ssh2", "Failed password for invalid user x from 198.51.100.8 port 2 ssh2",
    "Invalid user admin from 198.51.100.9 port 3", "FAILED PASSWORD for root", "Accepted publickey for a from 10.0.0.1 port 5 ssh2",
    "sshd(pam_unix)[9]: authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.10  user=root",
    "message repeated 3 times: [ Failed password for root from 198.51.100.11 port 4 ssh2]", "CRON[1]: session opened",
    "error: PAM: Authentication error for root from 198.51.100.12", "Jan  4 00:00:04 ɦost sshd[1]: ", "é", "\r", " ", "",
]  # fmt: skip
_WEB_PIECES = [
    '198.51.100.23 - - [04/Jan/2021:21:27:23 +0700] "GET ', '10.0.0.1 - bob [31/Dec/2099:23:59:59 -0000] "POST ',
    'site.example:443 198.51.100.24 - - [05/Jan/2021:01:02:03 +0000] "PUT ', '"10.0.0.2 - - [06/Jan/2021:00:00:00 +0000] "GET ',
    "/index.html", "/uploads/a.php?cmd=id", "/index.php", "/tmp/x.JSP?Exec=1", "/files/", "/x?q=union+select", "/x?q=UNION%20SELECT", "/..%2f..%2fetc/passwd",
    "/a%3Cscript%3E", "/hacked.htm", "/t?q=a+b", "/p\\\" x", "/é?q=ü", " HTTP/1.1\" 200 12", " HTTP/1.1\" 404 -",
    ' "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"', ' "-" "sqlmap/1.4"', ' "-" "NIKTO"',
    ' "ref" "ua" "1.2.3.4"', " 0.001", "\r", "",
]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_lines_give_the_same_counts_and_incidents(tmp_path, data):
    fmt = data.draw(st.sampled_from(["auth", "web"]))
    pieces = _AUTH_PIECES if fmt == "auth" else _WEB_PIECES
    line = st.lists(st.sampled_from(pieces), min_size=1, max_size=5).map("".join)
    lines = data.draw(st.lists(line, min_size=1, max_size=40))
    raw = "\n".join(lines) + data.draw(st.sampled_from(["\n", ""]))
    path = tmp_path / f"random-{fmt}.log"
    path.write_bytes(raw.encode("utf-8", errors="surrogatepass"))
    _same(path, fmt)


# ---- the row filter against SQLite ---------------------------------------------------------------------


@functools.cache
def _filters():
    columns = tuple(EVENT_FIELDS)
    return [(rule, row_filter(parse_sql(rule.predicate), columns)) for rule in _rules()]


_VALUES = st.one_of(
    st.none(), st.integers(-5, 600),
    st.sampled_from(["failed_password", "FAILED_PASSWORD", "sshd(pam_unix)", "/etc/passwd", "UNION SELECT", "K", "ß",
                     "sqlmap", "SqlMap/1", "PUT", "put", "/a.php", "cmd=id", "x&exec=1", "ET SCAN x", "alert", "'", ""]),
    st.text(max_size=8),
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({k: _VALUES for k in ("event", "program", "uri", "uri_decoded", "uri_path",
       "uri_path_decoded", "uri_query", "user_agent", "method", "status", "alert_signature", "event_type",
       "alert_category", "dns_query", "user")}), min_size=1, max_size=20))  # fmt: skip
def test_the_row_filter_never_drops_a_row_sqlite_selects(rows):
    columns = tuple(EVENT_FIELDS)
    conn = events.connect()
    try:
        tuples = [tuple(r.get(c) for c in columns) for r in rows]
        conn.executemany(f"INSERT INTO events VALUES ({','.join('?' * len(columns))})", tuples)
        for rule, keep in _filters():
            selected = {rid for (rid,) in conn.execute(f"SELECT rowid FROM events WHERE {rule.predicate}")}
            for rid in selected:
                assert keep(tuples[rid - 1]), (rule.title, tuples[rid - 1])
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("pattern", "needed"),
    [
        (r"(?i)(^|&)(cmd|exec)=[^&]", {"cmd=", "exec="}),
        (r"\?.*<[/!a-zA-Z]", {"<"}),
        (r"abc(def|gh)+x?yz", {"abc"}),
        (r"a|.*", None),
        (r"[[:alpha:]]x", None),
        (r"x*", None),
    ],
)
def test_regex_literals(pattern, needed):
    found = regex_literals(pattern)
    if needed is None:
        assert found is None
    else:
        assert found is not None and needed <= {x.lower() for x in found} | needed
        for text in ("cmd=1", "a&exec=2", "?q=<b", "abcdefyz"):
            if __import__("re").search(pattern, text):
                assert any(x.lower() in text.lower() for x in found)


def test_every_reader_with_a_block_reader_declares_its_fields():
    for module in READERS.values():
        if hasattr(module.Reader, "fast_line"):
            assert set(module.VERBATIM) <= set(module.COLUMNS)
            assert set(module.DERIVED) <= set(module.COLUMNS)
            assert not set(module.VERBATIM) & set(module.DERIVED)
    assert sqlite3.sqlite_version


def test_one_pass_web_blocks_give_the_same_counts_and_incidents(tmp_path):
    """The web block reader's one-pass search (fastread.OnePass): lines with a literal first, last,
    right after a line that is not plain, alone in a block; runs of unusual lines past _MAX_ODD."""
    plain = '198.51.100.{i} - - [04/Jan/2021:21:27:{s:02d} +0700] "GET /page/{i} HTTP/1.1" 200 {i} "-" "Mozilla/5.0"'
    attack = '203.0.113.7 - - [04/Jan/2021:21:28:{s:02d} +0700] "GET /x?q=union+select+{i} HTTP/1.1" 200 1 "-" "sqlmap/1.4"'
    odd = "not an access log line {i}"
    shapes = [
        [attack, plain, plain, odd, attack, plain, attack],
        [plain] * 50 + [odd, attack] + [plain] * 50,
        [odd] * 260 + [attack, plain],
        [plain] * 30,
        [attack],
    ]
    for k, shape in enumerate(shapes):
        path = tmp_path / f"one-pass-{k}.log"
        path.write_text("".join(t.format(i=i, s=i % 60) + "\n" for i, t in enumerate(shape)))
        _same(path, "web")
