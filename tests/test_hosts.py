"""One normal form per host: defanged, IDN, zero-padded and mapped spellings are one target."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents.ingest.hosts import BadTarget, normalise_target, refang


@pytest.mark.parametrize(
    "defanged, live",
    [
        ("hxxp://bank.example[.]vn/login", "http://bank.example.vn/login"),
        ("hXXps://bank.example(.)vn/login", "https://bank.example.vn/login"),
        ("hxxps[:]//bank[.]example[.]vn/a", "https://bank.example.vn/a"),
        ("http[://]bank[dot]example{.}vn/a", "http://bank.example.vn/a"),
        ("bank[.]example[.]vn", "bank.example.vn"),
        ("203.0.113[.]7", "203.0.113.7"),
        ("user[@]example[.]vn", "user@example.vn"),
        ("plain.example.vn", "plain.example.vn"),
    ],
)
def test_refang(defanged, live):
    assert refang(defanged) == live


SAME_HOST = [
    "example-v.vn",
    "EXAMPLE-V.VN",
    "www.example-v.vn",
    "example-v.vn.",
    "http://example-v.vn/",
    "https://example-v.vn",
    "HTTP://EXAMPLE-V.vn:80/",
    "example-v.vn/",
    " example-v.vn ",
    "hxxp://example-v[.]vn/",
    "//example-v.vn",
]


@pytest.mark.parametrize("spelling", SAME_HOST)
def test_spellings_of_one_domain(spelling):
    assert normalise_target(spelling) == ("example-v.vn", "domain")


@pytest.mark.parametrize(
    "spelling",
    [
        "203.0.113.7",
        "203.000.113.007",
        "::ffff:203.0.113.7",
        "::FFFF:cb00:7107",
        "http://203.0.113.7/",
        "http://[::ffff:203.0.113.7]/",
        "203.0.113[.]7",
    ],
)
def test_spellings_of_one_ipv4(spelling):
    assert normalise_target(spelling) == ("203.0.113.7", "ip")


def test_ipv6_is_canonical():
    assert normalise_target("2001:DB8:0:0::1") == ("2001:db8::1", "ip")
    assert normalise_target("http://[2001:db8::1]:8080/x") == ("http://[2001:db8::1]:8080/x", "url")


def test_idn_forms_are_one_target():
    nfc = "ngânhàng-việt.example.vn"
    forms = [
        nfc,
        unicodedata.normalize("NFD", nfc),
        nfc.upper(),
        "xn--ngnhng-vit-k4av1160h.example.vn",
        nfc + ".",
    ]
    assert {normalise_target(f) for f in forms} == {(nfc, "domain")}
    assert normalise_target("https://XN--NGNHNG-VIT-K4AV1160H.example.vn/Login") == (
        f"https://{nfc}/Login",
        "url",
    )


def test_urls_keep_scheme_path_and_query_but_not_fragment_or_default_port():
    assert normalise_target("HTTPS://WWW.Example.VN:443/Login?a=1#top") == (
        "https://www.example.vn/Login?a=1",
        "url",
    )
    assert normalise_target("example.vn/login") == ("http://example.vn/login", "url")
    assert normalise_target("http://example.vn/login") != normalise_target("https://example.vn/login")


@pytest.mark.parametrize(
    "broken", ["http://[::1", "http://a.example.vn:99999/x", "https://a.example.vn:port/"]
)
def test_broken_urls_raise_bad_target(broken):
    with pytest.raises(BadTarget):
        normalise_target(broken)


def test_values_that_are_no_host_are_kept_as_text():
    assert normalise_target("x' OR 1=1 --.vn") == ("x' or 1=1 --.vn", "text")


@given(st.text(max_size=60))
def test_any_text_gives_a_target_or_bad_target(text):
    try:
        target, kind = normalise_target(text)
    except BadTarget:
        return
    assert kind in (None, "domain", "url", "ip", "text")
    if target is not None:
        # Idempotent: a normalised target normalises to itself (or to the same host).
        assert normalise_target(target)[0] == target or kind == "text"


@given(st.from_regex(r"\A[a-zA-Z0-9-]{1,12}(\.[a-zA-Z0-9-]{1,12}){0,3}\Z"))
def test_the_ascii_fast_path_agrees_with_idna(name):
    import idna

    from incidents.ingest.hosts import host_text, ip_text

    if ip_text(name):
        return  # an address, not a name
    if name.rpartition(".")[2].isdigit():
        assert host_text(name) == (name.lower(), "text")  # an all-digit last label is no host name
        return
    try:
        expected = (idna.decode(idna.encode(name, uts46=True, transitional=False)), "domain")
    except (idna.IDNAError, UnicodeError, ValueError):
        expected = (name.lower(), "text")
    assert host_text(name) == expected


@pytest.mark.parametrize(
    "spaced, live",
    [
        ("site11 [.] example [.] vn", ("site11.example.vn", "domain")),
        ("site [dot] example [dot] vn", ("site.example.vn", "domain")),
        ("site ( . ) example (.) vn", ("site.example.vn", "domain")),
        ("site[ . ]example{ . }vn", ("site.example.vn", "domain")),
        ("203 [.] 0 [.] 113 [.] 7", ("203.0.113.7", "ip")),
        ("hxxp://site [.] example [.] vn/x", ("http://site.example.vn/x", "url")),
        ("hxxps [://] bank [.] example [.] vn/a", ("https://bank.example.vn/a", "url")),
        ("hxxp [:] //bank [.] example [.] vn/a", ("http://bank.example.vn/a", "url")),
    ],
)
def test_spaced_defangs_are_refanged(spaced, live):
    assert normalise_target(spaced) == live


def test_spaced_defang_dedups_with_the_live_form(db, tmp_path):
    from incidents.ingest import ingest_file

    f = tmp_path / "defang.csv"
    f.write_text(
        "id,time,category,target,feed\n"
        "D20,2020-10-20T09:00:00+07:00,deface,site11 [.] example [.] vn,f\n"
        "D21,2020-10-20T09:00:00+07:00,deface,site11.example.vn,g\n"
    )
    r = ingest_file(db, f)
    assert (r.accepted, r.duplicate) == (1, 1), r.message


@pytest.mark.parametrize(
    "spelling", ["0xCB.0.113.7", "0xcb.0x00.0x71.0x07", "0XCB.0.0x71.7", "0xCB007107", "http://0xCB.0.113.7/"]
)
def test_hex_ipv4_is_the_address(spelling):
    assert normalise_target(spelling) == ("203.0.113.7", "ip")


@pytest.mark.parametrize("spelling", ["0313.0.113.7", "3405803783", "0x1FF.0.0.1", "203.0.113.256"])
def test_no_address_spellings_stay_text(spelling):
    # Zero-padded octets are decimal (never octal): 0313 is 313, no octet; a bare integer is no address.
    assert normalise_target(spelling)[1] == "text"


_URLISH = st.from_regex(
    r"\A(?i:https?)://[a-zA-Z0-9.-]{1,20}(/[a-zA-Z0-9/._%~+-]{0,20})?(\?[a-zA-Z0-9=&%._-]{0,15})?(#[a-z0-9]{0,5})?\Z"
)


@given(st.one_of(_URLISH, st.text(alphabet="hps:/?#.aZ09-_ %\t\n", max_size=30)))
def test_the_plain_url_regex_agrees_with_urlsplit(text):
    from incidents.ingest.hosts import _PLAIN_URL, _split_url, _url

    if _PLAIN_URL.match(text) is None:
        return
    try:
        expected = _split_url(text)
    except BadTarget:
        expected = None
    assert _url(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://Example.VN/Login?ID=1#top",
        "http://a.vn?x=1",
        "http://a.vn/?",
        "http://a.vn#f",
        "https://www.a.vn/",
        "http://203.000.113.007/x",
        "http://0x7f.0.0.1/x",
        "http://./x",
        "http://a.vn/d%C3%A2y?q=%20",
    ],
)
def test_plain_url_examples_agree_with_urlsplit(url):
    from incidents.ingest.hosts import _split_url, _url

    assert _url(url) == _split_url(url)
