"""Readers for JSON feed exports: JSON Lines (also Elasticsearch `_bulk` bodies and hits one per line) and
JSON (an array streamed in constant memory, or one search-engine response read whole).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

from incidents.ingest.formats import (
    _CHUNK,
    _HITS_ARRAY,
    _MAX_RECORD,
    _SURROGATE,
    FIELD_LIMIT,
    FormatError,
    Item,
    _encoding_of,
    flatten,
)
from incidents.ingest.sniff import legacy_encoding_hint, unsupported_layout
from incidents.jsontext import error_text, loads, raw_decode, value_end

# --- JSON Lines --------------------------------------------------------------------------------------


# An Elasticsearch/OpenSearch `_bulk` body (what elasticdump and `_bulk` exports write): an action line
# `{"index": {"_index": ..., "_id": ...}}` before each document line.
_BULK_ACTION = re.compile(r'^\{\s*"(index|create|update|delete)"\s*:\s*\{')


def read_jsonl(path: Path) -> Iterator[Item]:
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
        value = loads(text)
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
        value = loads(text)
    except ValueError as e:
        return Item(number, text, error=f"invalid JSON: {error_text(e)}")
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
        value = loads(text)
    except ValueError as e:
        yield Item(number, text, error=f"invalid JSON: {error_text(e)}")
        return
    except RecursionError:
        yield Item(number, text[:1000], error="invalid JSON: nested too deep")
        return
    unsupported = unsupported_layout(value)
    if unsupported:
        raise FormatError(unsupported)
    wrapper = isinstance(value, dict) and ("hits" in value or "responses" in value) and "_source" not in value
    records = records_in(value) if wrapper else None
    if records is None:
        yield _value_item(number, value, text)
        return
    for item in records:
        yield _value_item(number, item)


# --- JSON --------------------------------------------------------------------------------------------


def read_json(path: Path) -> Iterator[Item]:
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
        doc = loads(text)
    except RecursionError:
        hits = _HITS_ARRAY.search(text)
        if hits is None:
            raise FormatError("invalid JSON: nested too deep") from None
        # One record nested too deep in a hits export: its records are read one by one, that one refused.
        yield from _stream_array(io.StringIO(text[hits.end() :]))
        return
    except ValueError as e:
        if error_text(e) == "Extra data":
            # JSON values one after another, not one per line: scroll pages appended with `curl ...?pretty
            # >> hits.json`, or `jq . events.jsonl`. Each is a search response or a record.
            yield from _concatenated(text)
            return
        hits = _HITS_ARRAY.search(text)
        if hits is None:
            raise FormatError(f"invalid JSON at line {getattr(e, 'lineno', '?')}: {error_text(e)}") from None
        # A hits export cut short: read its records one by one up to the cut, like a truncated array.
        yield from _stream_array(io.StringIO(text[hits.end() :]))
        return
    unsupported = unsupported_layout(doc)
    if unsupported:
        raise FormatError(unsupported)
    records = records_in(doc)
    if records is None:
        raise FormatError(
            "a JSON object without a list of records (expected an array, hits.hits or incidents)"
        )
    for number, value in enumerate(records, start=1):
        yield _value_item(number, value)


def _concatenated(text: str) -> Iterator[Item]:
    """The records of JSON values written one after another: each a search response (its hits) or a record.

    A value cut short or broken is quarantined with what follows it (nothing after it can be trusted):
    a search response's hits up to the cut are read, like a truncated hits export.
    """
    pos, number = 0, 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        try:
            value, end = raw_decode(text, pos)
        except RecursionError:
            yield Item(number + 1, text[pos : pos + 1000], error="invalid JSON: nested too deep")
            return
        except ValueError as e:
            hits = _HITS_ARRAY.search(text, pos)
            if hits is not None:
                for item in _stream_array(io.StringIO(text[hits.end() :])):
                    number += 1
                    yield Item(number, item.text, item.record, item.error)
                return
            yield Item(
                number + 1,
                text[pos : pos + 1000],
                error=f"invalid JSON: {error_text(e)} (a value cut short?)",
            )
            return
        if pos == 0 and (unsupported := unsupported_layout(value)):
            raise FormatError(unsupported)
        for record in records_in(value) if is_search_response(value) else [value]:
            number += 1
            yield _value_item(number, record, text[pos:end] if record is value else None)
        pos = end


def is_search_response(value) -> bool:
    """Whether a JSON value is a search engine's response (`hits.hits`, or msearch `responses`), not a record."""
    if not isinstance(value, dict) or "_source" in value:
        return False
    hits = value.get("hits")
    if isinstance(hits, dict) and isinstance(hits.get("hits"), list):
        return True
    return isinstance(value.get("responses"), list) and records_in(value) is not None


_LIST_KEYS = ("incidents", "events", "records", "data", "results", "items", "rows")


def records_in(doc) -> list | None:
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
    if isinstance(responses, list) and responses and all(records_in(r) is not None for r in responses):
        return [hit for r in responses for hit in records_in(r)]
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
        record = flatten(value)
    except RecursionError:
        return Item(number, text[:1000], error="invalid JSON: nested too deep")
    if len(text) > FIELD_LIMIT and (name := _oversized(record)):
        # The limit CSV applies (FIELD_LIMIT): quarantined, its start kept as the reject's record.
        return Item(
            number, text[:1000], error=f"field larger than field limit ({FIELD_LIMIT} characters): {name}"
        )
    return Item(number, text, record)


def _oversized(record: dict) -> str | None:
    """The name of the first field whose value is longer than FIELD_LIMIT characters (as JSON when not text)."""
    for name, value in record.items():
        size = len(value) if isinstance(value, str) else len(json.dumps(value, ensure_ascii=False))
        if size > FIELD_LIMIT:
            return name
    return None


def _stream_array(fh) -> Iterator[Item]:
    """Decode the elements of a top-level JSON array one at a time, in constant memory."""
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
        deep = False
        while True:
            try:
                value, end = raw_decode(buf, pos)
                break
            except RecursionError:
                # A record nested too deep is refused alone and the records after it are read, when its
                # end is found within a few chunks (each try counts its brackets again from its start).
                end = value_end(buf, pos)
                for _ in range(4):
                    if end is not None or eof:
                        break
                    more = fh.read(_CHUNK)
                    eof = not more
                    buf, pos = buf[pos:] + more, 0
                    end = value_end(buf, pos)
                if end is None:
                    raise FormatError(f"invalid JSON in record {number + 1}: nested too deep") from None
                deep = True
                break
            except ValueError as e:
                more = "" if eof else fh.read(_CHUNK)
                # An element larger than any real record means the text is not JSON: stop reading.
                if not more or len(buf) - pos > _MAX_RECORD:
                    eof = True
                    tail = buf[pos : pos + 200]
                    raise FormatError(
                        f"invalid JSON in record {number + 1}: {error_text(e)} near {tail[:60]!r}"
                    ) from None
                buf, pos = buf[pos:] + more, 0
        if deep:
            number += 1
            yield Item(number, buf[pos : pos + 1000], error="invalid JSON: nested too deep")
        elif number == 0 and (unsupported := unsupported_layout(value)):
            raise FormatError(unsupported)
        elif is_search_response(value):
            # An array of search responses (scroll pages gathered in a list): each page's hits.
            for record in records_in(value):
                number += 1
                yield _value_item(number, record)
        else:
            number += 1
            yield _value_item(number, value)
        pos = end
        if pos > _CHUNK:
            buf, pos = buf[pos:], 0
