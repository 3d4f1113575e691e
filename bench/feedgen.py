"""Realistic feed-export rows for the ingest benchmark, from a fixed seed (no real data).

What a national centre's feeds send: URLs with paths and queries (some defanged), domains, IPv4 and IPv6
targets and sources, Vietnamese descriptions, category labels in English and Vietnamese or an RSIT
taxonomy/type instead, several feeds, times in four spellings, about 2% records re-sent as they were,
about 1% reports of an incident another feed already sent (same category, target and day), and a few
bad rows (an impossible date, an unknown category) that ingest must quarantine.
"""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Iterator
from pathlib import Path

from incidents.ingest.records import OWN_COLUMNS

HEADER = [*OWN_COLUMNS, "classification.taxonomy", "classification.type"]
LABELS = (
    ["phishing"] * 6
    + ["Lừa đảo"] * 3
    + ["deface"] * 4
    + ["Thay đổi giao diện"] * 2
    + ["malware"] * 4
    + ["Mã độc"] * 2
    + ["fraud/phishing", "intrusion", "Xâm nhập", "scanning", "Dò quét", "ddos"]
)
RSIT = [
    ("malicious-code", "infected-system"),
    ("malicious-code", "c2-server"),
    ("fraud", "phishing"),
    ("information-content-security", "unauthorised-information-modification"),
    ("intrusion-attempts", "brute-force"),
    ("information-gathering", "scanner"),
    ("vulnerable", "vulnerable-system"),
]
SECTORS = ["government", "education", "finance", "healthcare", "energy", "telecom", "commerce", ""]
FEEDS = ["shadowserver", "vncert-phish", "openphish", "zone-h", "abusech-urlhaus", "internal-soc"]
SEVERITIES = ["low", "medium", "high", "critical", "thấp", "trung bình", "cao", ""]
STATUSES = ["open", "new", "closed", "đang xử lý", ""]
WORDS = (  # noqa: SIM905
    "trang web giả mạo ngân hàng đăng nhập tài khoản khách hàng bị tấn công thay đổi giao diện "
    "mã độc phát tán máy chủ điều khiển cảnh báo người dùng cơ quan nhà nước cổng thông tin điện tử "
    "phát hiện lỗ hổng nghiêm trọng chiến dịch lừa đảo trực tuyến"
).split()
TLDS = ["vn", "com.vn", "gov.vn", "edu.vn", "org.vn", "net", "com"]
PATHS = ["login", "wp-admin", "index.php", "dang-nhap", "account/verify", "images/x.jpg", "secure/update"]


def _host(rng: random.Random, n: int) -> str:
    return f"{rng.choice(['www.', '', '', 'mail.', 'portal.'])}site{n}.{rng.choice(TLDS)}"


def _target(rng: random.Random, hosts: int) -> str:
    r = rng.random()
    host = _host(rng, rng.randrange(hosts))
    if r < 0.45:
        url = f"{rng.choice(['http', 'https'])}://{host}/{rng.choice(PATHS)}"
        if rng.random() < 0.6:
            url += f"?id={rng.randrange(10**6)}&ref={rng.choice(['mail', 'sms', 'zalo'])}"
        if rng.random() < 0.08:  # defanged, as analysts paste them
            url = url.replace("http", "hxxp", 1).replace(".", "[.]", 1)
        return url
    if r < 0.75:
        return host if rng.random() > 0.05 else host.replace(".", "[.]")
    if r < 0.92:
        return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}"


def _stamp(rng: random.Random, t: int) -> str:
    r = rng.random()
    if r < 0.7:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    if r < 0.82:
        return time.strftime("%Y-%m-%dT%H:%M:%S+07:00", time.gmtime(t + 7 * 3600))
    if r < 0.95:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t + 7 * 3600))  # naive: the input zone
    return str(t)


def rows(count: int, seed: int = 7) -> Iterator[list[str]]:
    """`count` rows in HEADER order, the same for the same seed."""
    rng = random.Random(seed)
    start = 1546300800  # 2019-01-01T00:00:00Z
    span = 2 * 365 * 86400
    hosts = max(1000, count // 3)
    recent: list[list[str]] = []
    for i in range(count):
        r = rng.random()
        if r < 0.02 and recent:
            row = list(rng.choice(recent))  # a record re-sent as it was: a duplicate
        elif r < 0.03 and recent:
            row = list(rng.choice(recent))  # another feed's report of the same incident
            row[0] = f"x{i}"
            row[5] = rng.choice(FEEDS)
        else:
            t = start + rng.randrange(span)
            label = rng.choice(LABELS)
            taxonomy = type_ = ""
            if rng.random() < 0.2:
                label = ""
                taxonomy, type_ = rng.choice(RSIT)
            stamp = _stamp(rng, t)
            if rng.random() < 0.001:
                stamp = "2021-02-30T10:00:00Z"  # impossible date: quarantined
            source = (
                f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                if rng.random() < 0.8
                else f"2001:db8::{rng.randrange(65536):x}"
            )
            row = [
                f"r{i}",
                stamp,
                label,
                _target(rng, hosts),
                rng.choice(SECTORS),
                rng.choice(FEEDS),
                rng.choice(SEVERITIES),
                rng.choice(STATUSES),
                source,
                " ".join(rng.choices(WORDS, k=rng.randrange(4, 14))),
                taxonomy,
                type_,
            ]
        if len(recent) < 2000:
            recent.append(row)
        else:
            recent[rng.randrange(2000)] = row
        yield row


def write_csv(path: Path, count: int, seed: int = 7) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows(count, seed))
