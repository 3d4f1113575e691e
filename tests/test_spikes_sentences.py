"""Episode sentences as a bulletin prints them: category labels, "other", a near-zero expected count,
and a long thin run called a rise rather than a campaign, in English and Vietnamese."""

from __future__ import annotations

from incidents.spikes.episodes import Episode, sentence


def episode(series, first, last, days, incidents, expected):
    return Episode(
        series, first, last, tuple(days), incidents, expected, incidents / expected if expected else 0.0,
        days[0], incidents, 3.0, None, False, (),
    )  # fmt: skip


def test_category_label_not_code():
    ep = episode("ddos", "2020-11-10", "2020-11-10", ["2020-11-10"], 30, 3.0)
    assert sentence(ep) == "a DDoS spike on 10 November 2020: 30 incidents, 10.0 times the expected 3.0"
    assert sentence(ep, "vi").startswith("đột biến tấn công từ chối dịch vụ ngày ")


def test_other_is_a_campaign_of_other_incidents():
    days = ["2020-11-10", "2020-11-11", "2020-11-12"]
    ep = episode("other", "2020-11-10", "2020-11-12", days, 60, 6.0)
    assert sentence(ep).startswith("a campaign of other incidents from 10 to 12 November 2020: 60 incidents")
    assert sentence(ep, "vi").startswith("chiến dịch sự cố loại khác từ 10 đến 12/11/2020: 60 sự cố")
    one = episode("other", "2020-11-10", "2020-11-10", days[:1], 20, 2.0)
    assert sentence(one).startswith("a spike in other incidents on 10 November 2020")
    assert sentence(one, "vi").startswith("đột biến sự cố loại khác ngày ")


def test_expected_rounding_to_zero_says_fewer_than_a_tenth():
    ep = episode("scanning", "2020-11-10", "2020-11-10", ["2020-11-10"], 4, 0.04)
    assert (
        sentence(ep)
        == "a scanning spike on 10 November 2020: 4 incidents, where fewer than 0.1 were expected"
    )
    assert sentence(ep, "vi").endswith(": 4 sự cố, trong khi mức dự kiến chưa đến 0,1")
    assert "0.0" not in sentence(ep) and "0,0" not in sentence(ep, "vi")


def test_a_long_thin_run_is_a_rise_not_a_campaign():
    ep = episode("malware", "2020-10-01", "2020-10-27", ["2020-10-01", "2020-10-27"], 4, 1.0)
    assert sentence(ep).startswith("a rise in malware incidents from 1 to 27 October 2020: 4 incidents")
    assert sentence(ep, "vi").startswith("đợt tăng sự cố mã độc từ 01 đến 27/10/2020: 4 sự cố")
    assert "campaign" not in sentence(ep) and "chiến dịch" not in sentence(ep, "vi")
    other = episode("other", "2020-10-01", "2020-10-27", ["2020-10-01"], 4, 1.0)
    assert sentence(other).startswith("a rise in other incidents")
    assert sentence(other, "vi").startswith("đợt tăng sự cố loại khác")


def test_an_alarm_outside_its_own_day_names_its_run_in_both_languages():
    """An alarm raised by a several-day total names the run it belongs to (episodes.annotate), as data
    (run_from, run_to) that the bulletin and the TUI word in Vietnamese, not only in the English text."""
    from incidents.bulletin.render import labels, spike_text
    from incidents.spikes import Alarm
    from incidents.spikes.episodes import annotate

    alarm = Alarm(
        "total", "2020-11-14", "day", 90, 30.0, 60.0, 2.0, "total: 12 incidents on 14 November 2020",
        span=3, period_count=12, records_from="2019-01-01",
    )  # fmt: skip
    run = episode("total", "2020-11-10", "2020-11-13", ["2020-11-10", "2020-11-14"], 300, 40.0)
    (named,) = annotate([alarm], [run])
    assert (named.run_from, named.run_to) == ("2020-11-10", "2020-11-13")
    assert named.explanation.endswith(", in the run of 2020-11-10 to 2020-11-13")
    vi = spike_text(named, labels("vi"), "vi")
    assert vi.endswith(", trong đợt từ 10/11/2020 đến 13/11/2020")
    assert spike_text(alarm, labels("vi"), "vi") + ", trong đợt từ 10/11/2020 đến 13/11/2020" == vi
    one = episode("total", "2020-11-10", "2020-11-10", ["2020-11-10", "2020-11-14"], 30, 4.0)
    (named_one,) = annotate([alarm], [one])
    assert spike_text(named_one, labels("vi"), "vi").endswith(", trong đợt ngày 10/11/2020")
