"""Format detection by parsing: search-engine wrappers, MISP and TheHive named, encodings, `sep=`."""

from __future__ import annotations

import json

import pytest

from incidents.ingest import ingest_file
from incidents.ingest.formats import FormatError, detect_format

RECORD = {"time": "2020-10-05T10:00:00+07:00", "category": "deface", "target": "a.example.vn"}
RECORD2 = {"time": "2020-10-06T10:00:00+07:00", "category": "phishing", "target": "http://b.example.vn/x"}


def hit(record, i):
    return {"_index": "incidents", "_id": f"h{i}", "_score": 1.0, "_source": record}


SHAPES = {
    "es-one-line": json.dumps(
        {"took": 1, "hits": {"total": {"value": 2}, "hits": [hit(RECORD, 1), hit(RECORD2, 2)]}}
    ),
    "es-pretty": json.dumps({"hits": {"hits": [hit(RECORD, 1), hit(RECORD2, 2)]}}, indent=2),
    "msearch": json.dumps(
        {"responses": [{"hits": {"hits": [hit(RECORD, 1)]}}, {"hits": {"hits": [hit(RECORD2, 2)]}}]}
    ),
    "hits-array": json.dumps([hit(RECORD, 1), hit(RECORD2, 2)]),
    "hits-lines": json.dumps(hit(RECORD, 1)) + "\n" + json.dumps(hit(RECORD2, 2)) + "\n",
    "es-lines": "\n".join(
        json.dumps({"hits": {"hits": [hit(r, i)]}}) for i, r in enumerate([RECORD, RECORD2])
    ),
    "fields-hits": json.dumps(
        {
            "hits": {
                "hits": [
                    {"_id": f"f{i}", "fields": {k: [v] for k, v in r.items()}}
                    for i, r in enumerate([RECORD, RECORD2])
                ]
            }
        }
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_hit_wrapper_is_unwrapped(db, tmp_path, shape):
    f = tmp_path / f"{shape}.json"
    f.write_text(SHAPES[shape], encoding="utf-8")
    r = ingest_file(db, f)
    assert (r.status, r.read, r.accepted, r.rejected) == ("ok", 2, 2, 0), r.message
    assert sorted(x[0] for x in db.execute("SELECT category FROM incidents")) == ["deface", "phishing"]


MISP = {
    "Event": {"info": "Phishing campaign", "Attribute": [{"type": "url", "value": "http://x.example.vn"}]}
}
THEHIVE = {
    "title": "Phishing",
    "type": "external",
    "source": "partner",
    "sourceRef": "42",
    "artifacts": [{"dataType": "url", "data": "http://x.example.vn"}],
    "date": 1601870400000,
}


@pytest.mark.parametrize(
    "doc, name",
    [
        (MISP, "MISP event"),
        (THEHIVE, "TheHive alert"),
        ({"response": [MISP]}, "MISP event"),
        ([MISP], "MISP event"),
    ],
)
@pytest.mark.parametrize("indent", [None, 2, "\t"])
def test_misp_and_thehive_are_named(tmp_path, doc, name, indent):
    f = tmp_path / "export.json"
    f.write_text(json.dumps(doc, indent=indent) + "\n", encoding="utf-8")
    with pytest.raises(FormatError, match=f"{name} export, not a supported layout"):
        fmt = detect_format(f)
        from incidents.ingest.formats import read_items

        list(read_items(f, fmt))


def test_excel_unicode_text_utf16(db, tmp_path):
    f = tmp_path / "unicode.txt"
    text = "id\ttime\tcategory\ttarget\r\n1\t2020-10-05T10:00:00+07:00\tLừa đảo\thttp://a.example.vn/x\r\n"
    f.write_bytes(text.encode("utf-16"))
    r = ingest_file(db, f)
    assert (r.status, r.accepted) == ("ok", 1), r.message


def test_sep_line(db, tmp_path):
    f = tmp_path / "excel.csv"
    f.write_text(
        "sep=;\nid;time;category;target\n1;2020-10-05T10:00:00+07:00;deface;a.example.vn\n", encoding="utf-8"
    )
    r = ingest_file(db, f)
    assert (r.status, r.accepted, r.rejected) == ("ok", 1, 0), r.message
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sep=;\nid;time;category;target\n1;2020-10-05T10:00:00+07:00;nosuch;a.example.vn\n", encoding="utf-8"
    )
    r = ingest_file(db, bad)
    assert db.execute("SELECT line FROM rejects").fetchone()[0] == 3


@pytest.mark.parametrize(
    "codec, named", [("cp1258", "Windows-1258 (Vietnamese)"), ("cp1252", "Windows-1252")]
)
def test_legacy_encodings_are_named_with_the_conversion(db, tmp_path, codec, named):
    f = tmp_path / "legacy.csv"
    # Windows-1258 writes Vietnamese as a base letter and a combining tone mark.
    label = "Ma\u0303 \u0111ô\u0323c" if codec == "cp1258" else "Café défacement"
    body = f"id,time,category,target,description\n1,2020-10-05T10:00:00+07:00,deface,a.example.vn,ok\n2,2020-10-05T10:00:00+07:00,deface,b.example.vn,{label}\n"
    f.write_bytes(body.encode(codec))
    r = ingest_file(db, f)
    assert (r.accepted, r.rejected) == (1, 1)
    reason = db.execute("SELECT reason FROM rejects").fetchone()[0]
    assert named in reason and f"iconv -f {codec.upper()} -t UTF-8" in reason


def test_a_fifo_is_refused_at_once(db, tmp_path):
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    r = ingest_file(db, fifo)
    assert r.status == "failed" and r.message == "not a regular file (a FIFO)"  # README: names the kind


@pytest.mark.parametrize(
    "extra",
    [{"extra": {"sector": "energy"}}, {"extra": '{"sector": "energy"}'}, {"extra.sector": "energy"}],
)
def test_intelmq_extra_as_object_json_text_or_flat(db, tmp_path, extra):
    record = {
        "time.source": "2020-10-05T01:00:00+00:00",
        "classification.taxonomy": "malicious-code",
        "classification.type": "infected-system",
        "source.url": "",
        "source.fqdn": "",
        "source.reverse_dns": "bot.example.vn.",
        "feed.provider": "Shadowserver",
        **extra,
    }
    f = tmp_path / "e.jsonl"
    f.write_text(json.dumps(record) + "\n", encoding="utf-8")
    r = ingest_file(db, f)
    assert (r.status, r.accepted) == ("ok", 1)
    got = db.execute("SELECT sector, target, feed FROM incidents").fetchone()
    assert tuple(got) == ("energy", "bot.example.vn", "Shadowserver")


@pytest.mark.parametrize(
    "sep_line",
    ['"sep=;"', "sep=;;;;;;;;;", '"sep=;";;;', "SEP=;", "\ufeffsep=;;;", '"sep=;"\r'],
)
def test_excel_resaved_sep_line_is_skipped(db, tmp_path, sep_line):
    f = tmp_path / "excel.csv"
    f.write_text(
        f"{sep_line}\nid;time;category;target\n1;2020-10-05T10:00:00+07:00;deface;a.example.vn\n"
        "2;2020-10-05T11:00:00+07:00;phishing;http://b.example.vn/x\n",
        encoding="utf-8",
    )
    r = ingest_file(db, f)
    assert (r.status, r.read, r.accepted, r.rejected) == ("ok", 2, 2, 0), r.message


def test_excel_resaved_sep_line_with_comma(db, tmp_path):
    f = tmp_path / "excel.csv"
    f.write_text('"sep=,",,,\nid,time,category,target\n1,2020-10-05T10:00:00+07:00,deface,a.example.vn\n')
    r = ingest_file(db, f)
    assert (r.status, r.accepted) == ("ok", 1), r.message


ATTRIBUTE = {
    "id": "1",
    "event_id": "5",
    "type": "url",
    "value": "http://x.example.vn",
    "timestamp": "1603162800",
}


@pytest.mark.parametrize(
    "doc",
    [
        {"response": {"Attribute": [ATTRIBUTE]}},
        {"Attribute": [ATTRIBUTE]},
        {"response": [{"Attribute": ATTRIBUTE}]},
        {"response": {"Event": MISP["Event"]}},
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_misp_attribute_search_is_named(db, tmp_path, doc, indent, suffix):
    f = tmp_path / f"misp{suffix}"
    f.write_text(json.dumps(doc, indent=indent) + "\n", encoding="utf-8")
    r = ingest_file(db, f)
    assert r.status == "failed"
    assert "MISP" in r.message and "export, not a supported layout" in r.message
    assert "\n" not in r.message


def bulk_body(*pairs):
    lines = []
    for action, doc in pairs:
        lines.append(json.dumps(action))
        if doc is not None:
            lines.append(json.dumps(doc))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("suffix", [".ndjson", ".json", ".jsonl"])
def test_elasticsearch_bulk_body_is_read(db, tmp_path, suffix):
    f = tmp_path / f"bulk{suffix}"
    f.write_text(
        bulk_body(
            ({"index": {"_index": "ev", "_id": "b0"}}, RECORD),
            ({"create": {"_index": "ev", "_id": "b1"}}, RECORD2),
            ({"delete": {"_index": "ev", "_id": "b9"}}, None),
            ({"update": {"_index": "ev", "_id": "b2"}}, {"doc": {**RECORD, "target": "c.example.vn"}}),
        ),
        encoding="utf-8",
    )
    r = ingest_file(db, f)
    assert (r.status, r.read, r.accepted, r.rejected) == ("ok", 4, 3, 1), r.message
    assert dict(r.reasons) == {"a _bulk delete action": 1}
    keys = sorted(k.split("\x1f")[1] for (k,) in db.execute("SELECT record_key FROM incidents"))
    assert keys == ["b0", "b1", "b2"]


def test_bulk_id_makes_a_resent_document_a_correction(db, tmp_path):
    f = tmp_path / "bulk.ndjson"
    f.write_text(bulk_body(({"index": {"_id": "b0"}}, RECORD)), encoding="utf-8")
    ingest_file(db, f)
    (tmp_path / "next").mkdir()
    g = tmp_path / "next" / "bulk.ndjson"  # the feed's name is the file's (no feed field)
    g.write_text(bulk_body(({"index": {"_id": "b0"}}, {**RECORD, "time": "2020-10-07T10:00:00+07:00"})))
    r = ingest_file(db, g)
    assert (r.accepted, r.corrected) == (1, 1)
    assert [d for (d,) in db.execute("SELECT day FROM incidents")] == ["2020-10-07"]


def test_a_record_with_an_index_field_is_not_a_bulk_action(db, tmp_path):
    f = tmp_path / "records.jsonl"
    f.write_text(json.dumps({**RECORD, "index": {"x": 1}}) + "\n" + json.dumps(RECORD2) + "\n")
    r = ingest_file(db, f)
    assert (r.read, r.accepted) == (2, 2), r.message
