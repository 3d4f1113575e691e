"""One normal form for the targets feeds report (domains, URLs, IP addresses), so dedup works across feeds.

Which spellings are one target (documented in the README, tested in tests/test_hosts.py):
- defanged indicators are re-fanged first: `hxxp://`, `hXXps://`, `hxxp[s]://`, `ttp://`, `[.]`, `(.)`,
  `{.}`, `<.>`, `[dot]`, `(dot)`, `<dot>`, ` dot `, `[:]`, `[://]`, `:[//]`, `[/]`, `[@]`/`[at]`, with or
  without blanks around or inside the brackets
  (`a [.] example [ . ] vn`) (the record's original text stays in `raw`);
- domains and URL hosts: Unicode NFC, then IDNA 2008 with UTS 46 mapping (the `idna` library), stored
  as Unicode (U-labels), lower case, no trailing dot; a domain (not a URL host) also loses a leading `www.`;
- IPv4 in any zero-padded spelling (`203.000.113.007`, and `0313.0.113.7` too: read as DECIMAL, never as
  inet_aton's octal, because feeds pad for sorting); hex octets as inet_aton reads them (`0xCB.0.113.7`,
  `0xcb.0x00.0x71.0x07`, `0xCB007107` are 203.0.113.7: a hex digit cannot be a padded decimal, so
  nothing is ambiguous); a bare decimal integer (`3405803783`) is not read as an address (kept as text,
  it is as likely a ticket number); and IPv6
  in any spelling become the canonical address; an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is
  that IPv4 address;
- a URL that names only a host (no path beyond `/`, no query, default or no port, no user) is that host:
  `http://example.vn/`, `https://EXAMPLE.vn` and `example.vn/` are the target `example.vn`;
- other URLs keep their scheme (lower case), path and query; the fragment and a default port are
  dropped; a URL written without a scheme (`example.vn/login`) is read as `http://`.
A value that is none of these (spaces, quotes, characters IDNA refuses) is kept as written (NFC, lower
case) with kind `text`; a URL that cannot be parsed (`http://[::1`, a port `:99999`) raises BadTarget.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import idna


class BadTarget(ValueError):
    """A target value that is a broken URL; the message says why."""


# Brackets around a defanged character, with the blanks analysts put around them (`a [.] vn`, `a ( . ) vn`).
# Angle brackets too: `example<.>vn`, `example<dot>vn` (mail clients and some TI platforms write them).
_OPEN, _CLOSE = r"\s*[\[\(\{<]\s*", r"\s*[\]\)\}>]\s*"
_DEFANGS = (
    # hxxp, hXXps, h**p, h__p, hxp, meow, `hxxp[s]`, and `ttp` (the h dropped) before the colon.
    (
        re.compile(r"^\s*(?:h[x*_]{2}p|hxp|meow|ttp)(?:(s)|\[(s)\])?(?=\s*[\[\(\{<]?\s*:)", re.IGNORECASE),
        r"http\1\2",
    ),
    (re.compile(r"^\s*fxp(?=\s*[\[\(\{<]?\s*:)", re.IGNORECASE), "ftp"),
    (re.compile(rf"{_OPEN}://{_CLOSE}|{_OPEN}:{_CLOSE}//\s*|:{_OPEN}//{_CLOSE}"), "://"),
    (re.compile(rf"{_OPEN}:{_CLOSE}"), ":"),
    (re.compile(rf"{_OPEN}(?:\.|dot){_CLOSE}|\s+dot\s+|\\\.", re.IGNORECASE), "."),
    (re.compile(rf"{_OPEN}/{_CLOSE}"), "/"),
    (re.compile(rf"{_OPEN}(?:@|at){_CLOSE}", re.IGNORECASE), "@"),
)
_DEFANG_HINT = re.compile(r"[\[\({<\\]|^\s*(?:h[x*_]{2}p|hxp|fxp|meow|ttps?:)|\sdot\s", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
# Labels of 1-63 letters, digits and inner hyphens, without IDNA's reserved "??--" (RFC 5891 4.2.3.1).
_LDH = re.compile(
    r"^(?:(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_PADDED_V4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
# Hex IPv4, as inet_aton(3) reads it and as phishing URLs use it to hide an address: four octets each
# decimal or `0x` + 1-2 hex digits (`0xCB.0.113.7`), or one 32-bit `0x` number (`0xCB007107`).
_HEX_V4 = re.compile(
    r"^(?:(?:0x[0-9a-f]{1,2}|\d{1,3})\.){3}(?:0x[0-9a-f]{1,2}|\d{1,3})$|^0x[0-9a-f]{1,8}$", re.IGNORECASE
)


def refang(text: str) -> str:
    """The live form of a defanged indicator: `hxxp://a[.]vn` -> `http://a.vn`; other text unchanged."""
    if not _DEFANG_HINT.search(text):
        return text
    for pattern, replacement in _DEFANGS:
        text = pattern.sub(replacement, text)
    return text


def ip_text(text: str) -> str | None:
    """The canonical form of an IP address in any common spelling, or None if it is not one."""
    if _PADDED_V4.match(text):
        octets = [int(o) for o in text.split(".")]
        return ".".join(map(str, octets)) if max(octets) <= 255 else None
    if "0x" in text.lower() and _HEX_V4.match(text):
        if "." not in text:
            return str(ipaddress.IPv4Address(int(text, 16)))
        octets = [int(o, 16) if o[:2].lower() == "0x" else int(o) for o in text.split(".")]
        return ".".join(map(str, octets)) if max(octets) <= 255 else None
    if ":" not in text:
        return None
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


@lru_cache(maxsize=1 << 16)
def host_text(host: str) -> tuple[str, str]:
    """(host, kind) for a host name or address: kind ip, domain, or text (not a valid name)."""
    host = unicodedata.normalize("NFC", host).strip().rstrip(".")
    ip = ip_text(host)
    if ip:
        return ip, "ip"
    lower = host.lower()
    if lower.rpartition(".")[2].isdigit():
        # An all-digit last label is no host name (RFC 3696, 2) and was no address above: `0313.0.113.7`
        # (decimal 313), `3405803783`, `203.0.113.256`.
        return lower, "text"
    if _LDH.match(lower) and "xn--" not in lower:
        # Plain ASCII letters, digits and hyphens: what IDNA would give, without its per-code-point checks
        # (30x faster; tests/test_hosts.py checks the two agree).
        return lower, "domain"
    try:
        return idna.decode(idna.encode(host, uts46=True, transitional=False)), "domain"
    except (idna.IDNAError, UnicodeError, ValueError):
        return host.lower(), "text"


@lru_cache(maxsize=1 << 16)
def normalise_target(value: str) -> tuple[str | None, str | None]:
    """(target, kind) with kind domain, url, ip or text; every spelling of one host gives one string.

    Raises BadTarget for a URL that cannot be parsed. Cached: feeds repeat their targets.
    """
    text = refang(value.strip())
    if not text:
        return None, None
    if "://" not in text:
        if text.startswith("//"):
            text = "http:" + text
        elif "/" in text and not text.startswith("/"):
            head, _, rest = text.partition("/")
            try:
                return str(ipaddress.ip_network(text, strict=False)), "ip"
            except ValueError:
                pass
            if not rest.strip("/") and " " not in head:
                text = head  # `example.vn/`: a host with a trailing slash
            elif " " not in head and "." in head:
                text = "http://" + text
    if "://" not in text:
        host, kind = host_text(text)
        return (host.removeprefix("www."), kind) if kind == "domain" else (host, kind)
    return _url(text)


# The usual URL: http(s), an ASCII host name or IPv4 address, no user, no port, no blanks. Read by one
# regex instead of urlsplit (4x faster); tests/test_hosts.py checks that both readings agree.
_PLAIN_URL = re.compile(
    r"^(https?)://([A-Za-z0-9.-]+)(/[^?#\s]*)?(?:\?([^#\s]*))?(?:#.*)?$", re.ASCII | re.DOTALL
)


def _url(text: str) -> tuple[str, str]:
    plain = _PLAIN_URL.match(text)
    if plain is None:
        return _split_url(text)
    scheme, host, path, query = plain.groups()
    host, kind = host_text(host.lower())
    if path in (None, "/") and not query:
        return (host.removeprefix("www."), kind) if kind == "domain" else (host, kind)
    return f"{scheme.lower()}://{host}{path or '/'}{'?' + query if query else ''}", "url"


def _split_url(text: str) -> tuple[str, str]:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise BadTarget(f"invalid URL {text[:200]!r}: {e}") from None
    scheme = parts.scheme.lower()
    if not parts.hostname:
        return unicodedata.normalize("NFC", text), "text"
    host, kind = host_text(parts.hostname)
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    if parts.path in ("", "/") and not parts.query and port is None and not parts.username:
        return (host.removeprefix("www."), kind) if kind == "domain" else (host, kind)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    if parts.username:
        netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")), "url"
