"""A record's value as a screen shows it: control characters as text (`\\x1b`, `\\u202e`), so it can never
drive a terminal, and a long value cut at DISPLAY_CHARS, so it can never hang one (see clipped).

ESC starts ANSI sequences (colours, clearing the screen, OSC 8 hyperlinks), BEL rings, C1 controls are
8-bit forms of the same, and the Unicode bidirectional formatting characters reorder what is shown
(Trojan Source, CVE-2021-42574). Every command that prints a record's value (tables, `show`, the TUI,
the bulletin, CSV/TSV exports) passes it through printable or printable_lines.
"""

from __future__ import annotations

import re

# Unicode's Bidi_Control property (UAX #9, PropList.txt): ALM, LRM, RLM, the embeddings and overrides
# (U+202A-U+202E) and the isolates (U+2066-U+2069). One list for every place that escapes them.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

# C0 controls, DEL, C1 controls, the bidirectional formatting characters and unpaired surrogates.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}\ud800-\udfff]")
# The same without TAB, LF and CR: text whose lines are kept (a bulletin paragraph, a quoted CSV field).
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI_CONTROLS}\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match) -> str:
    c = m.group(0)
    if c in _NAMED:
        return _NAMED[c]
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """The value as text a terminal shows literally: control and bidi characters escaped, None as ''."""
    if value is None:
        return ""
    return _UNSAFE.sub(_escape_char, str(value))


def printable_lines(text: str) -> str:
    """`text` with the same characters escaped as printable, except TAB, LF and CR, which stay."""
    return _UNSAFE_IN_LINES.sub(_escape_char, text)


# What a screen shows of one value (a field, a line of the original record): a 30 MB field would take
# rich minutes to lay out and the TUI gigabytes. `--json` prints every character.
DISPLAY_CHARS = 4_000


def clipped(text: str, limit: int = DISPLAY_CHARS, hint: str = "use --json for all") -> str:
    """`text` when at most `limit` characters, else its first `limit` and '… (N more characters; hint)'."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters; {hint})"
