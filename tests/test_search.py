"""incidents.search: filters, counts, pages and one incident with its original record, on a real file."""

from __future__ import annotations

import json
import sqlite3

import pytest

from incidents import search, store
from incidents.search import IncidentFilter, count_incidents, find_incidents, get_incident

SEVERITIES = ("low", "medium", "high", "critical")


def _rows():
    rows = []
    for i in range(60):
        day = f"2020-10-{1 + i % 30:02d}"
        category = ("phishing", "deface", "malware")[i % 3]
        rows.append(
            (
                f"id{i:03d}",
                f"{day}T{i % 24:02d}:00:00Z",
                day,
                category,
                "t",
                "y",
                f"host{i}.Example.vn" if i != 7 else "50%_off.example.vn",
                "domain",
                "192.0.2.1",
                ("government", "finance")[i % 2],
                ("feedA", "feedB", "feed'; DROP TABLE incidents;--")[i % 3],
                SEVERITIES[i % 4],
                "new",
                f"description {i}",
                1 + i // 30,
                json.dumps({"row": i, "note": "[/red] raw"}),
            )
        )
    return rows


@pytest.fixture
def filled(db):
    with db.atomic():
        db.execute(
            "INSERT INTO ingest_runs(id, kind, file, sha256, started_at, status) VALUES "
            "(1, 'ingest', 'a', 'x', 'now', 'ok'), (2, 'ingest', 'b', 'y', 'now', 'ok')"
        )
        store.add_incidents(db, _rows())
    return db


def test_count_and_find_agree_for_every_filter(filled):
    filters = [
        IncidentFilter(),
        IncidentFilter(category="deface"),
        IncidentFilter(since="2020-10-05", until="2020-10-09"),
        IncidentFilter(sector="finance"),
        IncidentFilter(feed="feedB"),
        IncidentFilter(feed="feed'; DROP TABLE incidents;--"),
        IncidentFilter(severity="critical"),
        IncidentFilter(target="EXAMPLE.VN"),
        IncidentFilter(run_id=2),
        IncidentFilter(category="phishing", severity="low", since="2020-10-01", until="2020-10-31"),
        IncidentFilter(category="deface", since="2020-10-05", until="2020-10-09"),  # from day_counts
        IncidentFilter(category="deface", sector="finance"),  # (category, day) index, no day range
        IncidentFilter(sector="finance", since="2020-10-05", until="2020-10-30"),
    ]
    expected = [60, 20, 10, 30, 20, 20, 15, 60, 30, 5, 4, 10, 26]
    for flt, n in zip(filters, expected, strict=True):
        rows = find_incidents(filled, flt, limit=None)
        assert count_incidents(filled, flt) == len(rows) == n, flt
        for r in rows:
            for name in ("category", "sector", "feed", "severity", "run_id"):
                if getattr(flt, name) is not None:
                    assert getattr(r, name) == getattr(flt, name)
            if flt.since:
                assert flt.since <= r.day <= flt.until
    assert filled.execute("SELECT count(*) FROM incidents").fetchone()[0] == 60


def test_target_wildcards_are_literal(filled):
    assert [r.id for r in find_incidents(filled, IncidentFilter(target="50%_"))] == ["id007"]
    assert count_incidents(filled, IncidentFilter(target="%")) == 1
    assert count_incidents(filled, IncidentFilter(target="_")) == 1
    assert count_incidents(filled, IncidentFilter(target="' OR 1=1 --")) == 0


def test_pages_cover_everything_once_newest_first(filled):
    seen = []
    for offset in range(0, 60, 7):
        seen += find_incidents(filled, IncidentFilter(), limit=7, offset=offset)
    assert len(seen) == len({r.id for r in seen}) == 60
    keys = [(r.day, r.occurred_at) for r in seen]
    assert keys == sorted(keys, reverse=True)
    assert find_incidents(filled, IncidentFilter(), limit=10, offset=60) == []


def test_orders(filled):
    by_severity = find_incidents(filled, IncidentFilter(), order="severity", descending=True, limit=None)
    ranks = [SEVERITIES.index(r.severity) for r in by_severity]
    assert ranks == sorted(ranks, reverse=True)
    by_target = find_incidents(filled, IncidentFilter(), order="target", descending=False, limit=None)
    assert [r.target for r in by_target] == sorted(r.target for r in by_target)
    oldest = find_incidents(filled, IncidentFilter(), descending=False, limit=1)[0]
    assert oldest.day == "2020-10-01"
    with pytest.raises(search.SearchError, match="unknown order"):
        find_incidents(filled, IncidentFilter(), order="day; DROP TABLE incidents")


def test_bad_days_are_refused(filled):
    for bad in ("2020-10-05 ", "2020-13-01", "20201005", "2020-10-5"):
        with pytest.raises(search.SearchError, match="YYYY-MM-DD"):
            count_incidents(filled, IncidentFilter(since=bad))


def test_get_incident_has_the_original_record(filled):
    row = get_incident(filled, "id007")
    assert row.target == "50%_off.example.vn"
    assert json.loads(row.raw) == {"row": 7, "note": "[/red] raw"}
    assert row.history == ()
    assert row.as_dict()["raw"] == row.raw
    assert find_incidents(filled, IncidentFilter(target="50%"))[0].raw is None
    assert get_incident(filled, "no-such-id") is None


def test_history_follows_corrections_that_change_the_id(tmp_path):
    """A feed re-sends record R1 twice, each time with another day: `show` of the last version lists both
    earlier versions, newest first, although each correction gave the incident a new id."""
    from incidents import store
    from incidents.ingest import ingest_file

    db = store.open_db(tmp_path / "h.db")
    header = "id,time,category,target,feed"
    for n, day in enumerate(("2020-10-01", "2020-10-02", "2020-10-03")):
        f = tmp_path / f"export{n}.csv"
        f.write_text(f"{header}\nR1,{day}T05:00:00Z,deface,a.gov.vn,feedA\n", encoding="utf-8")
        ingest_file(db, f)
    (current,) = db.execute("SELECT id FROM incidents").fetchall()
    row = get_incident(db.conn, current[0])
    assert row.day == "2020-10-03"
    assert [h["old"]["day"] for h in row.history] == ["2020-10-02", "2020-10-01"]


def test_history_of_a_corrected_record(filled):
    filled.execute("UPDATE incidents SET record_key = 'feedA\x1fr1' WHERE id = 'id001'")
    filled.execute(
        "INSERT INTO incident_history(incident_id, new_incident_id, record_key, run_id, replaced_at, old) "
        "VALUES ('old1', 'id001', 'feedA\x1fr1', 1, '2020-10-03T00:00:00Z', '{\"day\": \"2020-10-01\"}')"
    )
    [version] = get_incident(filled, "id001").history
    assert version["incident_id"] == "old1" and version["old"] == {"day": "2020-10-01"}
    assert get_incident(filled, "id002").history == ()


def test_read_only_connection(filled, db_path):
    filled.conn.commit()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    assert count_incidents(conn, IncidentFilter(category="malware")) == 20
    assert len(find_incidents(conn, IncidentFilter(), limit=5)) == 5
    assert get_incident(conn, "id000").id == "id000"


@pytest.mark.parametrize(
    "flt",
    [
        IncidentFilter(since="2020-10-01", until="2020-10-31"),
        IncidentFilter(since="2020-10-01", until="2020-10-31", category="deface", feed="feedA"),
        IncidentFilter(since="2020-10-01", until="2020-10-31", severity="high", sector="finance"),
    ],
)
def test_day_range_filters_never_read_the_table(filled, flt):
    where, args = search.where_clause(flt)
    plan = " ".join(
        row[3] for row in filled.execute(f"EXPLAIN QUERY PLAN SELECT count(*) FROM incidents {where}", args)
    )
    assert "USING COVERING INDEX incidents_day_category_filters (day>? AND day<?)" in plan, plan
    page_plan = [
        row[3]
        for row in filled.execute(
            f"EXPLAIN QUERY PLAN SELECT id FROM incidents {where} ORDER BY day DESC, occurred_at DESC LIMIT 50",
            args,
        )
    ]
    assert page_plan[0] == "SEARCH incidents USING INDEX incidents_day_category_filters (day>? AND day<?)"
