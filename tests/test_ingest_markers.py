"""Empty-field markers (`\\N`, NULL, "null", "-", "N/A", ...) count as empty in every field."""

from __future__ import annotations

import json

import pytest

from incidents.ingest import ingest_file
from incidents.ingest.records import EMPTY_MARKERS, is_empty

HEADER = "time.source,time.observation,classification.taxonomy,classification.type,source.url,source.fqdn,source.ip,feed.name"


def test_sql_table_nulls_fall_through_to_the_next_candidate(db, tmp_path):
    f = tmp_path / "sql.csv"
    f.write_text(
        HEADER
        + "\n2020-10-20 02:00:00+00,\\N,fraud,phishing,\\N,n1.example.vn,\\N,F"
        + "\n2020-10-20 03:00:00+00,,fraud,phishing,,n1.example.vn,,F2\n",
        encoding="utf-8",
    )
    r = ingest_file(db, f)
    assert (r.status, r.read, r.accepted, r.duplicate, r.rejected) == ("ok", 2, 1, 1, 0), r.message
    assert [x[0] for x in db.execute("SELECT target FROM incidents")] == ["n1.example.vn"]


@pytest.mark.parametrize("marker", [m for m in EMPTY_MARKERS if m] + ["  NULL ", "Null", "NONE"])
def test_a_marker_in_time_source_falls_back_to_time_observation(db, tmp_path, marker):
    rec = {
        "time.source": marker,
        "time.observation": "2020-10-20T09:00:00+00:00",
        "classification.taxonomy": "intrusions",
        "classification.type": "defacement",
        "source.url": marker,
        "source.fqdn": "x.example.vn",
        "source.ip": marker,
        "extra.sector": marker,
        "feed.name": "FJ",
    }
    f = tmp_path / "nulls.jsonl"
    f.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    r = ingest_file(db, f)
    assert (r.status, r.accepted, r.rejected) == ("ok", 1, 0), r.message
    row = db.execute("SELECT occurred_at, target, sector, feed FROM incidents").fetchone()
    assert row == ("2020-10-20T09:00:00Z", "x.example.vn", None, "FJ")


@pytest.mark.parametrize("marker", ["NULL", "\\N", "none"])
def test_csv_null_marker_in_the_only_time_rejects_as_missing(db, tmp_path, marker):
    f = tmp_path / "t.csv"
    f.write_text(
        f"time,category,target\n{marker},deface,a.example.vn\n2020-10-20 10:00,deface,b.example.vn\n"
    )
    r = ingest_file(db, f)
    assert (r.accepted, r.rejected) == (1, 1)
    assert dict(r.reasons) == {"missing timestamp": 1}


def test_real_values_are_not_markers():
    for value in ("N", "0", "nan.example.vn", "none.example.vn", "-1", "null-route", "\\n\\N"):
        assert not is_empty(value), value
