"""Properties of ingest over open-ended input (hypothesis): nothing raises past the row, every row is
accounted for, epoch times are exact, every RSIT pair maps and keeps its own type."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.ingest import ingest_file
from incidents.ingest.records import ALIASES, BadRecord, Plan, expand_extra, parse_time, to_row
from incidents.taxonomy import CATEGORIES, INTELMQ_EXTRA_TYPES, RSIT, classify

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FAR = datetime(2200, 1, 1, tzinfo=UTC)
NAMES = sorted({name for names in ALIASES.values() for name in names} | {"extra"})

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "hxxp://a.example[.]vn/x",
            "http://[::1",
            "http://a.vn:99999/",
            "0001-01-01T00:00:00",
            "NaN",
            "1555051200008",
            "20201031",
            "::ffff:203.0.113.7",
            "203.000.113.007",
            '{"sector": 1}',
            "fraud/phishing",
            "malicious code",
            "c2server",
            "Lừa đảo",
            "nghiêm trọng",
            "9" * 40,
            "\x00",
        ]
    ),
)
value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    hostile_text,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(NAMES), value, min_size=1, max_size=8))
def test_no_value_raises_past_the_row(record):
    record = expand_extra(record)
    try:
        row = to_row(
            record, Plan.for_names(record), naive_zone=ZONE, zone=ZONE, default_feed="f", run_id=1, latest=FAR
        )
    except BadRecord as e:
        assert str(e)
        return
    assert row[3] in CATEGORIES


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.dictionaries(st.sampled_from(NAMES), value, max_size=6), max_size=12))
def test_read_is_accepted_plus_duplicate_plus_rejected(tmp_path_factory, records):
    from incidents import store

    folder = tmp_path_factory.mktemp("p")
    f = folder / "feed.jsonl"
    f.write_text("".join(json.dumps(r, default=str) + "\n" for r in records) or "\n", encoding="utf-8")
    db = store.open_db(folder / "t.db")
    r = ingest_file(db, f)
    assert r.read == r.accepted + r.duplicate + r.rejected
    stored = db.execute("SELECT count(*) FROM incidents").fetchone()[0]
    assert stored == r.accepted - r.corrected
    db.close()


@given(st.integers(946_684_800, 4_102_444_800))
def test_epoch_seconds_are_exact(seconds):
    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    assert parse_time(str(seconds), ZONE, FAR) == expected
    assert parse_time(seconds, ZONE, FAR) == expected


@given(st.integers(946_684_800_000, 4_102_444_800_000))
def test_epoch_milliseconds_are_exact(ms):
    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    assert parse_time(str(ms), ZONE, FAR) == expected
    assert parse_time(ms, ZONE, FAR) == expected
    assert parse_time(f"{ms / 1000:.3f}", ZONE, FAR) == expected


def test_all_digit_values_are_never_iso_basic_dates():
    # 20201031 would be 31 October 2020 in ISO basic format; as epoch seconds it is August 1970 (out of range).
    assert parse_time("1555051200008", ZONE, FAR) == datetime(2019, 4, 12, 6, 40, 0, 8000, tzinfo=UTC)
    assert parse_time("1600000000", ZONE, FAR) == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)
    assert parse_time("1600000000000000", ZONE, FAR) == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)


PAIRS = [(tax, t) for tax, types in RSIT.items() for t in types] + [
    (tax, t) for t, tax in INTELMQ_EXTRA_TYPES.items()
]


@given(st.sampled_from(PAIRS), st.sampled_from([str, str.upper, str.title, lambda s: s.replace("-", " ")]))
def test_every_rsit_pair_maps_and_keeps_its_type(pair, spelling):
    tax, typ = pair
    found = classify(spelling(tax), spelling(typ))
    assert found is not None and found.category in CATEGORIES
    assert (found.taxonomy, found.type) == (tax, typ)


PREFIXES = [b"", b"id,time,category,target\n", b"[", b'{"hits": {"hits": [', b"\xff\xfe", b"sep=;\n", b"{"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.sampled_from(PREFIXES), st.binary(max_size=300))
def test_any_bytes_give_a_result_never_an_exception(tmp_path_factory, prefix, body):
    from incidents import store

    folder = tmp_path_factory.mktemp("b")
    f = folder / "feed.dat"
    f.write_bytes(prefix + body)
    db = store.open_db(folder / "t.db")
    r = ingest_file(db, f)
    assert r.status in ("ok", "failed", "skipped")
    assert r.read == r.accepted + r.duplicate + r.rejected
    db.close()
