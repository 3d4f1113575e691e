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
