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
from incidents.ingest.sniff import legacy_encoding_hint, sniff_encoding, unsupported_layout

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
    """'csv', 'jsonl' or 'json', decided by parsing the start of the file (the extension only breaks ties).

    A JSON object that holds the whole file (an Elasticsearch response on one line or many) is `json`;
    JSON values one after another are `jsonl`. MISP events and TheHive alerts raise FormatError naming them.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            whole = len(head) < _SNIFF_BYTES or not fh.read(1)
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror or e}") from None
    encoding = sniff_encoding(head)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise FormatError("empty file")
    if encoding == "utf-8-sig" and b"\x00" in head:
        raise FormatError("binary file (NUL bytes), not a feed export")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        decoder = json.JSONDecoder()
        try:
            value, end = decoder.raw_decode(text)
        except ValueError:
            # The first value does not end in the bytes read: a document larger than one record.
            return "jsonl" if not whole and "\n{" in text else "json"
        except RecursionError:
            return "jsonl"
        unsupported = unsupported_layout(value)
        if unsupported:
            raise FormatError(unsupported)
        rest = text[end:].strip()
        if not rest and _records_in(value) is not None:
            return "json"  # one document that wraps its records, on one line or many
        return "jsonl"
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


# --- JSON Lines --------------------------------------------------------------------------------------


# An Elasticsearch/OpenSearch `_bulk` body (what elasticdump and `_bulk` exports write): an action line
# `{"index": {"_index": ..., "_id": ...}}` before each document line.
_BULK_ACTION = re.compile(r'^\{\s*"(index|create|update|delete)"\s*:\s*\{')


def _read_jsonl(path: Path) -> Iterator[Item]:
    encoding = _encoding_of(path)
    action: tuple[int, str, dict] | None = None  # (line, kind, metadata) of a _bulk action line
    with open(path, encoding=encoding, errors="surrogateescape") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.strip().lstrip("\ufeff")
            if not text:
                continue
            bulk = _bulk_action(text) if text[0] == "{" and _BULK_ACTION.match(text) else None
            if bulk is not None:
                if action is not None:
                    yield Item(action[0], "", error=f"a _bulk {action[1]} action without its document")
                action = None
                if bulk[0] == "delete":
                    yield Item(
                        number, text, error="a _bulk delete action: a document removed, no record to read"
                    )
                else:
                    action = (number, *bulk)
                continue
            if action is not None:
                yield _bulk_document(number, text, action[1], action[2])
                action = None
                continue
            yield from _json_items(number, text)
    if action is not None:
        yield Item(action[0], "", error=f"a _bulk {action[1]} action without its document")


def _bulk_action(text: str) -> tuple[str, dict] | None:
    """(kind, metadata) for a `_bulk` action line, else None (a record that happens to look like one)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not (isinstance(value, dict) and len(value) == 1):
        return None
    ((kind, meta),) = value.items()
    if not isinstance(meta, dict) or not set(meta) <= _BULK_META:
        return None
    return kind, meta


_BULK_META = {
    "_index",
    "_id",
    "_type",
    "routing",
    "_routing",
    "version",
    "version_type",
    "pipeline",
    "if_seq_no",
    "if_primary_term",
    "retry_on_conflict",
    "require_alias",
    "op_type",
    "dynamic_templates",
}


def _bulk_document(number: int, text: str, kind: str, meta: dict) -> Item:
    """The document line after a `_bulk` index/create/update action, with the action's `_id` as its id."""
    try:
        value = json.loads(text)
    except ValueError as e:
        return Item(number, text, error=f"invalid JSON: {e.msg}")
    except RecursionError:
        return Item(number, text[:1000], error="invalid JSON: nested too deep")
    if kind == "update":
        value = value.get("doc") if isinstance(value, dict) else None
        if not isinstance(value, dict):
            return Item(
                number, text, error="a _bulk update without a `doc` (a script update): no record to read"
            )
    if isinstance(value, dict) and "_id" in meta and "_id" not in value and "id" not in value:
        value = {**value, "_id": meta["_id"]}
    return _value_item(number, value, text)


def _json_items(number: int, text: str) -> Iterator[Item]:
    """The records of one JSON Lines line: a record, a hit, or a whole search response on one line."""
    if _SURROGATE.search(text):
        data = text.encode("utf-8", "surrogateescape")
        yield Item(number, data.decode("utf-8", "replace"), error=legacy_encoding_hint(data))
        return
    try:
        value = json.loads(text)
    except ValueError as e:
        yield Item(number, text, error=f"invalid JSON: {e.msg}")
        return
    except RecursionError:
        yield Item(number, text[:1000], error="invalid JSON: nested too deep")
        return
    unsupported = unsupported_layout(value)
    if unsupported:
        raise FormatError(unsupported)
    wrapper = isinstance(value, dict) and ("hits" in value or "responses" in value) and "_source" not in value
    records = _records_in(value) if wrapper else None
    if records is None:
        yield _value_item(number, value, text)
        return
    for item in records:
        yield _value_item(number, item)


# --- JSON --------------------------------------------------------------------------------------------

_HITS_ARRAY = re.compile(r'"hits"\s*:\s*\[')


def _read_json(path: Path) -> Iterator[Item]:
    encoding = _encoding_of(path)
    with open(path, encoding=encoding, errors="surrogateescape") as fh:
        head = fh.read(1)
        while head and (head.isspace() or head == "\ufeff"):
            head = fh.read(1)
        if head == "[":
            yield from _stream_array(fh)
            return
        # One JSON document: a search engine's export ({"hits": {"hits": [{"_source": ...}]}}) or
        # {"incidents": [...]}. These are bounded by the engine's page size, so reading whole is fine.
        text = head + fh.read()
    try:
        doc = json.loads(text)
    except RecursionError:
        raise FormatError("invalid JSON: nested too deep") from None
    except ValueError as e:
        hits = _HITS_ARRAY.search(text)
        if hits is None:
            raise FormatError(f"invalid JSON at line {e.lineno}: {e.msg}") from None
        # A hits export cut short: read its records one by one up to the cut, like a truncated array.
        yield from _stream_array(io.StringIO(text[hits.end() :]))
        return
    unsupported = unsupported_layout(doc)
    if unsupported:
        raise FormatError(unsupported)
    records = _records_in(doc)
    if records is None:
        raise FormatError(
            "a JSON object without a list of records (expected an array, hits.hits or incidents)"
        )
    for number, value in enumerate(records, start=1):
        yield _value_item(number, value)


_LIST_KEYS = ("incidents", "events", "records", "data", "results", "items", "rows")


def _records_in(doc) -> list | None:
    """The records a JSON document holds: an array, a search response's hits (also inside an
    msearch `responses` list), or a list under a usual key. None if it holds no list of records."""
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    hits = doc.get("hits")
    if isinstance(hits, dict) and isinstance(hits.get("hits"), list):
        return hits["hits"]
    if isinstance(hits, list):
        return hits
    responses = doc.get("responses")
    if isinstance(responses, list) and responses and all(_records_in(r) is not None for r in responses):
        return [hit for r in responses for hit in _records_in(r)]
    for key in _LIST_KEYS:
        if isinstance(doc.get(key), list):
            return doc[key]
    return None


def unwrap_hit(value):
    """A search hit's record: `_source` (with the hit's `_id` when the record has no id of its own), or
    `fields` (each a list, as Elasticsearch returns them). Anything else is returned as it is."""
    if not isinstance(value, dict):
        return value
    source = value.get("_source")
    if isinstance(source, dict):
        record = source
    else:
        fields = value.get("fields")
        if not (isinstance(fields, dict) and ("_id" in value or "_index" in value)):
            return value
        record = {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in fields.items()}
    if "_id" in value and "_id" not in record and "id" not in record:
        record = {**record, "_id": value["_id"]}
    return record


def _value_item(number: int, value, raw: str | None = None) -> Item:
    value = unwrap_hit(value)
    try:
        text = raw if raw is not None else json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        return Item(number, "", error="invalid JSON: nested too deep")
    if not isinstance(value, dict):
        return Item(number, text, error=f"a JSON {type(value).__name__}, not an object")
    if _SURROGATE.search(text):
        data = text.encode("utf-8", "surrogateescape")
        return Item(number, data.decode("utf-8", "replace"), error=legacy_encoding_hint(data))
    try:
        return Item(number, text, flatten(value))
    except RecursionError:
        return Item(number, text[:1000], error="invalid JSON: nested too deep")


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
            except RecursionError:
                raise FormatError(f"invalid JSON in record {number + 1}: nested too deep") from None
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
        if number == 0 and (unsupported := unsupported_layout(value)):
            raise FormatError(unsupported)
        number += 1
        yield _value_item(number, value)
        pos = end
        if pos > _CHUNK:
            buf, pos = buf[pos:], 0
