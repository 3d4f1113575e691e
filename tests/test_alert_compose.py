"""incidents.alerts.compose and inert: one view, text and HTML, headers that attacker text cannot break."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.alerts.compose import compose, subject_for
from incidents.alerts.inert import defang, header_text, inert
from incidents.config import Recipient

NOW = datetime(2020, 11, 12, 3, 0, tzinfo=UTC)
DESK = Recipient("desk@example.vn", min_severity="high")
HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-Auto-Response-Suppress"}


def incident(target: str, description: str = "", feed: str = "feed-a", rank: float = 2.0) -> dict:
    return {
        "kind": "incident",
        "rank": rank,
        "headline": f"a high phishing incident on {defang(target)} at 2020-11-12T02:00:00Z, reported by {feed}",
        "id": "x",
        "category": "phishing",
        "severity": "high",
        "sector": "government",
        "target": target,
        "source_ip": None,
        "feed": feed,
        "description": description,
        "command": "incidents show x",
    }


def test_inert_escapes_controls_and_keeps_the_rest():
    assert inert("a\r\nb\x1b[31m\u202ec\u2028d\x00é") == "a\\x0d\\x0ab\\x1b[31m\\u202ec\\u2028d\\x00é"
    assert inert("abcdef", 4) == "abc…"
    assert header_text("a\tb   c") == "a\\x09b c"
    assert defang("https://evil.example/login") == "hxxps://evil[.]example/login"
    assert defang("192.0.2.7") == "192[.]0[.]2[.]7"


def test_subject_names_the_count_and_the_worst():
    items = [incident("a.vn", rank=2), incident("b.vn", rank=3)]
    assert subject_for("incident", items, "en").startswith(
        "[incidents] 2 incidents; worst: a high phishing incident on b[.]vn"
    )
    assert subject_for("incident", items[:1], "vi").startswith("[incidents] sự cố: a high")


def test_text_and_html_come_from_one_view():
    mail = compose(
        recipient=DESK,
        sender="soc@example.vn",
        kind="incident",
        payloads=[incident("a.vn", "<b>x</b>")],
        now=NOW,
    )
    msg = email.message_from_string(mail.message, policy=email.policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    for needle in ("a[.]vn", "incidents show x", mail.message_id.strip("<>")):
        assert needle in text and needle in html
    assert "<b>x</b>" in text and "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert msg["Message-ID"] == mail.message_id and msg["Date"] == "Thu, 12 Nov 2020 03:00:00 +0000"
    assert "\r\n" in mail.message and "\n\n" not in mail.message.replace("\r\n", "")


def test_vietnamese_words_for_a_vietnamese_recipient():
    vi = Recipient("a@example.vn", min_severity="high", lang="vi")
    mail = compose(
        recipient=vi, sender="soc@example.vn", kind="incident", payloads=[incident("a.vn")] * 2, now=NOW
    )
    assert mail.subject.startswith("[incidents] 2 sự cố; nghiêm trọng nhất:") and "xem chi tiết" in mail.text


@settings(max_examples=40, deadline=None)
@given(target=st.text(max_size=80), description=st.text(max_size=200), feed=st.text(max_size=40))
def test_hostile_values_never_add_a_header_or_a_recipient_nor_markup(target, description, feed):
    payload = incident(target, description, feed)
    mail = compose(recipient=DESK, sender="soc@example.vn", kind="incident", payloads=[payload], now=NOW)
    msg = email.message_from_string(mail.message, policy=email.policy.default)
    assert set(msg.keys()) == HEADERS | {"MIME-Version", "Content-Type"}
    assert msg.get_all("To") == ["desk@example.vn"] and len(msg.get_all("Subject")) == 1
    assert "\r" not in str(msg["Subject"]) and "\n" not in str(msg["Subject"])
    html = msg.get_body(preferencelist=("html",)).get_content()
    text = msg.get_body(preferencelist=("plain",)).get_content()
    benign = compose(
        recipient=DESK,
        sender="soc@example.vn",
        kind="incident",
        payloads=[incident("t", "d" if description else "", "f")],
        now=NOW,
    )
    benign_html = email.message_from_string(benign.message, policy=email.policy.default)
    benign_html = benign_html.get_body(preferencelist=("html",)).get_content()
    assert html.count("<") == benign_html.count("<")  # no markup from the fields, only the template's
    assert all(ch == "\n" or ord(ch) >= 32 for ch in text.replace("\r\n", "\n"))


def test_a_hostile_feed_name_in_a_silence_alert_and_a_spike_target_stay_inert():
    feed = "x\r\nBcc: thief@attacker.example\r\n<script>alert(1)</script>"
    silence = {
        "kind": "silence",
        "rank": 500.0,
        "headline": f"no records from feed {feed} for 40 hours, usually 12 a day",
        "feed": feed,
        "last_seen_utc": "2020-11-10T00:00:00Z",
        "command": "incidents list --feed 'x'",
    }
    spike = {
        "kind": "spike",
        "rank": 1001.0,
        "headline": "a phishing spike on 10 November 2020: 40 incidents, 5.0 times the expected 8.0",
        "series": "phishing",
        "first_day": "2020-11-10",
        "last_day": "2020-11-10",
        "incidents": 40,
        "expected": 8.0,
        "ratio": 5.0,
        "peak_day": "2020-11-10",
        "peak_count": 40,
        "provisional": False,
        "new_peak": False,
        "top_targets": [[feed, 3]],
        "top_sources": [["<img src=x>", 2]],
        "top_feeds": [[feed, 1]],
        "command": "incidents spikes --category phishing",
    }
    everyone = Recipient("duty@example.vn", spikes=True, feeds=True)
    for kind, payloads in (("silence", [silence]), ("spike", [spike]), ("digest", [silence, spike])):
        mail = compose(recipient=everyone, sender="soc@example.vn", kind=kind, payloads=payloads, now=NOW)
        msg = email.message_from_string(mail.message, policy=email.policy.default)
        assert set(msg.keys()) == HEADERS | {"MIME-Version", "Content-Type"}
        assert msg.get_all("To") == ["duty@example.vn"]
        html = msg.get_body(preferencelist=("html",)).get_content()
        assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
