"""Category labels, Vietnamese and English, and their RSIT classification."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents.taxonomy import CATEGORIES, category_from_label, category_from_rsit, rsit


@pytest.mark.parametrize(
    "label, category",
    [
        ("Phishing", "phishing"),
        ("Lừa đảo", "phishing"),
        ("LỪA ĐẢO", "phishing"),
        ("Thay đổi giao diện", "deface"),
        ("Mã độc", "malware"),
        ("defacement", "deface"),
        ("fraud/phishing", "phishing"),
        ("malicious-code/c2-server", "malware"),
        ("brute-force", "intrusion"),
        ("DDoS", "ddos"),
        ("scanner", "scanning"),
        ("  deface ", "deface"),
        ("gardening", None),
        ("", None),
        (None, None),
    ],
)
def test_labels(label, category):
    assert category_from_label(label) == category


def test_decomposed_vietnamese_matches():
    import unicodedata

    assert category_from_label(unicodedata.normalize("NFD", "Mã độc")) == "malware"


def test_rsit_round_trip():
    for name in CATEGORIES:
        taxonomy, type_ = rsit(name)
        assert category_from_rsit(taxonomy, type_) == name
        assert category_from_label(f"{taxonomy}/{type_}") == name


@given(st.text(max_size=30))
def test_any_label_maps_to_a_category_or_none(label):
    assert category_from_label(label) in (None, *CATEGORIES)


@pytest.mark.parametrize(
    "taxonomy, type_, expected",
    [
        ("information-content-security", "data-leak", ("other", "information-content-security", "data-leak")),
        (
            "information-content-security",
            "unauthorised-information-access",
            ("other", "information-content-security", "unauthorised-information-access"),
        ),
        ("availability", "outage", ("other", "availability", "outage")),
        ("fraud", "copyright", ("other", "fraud", "copyright")),
        ("vulnerable", "ddos-amplifier", ("other", "vulnerable", "ddos-amplifier")),
        ("information-gathering", "sniffing", ("other", "information-gathering", "sniffing")),
        ("intrusions", "system-compromise", ("intrusion", "intrusions", "system-compromise")),
        ("intrusions", "burglary", ("other", "intrusions", "burglary")),
        ("availability", "dos", ("ddos", "availability", "dos")),
        # IntelMQ 2.x names, read as the RSIT names IntelMQ 3 gave them
        ("malicious code", "c2server", ("malware", "malicious-code", "c2-server")),
        ("malicious code", "ransomware", ("malware", "malicious-code", "infected-system")),
        ("malicious code", "botnet drone", ("malware", "malicious-code", "infected-system")),
        (
            "intrusions",
            "defacement",
            ("deface", "information-content-security", "unauthorised-information-modification"),
        ),
        ("intrusions", "compromised", ("intrusion", "intrusions", "system-compromise")),
        ("intrusion attempts", "ids alert", ("intrusion", "intrusion-attempts", "ids-alert")),
        ("vulnerable", "vulnerable service", ("other", "vulnerable", "vulnerable-system")),
        ("abusive content", "spam", ("other", "abusive-content", "spam")),
        ("information content security", "leak", ("other", "information-content-security", "data-leak")),
        ("fraud", "unauthorized-use-of-resources", ("other", "fraud", "unauthorised-use-of-resources")),
        ("other", "unknown", ("other", "other", "undetermined")),
        # a type RSIT does not know keeps its name
        ("malicious-code", "stealer", ("malware", "malicious-code", "stealer")),
        ("vulnerable", "open-rdp", ("other", "vulnerable", "open-rdp")),
    ],
)
def test_classification_table(taxonomy, type_, expected):
    from incidents.taxonomy import classify

    found = classify(taxonomy, type_)
    assert (found.category, found.taxonomy, found.type) == expected


def test_unknown_classification_is_none():
    from incidents.taxonomy import classify

    assert classify("gardening", "roses") is None
    assert classify(None, "roses") is None


def test_labels_say_what_rsit_says():
    # The intrusion category holds successful compromises too: "intrusion", not "intrusion attempt";
    # in Vietnamese "Xâm nhập", not "Tấn công dò mật khẩu" (password guessing).
    assert CATEGORIES["intrusion"].label_en == "Intrusion"
    assert CATEGORIES["intrusion"].label_vi == "Xâm nhập"
    assert category_from_label("Tấn công dò mật khẩu") == "intrusion"  # older files still read
    assert category_from_label("intrusions/application-compromise") == "intrusion"


@pytest.mark.parametrize(
    "label, severity",
    [
        ("Cao", "high"),
        ("thấp", "low"),
        ("Trung bình", "medium"),
        ("NGHIÊM TRỌNG", "critical"),
        ("high", "high"),
        ("x", None),
    ],
)
def test_vietnamese_severity_labels(label, severity):
    from incidents.taxonomy import severity_from_label

    assert severity_from_label(label) == severity
