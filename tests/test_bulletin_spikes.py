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


def test_a_month_the_detector_could_not_judge_says_so_not_that_no_spike_was_seen(spiked, tmp_path):
    """Probe finding: a month before the detector's first verdict (too little history) was published as
    "No spike was detected this month"; a month judged from its middle on claimed the whole month."""
    from incidents.spikes.report import daily_spikes

    judged = daily_spikes(store.store_file(spiked), keep=False).first_judged
    assert judged is not None and "2019-02-01" < judged <= "2019-03-31", judged  # 8 weeks after 2019-01-01
    early = numbers.build(spiked, "2019-01")
    assert early.spikes == [] and early.spikes_judged_from is None
    for lang, words in (("en", "Too little history before this month"), ("vi", "Chưa đủ dữ liệu lịch sử")):
        for text in (render.markdown(early, lang), render.render(early, lang, "html")):
            assert words in text and "No spike was detected" not in text
            assert "Không phát hiện đột biến" not in text
    assert json.loads(render.render(early, "en", "json"))["spikes"]["judged_from"] is None
    month = judged[:7]
    partial = numbers.build(spiked, month)
    assert partial.spikes_judged_from == judged
    if not partial.top_spikes and judged > f"{month}-01":
        md = render.markdown(partial, "en")
        assert "No spike was detected from " in md and "this month" not in md.split("## Spikes")[1][:200]
    assert numbers.build(spiked, "2020-10").spikes_judged_from == "2020-10-01"


def test_a_centre_s_labels_copy_from_before_a_label_was_added_still_renders(spiked, tmp_path):
    """A labels.<lang>.j2 copied into --templates before a release added labels: the new ones come from
    the packaged file, the centre's own words stay."""
    from importlib.resources import files

    packaged = files("incidents.bulletin").joinpath("templates/labels.en.j2").read_text(encoding="utf-8")
    old = "".join(
        line
        for line in packaged.splitlines(keepends=True)
        if '"spikes_unjudged"' not in line and '"no_spikes_from"' not in line
    ).replace("Spikes of the month", "Unusual days")
    (tmp_path / "labels.en.j2").write_text(old, encoding="utf-8")
    md = render.markdown(numbers.build(spiked, "2019-01"), "en", templates_dir=tmp_path)
    assert "## Unusual days" in md and "Too little history before this month" in md


def test_a_labels_file_that_is_no_mapping_is_refused_before_any_figure_is_computed(
    spiked, tmp_path, monkeypatch
):
    """Probe finding: check_folder only parsed the centre's templates, so a labels.<lang>.j2 setting
    `labels` to a list (or failing when evaluated) was refused only after the month's figures and
    spikes had been computed."""
    from incidents import bulletin
    from incidents.bulletin.templating import TemplateProblem

    def no_figures(*args, **kwargs):
        raise AssertionError("figures computed before the templates were checked")

    monkeypatch.setattr(bulletin, "build", no_figures)
    for text, words in (
        ('{% set labels = ["a"] %}\n', "sets `labels` to a list, not a mapping"),
        ('{% set labels = {"org": (1 / 0)} %}\n', "division by zero"),
    ):
        (tmp_path / "labels.en.j2").write_text(text, encoding="utf-8")
        with pytest.raises(TemplateProblem, match="labels.en.j2") as refused:
            bulletin.bulletin_text(spiked, "2020-10", lang="en", templates_dir=tmp_path)
        assert words in str(refused.value)


def test_a_month_whose_data_stops_early_claims_only_the_days_judged(tmp_path):
    """Probe finding: data to 10 July printed "No spike was detected this month" for all of July."""
    pytest.importorskip("incidents.spikes")
    db = store.open_db(tmp_path / "cut.db")
    seed(db, {f"2019-{m:02d}": 900 for m in range(1, 6)})
    db.execute("DELETE FROM incidents WHERE day > '2019-05-10'")
    b = numbers.build(db, "2019-05")
    assert (b.spikes_judged_from, b.spikes_judged_to) == ("2019-05-01", "2019-05-10")
    if not b.top_spikes:
        md = render.markdown(b, "en")
        assert "No spike was detected in the days judged, 1 May 2019 to 10 May 2019" in md
        assert "No spike was detected this month" not in md
    data = json.loads(render.render(b, "en", "json"))["spikes"]
    assert (data["judged_from"], data["judged_to"]) == ("2019-05-01", "2019-05-10")
    whole = numbers.build(db, "2019-04")
    assert (whole.spikes_judged_from, whole.spikes_judged_to) == ("2019-04-01", "2019-04-30")
    db.close()
