"""Rows as CSV, TSV or newline-delimited JSON for scripts and spreadsheets, safe to open in Excel.

CSV injection (OWASP, "CSV Injection"): a spreadsheet runs a cell that begins with `=`, `+`, `-` or
`@` (and, in some programs, a tab or carriage return before one) as a formula: `=HYPERLINK(...)` or
`@SUM(1+1)*cmd|' /C calc'!A0` from a feed's record would run on the analyst's machine. OWASP's advice:
prefix such a cell with a single quote so it is read as text, and quote every field that needs it
(the csv module does). The quote is added to text only, never to numbers, so `-3` stays a number.
Control characters (ESC, BEL, C1) are written as text (`\x1b`), so `cat export.csv` cannot colour,
clear or hyperlink a terminal; TAB, LF and CR stay as data inside the quoted field.
JSON output is always valid UTF-8: text holding unpaired surrogates (bytes that were not UTF-8, decoded
with `surrogateescape`) is written with U+FFFD in their place.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence

from incidents.controls import BIDI_CONTROLS, printable_lines

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: object) -> object:
    """A cell value a spreadsheet will not run and a terminal will not obey: control characters other than
    TAB, LF and CR shown as text (`\x1b`, incidents.controls.printable_lines; those three stay inside the
    quoted field), then text starting (after blanks) with a formula prefix gets `'`."""
    if not isinstance(value, str) or not value:
        return value
    value = printable_lines(value)
    stripped = value.lstrip(" \t\r\n")
    if value[0] in FORMULA_PREFIXES or (stripped and stripped[0] in FORMULA_PREFIXES):
        return "'" + value
    return value


def clean_text(value: str) -> str:
    """`value` with every unpaired surrogate replaced by U+FFFD, so it encodes as UTF-8."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def clean(data):
    """`data` (dicts, lists, scalars) with every string passed through clean_text."""
    if isinstance(data, str):
        return clean_text(data)
    if isinstance(data, dict):
        return {clean(k): clean(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [clean(v) for v in data]
    return data


# What json.dumps(ensure_ascii=False) leaves raw but a terminal obeys: DEL, the C1 controls (8-bit ESC
# sequences such as U+009B, CSI), the bidirectional formatting characters (Trojan Source,
# CVE-2021-42574) and the line/paragraph separators. They only occur inside JSON strings, where the
# \uXXXX escape is the same value (RFC 8259 section 7), so the output parses to the same data.
_TERMINAL_UNSAFE = re.compile(f"[\x7f-\x9f{BIDI_CONTROLS}\u2028\u2029]")


def to_json(data, *, indent: int | None = 2) -> str:
    """JSON text, UTF-8-safe (see clean), non-ASCII kept as it is except the characters a terminal would
    obey (C0 controls are escaped by json itself; DEL, C1 and bidi controls as \\uXXXX)."""
    text = json.dumps(clean(data), ensure_ascii=False, indent=indent, default=str)
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def delimited(
    rows: Iterable[dict], columns: Sequence[str], fmt: str, *, headers: bool = True
) -> Iterable[str]:
    """Lines of `rows` (dicts) as 'csv', 'tsv' or 'nl' (one JSON object a line); text cells neutralised.

    Raises ValueError for another `fmt`."""
    if fmt == "nl":
        for row in rows:
            yield to_json({c: row.get(c) for c in columns}, indent=None) + "\n"
        return
    if fmt not in ("csv", "tsv"):
        raise ValueError(f"unknown format {fmt!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    if headers:
        writer.writerow(columns)
        yield take()
    for row in rows:
        writer.writerow([neutralise(clean(row.get(c))) for c in columns])
        yield take()
