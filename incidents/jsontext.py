"""JSON decoding that reads an integer longer than Python's int limit instead of failing on it.

Python 3.11+ refuses to turn a string of more than 4,300 digits into an int (CVE-2020-10735: the
conversion is quadratic). `json` then raises a plain ValueError, not a JSONDecodeError: it has no
`msg`, and a reader that takes it for broken JSON quarantines a record that is valid JSON, or, in a
streamed array, every record after it. Such a number is read as a float instead (+/-inf), which every
field check already refuses as out of range, and the record's own text keeps its digits. The tolerant
decoder is only used after the fast one failed, so ordinary records pay nothing.
"""

from __future__ import annotations

import json
import re


def _big_int(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)  # inf or -inf: no field accepts it


_FAST = json.JSONDecoder()
_TOLERANT = json.JSONDecoder(parse_int=_big_int)


def loads(text: str):
    """json.loads, but an integer beyond the int limit is read as +/-inf."""
    try:
        return _FAST.decode(text)
    except json.JSONDecodeError:
        raise
    except ValueError:
        return _TOLERANT.decode(text)


def raw_decode(text: str, pos: int = 0):
    """JSONDecoder.raw_decode, but an integer beyond the int limit is read as +/-inf."""
    try:
        return _FAST.raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except ValueError:
        return _TOLERANT.raw_decode(text, pos)


def error_text(e: ValueError) -> str:
    """What a JSON decoding error says, without its position (any ValueError, not only JSONDecodeError)."""
    return getattr(e, "msg", None) or str(e)


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def value_end(text: str, pos: int) -> int | None:
    """The end of the JSON array or object starting at `pos`, found by counting its brackets outside
    strings (linear, no recursion: for a value nested too deep to decode, so that what follows it can
    be read); None when it does not end within `text`."""
    depth = 0
    for token in _TOKEN.finditer(text, pos):
        c = token.group()[0]
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return token.end()
    return None
