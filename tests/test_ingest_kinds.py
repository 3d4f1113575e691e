"""Other instances of the fault kinds of ../shared/cases/ingest/: each test builds its own input in the
shape a real tool writes it (RSIT's own wording, other defang styles, epoch times as spreadsheets mangle
them, IntelMQ's SQL table with nested `extra`, search responses concatenated or gathered in an array)."""

from __future__ import annotations

import json

import pytest

from incidents.ingest import ingest_file


def rows(db) -> list[dict]:
    return list(db.query("SELECT * FROM incidents ORDER BY occurred_at, target"))


def counts(r) -> tuple[int, int, int, int]:
    assert r.read == r.accepted + r.duplicate + r.rejected
    return r.read, r.accepted, r.duplicate, r.rejected


def intelmq_event(n: int, taxonomy: str, type_: str) -> dict:
    return {
        "feed.name": "RT export",
        "time.source": f"2020-10-{10 + n:02d}T05:00:00+00:00",
        "classification.taxonomy": taxonomy,
        "classification.type": type_,
        "source.fqdn": f"host{n}.example.vn",
    }


# RSIT's table (and the ticket systems and spreadsheets that follow it) writes each type by its
# human-readable name; each is the machine name it expands, in the right bulletin category.
RSIT_WORDING = [
    ("Information Gathering", "Scanning", "scanning", "information-gathering", "scanner"),
    ("Intrusion Attempts", "Login Attempts", "intrusion", "intrusion-attempts", "brute-force"),
    ("Intrusion Attempts", "New Attack Signature", "intrusion", "intrusion-attempts", "exploit"),
    (
        "Intrusion Attempts",
        "Exploitation of Known Vulnerabilities",
        "intrusion",
        "intrusion-attempts",
        "ids-alert",
    ),
    ("Availability", "Denial of Service", "ddos", "availability", "dos"),
    ("Availability", "Distributed Denial of Service", "ddos", "availability", "ddos"),
    (
        "Information Content Security",
        "Unauthorised Modification of Information",
        "deface",
        "information-content-security",
        "unauthorised-information-modification",
    ),
    (
        "Information Content Security",
        "Unauthorized access to information",
        "other",
        "information-content-security",
        "unauthorised-information-access",
    ),
    (
        "Information Content Security",
        "Leak of Confidential Information",
        "other",
        "information-content-security",
        "data-leak",
    ),
    (
        "Vulnerable",
        "Potentially Unwanted Accessible Services",
        "other",
        "vulnerable",
        "potentially-unwanted-accessible",
    ),
    ("Vulnerable", "Weak Cryptography", "other", "vulnerable", "weak-crypto"),
    ("Abusive Content", "Child/Sexual/Violent Content", "other", "abusive-content", "violence"),
    ("Other", "Uncategorised", "other", "other", "other"),
]


def test_rsit_human_readable_type_names_are_their_types(db, tmp_path):
    f = tmp_path / "rsit-wording.jsonl"
    events = [intelmq_event(n, tax, typ) for n, (tax, typ, *_) in enumerate(RSIT_WORDING)]
    f.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    r = ingest_file(db, f)
    assert counts(r) == (len(RSIT_WORDING), len(RSIT_WORDING), 0, 0), r.reasons
    got = {x["target"]: (x["category"], x["taxonomy"], x["type"]) for x in rows(db)}
    for n, (_, _, category, taxonomy, type_) in enumerate(RSIT_WORDING):
        assert got[f"host{n}.example.vn"] == (category, taxonomy, type_)


# Defang styles beyond the case's `hxxp` + `[.]`, as IOC-sharing tools and analysts write them: each is
# the live indicator, so that it dedups with the feed that sent it live.
DEFANGED = [
    ("hxxp://a1.example<.>vn/login", "http://a1.example.vn/login"),
    ("hxxp://a1.example<dot>vn/login", "http://a1.example.vn/login"),
    ("hxxp[s]://a1.example.vn/login", "https://a1.example.vn/login"),
    ("hxxps:[//]a1.example.vn/login", "https://a1.example.vn/login"),
    ("ttps://a1.example.vn/login", "https://a1.example.vn/login"),
    ("ttp://a1.example[.]vn/login", "http://a1.example.vn/login"),
    ("https://a1.example.vn/login", "https://a1.example.vn/login"),
]


@pytest.mark.parametrize(("sent", "live"), DEFANGED)
def test_other_defang_styles_are_the_live_indicator(db, tmp_path, sent, live):
    f = tmp_path / "defanged.csv"
    f.write_text(
        "id,time,category,target,feed\n"
        f"P1,2020-10-20T09:00:00+07:00,phishing,{live},openphish\n"
        f"P2,2020-10-20T10:00:00+07:00,phishing,{sent},analyst\n",
        encoding="utf-8",
    )
    r = ingest_file(db, f)
    assert counts(r) == (2, 1, 1, 0), r.reasons
    (only,) = rows(db)
    assert (only["target"], only["target_kind"]) == (live, "url")


# One instant (2019-04-12T06:40:00.008Z) as exports write it: E notation is what a spreadsheet saves for
# a 13-digit millisecond column, a lower-case `z` is RFC 3339's; as text and as JSON numbers.
EPOCH_TEXT = ["1.555051200008E12", "1.555051200008e+12", "1555051200.008", "2019-04-12T06:40:00.008z"]
EPOCH_JSON = [1555051200008, 1555051200.008, 1.555051200008e12, 1555051200008000, "1555051200008"]


@pytest.mark.parametrize("sent", EPOCH_TEXT)
def test_epoch_and_rfc3339_spellings_in_csv(db, tmp_path, sent):
    f = tmp_path / "epoch.csv"
    f.write_text(f"id,time,category,target\nE1,{sent},phishing,a.example.vn\n", encoding="utf-8")
    r = ingest_file(db, f)
    assert counts(r) == (1, 1, 0, 0), r.reasons
    (only,) = rows(db)
    assert (only["occurred_at"], only["day"]) == ("2019-04-12T06:40:00Z", "2019-04-12")


@pytest.mark.parametrize("sent", EPOCH_JSON)
def test_epoch_numbers_in_json(db, tmp_path, sent):
    f = tmp_path / "epoch.jsonl"
    record = {"@timestamp": sent, "classification.taxonomy": "fraud", "classification.type": "phishing"}
    f.write_text(json.dumps(record | {"source.url": "http://a.example.vn/x"}) + "\n", encoding="utf-8")
    r = ingest_file(db, f)
    assert counts(r) == (1, 1, 0, 0), r.reasons
    assert rows(db)[0]["occurred_at"] == "2019-04-12T06:40:00Z"


def test_a_negative_epoch_time_is_out_of_range_not_unparsable(db, tmp_path):
    f = tmp_path / "epoch.csv"
    f.write_text("id,time,category,target\nE1,-1555051200,phishing,a.example.vn\n", encoding="utf-8")
    r = ingest_file(db, f)
    assert counts(r) == (1, 0, 0, 1)
    assert list(r.reasons) == ["timestamp out of range"]


def test_intelmq_sql_table_extra_with_nested_objects(db, tmp_path):
    # IntelMQ's SQL output keeps `extra` as JSON text; a nested object there is the same field as in a
    # JSON event (`extra.sector.name`), and its commas and quotes are CSV-quoted.
    f = tmp_path / "events.csv"
    f.write_text(
        '"id","time.source","time.observation","classification.taxonomy","classification.type",'
        '"source.fqdn","source.url","feed.name","extra","raw"\n'
        '201,"2020-10-31 17:30:00+00","2020-10-31 18:00:02.1+00","intrusions","defacement",'
        '"WWW.Example.Gov.VN.",,"Zone-H","{""sector"": {""name"": ""Government""}, ""notifier"": ""x, y""}",'
        '"aHR0cDovL3d3dy5leGFtcGxlLmdvdi52bi8="\n'
        '202,,"2020-10-30 03:10:00+00","fraud","phishing",,"hxxp://bank.example[.]vn/login","OpenPhish",'
        '"{""industry"": {""name"": ""Finance""}, ""list"": [1, 2]}",\n',
        encoding="utf-8",
    )
    r = ingest_file(db, f)
    assert counts(r) == (2, 2, 0, 0), r.reasons
    got = {x["record_key"].split("\x1f")[1]: x for x in rows(db)}
    assert (got["201"]["category"], got["201"]["target"], got["201"]["sector"], got["201"]["day"]) == (
        "deface",
        "example.gov.vn",
        "government",
        "2020-11-01",
    )
    assert (got["202"]["category"], got["202"]["target"], got["202"]["day"]) == (
        "phishing",
        "http://bank.example.vn/login",
        "2020-10-30",
    )


def search_page(scroll: int, hits: list[dict]) -> dict:
    return {
        "_scroll_id": "FGluY2x1ZGVfY29udGV4dF91dWlk",
        "took": 1,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": 4, "relation": "eq"},
            "max_score": 1.0,
            "hits": [
                {"_index": "intelmq", "_id": f"s{scroll}-{n}", "_score": 1.0, "_source": h}
                for n, h in enumerate(hits)
            ],
        },
    }


PAGES = [
    search_page(1, [intelmq_event(1, "fraud", "phishing"), intelmq_event(2, "intrusions", "defacement")]),
    search_page(
        2, [intelmq_event(3, "malicious-code", "c2-server"), intelmq_event(4, "availability", "ddos")]
    ),
]


def pages_appended(indent) -> str:
    return "".join(json.dumps(p, indent=indent) + "\n" for p in PAGES)


@pytest.mark.parametrize(
    ("layout", "text", "fmt"),
    [
        ("pretty pages appended (curl ?pretty >> file)", pages_appended(2), None),
        ("one-line pages appended, forced json", pages_appended(None), "json"),
        ("one-line pages appended", pages_appended(None), None),
        ("pages gathered in an array", json.dumps(PAGES, indent=1), None),
    ],
)
def test_every_page_of_a_scroll_export_is_read(db, tmp_path, layout, text, fmt):
    f = tmp_path / "scroll.json"
    f.write_text(text, encoding="utf-8")
    r = ingest_file(db, f, fmt=fmt)
    assert counts(r) == (4, 4, 0, 0), (layout, r.format, r.reasons, r.message)
    got = {x["record_key"].split("\x1f")[1]: x["category"] for x in rows(db)}
    assert got == {"s1-0": "phishing", "s1-1": "deface", "s2-0": "malware", "s2-1": "ddos"}


def test_pretty_printed_records_one_after_another(db, tmp_path):
    # `jq . events.jsonl > events.json`: IntelMQ events pretty-printed, one after another.
    f = tmp_path / "events.json"
    events = [intelmq_event(n, "fraud", "phishing") for n in range(3)]
    f.write_text("".join(json.dumps(e, indent=2) + "\n" for e in events), encoding="utf-8")
    r = ingest_file(db, f)
    assert (r.format, *counts(r)) == ("json", 3, 3, 0, 0), r.reasons


def test_a_page_cut_short_after_whole_pages_keeps_what_came_before(db, tmp_path):
    text = pages_appended(2)
    f = tmp_path / "scroll.json"
    f.write_text(text[: text.rindex('"_index"')], encoding="utf-8")
    r = ingest_file(db, f)
    assert r.status == "ok" and r.accepted == 3 and r.rejected == 1, (r.reasons, r.message)
