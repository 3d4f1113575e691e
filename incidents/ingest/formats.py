"""Readers for feed exports: CSV (comma, semicolon or tab; UTF-8 with or without BOM), JSON Lines, JSON.

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

from incidents.ingest.records import ALIASES

FORMATS = ("csv", "jsonl", "json")
_SNIFF_BYTES = 64 * 1024
_CHUNK = 1 << 20
_MAX_RECORD = 16 * _CHUNK
_SURROGATE = re.compile("[\udc80-\udcff]")
# csv's default limit is 128 KiB per field; an original record pasted into a field can be larger.
csv.field_size_limit(16 * 1024 * 1024)


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
    """'csv', 'jsonl' or 'json', from the first bytes (the extension only breaks ties)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror or e}") from None
    if not head.strip():
        raise FormatError("empty file")
    if b"\x00" in head:
        raise FormatError("binary file (NUL bytes), not a feed export")
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        first = text.splitlines()[0]
        try:
            value = json.loads(first)
            # A one-line document that wraps its records ({"hits": ...}) is JSON, not one record.
            return "json" if _records_in(value) is not None and len(text) == len(first.rstrip()) else "jsonl"
        except ValueError:
            return "json" if "\n" in text or len(head) < _SNIFF_BYTES else "jsonl"
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        raise FormatError(f"{suffix} file does not start with JSON")
    return "csv"


def read_items(path: Path, fmt: str) -> Iterator[Item]:
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "jsonl":
        return _read_jsonl(path)
    if fmt == "json":
        return _read_json(path)
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


def _read_csv(path: Path) -> Iterator[Item]:
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        first = fh.readline()
        delimiter = max(",;\t", key=first.count)
        header = next(csv.reader([first], delimiter=delimiter), [])
        header = [h.strip() for h in header]
        _check_header(header)
        reader = csv.reader(fh, delimiter=delimiter)
        width = len(header)
        line = 1
        while True:
            start = line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                line = reader.line_num + 1
                yield Item(start, "", error=f"malformed CSV: {e}")
                continue
            line = reader.line_num + 1
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
            if not joined.isascii() and _SURROGATE.search(joined):
                raw = _join(row, delimiter).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                yield Item(start, raw, error="invalid UTF-8")
                continue
            yield Item(start, None, dict(zip(header, row)), fields=row, delimiter=delimiter)


def _check_header(header: list[str]) -> None:
    names = {h.lower() for h in header}
    has_time = any(a in names for a in ALIASES["time"])
    has_class = any(a in names for f in ("category", "taxonomy", "type") for a in ALIASES[f])
    if not (has_time and has_class):
        shown = ", ".join(header[:6]) + (" ..." if len(header) > 6 else "")
        raise FormatError(f"CSV header has no time and category columns (found: {shown or 'nothing'})")


def _join(row: list[str], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(row)
    return out.getvalue()


# --- JSON Lines --------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterator[Item]:
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.strip()
            if not text:
                continue
            yield _json_item(number, text)


def _json_item(number: int, text: str) -> Item:
    if _SURROGATE.search(text):
        return Item(
            number, text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), error="invalid UTF-8"
        )
    try:
        value = json.loads(text)
    except ValueError as e:
        return Item(number, text, error=f"invalid JSON: {e.msg}")
    if not isinstance(value, dict):
        return Item(number, text, error=f"a JSON {type(value).__name__}, not an object")
    return Item(number, text, flatten(value))


# --- JSON --------------------------------------------------------------------------------------------


def _read_json(path: Path) -> Iterator[Item]:
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as fh:
        head = fh.read(1)
        while head and head.isspace():
            head = fh.read(1)
        if head == "[":
            yield from _stream_array(fh)
            return
        # One JSON document: a search engine's export ({"hits": {"hits": [{"_source": ...}]}}) or
        # {"incidents": [...]}. These are bounded by the engine's page size, so reading whole is fine.
        text = head + fh.read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise FormatError(f"invalid JSON at line {e.lineno}: {e.msg}") from None
    records = _records_in(doc)
    if records is None:
        raise FormatError(
            "a JSON object without a list of records (expected an array, hits.hits or incidents)"
        )
    for number, value in enumerate(records, start=1):
        yield _value_item(number, value)


def _records_in(doc) -> list | None:
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    hits = doc.get("hits")
    if isinstance(hits, dict) and isinstance(hits.get("hits"), list):
        return [h.get("_source", h) if isinstance(h, dict) else h for h in hits["hits"]]
    for key in ("incidents", "events", "records", "data", "results"):
        if isinstance(doc.get(key), list):
            return doc[key]
    return None


def _value_item(number: int, value) -> Item:
    raw = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict):
        return Item(number, raw, error=f"a JSON {type(value).__name__}, not an object")
    if _SURROGATE.search(raw):
        return Item(number, raw, error="invalid UTF-8")
    return Item(number, raw, flatten(value))


def _stream_array(fh) -> Iterator[Item]:
    """Decode the elements of a top-level JSON array one at a time, in constant memory."""
    decoder = json.JSONDecoder()
    buf, pos, number = "", 0, 0
    eof = False
    while True:
        # Skip white space and the comma between elements, reading more as needed.
        while True:
            while pos < len(buf) and (buf[pos].isspace() or buf[pos] == ","):
                pos += 1
            if pos < len(buf) or eof:
                break
            buf, pos = fh.read(_CHUNK), 0
            eof = not buf
        if pos >= len(buf):
            raise FormatError(f"JSON array not closed (after record {number}): truncated file?")
        if buf[pos] == "]":
            return
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                break
            except ValueError as e:
                more = "" if eof else fh.read(_CHUNK)
                # An element larger than any real record means the text is not JSON: stop reading.
                if not more or len(buf) - pos > _MAX_RECORD:
                    eof = True
                    tail = buf[pos : pos + 200]
                    raise FormatError(
                        f"invalid JSON in record {number + 1}: {e.msg} near {tail[:60]!r}"
                    ) from None
                buf, pos = buf[pos:] + more, 0
        number += 1
        yield _value_item(number, value)
        pos = end
        if pos > _CHUNK:
            buf, pos = buf[pos:], 0
