"""Incident categories and their mapping to the Reference Security Incident Taxonomy (RSIT).

RSIT is the taxonomy IntelMQ and MISP use (github.com/enisaeu/Reference-Security-Incident-Taxonomy-Task-Force).
The monthly bulletin counts three categories (phishing, deface, malware); a centre meets a few more.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """One incident category of the bulletin, with its RSIT classification and labels."""

    name: str
    taxonomy: str
    type: str
    label_en: str
    label_vi: str


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("phishing", "fraud", "phishing", "Phishing", "Lừa đảo"),
        Category(
            "deface",
            "information-content-security",
            "unauthorised-information-modification",
            "Deface",
            "Thay đổi giao diện",
        ),
        Category("malware", "malicious-code", "infected-system", "Malware", "Mã độc"),
        Category(
            "intrusion", "intrusion-attempts", "brute-force", "Intrusion attempt", "Tấn công dò mật khẩu"
        ),
        Category("ddos", "availability", "ddos", "DDoS", "Tấn công từ chối dịch vụ"),
        Category("scanning", "information-gathering", "scanner", "Scanning", "Dò quét"),
        Category("other", "other", "other", "Other", "Khác"),
    )
}

# The three categories the national bulletin publishes, in its order.
BULLETIN_CATEGORIES = ("phishing", "deface", "malware")

# RSIT types (and IntelMQ's older names for them) that belong to each category.
# Where a taxonomy has several types, the type decides; the taxonomy alone is the fallback.
_RSIT_TYPE_TO_CATEGORY = {
    "phishing": "phishing",
    "unauthorised-information-modification": "deface",
    "defacement": "deface",  # IntelMQ < 3
    "infected-system": "malware",
    "malware-distribution": "malware",
    "c2": "malware",
    "c2-server": "malware",
    "malware-configuration": "malware",
    "malware": "malware",
    "infected system": "malware",
    "brute-force": "intrusion",
    "exploit": "intrusion",
    "login-attempts": "intrusion",
    "ids-alert": "intrusion",
    "ddos": "ddos",
    "dos": "ddos",
    "scanner": "scanning",
    "sniffing": "scanning",
}
_RSIT_TAXONOMY_TO_CATEGORY = {
    "fraud": "phishing",
    "information-content-security": "deface",
    "malicious-code": "malware",
    "intrusion-attempts": "intrusion",
    "intrusions": "intrusion",
    "availability": "ddos",
    "information-gathering": "scanning",
    "other": "other",
}

# Free-text labels as feeds and analysts write them, English and Vietnamese.
_LABELS = {
    "phishing": "phishing",
    "phish": "phishing",
    "lừa đảo": "phishing",
    "lua dao": "phishing",
    "deface": "deface",
    "defacement": "deface",
    "defaced": "deface",
    "thay đổi giao diện": "deface",
    "thay doi giao dien": "deface",
    "malware": "malware",
    "mã độc": "malware",
    "ma doc": "malware",
    "botnet": "malware",
    "intrusion": "intrusion",
    "intrusion attempt": "intrusion",
    "intrusion-attempt": "intrusion",
    "brute force": "intrusion",
    "bruteforce": "intrusion",
    "brute-force": "intrusion",
    "tấn công dò mật khẩu": "intrusion",
    "ddos": "ddos",
    "dos": "ddos",
    "tấn công từ chối dịch vụ": "ddos",
    "scanning": "scanning",
    "scan": "scanning",
    "scanner": "scanning",
    "dò quét": "scanning",
    "other": "other",
    "khác": "other",
}


def _fold(text: str) -> str:
    # NFC so that a label typed with combining accents matches the precomposed one.
    return " ".join(unicodedata.normalize("NFC", text).strip().casefold().split())


_FOLDED_LABELS = (
    {_fold(k): v for k, v in _LABELS.items()}
    | {_fold(c.label_en): c.name for c in CATEGORIES.values()}
    | {_fold(c.label_vi): c.name for c in CATEGORIES.values()}
)


def category_from_label(label: str | None) -> str | None:
    """The category a free-text label names ("Lừa đảo", "DEFACE", "fraud/phishing"), or None."""
    if not label:
        return None
    folded = _fold(label)
    if folded in _FOLDED_LABELS:
        return _FOLDED_LABELS[folded]
    if folded in CATEGORIES:
        return folded
    if "/" in folded:
        taxonomy, _, type_ = folded.partition("/")
        return category_from_rsit(taxonomy, type_)
    return category_from_rsit(None, folded) or category_from_rsit(folded, None)


def category_from_rsit(taxonomy: str | None, type_: str | None) -> str | None:
    """The category of an RSIT classification (taxonomy and/or type), or None if it is not RSIT."""
    if type_:
        found = _RSIT_TYPE_TO_CATEGORY.get(_fold(type_))
        if found:
            return found
    if taxonomy:
        return _RSIT_TAXONOMY_TO_CATEGORY.get(_fold(taxonomy))
    return None


def rsit(category: str) -> tuple[str, str]:
    """The (taxonomy, type) pair a category is filed under."""
    c = CATEGORIES[category]
    return c.taxonomy, c.type
