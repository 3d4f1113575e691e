"""A correction never deletes an incident another record still reports (incident_records)."""

from __future__ import annotations

import pytest

from incidents import ingest, store
from incidents.ingest import ingest_file

HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description\n"


def feed(tmp_path, name, *rows):
    f = tmp_path / name
    f.write_text(HEADER + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return f


def incidents(db):
    return sorted(db.execute("SELECT day, category, target FROM incidents").fetchall())


def test_a_correction_keeps_the_incident_another_feed_reports(db, tmp_path):
    a = ingest_file(
        db, feed(tmp_path, "a.csv", "A1,2020-10-20T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    b = ingest_file(
        db, feed(tmp_path, "b.csv", "B1,2020-10-20T11:00:00+07:00,deface,x.example.vn,gov,FB,high,new,,b")
    )
    assert (a.accepted, b.duplicate) == (1, 1)
    c = ingest_file(
        db, feed(tmp_path, "a2.csv", "A1,2020-10-21T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    assert (c.accepted, c.corrected) == (1, 1), c.message
    assert incidents(db) == [
        ("2020-10-20", "deface", "x.example.vn"),
        ("2020-10-21", "deface", "x.example.vn"),
    ]
    # FB corrects its report too: now nothing reports the 20th.
    d = ingest_file(
        db, feed(tmp_path, "b2.csv", "B1,2020-10-21T11:00:00+07:00,deface,x.example.vn,gov,FB,high,new,,b")
    )
    assert (d.accepted, d.corrected) == (1, 1)
    assert incidents(db) == [("2020-10-21", "deface", "x.example.vn")]


def test_a_record_corrected_onto_another_records_incident_does_not_absorb_it(db, tmp_path):
    ingest_file(
        db,
        feed(
            tmp_path,
            "c1.csv",
            "A1,2020-10-20T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a",
            "A2,2020-10-20T09:00:00+07:00,deface,y.example.vn,gov,FA,high,new,,a",
        ),
    )
    ingest_file(
        db, feed(tmp_path, "c2.csv", "B7,2020-10-20T10:00:00+07:00,deface,x.example.vn,gov,FB,high,new,,dup")
    )
    ingest_file(
        db, feed(tmp_path, "c3.csv", "B7,2020-10-22T10:00:00+07:00,deface,x.example.vn,gov,FB,high,new,,day")
    )
    assert store.count_incidents(db) == 3  # A1's x on the 20th stays; B7 now reports the 22nd; y
    ingest_file(
        db, feed(tmp_path, "c4.csv", "A2,2020-10-20T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,x")
    )
    # y is reported by nobody any more; A2 is now a duplicate of A1's incident, which it does not absorb.
    (made_by,) = db.execute(
        "SELECT record_key FROM incidents WHERE target = 'x.example.vn' AND day = '2020-10-20'"
    ).fetchone()
    assert made_by == "FA\x1fA1"
    ingest_file(
        db,
        feed(tmp_path, "c5.csv", "A1,2020-10-20T09:00:00+07:00,phishing,x.example.vn,gov,FA,high,new,,cat"),
    )
    # A1 moves to phishing; A2 still reports the defacement of x on the 20th.
    assert incidents(db) == [
        ("2020-10-20", "deface", "x.example.vn"),
        ("2020-10-20", "phishing", "x.example.vn"),
        ("2020-10-22", "deface", "x.example.vn"),
    ]
    assert store.count_incidents(db) == 3


def test_a_record_without_an_id_keeps_its_incident(db, tmp_path):
    ingest_file(
        db, feed(tmp_path, "a.csv", "A1,2020-10-20T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    f = tmp_path / "noid.csv"
    f.write_text("time,category,target,feed\n2020-10-20T10:00:00+07:00,deface,x.example.vn,FN\n")
    assert ingest_file(db, f).duplicate == 1
    ingest_file(
        db, feed(tmp_path, "a2.csv", "A1,2020-10-23T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    assert [d for d, _, _ in incidents(db)] == ["2020-10-20", "2020-10-23"]


def test_an_unshared_correction_still_replaces(db, tmp_path):
    ingest_file(
        db, feed(tmp_path, "a.csv", "A1,2020-10-20T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    ingest_file(
        db, feed(tmp_path, "a2.csv", "A1,2020-10-21T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    assert [d for d, _, _ in incidents(db)] == ["2020-10-21"]


def test_undo_puts_back_the_supports(db, tmp_path, monkeypatch):
    ingest_file(
        db, feed(tmp_path, "a.csv", "A1,2020-10-20T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    ingest_file(
        db, feed(tmp_path, "b.csv", "B1,2020-10-20T11:00:00+07:00,deface,x.example.vn,gov,FB,high,new,,b")
    )
    monkeypatch.setattr(ingest, "BATCH", 1)
    monkeypatch.setattr(ingest, "COMMIT_ROWS", 1)
    bad = feed(
        tmp_path,
        "bad.csv",
        "B1,2020-10-25T11:00:00+07:00,deface,x.example.vn,gov,FB,high,new,,b",
        "A1,2020-10-25T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a",
        "Z,2020-10-25T09:00:00+07:00,nosuch,z.example.vn,gov,FA,high,new,,a",
    )
    assert ingest_file(db, bad, strict=True).status == "refused"
    assert incidents(db) == [("2020-10-20", "deface", "x.example.vn")]
    # Both records support the 20th again: one correction alone does not delete it.
    ingest_file(
        db, feed(tmp_path, "a2.csv", "A1,2020-10-21T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    assert [d for d, _, _ in incidents(db)] == ["2020-10-20", "2020-10-21"]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 0, 2)])
def test_feeds_in_any_order_count_what_they_still_report(db, tmp_path, order):
    files = [
        feed(tmp_path, "fa.csv", "A1,2020-10-20T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a"),
        feed(tmp_path, "fb.csv", "B1,2020-10-20T09:30:00+07:00,deface,x.example.vn,gov,FB,high,new,,b"),
        feed(tmp_path, "fc.csv", "C1,2020-10-20T09:45:00+07:00,deface,x.example.vn,gov,FC,high,new,,c"),
    ]
    for i in order:
        ingest_file(db, files[i])
    ingest_file(
        db, feed(tmp_path, "fa2.csv", "A1,2020-10-21T09:00:00+07:00,deface,x.example.vn,gov,FA,high,new,,a")
    )
    ingest_file(
        db, feed(tmp_path, "fb2.csv", "B1,2020-10-22T09:00:00+07:00,deface,x.example.vn,gov,FB,high,new,,b")
    )
    assert [d for d, _, _ in incidents(db)] == ["2020-10-20", "2020-10-21", "2020-10-22"]  # C1 keeps the 20th
