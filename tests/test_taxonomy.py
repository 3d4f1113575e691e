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
