"""Hostile and broken input across every reader (issue 15 point 3).

Each input ends in a clear error or a quarantined row: never a traceback, never a hang, never a lost
good row. Readers: the feed formats of `incidents ingest` (csv, jsonl, json) and the log formats of
`incidents scan` (auth, web, suricata, dns). Properties run with hypothesis; special files (FIFO,
folder, unreadable, empty, CR-only, NUL, invalid UTF-8, a 50 MB line, JSON nested 100,000 deep) are
tried on every reader. Each test's number of inputs is in its settings; the inputs tried per
reader in this run (the figure issue 15 asks for) are in the run's summary, under "figures".
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from incidents.ingest.records import OWN_COLUMNS, is_empty

pytestmark = pytest.mark.hostile
runner = CliRunner()
HEADER = list(OWN_COLUMNS)  # the project's own export schema
FEED_FORMATS = ("csv", "jsonl", "json")
LOG_FORMATS = ("auth", "web", "suricata", "dns")
SPECIAL = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ALLOWED_PREFIXES = ("Error: ", "Note: ", "Warning: ", "Rejected: ")
TRIED: Counter = Counter()  # reader -> hostile inputs tried on it in this run


@pytest.fixture(scope="module", autouse=True)
def tried_per_reader(figures):
    """Report the hostile inputs tried per reader (and SQL metacharacter filter calls) once the module ran."""
    yield
    if TRIED:
        each = ", ".join(f"{reader} {n:,}" for reader, n in sorted(TRIED.items()))
        figures(f"hostile inputs tried per reader: {each}; total {sum(TRIED.values()):,}")


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int):
    """A hang becomes a test failure (SIGALRM interrupts a blocking open() of a FIFO too)."""

    def on_alarm(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def invoke(args: list[str], seconds: int = 30):
    with time_limit(seconds):
        r = runner.invoke(app, args)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args}: traceback: {r.exception!r}") from r.exception
    assert r.exit_code in (0, 1, 2), (r.exit_code, r.stderr)
    if r.exit_code == 2:  # a usage error: Typer's usage block naming the option
        assert "Traceback" not in r.stderr
        return r
    for line in r.stderr.splitlines():
        if line.strip() and not line.startswith(" "):
            assert line.startswith(ALLOWED_PREFIXES), f"{args}: stray stderr line {line!r}"
    return r


@pytest.fixture(scope="module")
def ruleset():
    from incidents.scan import load_ruleset

    return load_ruleset(None)[1]


def ingest(db_path: Path, path: Path, fmt: str | None, seconds: int = 30):
    args = ["ingest", str(path), "--db", str(db_path), "--force", "--json"]
    return invoke([*args, "--format", fmt] if fmt else args, seconds)


def scan(db_path: Path, path: Path, fmt: str, ruleset, seconds: int = 30):
    """One file through the scan with the shipped rules (loaded once for the module)."""
    from zoneinfo import ZoneInfo

    from incidents.scan import scan_file

    db = store.open_db(db_path)
    try:
        with time_limit(seconds):
            return scan_file(db, path, ruleset, fmt=fmt, zone=ZoneInfo("Asia/Ho_Chi_Minh"), year=2020)
    finally:
        db.close()


def stored_count(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    finally:
        conn.close()


def feed_totals(r) -> dict:
    rows = json.loads(r.stdout)
    assert len(rows) == 1
    return rows[0]


# --- random bytes into every reader ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", [None, *FEED_FORMATS])
@SPECIAL
@given(data=st.binary(max_size=2000))
def test_random_bytes_into_ingest(tmp_path, fmt, data):
    TRIED[f"ingest {fmt or 'detected'}"] += 1
    path = tmp_path / "in.dat"
    path.write_bytes(data)
    r = ingest(tmp_path / "s.db", path, fmt)
    if r.exit_code == 0:
        t = feed_totals(r)
        assert t["read"] == t["accepted"] + t["duplicate"] + t["rejected"]


@pytest.mark.parametrize("fmt", LOG_FORMATS)
@SPECIAL
@given(data=st.binary(max_size=2000))
def test_random_bytes_into_scan(tmp_path, ruleset, fmt, data):
    TRIED[f"scan {fmt}"] += 1
    path = tmp_path / "in.log"
    path.write_bytes(data)
    scan(tmp_path / "s.db", path, fmt, ruleset)


# --- good rows with hostile text survive, byte for byte ------------------------------------------------

HOSTILE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=60
) | st.sampled_from(
    [
        "[/red]", "[link=https://evil.example]x[/link]", "[bold red]", "\x1b[31mred\x1b[0m", "\x1b]8;;http://x\x07",
        "'; DROP TABLE incidents; --", '" OR 1=1 --', "%_\\", "=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
        "<script>alert(1)</script>", "line\nbreak", "cr\ronly", "tab\there", "\u202eevil", "\u2028sep", "ﾟ･✿ヾ",
    ]
)  # fmt: skip


def rows_with(descriptions: list[str]) -> list[list[str]]:
    return [
        [f"r{i}", f"2020-10-{i % 28 + 1:02d}T01:00:00Z", "deface", f"h{i}.gov.vn", "government", "feed", "high",
         "new", "203.0.113.7", text]
        for i, text in enumerate(descriptions)
    ]  # fmt: skip


def write_feed(path: Path, fmt: str, rows: list[list[str]]) -> None:
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(HEADER)
        w.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    else:
        records = [dict(zip(HEADER, r)) for r in rows]
        text = (
            "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
            if fmt == "jsonl"
            else json.dumps(records)
        )
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("fmt", FEED_FORMATS)
@FEW
@given(descriptions=st.lists(HOSTILE_TEXT.filter(lambda t: "\x00" not in t), min_size=1, max_size=8))
def test_hostile_text_in_good_rows_is_stored_as_it_was(tmp_path, fmt, descriptions):
    TRIED[f"ingest {fmt}"] += 1
    db_path = tmp_path / f"s-{os.urandom(4).hex()}.db"
    path = tmp_path / f"in.{fmt}"
    write_feed(path, fmt, rows_with(descriptions))
    r = ingest(db_path, path, fmt)
    t = feed_totals(r)
    assert r.exit_code == 0 and t["accepted"] == len(descriptions) and t["rejected"] == 0, r.stderr
    listed = json.loads(invoke(["list", "--db", str(db_path), "--json", "--limit", "100"]).stdout)[
        "incidents"
    ]
    # Stored as it came, but for the surrounding white space that ingest trims; a value that means "no
    # value" (`-`, `NULL`, ...: records.EMPTY_MARKERS) is stored as none.
    assert sorted((row["description"] or "").strip() for row in listed) == sorted(
        "" if is_empty(d.strip()) else d.strip() for d in descriptions
    )
    # The table view prints the same rows without crashing on markup or control characters.
    invoke(["list", "--db", str(db_path), "--limit", "100"])


# --- special files and shapes, on every reader ------------------------------------------------------


def special_file(kind: str, folder: Path, fmt: str) -> Path:
    path = folder / f"{kind}.{fmt}"
    good = {
        "csv": "time,category,target\n2020-10-05T01:00:00Z,deface,a.gov.vn\n",
        "jsonl": '{"time": "2020-10-05T01:00:00Z", "category": "deface", "target": "a.gov.vn"}\n',
        "json": '[{"time": "2020-10-05T01:00:00Z", "category": "deface", "target": "a.gov.vn"}]',
        "auth": "Oct  5 01:00:00 web1 sshd[1]: Failed password for root from 198.51.100.7 port 22 ssh2\n",
        "web": '198.51.100.7 - - [05/Oct/2020:01:00:00 +0700] "GET / HTTP/1.1" 200 5 "-" "curl"\n',
        "suricata": '{"timestamp": "2020-10-05T01:00:00+0700", "event_type": "alert", "src_ip": "198.51.100.7"}\n',
        "dns": "05-Oct-2020 01:00:00.000 client 10.0.0.5#5353 (a.example): query: a.example IN A +\n",
    }[fmt]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.touch()
    elif kind == "unreadable":
        path.write_text(good)
        path.chmod(0)
    elif kind == "cr-only":
        path.write_bytes(good.replace("\n", "\r").encode() * 3)
    elif kind == "nul":
        path.write_bytes(good.encode() + b"\x00\x00garbage\x00\n" + good.encode())
    elif kind == "bad-utf8":
        path.write_bytes(good.encode() + b"\xff\xfe\xc3\x28 broken\n" + good.encode())
    elif kind == "50mb-line":
        with open(path, "wb") as fh:
            fh.write(good.encode())
            fh.write(b"x" * 50_000_000 + b"\n")
            fh.write(good.encode())
    elif kind == "deep-json":
        path.write_text(good + "[" * 100_000 + "]" * 100_000 + "\n" + good)
    return path


SPECIAL_KINDS = (
    "fifo",
    "folder",
    "empty",
    "unreadable",
    "cr-only",
    "nul",
    "bad-utf8",
    "50mb-line",
    "deep-json",
)
# Expected to fail on this branch until the reader fixes land (issue 9 and 10 branches).


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
@pytest.mark.parametrize("fmt", FEED_FORMATS)
def test_special_files_into_ingest(tmp_path, request, kind, fmt):
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode: unreadable cannot be made here")
    TRIED[f"{request.function.__name__.rsplit('_', 1)[1]} {fmt}"] += 1
    path = special_file(kind, tmp_path, fmt)
    r = ingest(tmp_path / "s.db", path, fmt, seconds=60)
    if kind in ("fifo", "folder"):
        assert r.exit_code == 1 and ("not a regular file" in r.stderr or "folder" in r.stderr)
    if kind in ("cr-only", "nul", "bad-utf8", "50mb-line", "deep-json") and fmt != "json":
        # The good rows around the hostile one are stored; the hostile one is quarantined or refused.
        assert stored_count(tmp_path / "s.db") >= 1, r.stderr


@pytest.mark.parametrize("kind", SPECIAL_KINDS)
@pytest.mark.parametrize("fmt", LOG_FORMATS)
def test_special_files_into_scan(tmp_path, request, ruleset, kind, fmt):
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode: unreadable cannot be made here")
    TRIED[f"{request.function.__name__.rsplit('_', 1)[1]} {fmt}"] += 1
    path = special_file(kind, tmp_path, fmt)
    result = scan(tmp_path / "s.db", path, fmt, ruleset, seconds=60)
    if kind in ("fifo", "folder"):
        assert result.error and ("not a regular file" in result.error or "folder" in result.error)


# --- SQL metacharacters in every filter ------------------------------------------------------------

SQL_META = [
    "'",
    '"',
    "'; DROP TABLE incidents; --",
    '" OR 1=1 --',
    "%",
    "_",
    "\\",
    "*",
    ")",
    "2020-10' OR '1'='1",
]


@pytest.mark.parametrize("value", SQL_META)
def test_sql_metacharacters_in_every_filter(small_store, value):
    commands = [
        ["list", "--target", value],
        ["list", "--sector", value],
        ["list", "--category", value],
        ["list", "--month", value],
        ["stats", "--month", value],
        ["bulletin", "--month", value],
        ["rejects", "--run", value],
        ["spikes", "--category", value],
        ["spikes", "--since", value],
    ]
    for args in commands:
        TRIED["filters"] += 1
        r = invoke([*args, "--db", str(small_store)])
        if args[0] == "list" and args[1] in ("--target", "--sector"):
            assert r.exit_code == 0 and "host" not in r.stdout, (args, r.stdout)  # matches nothing
    assert stored_count(small_store) == 5


def test_a_percent_or_underscore_in_target_is_literal(tmp_path):
    db = store.open_db(tmp_path / "s.db")
    from tests.conftest import add_counts

    add_counts(db, {("2020-10-05", "deface"): 12})
    db.execute("UPDATE incidents SET target = 'a_b%c.vn' WHERE id = '2020-10-05-deface-0'")
    db.conn.commit()
    db.close()
    for text, n in (("_b%", 1), ("%", 1), ("_", 1), ("host1", 3), ("host1_", 0)):
        r = invoke(["list", "--db", str(tmp_path / "s.db"), "--target", text, "--json"])
        assert len(json.loads(r.stdout)["incidents"]) == n, text


# --- formula prefixes in CSV output ------------------------------------------------------------------


FORMULAS = ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=cmd", "\r@cmd", " =1+1")


def _formula_cells(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would run: starting, after blanks, with = + - @ (a lone number is data)."""
    return [
        c
        for c in cells
        if c[:1] in ("=", "+", "@", "\t", "\r")
        or c.lstrip(" \t\r\n")[:1] in ("=", "+", "@")
        or (c.lstrip()[:1] == "-" and not _number(c))
    ]


def test_formula_prefixes_are_neutralised_in_list_csv_and_tsv(tmp_path):
    """Every text field of `incidents list --csv/--tsv` (targets, descriptions, feeds, sectors)."""
    from tests.conftest import add_counts

    path = tmp_path / "f.db"
    db = store.open_db(path)
    add_counts(db, {("2020-10-05", "deface"): len(FORMULAS)})
    for k, value in enumerate(FORMULAS):
        db.execute(
            "UPDATE incidents SET target = ?, description = ?, feed = ?, sector = ? WHERE id = ?",
            [value, value, value, value, f"2020-10-05-deface-{k}"],
        )
    db.conn.commit()
    db.close()
    for fmt, delimiter in (("--csv", ","), ("--tsv", "\t")):
        r = invoke(["list", "--db", str(path), "--all", fmt])
        assert r.exit_code == 0, r.stderr
        rows = list(csv.reader(io.StringIO(r.stdout, newline=""), delimiter=delimiter))
        cells = [cell for row in rows[1:] for cell in row]
        assert sum(c.startswith("'") for c in cells) >= 4 * len(FORMULAS)
        assert not _formula_cells(cells), fmt


def test_formula_prefixes_are_neutralised_in_csv_output(tmp_path):
    """`incidents spikes --counts IN --output OUT`: the series names of the user's file."""
    counts = tmp_path / "counts.csv"
    lines = ["series,date,count"]
    for name in FORMULAS:
        lines += [f'"{name.replace(chr(34), chr(34) * 2)}",2020-01-{d:02d},{d % 5}' for d in range(1, 29)]
    counts.write_text("\n".join(lines) + "\n")
    out = tmp_path / "flags.csv"
    invoke(["spikes", "--counts", str(counts), "--output", str(out)], seconds=120)
    with open(out, newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    # OWASP CSV injection: a cell starting with = + - @ tab or CR is prefixed with a single quote.
    assert sum(c.startswith("'") for c in cells) >= len(FORMULAS) * 28
    assert not _formula_cells(cells)


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
