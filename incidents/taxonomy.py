"""Incident categories and their mapping from the Reference Security Incident Taxonomy (RSIT).

The classification table is built from RSIT itself: `data/rsit-machinetag.json` is the task force's
machine-readable taxonomy as published (github.com/enisaeu/Reference-Security-Incident-Taxonomy-Task-Force,
`working_copy/machinev1`, CC0). IntelMQ's names from before its 3.0 harmonisation (`malicious code`,
`c2server`, `ransomware`, `defacement`, ...) are aliases of the RSIT names IntelMQ 3 renamed them to
(IntelMQ 3.0.0 NEWS, "Harmonization"; `intelmq.lib.harmonization.ClassificationType`).

Only what truly is a bulletin category maps to it (see `CATEGORY_OF`); every other RSIT type is `other`,
and the feed's own taxonomy/type is always kept beside the category.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_RSIT_FILE = Path(__file__).with_name("data") / "rsit-machinetag.json"


@dataclass(frozen=True)
class Category:
    """One incident category of the bulletin, with its default RSIT classification and labels."""

    name: str
    taxonomy: str
    type: str
    label_en: str
    label_vi: str


# Labels reviewed against RSIT's definitions: `intrusion` holds RSIT's `intrusions` (successful
# compromises: system, application, account) and `intrusion-attempts` (brute force, exploits, IDS
# alerts), so its label says "intrusion", not "intrusion attempt", and the Vietnamese label is "Xâm nhập"
# (intrusion), no longer "Tấn công dò mật khẩu" (password guessing), which named only brute force.
# `ddos` holds RSIT's `dos` and `ddos`: "Từ chối dịch vụ" is denial of service, distributed or not.
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
        Category("intrusion", "intrusion-attempts", "brute-force", "Intrusion", "Xâm nhập"),
        Category("ddos", "availability", "ddos", "DDoS", "Tấn công từ chối dịch vụ"),
        Category("scanning", "information-gathering", "scanner", "Scanning", "Dò quét"),
        Category("other", "other", "other", "Other", "Khác"),
    )
}

# The three categories the national bulletin publishes, in its order.
BULLETIN_CATEGORIES = ("phishing", "deface", "malware")


def _load_rsit() -> dict[str, tuple[str, ...]]:
    data = json.loads(_RSIT_FILE.read_text(encoding="utf-8"))
    return {v["predicate"]: tuple(e["value"] for e in v["entry"]) for v in data["values"]}


# taxonomy -> its types, exactly as RSIT publishes them.
RSIT: dict[str, tuple[str, ...]] = _load_rsit()


def _load_expanded() -> dict[str, str]:
    """RSIT's human-readable names -> its machine names, for taxonomies and types alike."""
    data = json.loads(_RSIT_FILE.read_text(encoding="utf-8"))
    names = {p["expanded"]: p["value"] for p in data["predicates"] if p.get("expanded")}
    names |= {e["expanded"]: e["value"] for v in data["values"] for e in v["entry"] if e.get("expanded")}
    return names


RSIT_VERSION: int = json.loads(_RSIT_FILE.read_text(encoding="utf-8"))["version"]

# Types IntelMQ 3 allows beyond RSIT (harmonization.ClassificationType), filed under its taxonomy.
INTELMQ_EXTRA_TYPES: dict[str, str] = {
    "blacklist": "other",
    "dga-domain": "other",
    "malware": "other",
    "proxy": "other",
    "tor": "other",
}

# Older names -> (RSIT taxonomy, RSIT type). IntelMQ 2.x -> 3.0 renames, the older RSIT/eCSIRT names
# (login attempts, the malware kinds of the 2018 working copy), and US spellings.
TYPE_ALIASES: dict[str, tuple[str, str]] = {
    "botnet-drone": ("malicious-code", "infected-system"),
    "infected": ("malicious-code", "infected-system"),
    "ransomware": ("malicious-code", "infected-system"),
    "worm": ("malicious-code", "infected-system"),
    "virus": ("malicious-code", "infected-system"),
    "trojan": ("malicious-code", "infected-system"),
    "spyware": ("malicious-code", "infected-system"),
    "dialer": ("malicious-code", "infected-system"),
    "rootkit": ("malicious-code", "infected-system"),
    "c&c": ("malicious-code", "c2-server"),
    "c2server": ("malicious-code", "c2-server"),
    "c2": ("malicious-code", "c2-server"),
    "malware-url": ("malicious-code", "malware-distribution"),
    "exploit-url": ("intrusion-attempts", "exploit"),
    "login-attempts": ("intrusion-attempts", "brute-force"),
    "bruteforce": ("intrusion-attempts", "brute-force"),
    "defacement": ("information-content-security", "unauthorised-information-modification"),
    "leak": ("information-content-security", "data-leak"),
    "compromised": ("intrusions", "system-compromise"),
    "backdoor": ("intrusions", "system-compromise"),
    "unauthorised-login": ("intrusions", "system-compromise"),
    "unauthorised-command": ("intrusions", "system-compromise"),
    "vulnerable-service": ("vulnerable", "vulnerable-system"),
    "vulnerable-client": ("vulnerable", "vulnerable-system"),
    "spam-infrastructure": ("abusive-content", "spam"),
    "dropzone": ("other", "other"),
    "unknown": ("other", "undetermined"),
}
TAXONOMY_ALIASES: dict[str, str] = {"intrusion": "intrusions", "malware": "malicious-code"}

# RSIT's own table writes each type by its human-readable name ("Scanning", "Login Attempts", "Denial of
# Service", "Unauthorised Modification of Information"), and so do spreadsheets and ticket systems that
# follow it (RT's RSIT fields, analysts' exports): those names are the machine names they expand
# (`expanded` in the machine-readable taxonomy), and the wording of RSIT's earlier versions too.
EXPANDED_NAMES: dict[str, str] = {
    **_load_expanded(),
    "Child/Sexual/Violent Content": "violence",
    "Exploiting known vulnerabilities": "ids-alert",
    "Weak crypto": "weak-crypto",
    "Harassment": "harmful-speech",
}

# The bulletin category of each (taxonomy, type) that truly is one; everything else is `other`.
# deface: IntelMQ 3 renamed `defacement` to unauthorised-information-modification, whose RSIT definition
# "also includes defacements"; the bulletin files that type as deface (it is what feeds send for one).
CATEGORY_OF: dict[tuple[str, str], str] = {
    ("fraud", "phishing"): "phishing",
    ("information-content-security", "unauthorised-information-modification"): "deface",
    **{("malicious-code", t): "malware" for t in RSIT["malicious-code"]},
    ("other", "malware"): "malware",
    ("other", "dga-domain"): "malware",
    **{("intrusion-attempts", t): "intrusion" for t in RSIT["intrusion-attempts"]},
    # burglary is a physical break-in (RSIT), not a cyber intrusion: it stays `other`.
    **{("intrusions", t): "intrusion" for t in RSIT["intrusions"] if t != "burglary"},
    ("availability", "ddos"): "ddos",
    ("availability", "dos"): "ddos",
    ("information-gathering", "scanner"): "scanning",
}
# A type this table does not know, in a taxonomy whose every type is one category, takes that category.
_CATEGORY_OF_TAXONOMY = {
    "malicious-code": "malware",
    "intrusion-attempts": "intrusion",
    "intrusions": "intrusion",
}

_TAXONOMY_OF_TYPE: dict[str, str] = {
    t: tax for tax, types in RSIT.items() for t in types
} | INTELMQ_EXTRA_TYPES


@dataclass(frozen=True)
class Classification:
    """A record's category with the RSIT taxonomy and type it is filed under."""

    category: str
    taxonomy: str
    type: str


def _fold(text: str) -> str:
    # NFC so that a label typed with combining accents matches the precomposed one.
    return " ".join(unicodedata.normalize("NFC", text).strip().casefold().split())


def _slug(text: str) -> str:
    """RSIT's spelling of a name: `Malicious Code`, `malicious_code` -> `malicious-code`; US -> UK spelling."""
    slug = _fold(text).replace(" ", "-").replace("_", "-").replace("unauthorized", "unauthorised")
    return slug


# An expanded name's slug -> the machine name (`denial-of-service` -> `dos`), for types only: the taxonomies'
# expanded names are their machine names with blanks (`Malicious Code`), which _slug already folds.
_EXPANDED_TYPES: dict[str, str] = {
    slug: value
    for name, value in EXPANDED_NAMES.items()
    if value in _TAXONOMY_OF_TYPE and (slug := _slug(name)) != value
}


@lru_cache(maxsize=4096)
def classify(taxonomy: str | None, type_: str | None) -> Classification | None:
    """The category of an RSIT (or IntelMQ 2.x) taxonomy/type, with the names it is filed under.

    The type decides where it is known (RSIT types are unique across taxonomies); a known taxonomy with
    an unknown type keeps the feed's type. None when neither names anything RSIT knows.
    """
    tax = _slug(taxonomy) if taxonomy else ""
    tax = TAXONOMY_ALIASES.get(tax, tax)
    typ = _slug(type_) if type_ else ""
    typ = _EXPANDED_TYPES.get(typ, typ) if typ not in _TAXONOMY_OF_TYPE else typ
    if typ in TYPE_ALIASES:
        tax, typ = TYPE_ALIASES[typ]
    elif typ in _TAXONOMY_OF_TYPE:
        # The type's own taxonomy wins over a feed's mismatched one (IntelMQ 2's intrusions/defacement).
        tax = _TAXONOMY_OF_TYPE[typ]
    elif tax not in RSIT:
        return None
    elif not typ:
        # A taxonomy alone: its category only where the whole taxonomy is one; the type undetermined.
        return Classification(_CATEGORY_OF_TAXONOMY.get(tax, "other"), tax, "undetermined")
    else:
        # A type RSIT does not know, in a taxonomy it does: the feed's type is kept as written.
        return Classification(_CATEGORY_OF_TAXONOMY.get(tax, "other"), tax, typ)
    return Classification(CATEGORY_OF.get((tax, typ), "other"), tax, typ)


def category_from_rsit(taxonomy: str | None, type_: str | None) -> str | None:
    """The category of an RSIT classification (taxonomy and/or type), or None if it is not RSIT."""
    found = classify(taxonomy or None, type_ or None)
    return found.category if found else None


# Free-text labels as feeds and analysts write them, English and Vietnamese.
_LABELS = {
    "phish": "phishing",
    "lừa đảo": "phishing",
    "lua dao": "phishing",
    "lừa đảo trực tuyến": "phishing",
    "defaced": "deface",
    "thay đổi giao diện": "deface",
    "thay doi giao dien": "deface",
    "tấn công thay đổi giao diện": "deface",
    "mã độc": "malware",
    "ma doc": "malware",
    "botnet": "malware",
    "intrusion attempt": "intrusion",
    "intrusion-attempt": "intrusion",
    "brute force": "intrusion",
    "xâm nhập": "intrusion",
    "xam nhap": "intrusion",
    "tấn công xâm nhập": "intrusion",
    "tấn công dò mật khẩu": "intrusion",
    "dos": "ddos",
    "từ chối dịch vụ": "ddos",
    "tu choi dich vu": "ddos",
    "tấn công từ chối dịch vụ": "ddos",
    "scan": "scanning",
    "dò quét": "scanning",
    "do quet": "scanning",
    "khác": "other",
    "khac": "other",
}

_FOLDED_LABELS = (
    {_fold(k): v for k, v in _LABELS.items()}
    | {_fold(c.label_en): c.name for c in CATEGORIES.values()}
    | {_fold(c.label_vi): c.name for c in CATEGORIES.values()}
    | {c: c for c in CATEGORIES}
)


def category_from_label(label: str | None) -> str | None:
    """The category a free-text label names ("Lừa đảo", "DEFACE", "fraud/phishing"), or None."""
    found = classify_label(label)
    return found.category if found else None


def classify_label(label: str | None) -> Classification | None:
    """A label as a Classification: a category name or label, an RSIT `taxonomy/type`, or an RSIT type."""
    if not label:
        return None
    folded = _fold(label)
    if folded in _FOLDED_LABELS:
        c = CATEGORIES[_FOLDED_LABELS[folded]]
        return Classification(c.name, c.taxonomy, c.type)
    if "/" in folded:
        taxonomy, _, type_ = folded.partition("/")
        return classify(taxonomy, type_)
    return classify(None, folded) or (classify(folded, None) if _slug(folded) in RSIT else None)


def rsit(category: str) -> tuple[str, str]:
    """The (taxonomy, type) pair a category is filed under when a feed gives only its label."""
    c = CATEGORIES[category]
    return c.taxonomy, c.type


# Severity labels, English and Vietnamese (the centre's own reports write them in Vietnamese).
SEVERITIES = ("low", "medium", "high", "critical")
_SEVERITY_LABELS = {
    "thấp": "low",
    "thap": "low",
    "trung bình": "medium",
    "trung binh": "medium",
    "cao": "high",
    "nghiêm trọng": "critical",
    "nghiem trong": "critical",
    "rất cao": "critical",
    "khẩn cấp": "critical",
    "moderate": "medium",
    "med": "medium",
    "crit": "critical",
} | {s: s for s in SEVERITIES}
_FOLDED_SEVERITIES = {_fold(k): v for k, v in _SEVERITY_LABELS.items()}


@lru_cache(maxsize=1024)
def severity_from_label(label: str) -> str | None:
    """'low', 'medium', 'high' or 'critical' from an English or Vietnamese label ("Cao", "nghiêm trọng")."""
    return _FOLDED_SEVERITIES.get(_fold(label))


def classification_rows() -> list[tuple[str, str, str]]:
    """(taxonomy, type, category) for every RSIT pair and IntelMQ extra type, in RSIT's order."""
    rows = [(tax, t, classify(tax, t).category) for tax, types in RSIT.items() for t in types]
    rows += [(tax, t, classify(tax, t).category) for t, tax in INTELMQ_EXTRA_TYPES.items()]
    return rows
