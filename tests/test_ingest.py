"""Ingest: formats, zones, dedup, quarantine accounting, atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents import store
from incidents.ingest import incident_id, ingest_file, normalise_target

HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def incidents(db) -> list[dict]:
    return list(db.query("SELECT * FROM incidents ORDER BY occurred_at"))


def test_own_csv(db, tmp_path):
    f = write(
        tmp_path / "a.csv",
        f"{HEADER}\n"
        "1,2020-10-05T10:00:00+07:00,phishing,http://Bank-VN.example/login,finance,f1,high,open,,fake bank\n"
        "2,2020-10-06T01:00:00Z,deface,www.a.gov.vn.,government,f1,low,closed,,defaced\n",
    )
    r = ingest_file(db, f)
    assert (r.status, r.read, r.accepted, r.duplicate, r.rejected) == ("ok", 2, 2, 0, 0)
    rows = incidents(db)
    assert rows[0]["occurred_at"] == "2020-10-05T03:00:00Z"
    assert rows[0]["target"] == "http://bank-vn.example/login"
    assert rows[0]["target_kind"] == "url"
    assert (rows[0]["taxonomy"], rows[0]["type"]) == ("fraud", "phishing")
    assert rows[1]["target"] == "a.gov.vn"
    assert rows[1]["taxonomy"] == "information-content-security"
    assert json.loads(rows[1]["raw"])["description"] == "defaced"


def test_semicolon_csv_with_bom_vietnamese_labels_naive_local_time(db, tmp_path):
    f = write(
        tmp_path / "partner.csv",
        "id;time;category;target;sector\n"
        "a;2020-07-14 09:12:00;Lừa đảo;shop.vn;commerce\n"
        "b;2020-07-14 23:30:00;THAY ĐỔI GIAO DIỆN;x.edu.vn;education\n"
        "c;2020-07-15 00:10:00;mã độc;10.0.0.1;telecom\n",
        encoding="utf-8-sig",
    )
    r = ingest_file(db, f)
    assert (r.read, r.accepted, r.rejected) == (3, 3, 0)
    rows = incidents(db)
    assert [x["category"] for x in rows] == ["phishing", "deface", "malware"]
    # Naive times are local (UTC+7): 23:30 local is 16:30Z the same day.
    assert rows[1]["occurred_at"] == "2020-07-14T16:30:00Z"
    assert rows[1]["day"] == "2020-07-14"
    assert rows[2]["target_kind"] == "ip"


def test_intelmq_jsonl(db, tmp_path):
    lines = [
        {
            "time.source": "2020-08-01T02:00:00+00:00",
            "classification.taxonomy": "fraud",
            "classification.type": "phishing",
            "source.url": "https://login.example.vn/x",
            "feed.name": "phishtank-vn",
            "extra.sector": "finance",
        },
        # Nested IntelMQ JSON is read the same way.
        {
            "time": {"source": "2020-08-01T03:00:00Z"},
            "classification": {"taxonomy": "malicious-code", "type": "malware-distribution"},
            "source": {"ip": "203.0.113.5"},
            "feed": {"name": "shadowserver"},
        },
    ]
    f = write(tmp_path / "feed.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    r = ingest_file(db, f)
    assert (r.format, r.read, r.accepted) == ("jsonl", 2, 2)
    rows = incidents(db)
    assert rows[0]["feed"] == "phishtank-vn" and rows[0]["sector"] == "finance"
    assert (rows[1]["category"], rows[1]["type"], rows[1]["target"]) == (
        "malware",
        "malware-distribution",
        "203.0.113.5",
    )


def test_json_array_with_epoch_seconds(db, tmp_path):
    records = [
        {"time": 1601870400, "category": "malware", "target": "1.2.3.4"},
        {"time": "1601870401", "category": "deface", "target": "b.gov.vn"},
        {"time": 1601870402000, "category": "deface", "target": "c.gov.vn"},  # milliseconds
    ]
    f = write(tmp_path / "x.json", json.dumps(records, indent=1))
    r = ingest_file(db, f)
    assert (r.format, r.read, r.accepted) == ("json", 3, 3)
    assert incidents(db)[0]["occurred_at"] == "2020-10-05T04:00:00Z"
    assert incidents(db)[2]["occurred_at"] == "2020-10-05T04:00:02Z"


def test_search_engine_hits_export(db, tmp_path):
    doc = {
        "hits": {
            "hits": [
                {
                    "_source": {
                        "@timestamp": "2020-05-01T00:00:00Z",
                        "category": "scanning",
                        "source_ip": "198.51.100.7",
                    }
                }
            ]
        }
    }
    r = ingest_file(db, write(tmp_path / "hits.json", json.dumps(doc)))
    assert (r.read, r.accepted) == (1, 1)


def test_truncated_json_array_keeps_the_good_part(db, tmp_path):
    good = json.dumps({"time": "2020-01-01T00:00:00Z", "category": "deface", "target": "a.vn"})
    f = write(tmp_path / "cut.json", f'[{good}, {good.replace("a.vn", "b.vn")}, {{"time": "2020')
    r = ingest_file(db, f)
    assert (r.status, r.read, r.accepted, r.rejected) == ("ok", 3, 2, 1)
    line, reason = db.execute("SELECT line, reason FROM rejects").fetchone()
    assert line == 3 and reason.startswith("invalid JSON in record 3")


def test_month_boundary_is_local(db, tmp_path):
    f = write(
        tmp_path / "b.csv",
        f"{HEADER}\n1,2020-10-31T20:00:00Z,deface,a.gov.vn,,,,,,\n"
        "2,2020-10-31T16:59:59Z,deface,b.gov.vn,,,,,,\n",
    )
    ingest_file(db, f)
    days = [r["day"] for r in incidents(db)]
    # 16:59:59Z is 23:59:59 local on the 31st; 20:00Z is 03:00 on 1 November in Ho Chi Minh City.
    assert days == ["2020-10-31", "2020-11-01"]


def test_reingest_adds_nothing(db, tmp_path):
    f = write(tmp_path / "a.csv", f"{HEADER}\n1,2020-10-05T10:00:00Z,deface,a.gov.vn,,,,,,\n")
    assert ingest_file(db, f).accepted == 1
    again = ingest_file(db, f)
    assert again.status == "skipped" and "already ingested" in again.message
    forced = ingest_file(db, f, force=True)
    assert (forced.read, forced.accepted, forced.duplicate) == (1, 0, 1)
    assert store.count_incidents(db) == 1


def test_two_feeds_one_incident(db, tmp_path):
    a = write(tmp_path / "a.csv", f"{HEADER}\n1,2020-10-05T08:00:00+07:00,deface,www.A.gov.vn,,feed-a,,,,\n")
    b = write(
        tmp_path / "b.jsonl",
        json.dumps(
            {
                "time.source": "2020-10-05T05:30:00+00:00",
                "classification.taxonomy": "information-content-security",
                "classification.type": "unauthorised-information-modification",
                "source.fqdn": "a.gov.vn.",
                "feed.name": "feed-b",
            }
        )
        + "\n",
    )
    assert ingest_file(db, a).accepted == 1
    r = ingest_file(db, b)
    assert (r.accepted, r.duplicate) == (0, 1)
    # The same target the next local day is a new incident.
    c = write(tmp_path / "c.csv", f"{HEADER}\n1,2020-10-05T18:00:00Z,deface,a.gov.vn,,feed-a,,,,\n")
    assert ingest_file(db, c).accepted == 1


def test_reject_reasons_and_lines(db, tmp_path):
    f = write(
        tmp_path / "bad.csv",
        f"{HEADER}\n"
        "1,2020-10-05T10:00:00Z,deface,ok.gov.vn,,,,,,\n"
        "2,2020-10-05T10:00:00Z,deface\n"
        "3,,deface,x.vn,,,,,,\n"
        "4,not a time,deface,x.vn,,,,,,\n"
        "5,2021-02-30T10:00:00,deface,x.vn,,,,,,\n"
        "6,2020-10-05T10:00:00Z,gardening,x.vn,,,,,,\n"
        "7,2020-10-05T10:00:00Z,deface,x.vn,,,,,,,extra\n",
    )
    r = ingest_file(db, f)
    assert (r.read, r.accepted, r.duplicate, r.rejected) == (7, 1, 0, 6)
    got = dict(db.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall())
    assert got[3].startswith("wrong field count: 3")
    assert got[4] == "missing timestamp"
    assert got[5] == "unparsable timestamp 'not a time'"
    assert got[6] == "impossible date '2021-02-30T10:00:00'"
    assert got[7] == "unknown category 'gardening'"
    assert got[8].startswith("wrong field count: 11")
    run = db.execute("SELECT rows_read, accepted, duplicate, rejected, status FROM ingest_runs").fetchone()
    assert run == (7, 1, 0, 6, "ok")


def test_strict_refuses_the_whole_file(db, tmp_path):
    f = write(
        tmp_path / "bad.csv", f"{HEADER}\n1,2020-10-05T10:00:00Z,deface,ok.gov.vn,,,,,,\n2,,deface,x,,,,,,\n"
    )
    r = ingest_file(db, f, strict=True)
    assert r.status == "refused" and r.message.startswith("line 3: missing timestamp")
    assert store.count_incidents(db) == 0
    assert db.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] == 0


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"name,colour\nx,red\n", "CSV header has no time and category columns"),
        (b'[{"time": ', "invalid JSON in record 1"),
        (b"[1, 2]", "no usable row: all 2 rejected"),
    ],
)
def test_unusable_files(db, tmp_path, content, message):
    f = tmp_path / "x.dat"
    f.write_bytes(content)
    r = ingest_file(db, f)
    assert r.status == "failed" and message in r.message
    assert store.count_incidents(db) == 0


def test_file_with_no_usable_row_keeps_its_rejects(db, tmp_path):
    f = write(tmp_path / "bad.csv", f"{HEADER}\n1,,deface,x,,,,,,\n")
    r = ingest_file(db, f)
    assert r.status == "failed" and r.message.startswith("no usable row")
    assert db.execute("SELECT count(*) FROM rejects").fetchone()[0] == 1


def test_invalid_utf8_row_is_quarantined(db, tmp_path):
    f = tmp_path / "u.csv"
    f.write_bytes(
        (HEADER + "\n1,2020-10-05T10:00:00Z,deface,a.vn,,,,,,\n").encode()
        + b"2,2020-10-05T10:00:00Z,deface,b\xff.vn,,,,,,\n"
    )
    r = ingest_file(db, f)
    assert (r.accepted, r.rejected) == (1, 1)
    assert db.execute("SELECT reason FROM rejects").fetchone()[0].startswith("invalid UTF-8: it looks like")


def test_failed_file_leaves_the_store_as_it_was(db, tmp_path, monkeypatch):
    """A failure in the middle of a file (here: the disk 'fills' after batches were committed) undoes it."""
    from incidents import ingest

    monkeypatch.setattr(ingest, "COMMIT_ROWS", 2_000)
    ok = write(tmp_path / "ok.csv", f"{HEADER}\n1,2020-10-05T10:00:00Z,deface,first.vn,,,,,,\n")
    ingest_file(db, ok)
    big = tmp_path / "big.csv"
    with open(big, "w") as fh:
        fh.write(HEADER + "\n")
        fh.writelines(f"{i},2020-10-05T10:00:00Z,deface,host{i}.vn,,,,,,\n" for i in range(12_000))
    # A trigger makes SQLite fail part-way through the file, as a full disk or a kill would.
    db.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON incidents WHEN NEW.target = 'host9000.vn' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    r = ingest_file(db, big)
    assert r.status == "failed" and "disk full" in r.message and "nothing of this file was kept" in r.message
    assert store.count_incidents(db) == 1
    assert db.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] == 1


def test_normalise_target():
    assert normalise_target("WWW.Example.VN.") == ("example.vn", "domain")
    assert normalise_target("HTTPS://WWW.Example.VN/Login?a=1") == ("https://www.example.vn/Login?a=1", "url")
    assert normalise_target("2001:DB8::1") == ("2001:db8::1", "ip")
    assert normalise_target("  ") == (None, None)


def test_incident_id_is_the_documented_key():
    assert incident_id("deface", "a.vn", "2020-10-05", "x") == incident_id(
        "deface", "a.vn", "2020-10-05", "y"
    )
    assert incident_id("deface", "a.vn", "2020-10-05", "x") != incident_id(
        "phishing", "a.vn", "2020-10-05", "x"
    )
    assert incident_id("deface", None, "2020-10-05", "x") != incident_id("deface", None, "2020-10-05", "y")


GOOD = st.builds(
    lambda host, day, hour, cat: f"{{n}},2020-03-{day:02d}T{hour:02d}:00:00Z,{cat},{host}.vn,,,,,,",
    st.sampled_from(["a", "b", "c", "d"]),
    st.integers(1, 28),
    st.integers(0, 23),
    st.sampled_from(["deface", "phishing", "Mã độc"]),
)
BAD_ROWS = [
    "{n},,deface,x.vn,,,,,,",
    "{n},2020-02-30T00:00:00Z,deface,x.vn,,,,,,",
    "{n},soon,deface,x.vn,,,,,,",
    "{n},2020-03-01T00:00:00Z,deface",
    "{n},2020-03-01T00:00:00Z,deface,x.vn,,,,,,,,",
    "{n},2020-03-01T00:00:00Z,cooking,x.vn,,,,,,",
    "{n},2020-03-01T00:00:00Z,deface,x.vn,,,weird,,,",
]
BAD = st.sampled_from(BAD_ROWS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.one_of(GOOD, BAD), min_size=1, max_size=40))
def test_accounting_always_adds_up(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("prop")
    db = store.open_db(folder / "p.db")
    f = folder / "mix.csv"
    f.write_text(HEADER + "\n" + "\n".join(r.format(n=i) for i, r in enumerate(rows)) + "\n")
    r = ingest_file(db, f)
    assert r.read == len(rows)
    assert r.read == r.accepted + r.duplicate + r.rejected
    bad_lines = [i + 2 for i, row in enumerate(rows) if row in BAD_ROWS]
    stored = [line for (line,) in db.execute("SELECT line FROM rejects ORDER BY line")]
    assert stored == bad_lines
    assert store.count_incidents(db) == r.accepted
    db.close()
