"""The bulletin quotes the spike detector's alarms of the month (incidents.spikes.store_alarms, issue 3)."""

from __future__ import annotations

import json

import pytest

from incidents import store
from incidents.bulletin import numbers, render
from tests.test_bulletin import incident_rows, seed


@pytest.fixture(scope="module")
def store_alarms():
    spikes = pytest.importorskip("incidents.spikes", reason="the spike detector (issue 3) is not there yet")
    if not hasattr(spikes, "store_alarms"):
        pytest.skip("incidents.spikes has no store_alarms yet (agreed interface, see notes/common.md)")
    return spikes.store_alarms


@pytest.fixture(scope="module")
def spiked(store_alarms, tmp_path_factory):
    """Two years of steady counts, plus 80 extra phishing incidents on 2020-10-14."""
    db = store.open_db(tmp_path_factory.mktemp("spikes") / "spiked.db")
    seed(db)
    with db.atomic():
        store.add_incidents(db, incident_rows({("2020-10-14", "phishing"): 80}, salt="spike"))
    yield db
    db.close()


def test_the_month_s_spike_is_in_the_bulletin(spiked):
    b = numbers.build(spiked, "2020-10")
    assert b.spikes is not None and b.spikes_note is None
    assert all("2020-10-01" <= a.date <= "2020-10-31" for a in b.spikes)
    on_the_day = [a for a in b.spikes if a.date == "2020-10-14"]
    assert on_the_day, [a.explanation for a in b.spikes]
    md = render.markdown(b, "en")
    [episode] = [
        e for e in b.episodes if e.series == "phishing" and e.first_day <= "2020-10-14" <= e.last_day
    ]
    assert f"- {render.episode_text(episode, {}, 'en')}\n" in md and "phishing" in md
    data = json.loads(render.render(b, "en", "json"))
    assert "2020-10-14" in {a["date"] for a in data["spikes"]["values"]}
