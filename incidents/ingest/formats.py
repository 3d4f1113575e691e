"""Reading feed exports: the layout detected from the content, and the CSV reader (comma, semicolon or
tab; UTF-8 with or without BOM). The JSON readers are in json_formats.

Each reader streams: it yields one `Item` per record and never holds the file in memory, except a
single JSON document that is not an array (a search engine's hits export), which is read whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from incidents.files import looks_binary
from incidents.ingest.records import ALIASES
from incidents.ingest.sniff import legacy_encoding_hint, sniff_encoding, unsupported_layout
from incidents.jsontext import raw_decode

FORMATS = ("csv", "jsonl", "json")
_SNIFF_BYTES = 64 * 1024
_CHUNK = 1 << 20
# The field limit of every format, in characters: a longer value (CSV field, JSON string) quarantines its
# record with the reason. csv's default is 128 KiB; an original record pasted into a field can be larger.
FIELD_LIMIT = 16 * 1024 * 1024
# A whole record (a JSON array's element) may hold a few fields at the limit; past this, the text is no JSON.
_MAX_RECORD = 4 * FIELD_LIMIT
_SURROGATE = re.compile("[\udc80-\udcff]")
# A search engine's hits array ({"hits": {"hits": [...]}}), where a hits export's records start.
_HITS_ARRAY = re.compile(r'"hits"\s*:\s*\[')
csv.field_size_limit(FIELD_LIMIT)


class FormatError(Exception):
    """The file is in none of the formats ingest reads, or cannot be read at all."""


@dataclass(slots=True)
class Item:
    """One record as read: its line (or record number), its raw text, and the record or why it failed."""

    number: int
    text: str | None
    record: dict | None = None
    error: str | None = None
    fields: list[str] | None = None  # a CSV row, joined into `raw` only when somebody asks
    delimiter: str = ","

    @property
    def raw(self) -> str:
        if self.text is None:
            self.text = _join(self.fields or [], self.delimiter)
        return self.text


def detect_format(path: Path) -> str:
    """'csv', 'jsonl' or 'json', decided by parsing the start of the file (the extension only breaks ties).

    A JSON object that holds the whole file (an Elasticsearch response on one line or many) is `json`;
    JSON values one after another are `jsonl`. MISP events and TheHive alerts raise FormatError naming them.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror or e}") from None
    encoding = sniff_encoding(head)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise FormatError("empty file")
    if encoding == "utf-8-sig" and looks_binary(head):
        raise FormatError("binary file (NUL bytes), not a feed export")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        return _object_layout(path, encoding)
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        raise FormatError(f"{suffix} file does not start with JSON")
    return "csv"


def _object_layout(path: Path, encoding: str) -> str:
    """'json' or 'jsonl' for a file whose first value is a JSON object, whatever that value's size.

    The first value is read to its end (up to `_MAX_RECORD` characters, four times the field limit): a
    record longer than the sniff sample is still a record. One value that wraps records and nothing
    after it is `json`; values one after another are `jsonl`. A first value beyond the limit falls back to the sample: `jsonl`
    when a line of the sample starts another object.
    """
    with open(path, encoding=encoding, errors="replace") as fh:
        text = fh.read(_SNIFF_BYTES).lstrip("\ufeff \t\r\n")
        sample = text
        while True:
            try:
                value, end = raw_decode(text)
                break
            except RecursionError:
                # A value nested too deep to decode: a search export whose hits hold it is `json` (its
                # other records are read one by one), a first line nested too deep is a JSON Lines record.
                hits = _HITS_ARRAY.search(sample, 0, 4096)
                return "json" if hits and "\n{" not in sample else "jsonl"
            except json.JSONDecodeError as e:
                # Cut by the end of what was read (the error is in the last token, at most a surrogate
                # pair's 12-character escape, or in a string not closed) means read on; an error inside
                # the text is an error whatever follows.
                cut = e.pos >= len(text) - 16 or e.msg.startswith("Unterminated string")
                more = fh.read(max(len(text), _SNIFF_BYTES)) if cut and len(text) <= _MAX_RECORD else ""
                if not more:
                    # Not JSON within the limit (or at all): the sample's lines decide.
                    return "jsonl" if "\n{" in sample else "json"
                text += more
        unsupported = unsupported_layout(value)
        if unsupported:
            raise FormatError(unsupported)
        if text[end:].strip() or _more_text(fh):
            # Values one after another: one per line is JSON Lines; a first value over several lines
            # (pretty-printed search responses appended one after another, `jq .` output) is a stream of
            # JSON values, which the JSON reader reads value by value.
            return "json" if "\n" in text[:end].strip() else "jsonl"
    from incidents.ingest.json_formats import records_in

    # One document that wraps its records, on one line or many; else a file of one record.
    return "json" if records_in(value) is not None else "jsonl"


def _more_text(fh) -> bool:
    """Whether anything but white space is left to read in `fh`."""
    while chunk := fh.read(_SNIFF_BYTES):
        if chunk.strip():
            return True
    return False


def read_items(path: Path, fmt: str) -> Iterator[Item]:
    if fmt == "csv":
        return _read_csv(path)
    if fmt in ("jsonl", "json"):
        from incidents.ingest.json_formats import read_json, read_jsonl

        return read_jsonl(path) if fmt == "jsonl" else read_json(path)
    raise FormatError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def flatten(record: dict, prefix: str = "") -> dict:
    """IntelMQ's dotted names from nested JSON: {"time": {"source": x}} -> {"time.source": x}."""
    flat: dict = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


# --- CSV ---------------------------------------------------------------------------------------------


def _encoding_of(path: Path) -> str:
    with open(path, "rb") as fh:
        return sniff_encoding(fh.read(4096))


# Excel's `sep=;` line, also as Excel re-saves it: quoted (`"sep=;"`) and/or padded with the
# delimiter to the width of the rows (`sep=;;;;;;`, `"sep=;";;;`).
_SEP_LINE = re.compile(r'^\ufeff?\s*"?sep=([^\r\n])"?(?:[,;\t|]|\1)*\s*$', re.IGNORECASE)


def _read_csv(path: Path) -> Iterator[Item]:
    encoding = _encoding_of(path)
    with open(path, encoding=encoding, errors="surrogateescape", newline="") as fh:
        first = fh.readline()
        line = 1
        forced = _SEP_LINE.match(first)
        if forced:
            # Excel's `sep=;` line names the delimiter of the rows below it.
            delimiter = forced.group(1)
            first = fh.readline()
            line = 2
        else:
            delimiter = max(",;\t", key=first.count)
        header = next(csv.reader([first.lstrip("\ufeff")], delimiter=delimiter), [])
        header = [h.strip() for h in header]
        _check_header(header, first)
        reader = csv.reader(fh, delimiter=delimiter)
        width = len(header)
        base = line
        while True:
            start = line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                line = reader.line_num + base
                yield Item(start, "", error=f"malformed CSV: {e}")
                continue
            line = reader.line_num + base
            if not row:
                continue  # a blank line is no record
            if len(row) != width:
                yield Item(
                    start,
                    None,
                    error=f"wrong field count: {len(row)} where the header has {width}",
                    fields=row,
                    delimiter=delimiter,
                )
                continue
            joined = "".join(row)
            if "\x00" in joined:
                # A NUL byte is in no text a feed writes: the row was corrupted (a disk block never
                # written, a C buffer copied whole). Its fields cannot be trusted, nor stored as text.
                yield Item(
                    start,
                    None,
                    error="a NUL byte in a field (a corrupted row)",
                    fields=row,
                    delimiter=delimiter,
                )
                continue
            if not joined.isascii() and _SURROGATE.search(joined):
                data = _join(row, delimiter).encode("utf-8", "surrogateescape")
                yield Item(start, data.decode("utf-8", "replace"), error=legacy_encoding_hint(data))
                continue
            yield Item(start, None, dict(zip(header, row)), fields=row, delimiter=delimiter)


def _check_header(header: list[str], first: str) -> None:
    names = {h.lower() for h in header}
    has_time = any(a in names for a in ALIASES["time"])
    has_class = any(a in names for f in ("category", "taxonomy", "type") for a in ALIASES[f])
    if not (has_time and has_class):
        if _SURROGATE.search(first):
            data = first.encode("utf-8", "surrogateescape")
            raise FormatError(f"CSV header: {legacy_encoding_hint(data)}")
        shown = ", ".join(header[:6]) + (" ..." if len(header) > 6 else "")
        raise FormatError(f"CSV header has no time and category columns (found: {shown or 'nothing'})")


def _join(row: list[str], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(row)
    return out.getvalue()
