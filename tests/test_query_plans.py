"""No read command reads the whole incidents table or index (issue 14 point 4).

Every statement a read command sends to SQLite is recorded (a trace callback on each connection), and
its `EXPLAIN QUERY PLAN` must reach the incidents table through an index search: a plan line
`SCAN incidents` is allowed only for a page of the whole table (no WHERE, an index in the ORDER BY's
order, a LIMIT): a filtered scan under a LIMIT reads everything when nothing matches. A store of two years is enough: the plan does not depend on the size, and
SQLite picks it without statistics (no ANALYZE), as on a user's store.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from tests.conftest import add_counts

runner = CliRunner()


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    path = tmp_path_factory.mktemp("plans") / "store.db"
    db = store.open_db(path)
    counts = {}
    for year in (2019, 2020):
        for month in range(1, 13):
            for day in (3, 17):
                for category in ("phishing", "deface", "malware"):
                    counts[(f"{year}-{month:02d}-{day:02d}", category)] = 2
    add_counts(db, counts)
    run = store.start_run(db, file="x.csv", sha256="0" * 64, kind="ingest")
    store.add_rejects(db, run, [(2, "bad,row", "wrong field count")])
    store.finish_run(db, run, read=2, accepted=1, duplicate=0, rejected=1, status="ok")
    db.conn.commit()
    # Spike verdicts kept, as a writer (ingest, alert, spikes) leaves them: readers then read, not judge.
    from incidents.spikes.kept import judge_new_days

    judge_new_days(db)
    db.close()
    return path


def traced_statements(monkeypatch, args: list[str]) -> list[str]:
    """Run one command in-process and return every SQL statement it executed (values inlined)."""
    seen: list[str] = []
    real_connect = sqlite3.connect

    def connect(*a, **kw):
        conn = real_connect(*a, **kw)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    r = runner.invoke(app, args)
    monkeypatch.undo()
    assert r.exit_code in (0, 1), (r.exit_code, r.stderr, r.exception)
    return seen


SCAN_INCIDENTS = re.compile(r"\bSCAN incidents\b(?!_)")


def whole_reads(path, statements: list[str]) -> list[tuple[str, list[str]]]:
    """The statements whose plan scans the incidents table or one of its indexes without a bound."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    bad = []
    try:
        for sql in statements:
            head = sql.lstrip().upper()
            if not head.startswith(("SELECT", "WITH")) or "INCIDENTS" not in head:
                continue
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            scans = [line for line in plan if SCAN_INCIDENTS.search(line)]
            if not scans:
                continue
            paged = (
                re.search(r"\bLIMIT\b", head)
                and not re.search(r"\bWHERE\b", head)
                and not any("TEMP B-TREE FOR ORDER BY" in p for p in plan)
            )
            ordered_by_index = all("INDEX" in line for line in scans)
            if not (paged and ordered_by_index):
                bad.append((sql, plan))
    finally:
        conn.close()
    return bad


READS = [
    ["stats", "--month", "2020-10"],
    ["stats", "--month", "2020-10", "--json"],
    ["list"],
    ["list", "--month", "2020-10"],
    ["list", "--category", "deface"],
    ["list", "--sector", "government"],
    ["list", "--category", "deface", "--sector", "government"],
    ["list", "--category", "deface", "--since", "2020-02-01"],
    ["list", "--month", "2020-10", "--category", "deface", "--sector", "government"],
    ["list", "--feed", "feed-a"],
    ["list", "--severity", "critical"],
    ["list", "--feed", "feed-a", "--category", "deface"],
    ["list", "--order", "category"],
    ["list", "--order", "sector"],
    ["list", "--order", "feed"],
    ["list", "--order", "severity"],
    ["list", "--order", "target"],
    ["list", "--order", "category", "--asc"],
    ["list", "--month", "2020-10", "--order", "target"],
    ["list", "--target", "host1.example"],
    ["list", "--target", "nothing-like-this"],
    ["list", "--month", "2020-10", "--target", "example.vn"],
    ["rejects"],
    ["published", "check"],
    ["bulletin", "--month", "2020-10", "--lang", "en", "--format", "json"],
]


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_read_commands_never_scan_the_incidents_table(two_years, monkeypatch, args):
    statements = traced_statements(monkeypatch, [*args, "--db", str(two_years)])
    assert any("incidents" in s or "rejects" in s or "published" in s for s in statements)
    assert whole_reads(two_years, statements) == []


def test_the_check_finds_a_whole_table_read(two_years):
    """The rule above can fail: LIKE '%x%' over every row, and min/max in one SELECT, are caught."""
    bad = whole_reads(
        two_years,
        [
            "SELECT id FROM incidents WHERE target LIKE '%nothing%' ORDER BY day DESC LIMIT 50",
            "SELECT min(day), max(day) FROM incidents",
            "SELECT count(*) FROM incidents",
        ],
    )
    assert len(bad) == 3
    assert any("min(day), max(day)" in sql for sql, _ in bad)
    assert any("count(*)" in sql for sql, _ in bad)


def test_get_incident_is_one_search(two_years):
    conn = store.open_read(two_years)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    row = store.get_incident(conn, "2020-10-03-deface-1")
    assert row["category"] == "deface"
    conn.close()
    assert whole_reads(two_years, seen) == []


def test_target_search_is_the_substring_match(two_years):
    """The trigram index finds exactly what LIKE finds: case folded, %, _ and quotes taken literally."""
    conn = store.open_read(two_years)
    try:
        for text in (
            "host1",
            "HOST1.EXAMPLE",
            "st1.ex",
            "example.vn",
            "%",
            "host_1",
            'a"b',
            "vn",
            "nope-xyz",
        ):
            clause, args = store.target_match(conn, text)
            got = {r[0] for r in conn.execute(f"SELECT id FROM incidents WHERE {clause}", args)}
            want = {
                r[0]
                for r in conn.execute("SELECT id, target FROM incidents")
                if r[1] is not None and text.lower() in r[1].lower()
            }
            assert got == want, text
    finally:
        conn.close()


def test_target_index_follows_inserts_deletes_changes_and_replaces(db):
    add_counts(db, {("2020-10-05", "deface"): 4})
    db.execute("UPDATE incidents SET target = 'changed.example.org' WHERE id = '2020-10-05-deface-0'")
    db.execute("DELETE FROM incidents WHERE id = '2020-10-05-deface-1'")
    db.execute(
        "INSERT OR REPLACE INTO incidents(id, occurred_at, day, category, taxonomy, type, target) "
        "VALUES ('2020-10-05-deface-2', '2020-10-05T01:00:00Z', '2020-10-05', 'deface', 'a', 'b', 'new.example.org')"
    )
    db.conn.commit()
    # FTS5's own check compares the index with the content table (an error if they disagree).
    db.execute("INSERT INTO incidents_target(incidents_target, rank) VALUES ('integrity-check', 1)")
    for text, ids in (
        ("changed", {"2020-10-05-deface-0"}),
        ("host1.", set()),
        ("host2.", set()),
        ("new.exa", {"2020-10-05-deface-2"}),
        ("host3.example", {"2020-10-05-deface-3"}),
    ):
        clause, args = store.target_match(db, text)
        assert {r[0] for r in db.execute(f"SELECT id FROM incidents WHERE {clause}", args)} == ids, text


def test_day_counts_follow_inserts_deletes_changes_and_replaces(db):
    add_counts(db, {("2020-10-05", "deface"): 4, ("2020-10-06", "phishing"): 2})
    db.execute("UPDATE incidents SET day = '2020-10-07' WHERE id = '2020-10-05-deface-0'")
    db.execute("UPDATE incidents SET category = 'malware' WHERE id = '2020-10-05-deface-1'")
    db.execute("DELETE FROM incidents WHERE id = '2020-10-06-phishing-0'")
    db.execute(
        "INSERT OR REPLACE INTO incidents(id, occurred_at, day, category, taxonomy, type, target) "
        "VALUES ('2020-10-05-deface-2', '2020-10-08T01:00:00Z', '2020-10-08', 'ddos', 'a', 'b', 'x.org')"
    )
    db.conn.commit()
    direct = db.execute(
        "SELECT day, category, count(*) FROM incidents GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    assert store.day_counts(db, by_category=True) == direct
    assert (
        store.day_counts(db)
        == db.execute("SELECT day, count(*) FROM incidents GROUP BY 1 ORDER BY 1").fetchall()
    )
    assert store.day_counts(db, category="deface", since="2020-10-05", until="2020-10-05") == [
        ("2020-10-05", 1)
    ]
    assert store.count_incidents(db) == 5
