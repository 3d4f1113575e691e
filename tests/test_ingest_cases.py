"""Ingest on the real export shapes of ../shared/cases/ingest/ and the hostile inputs that concern it.

Each test asserts the right counts and values its README gives (issue 9's "Done when").
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from incidents import stats, store
from incidents.cli import app
from incidents.ingest import ingest_file


def rows(db) -> list[dict]:
    return list(db.query("SELECT * FROM incidents ORDER BY occurred_at"))


def case(shared_dir, name):
    return shared_dir / "cases" / "ingest" / name


def hostile(shared_dir, name):
    return shared_dir / "cases" / "hostile" / name


def counts(r) -> tuple[int, int, int, int]:
    assert r.read == r.accepted + r.duplicate + r.rejected
    return r.read, r.accepted, r.duplicate, r.rejected


def test_defanged_url(db, shared_dir):
    r = ingest_file(db, case(shared_dir, "defanged-url.csv"))
    assert r.status == "ok" and counts(r) == (2, 2, 0, 0)
    by_target = {x["target"]: x for x in rows(db)}
    assert by_target["http://bank.example.vn/login"]["category"] == "phishing"
    p2 = by_target["http://vietcombank-secure.example.vn/login"]
    assert "hxxp://vietcombank-secure.example[.]vn/login" in p2["raw"]


def test_intelmq_sql_export(db, shared_dir):
    r = ingest_file(db, case(shared_dir, "intelmq-sql-export.csv"))
    assert counts(r) == (5, 5, 0, 0)
    got = {x["record_key"].split("\x1f")[1]: x for x in rows(db)}
    assert (got["101"]["category"], got["101"]["target"], got["101"]["target_kind"]) == (
        "deface",
        "example.gov.vn",
        "domain",
    )
    assert (got["101"]["sector"], got["101"]["day"]) == ("government", "2020-11-01")
    assert (got["102"]["category"], got["102"]["target"]) == ("phishing", "http://bank.example.vn/login")
    assert (got["103"]["category"], got["103"]["target"], got["103"]["sector"]) == (
        "malware",
        "198.51.100.7",
        "telecom",
    )
    assert got["103"]["target_kind"] == "ip"
    assert (got["104"]["category"], got["104"]["taxonomy"], got["104"]["type"]) == (
        "other",
        "vulnerable",
        "vulnerable-system",
    )
    assert (got["105"]["taxonomy"], got["105"]["type"], got["105"]["day"]) == (
        "intrusion-attempts",
        "brute-force",
        "2020-10-28",
    )


def test_intelmq_null_source_url(db, shared_dir):
    r = ingest_file(db, case(shared_dir, "intelmq-null-source-url.jsonl"))
    assert counts(r) == (2, 1, 1, 0)
    (only,) = rows(db)
    assert (only["category"], only["target"], only["day"]) == ("deface", "example.gov.vn", "2020-11-01")


def test_intelmq_time_observation_only(db, shared_dir):
    r = ingest_file(db, case(shared_dir, "intelmq-time-observation-only.jsonl"))
    assert counts(r) == (3, 3, 0, 0)
    got = sorted((x["category"], x["day"], x["taxonomy"], x["type"]) for x in rows(db))
    assert got == [
        ("intrusion", "2020-10-14", "intrusion-attempts", "ids-alert"),
        ("phishing", "2020-11-01", "fraud", "phishing"),
        ("phishing", "2020-11-01", "fraud", "phishing"),
    ]


def test_rsit_types_without_a_bulletin_category(db, shared_dir):
    r = ingest_file(db, case(shared_dir, "rsit-types-without-a-bulletin-category.jsonl"))
    assert counts(r) == (3, 3, 0, 0)
    assert sorted((x["category"], x["type"]) for x in rows(db)) == [
        ("other", "data-leak"),
        ("other", "outage"),
        ("other", "unauthorised-information-access"),
    ]
    month = stats.month_report(db, "2020-10").as_dict()
    by_category = {name: c["count"] for name, c in month["categories"].items()}
    assert (by_category.get("deface", 0), by_category.get("ddos", 0), by_category["other"]) == (0, 0, 3)


def test_intelmq2_legacy_names(db, shared_dir):
    r = ingest_file(db, case(shared_dir, "intelmq2-legacy-names.jsonl"))
    assert counts(r) == (3, 3, 0, 0)
    assert sorted((x["category"], x["taxonomy"], x["type"]) for x in rows(db)) == [
        ("deface", "information-content-security", "unauthorised-information-modification"),
        ("malware", "malicious-code", "c2-server"),
        ("malware", "malicious-code", "infected-system"),
    ]


@pytest.mark.parametrize(
    "name, fmt", [("es-hits-one-line.json", "json"), ("elasticdump-hits.jsonl", "jsonl")]
)
def test_search_hits(db, shared_dir, name, fmt):
    r = ingest_file(db, case(shared_dir, name))
    assert r.format == fmt and counts(r) == (2, 2, 0, 0)
    assert [(x["category"], x["target"], x["day"]) for x in rows(db)] == [
        ("phishing", "http://bank.example.vn/login", "2020-10-30"),
        ("deface", "example.vn", "2020-11-01"),
    ]


def test_es_hits_one_line_without_final_newline(db, shared_dir, tmp_path):
    f = tmp_path / "hits.json"
    f.write_bytes(case(shared_dir, "es-hits-one-line.json").read_bytes().rstrip(b"\n"))
    r = ingest_file(db, f)
    assert (r.format, counts(r)) == ("json", (2, 2, 0, 0))


def test_idn_targets(db, shared_dir):
    r = ingest_file(db, case(shared_dir, "idn-targets.csv"))
    assert counts(r) == (2, 1, 1, 0)


def test_epoch_ms(db, shared_dir):
    r = ingest_file(db, case(shared_dir, "epoch-ms.csv"))
    assert counts(r) == (1, 1, 0, 0)
    assert rows(db)[0]["occurred_at"] == "2019-04-12T06:40:00Z"


# --- hostile inputs that concern ingest ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name, reason",
    [
        ("02-csv-year-0001.csv", "timestamp out of range"),
        ("03-jsonl-time-nan.jsonl", "unparsable timestamp"),
        ("08-jsonl-url-bad-ipv6.jsonl", "invalid URL"),
        ("13-jsonl-nested-100k.jsonl", "invalid JSON: nested too deep"),
        ("15-hits-export-truncated.json", "invalid JSON in record 2"),
    ],
)
def test_hostile_value_is_quarantined_and_good_rows_go_in(db, shared_dir, name, reason):
    r = ingest_file(db, hostile(shared_dir, name))
    assert r.status == "ok" and r.rejected == 1
    assert r.accepted == r.read - 1
    (got,) = db.execute("SELECT reason FROM rejects").fetchall()
    assert got[0].startswith(reason)


def test_hostile_files_on_one_command_line_each_reported(shared_dir, tmp_path):
    names = ["02-csv-year-0001.csv", "16-csv-random-header.csv", "03-jsonl-time-nan.jsonl"]
    result = CliRunner().invoke(
        app,
        ["ingest", "--db", str(tmp_path / "t.db"), "--json", *(str(hostile(shared_dir, n)) for n in names)],
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output + result.stderr
    assert "Error:" in result.stderr and "invalid UTF-8" in result.stderr
    db = store.open_db(tmp_path / "t.db")
    assert store.count_incidents(db) == 4  # 2 + 2 good rows around the bad files' hostile values


def test_rich_markup_and_formula_fields_are_stored_as_text(db, shared_dir):
    r = ingest_file(db, hostile(shared_dir, "31-csv-rich-markup.csv"))
    assert counts(r) == (2, 1, 0, 1)
    assert rows(db)[0]["description"] == "[link=https://evil.example]click me[/link]"
    r = ingest_file(db, hostile(shared_dir, "33-csv-html-crlf-formula-fields.csv"))
    assert r.status == "ok" and r.rejected == 0


def test_same_host_spellings_are_one_target(db, shared_dir):
    r = ingest_file(db, hostile(shared_dir, "35-csv-same-host-spellings.csv"))
    assert counts(r) == (13, 2, 11, 0)
    assert sorted(x["target"] for x in rows(db)) == ["203.0.113.7", "example-v.vn"]


def test_a_correction_replaces_its_record(db, shared_dir):
    ingest_file(db, hostile(shared_dir, "36-A.csv"))
    r = ingest_file(db, hostile(shared_dir, "36-A-day-corrected.csv"))
    assert (r.accepted, r.corrected, r.duplicate) == (1, 1, 99)
    assert store.count_incidents(db) == 100
    (r0,) = db.query("SELECT * FROM incidents WHERE target = 't0.example.vn'")
    assert r0["day"] == "2020-10-02"
    from incidents.ingest import history_of

    (old,) = history_of(db.conn, r0["id"])
    assert old["old"]["day"] == "2020-10-01" and old["run_id"] == r.run_id
    # Sent a third time, nothing changes.
    again = ingest_file(db, hostile(shared_dir, "36-A-day-corrected.csv"), force=True)
    assert (again.accepted, again.duplicate) == (0, 100)


def test_two_exports_and_an_overlap_count_once(shared_dir, tmp_path):
    """The same events as JSON Lines, then as IntelMQ's SQL table in CSV, then an overlapping next day."""
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(
        '{"time.source": "2020-10-31T17:30:00+00:00", "classification.taxonomy": "information-content-security",'
        ' "classification.type": "unauthorised-information-modification", "source.fqdn": "www.example.gov.vn",'
        ' "feed.name": "Zone-H", "extra": {"sector": "government"}}\n'
        '{"time.source": "2020-10-30T03:00:00+00:00", "classification.taxonomy": "fraud",'
        ' "classification.type": "phishing", "source.url": "http://bank.example.vn/login", "feed.name": "OpenPhish"}\n',
        encoding="utf-8",
    )
    sql = case(shared_dir, "intelmq-sql-export.csv")
    overlap = tmp_path / "next-day.csv"
    lines = sql.read_text(encoding="utf-8").splitlines()
    overlap.write_text(
        "\n".join(
            [
                *lines[:3],
                "106,2020-11-02 01:00:00+00,,fraud,phishing,phishing,,,http://new.example.vn/,OpenPhish,",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    db_path = tmp_path / "t.db"
    result = CliRunner().invoke(app, ["ingest", "--db", str(db_path), str(jsonl), str(sql), str(overlap)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["stats", "--db", str(db_path), "--month", "2020-10", "--json"])
    import json

    month = json.loads(result.stdout)
    by_category = {name: c["count"] for name, c in month["categories"].items()}
    # 2020-10 (local days): phishing 102 (once, though in all three files), malware 103, other 104,
    # intrusion 105; the defacement is on local day 2020-11-01.
    assert (
        by_category["phishing"],
        by_category["malware"],
        by_category["other"],
        by_category["intrusion"],
    ) == (
        1,
        1,
        1,
        1,
    )
    nov = json.loads(
        CliRunner().invoke(app, ["stats", "--db", str(db_path), "--month", "2020-11", "--json"]).stdout
    )
    by_category = {name: c["count"] for name, c in nov["categories"].items()}
    assert (by_category["deface"], by_category["phishing"]) == (1, 1)
