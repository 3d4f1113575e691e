"""Composing an alert mail: one view, rendered as plain text and as HTML (Jinja2), in one RFC 5322 message.

The view holds the items' frozen payloads; the templates (incidents/alerts/templates/mail.txt.j2 and
mail.html.j2) print every value through `inert` (control characters escaped), and the HTML one is
autoescaped. Headers are built with `email.message.EmailMessage` (policy SMTP: CRLF, RFC 2047 for
non-ASCII), whose values are single lines by construction (`header_text`); To is the one recipient
from the configuration, never a value from a record.
"""

from __future__ import annotations

import email.policy
import functools
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from incidents import __version__
from incidents.alerts.inert import defang, defang_text, header_text, inert
from incidents.config import Recipient

SUBJECT_PREFIX = "[incidents]"
DIGEST_DETAIL = 10  # held items shown in full in a digest; the rest one line each
MAIL_DETAIL = 25  # items shown in full in any other mail (a large ingest of severe incidents)
DIGEST_LINES = 200  # ... the rest one line each, and past that only counted

WORDS = {
    "en": {
        "spike": ("spike", "spikes"),
        "spike-update": ("spike update, new peak", "spike updates, new peaks"),
        "incident": ("incident", "incidents"),
        "silence": ("silent feed", "silent feeds"),
        "alert": ("alert", "alerts"),
        "held": "held back by the hourly limit",
        "daily": "daily summary",
        "worst": "worst",
        "observed": "observed",
        "expected": "expected",
        "times": "times the expected",
        "peak": "peak",
        "today": "today, still counting",
        "targets": "top targets",
        "sources": "top sources",
        "feeds": "top feeds",
        "deeper": "look deeper",
        "none": "none recorded",
        "new_peak_note": "Update: this episode reached a new peak.",
        "description": "description",
        "source_ip": "source",
        "last_seen": "last record",
        "more": "and {n} more, held back by the hourly limit",
        "counted": "and {n} more",
        "others": "and {n} more",
        "why": "You receive this because incidents.toml lists {email}: {rules}.",
        "footer": "Sent by incidents alert {version}. Message-ID {mid}: a repeat with this Message-ID is the same alert.",
    },
    "vi": {
        "spike": ("đột biến", "đột biến"),
        "spike-update": ("cập nhật đột biến, đỉnh mới", "cập nhật đột biến, đỉnh mới"),
        "incident": ("sự cố", "sự cố"),
        "silence": ("nguồn im lặng", "nguồn im lặng"),
        "alert": ("cảnh báo", "cảnh báo"),
        "held": "bị giữ lại do giới hạn mỗi giờ",
        "daily": "tóm tắt hằng ngày",
        "worst": "nghiêm trọng nhất",
        "observed": "ghi nhận",
        "expected": "dự kiến",
        "times": "lần mức dự kiến",
        "peak": "đỉnh",
        "today": "hôm nay, vẫn đang đếm",
        "targets": "mục tiêu hàng đầu",
        "sources": "nguồn tấn công hàng đầu",
        "feeds": "nguồn dữ liệu hàng đầu",
        "deeper": "xem chi tiết",
        "none": "không có",
        "new_peak_note": "Cập nhật: đợt này đạt đỉnh mới.",
        "description": "mô tả",
        "source_ip": "nguồn",
        "last_seen": "bản ghi cuối",
        "more": "và {n} cảnh báo khác, bị giữ lại do giới hạn mỗi giờ",
        "counted": "và {n} cảnh báo khác",
        "others": "và {n} cảnh báo khác",
        "why": "Bạn nhận thư này vì incidents.toml liệt kê {email}: {rules}.",
        "footer": "Gửi bởi incidents alert {version}. Message-ID {mid}: thư lặp lại cùng Message-ID là cùng một cảnh báo.",
    },
}


@functools.cache
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("incidents.alerts", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Every printed value passes through inert() before (HTML) escaping: attacker text stays text.
        finalize=lambda v: v if isinstance(v, int | float) else inert(v, keep_newlines=False),
    )
    env.filters.update(
        defang=defang,
        defang_text=defang_text,
        num1=lambda x: f"{float(x):.1f}",
        clip=lambda s, n: inert(s, n),
    )
    return env


@dataclass(frozen=True)
class Composed:
    message_id: str
    subject: str
    text: str  # the plain-text body (what --dry-run prints)
    message: str  # the whole RFC 5322 message, CRLF line ends


def _rules(r: Recipient) -> str:
    parts = []
    scope = ", ".join(r.categories) if r.categories else "every category"
    if r.spikes:
        parts.append(f"spikes in {scope}")
    if r.min_severity:
        parts.append(f"{r.min_severity} or worse incidents in {scope}")
    if r.feeds:
        parts.append("silent feeds")
    if r.digest_at:
        parts.append(f"a daily summary at {r.digest_at}")
    parts.append(f"at most {r.max_per_hour} mails an hour")
    return "; ".join(parts)


def subject_for(kind: str, payloads: list[dict], lang: str) -> str:
    """'[incidents] 3 incidents: worst a critical intrusion incident on ...' (the count, the worst item)."""
    w = WORDS[lang]
    n = len(payloads)
    worst = max(payloads, key=lambda p: p.get("rank", 0.0))["headline"] if payloads else ""
    if kind == "daily":
        return header_text(f"{SUBJECT_PREFIX} {w['daily']} {payloads[0].get('day', '')}: {worst}")
    if kind == "digest":
        noun = w["alert"][n != 1]
        return header_text(f"{SUBJECT_PREFIX} {n} {noun} {w['held']}; {w['worst']}: {worst}")
    noun = w[kind][n != 1]
    if n == 1:
        return header_text(f"{SUBJECT_PREFIX} {noun}: {worst}")
    return header_text(f"{SUBJECT_PREFIX} {n} {noun}; {w['worst']}: {worst}")


def compose(
    *,
    recipient: Recipient,
    sender: str,
    kind: str,
    payloads: list[dict],
    now: datetime,
    db_label: str | None = None,
) -> Composed:
    """One mail to one recipient about `payloads` (items of one kind, or a digest of held items).

    `kind`: spike, spike-update, incident, silence, digest or daily. Raises nothing on hostile values:
    they are escaped, never interpreted.
    """
    lang = recipient.lang if recipient.lang in WORDS else "en"
    w = WORDS[lang]
    ordered = sorted(payloads, key=lambda p: -float(p.get("rank", 0.0)))
    shown = DIGEST_DETAIL if kind == "digest" else MAIL_DETAIL
    detail = ordered[:shown]
    lines = ordered[shown : shown + DIGEST_LINES]
    counted = max(len(ordered) - shown - DIGEST_LINES, 0)
    domain = sender.rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring="incidents", domain=domain)
    subject = subject_for(kind, ordered, lang)
    view = {
        "w": w,
        "kind": kind,
        "subject": subject,
        "items": detail,
        "lines": lines,
        "counted": counted,
        "more": len(ordered) - len(detail),
        "more_text": (w["more"] if kind == "digest" else w["others"]).format(n=len(ordered) - len(detail)),
        "recipient": recipient.email,
        "why": w["why"].format(email=recipient.email, rules=_rules(recipient)),
        "footer": w["footer"].format(version=__version__, mid=message_id),
        "db": db_label,
    }
    env = _environment()
    text = env.get_template("mail.txt.j2").render(view)
    html = env.get_template("mail.html.j2").render(view)
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = recipient.email
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    # RFC 3834: no auto-replies (vacation notices) to a machine's mail.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return Composed(message_id=message_id, subject=subject, text=text, message=msg.as_string())
