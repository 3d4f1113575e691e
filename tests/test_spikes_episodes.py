"""Episodes: one row and one sentence per run of alarm days, in English and Vietnamese."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from incidents import ingest, store
from incidents.demo import export_files, samples_dir
from incidents.spikes import Alarm
from incidents.spikes.episodes import group_episodes, sentence
from incidents.spikes.kept import DayVerdict, judge_new_days, kept_alarms, kept_episodes


def alarm(
    series: str, day: str, count: int, expected: float, *, span: int = 1, total=None, score=3.0, final=True
):
    return Alarm(
        series, day, "day", total if span > 1 else count, expected, expected * 2, score, "", span, 0.001,
        count, None, "2019-01-01", final,
    )  # fmt: skip


def verdicts(series: str, first: str, counts: list[int], expected: float) -> list[DayVerdict]:
    d = date.fromisoformat(first)
    return [
        DayVerdict(series, str(d + timedelta(days=k)), n, expected, expected * 2, 0.001, False, True)
        for k, n in enumerate(counts)
    ]


def test_consecutive_alarm_days_and_the_totals_after_them_are_one_episode():
    days = verdicts("phishing", "2020-11-08", [9, 8, 42, 69, 57, 32, 3, 3, 9, 8, 9, 30], 9.0)
    alarms = [
        alarm("phishing", "2020-11-10", 42, 9.0),
        alarm("phishing", "2020-11-11", 69, 9.0),
        alarm("phishing", "2020-11-12", 57, 9.0),
        alarm("phishing", "2020-11-13", 32, 9.0),
        alarm("phishing", "2020-11-14", 3, 45.0, span=5, total=203),  # a low day, its 5-day total high
        alarm("phishing", "2020-11-19", 30, 9.0),  # a separate spike, four quiet days later
    ]
    first, second = group_episodes(alarms, days)
    assert (first.first_day, first.last_day, first.days[-1]) == ("2020-11-10", "2020-11-13", "2020-11-14")
    assert (
        first.incidents == 42 + 69 + 57 + 32 and first.expected == 36.0 and first.key == "phishing:2020-11-10"
    )
    assert (first.peak_day, first.peak_count) == ("2020-11-11", 69)
    assert (
        sentence(first)
        == "a phishing campaign from 10 to 13 November 2020: 200 incidents, 5.6 times the expected 36.0"
    )
    assert (
        sentence(first, "vi")
        == "chiến dịch lừa đảo từ 10 đến 13/11/2020: 200 sự cố, gấp 5,6 lần mức dự kiến 36,0"
    )
    assert second.first_day == second.last_day == "2020-11-19"
    assert (
        sentence(second) == "a phishing spike on 19 November 2020: 30 incidents, 3.3 times the expected 9.0"
    )
    assert sentence(second, "vi") == "đột biến lừa đảo ngày 19/11/2020: 30 sự cố, gấp 3,3 lần mức dự kiến 9,0"
    with pytest.raises(ValueError):
        sentence(first, "fr")


def test_a_later_total_that_reaches_back_into_an_earlier_episode_joins_it():
    # The demo store's DDoS series in January 2021: a spike on the 4th, a lone day on the 14th, then
    # 12-, 13- and 14-day totals whose days reach back to the 4th. README: alarms whose days touch or
    # overlap (a total's alarm covers its n days) are one episode, never two rows telling one spike.
    days = verdicts("ddos", "2021-01-01", [0, 0, 0, 4] + [0] * 9 + [3, 0, 2, 0], 0.02)
    alarms = [
        alarm("ddos", "2021-01-04", 4, 0.02),
        alarm("ddos", "2021-01-14", 3, 0.02),
        alarm("ddos", "2021-01-15", 0, 0.18, span=12, total=8),
        alarm("ddos", "2021-01-16", 2, 0.2, span=13, total=10),
        alarm("ddos", "2021-01-17", 0, 0.21, span=14, total=10),
    ]
    (ep,) = group_episodes(alarms, days)
    assert ep.key == "ddos:2021-01-04"
    assert ep.days == ("2021-01-04", "2021-01-14", "2021-01-15", "2021-01-16", "2021-01-17")
    assert ep.first_day == "2021-01-04" and ep.incidents >= 4


def test_a_total_that_one_category_explains_is_folded_into_it():
    days = verdicts("phishing", "2020-11-10", [42, 69], 9.0) + verdicts("malware", "2020-11-10", [5, 4], 4.0)
    days += verdicts("total", "2020-11-10", [47, 73], 13.0)
    alarms = [alarm("total", "2020-11-10", 47, 13.0), alarm("phishing", "2020-11-10", 42, 9.0)]
    alarms += [alarm("phishing", "2020-11-11", 69, 9.0, final=False)]
    (ep,) = group_episodes(alarms, days)
    assert ep.series == "phishing" and ep.provisional and ep.folded[0].explained_by == "phishing"
    assert sentence(ep).endswith("(today's count so far)")
    total, phishing = group_episodes(alarms, days, fold=False)
    assert total.explained_by == "phishing" and phishing.explained_by is None
    # malware's rise explains nothing: a total alarm it drove on its own stays a total episode
    days += verdicts("total", "2020-12-01", [60], 13.0) + verdicts("phishing", "2020-12-01", [9], 9.0)
    days += verdicts("malware", "2020-12-01", [30], 4.0)
    alone = group_episodes([alarm("total", "2020-12-01", 60, 13.0)], days)
    assert alone[0].series == "total" and alone[0].explained_by is None


@pytest.mark.parametrize(
    ("first", "last", "en", "vi"),
    [
        ("2020-11-28", "2020-12-02", "from 28 November to 2 December 2020", "từ 28/11 đến 02/12/2020"),
        (
            "2020-12-30",
            "2021-01-02",
            "from 30 December 2020 to 2 January 2021",
            "từ 30/12/2020 đến 02/01/2021",
        ),
    ],
)
def test_ranges_across_months_and_years(first, last, en, vi):
    n = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    days = verdicts("total", first, [1500] * n, 100.0)
    alarms = [alarm("total", d.day, 1500, 100.0) for d in days]
    (ep,) = group_episodes(alarms, days)
    assert (
        sentence(ep)
        == f"a rise in all incidents {en}: {1500 * n:,} incidents, 15.0 times the expected {100 * n}"
    )
    assert sentence(ep, "vi").startswith(f"đợt tăng tổng số sự cố {vi}: ")


@pytest.mark.slow
def test_the_november_2020_demo_campaign_is_one_episode(tmp_path):
    db = store.open_db(tmp_path / "demo.db")
    for path in export_files(samples_dir()):
        ingest.ingest_file(db, path)
    judge_new_days(db)
    november = kept_episodes(db, since="2020-11-01", until="2020-11-30")
    alarms = kept_alarms(db, since="2020-11-01", until="2020-11-30")
    assert len(alarms) == 12 and len(november) == 1  # 12 alarm rows, one episode
    (ep,) = november
    assert ep.series == "phishing" and [f.series for f in ep.folded] == ["total"]
    assert (ep.first_day, ep.last_day, len(ep.days)) == ("2020-11-10", "2020-11-13", 6)
    assert (
        sentence(ep)
        == "a phishing campaign from 10 to 13 November 2020: 200 incidents, 5.6 times the expected 35.8"
    )
    assert (
        sentence(ep, "vi")
        == "chiến dịch lừa đảo từ 10 đến 13/11/2020: 200 sự cố, gấp 5,6 lần mức dự kiến 35,8"
    )
