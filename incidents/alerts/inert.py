"""Attacker-controlled text made inert for mail: no line breaks or terminal controls, links defanged.

Record fields (domains, URLs, user agents, descriptions) come from feeds and logs an attacker can
write to. In a header a CR or LF would start a new header (a Bcc: that adds a recipient); in a body or
on the terminal of `--dry-run`, ANSI and bidirectional controls would disguise the text. Every such
character is shown as a visible escape instead. HTML escaping is Jinja2's autoescape (compose.py).
"""

from __future__ import annotations

import re
import unicodedata

from incidents.controls import BIDI_CONTROLS

# Bidirectional controls (Trojan Source, CVE-2021-42574) and the characters str.splitlines() and the
# email package treat as line breaks besides CR and LF.
_EXTRA = set(BIDI_CONTROLS + "\u2028\u2029\x85")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(value, limit: int | None = None, *, keep_newlines: bool = False) -> str:
    """`value` as text with every control character escaped (\\x1b, \\u202e), cut to `limit` characters."""
    text = "" if value is None else str(value)
    out = []
    for ch in text:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif ch in _EXTRA or unicodedata.category(ch) == "Cc":
            out.append(_escape(ch))
        else:
            out.append(ch)
    text = "".join(out)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def header_text(value, limit: int = 150) -> str:
    """One header line: controls escaped, runs of white space folded to one space."""
    return re.sub(r"\s+", " ", inert(value, limit)).strip()


_SCHEME = re.compile(r"\b(h)(tt)(ps?)(://)", re.IGNORECASE)
# What a mail client would make a link inside free text: a URL with a scheme, an e-mail address, a
# domain name (labels and a last label of letters: 'login.bank.example.vn', 'www.evil.example.org').
_LINKABLE = re.compile(
    r"\b(?:[a-z][a-z0-9+.-]*://[^\s<>\"']+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?:[\w-]+\.)+[a-z]{2,}\b)",
    re.IGNORECASE,
)


def defang(value) -> str:
    """A domain, URL or IP address as CSIRTs write it in mail so no client makes it a link: hxxp, [.]
    (every scheme in the value, not only a leading one: a target that is no URL may still hold one)."""
    return _hxxp(inert(value)).replace(".", "[.]")


def _hxxp(text: str) -> str:
    """Every http:// and https:// in `text` as hxxp:// and hxxps://."""
    return _SCHEME.sub(lambda m: m.group(1) + "xx" + m.group(3) + m.group(4), text)


def defang_text(value, limit: int | None = None) -> str:
    """Free text (a description) with every URL, e-mail address and domain name in it defanged as CSIRTs
    write them (`hxxps://login[.]bank[.]example`, `user[@]victim[.]example[.]vn`), controls escaped, cut
    to `limit` characters: an analyst reading the alert cannot open the phishing link it reports."""
    text = inert(value, limit)

    def one(m: re.Match) -> str:
        found = _hxxp(m.group(0))
        return (
            found.replace("://", "[://]" if not found.lower().startswith("hxxp") else "://")
            .replace("@", "[@]")
            .replace(".", "[.]")
        )

    return _LINKABLE.sub(one, text)
