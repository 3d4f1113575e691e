"""The October 2020 bulletin built from the shipped sample exports (sample_logs/) states the published figures."""

from __future__ import annotations

import json

import pytest

from incidents import store
from incidents.bulletin import numbers, render
from tests.test_bulletin import LEAD_EN, LEAD_VI


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    demo = pytest.importorskip("incidents.demo", reason="incidents.demo (sample ingest) is not there yet")
    from incidents import ingest

    files = demo.export_files(demo.samples_dir())
    if not files:
        pytest.skip("sample_logs/ holds no incident exports yet")
    db = store.open_db(tmp_path_factory.mktemp("sample") / "sample.db")
    for f in files:
        ingest.ingest_file(db, f)
    yield db
    db.close()


@pytest.fixture(scope="module")
def october(sample_store):
    # alarms=[]: these tests are about the figures; the detector has its own tests and test_bulletin_spikes.
    return numbers.build(sample_store, "2020-10", alarms=[])


def test_vietnamese_lead_on_the_sample_data(october):
    lead = " ".join(render.lead(october, "vi"))
    for phrase in LEAD_VI:
        assert phrase in lead


def test_english_lead_on_the_sample_data(october):
    lead = " ".join(render.lead(october, "en"))
    for phrase in LEAD_EN:
        assert phrase in lead


def test_json_numbers_on_the_sample_data(october, sample_store):
    data = json.loads(render.render(october, "en", "json"))
    total = data["figures"]["total"]
    assert [total[k]["value"] for k in ("count", "previous_month", "same_month_last_year", "year_to_date",
                                        "year_to_date_last_year")] == [582, 524, 580, 4161, 4514]  # fmt: skip
    assert [total[k]["value"] for k in ("month_over_month", "year_over_year", "year_to_date_change")] == [
        11.07,
        0.34,
        -7.82,
    ]
    assert sample_store.execute(total["count"]["provenance"]["sql"]).fetchone()[0] == 582
    assert data["cutoff"] is not None  # the ingest runs finished: the bulletin states when
    assert data["top_sectors"]["values"] and data["top_targets"]["values"]
