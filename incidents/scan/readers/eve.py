"""Suricata eve.json: JSON Lines as Suricata writes it, or a JSON array of records.

Times carry their own offset (`+0700`); a record without one is read in the log's clock zone
(`--zone`, else UTC as Suricata's own default). DNS records of every eve version are read: v1/v2
(`dns.rrname`, `dns.type` query/answer) and v3, Suricata 8's (`dns.queries[].rrname`, `dns.type`
request/response); an alert carrying a `dns` object gives its look-up too (v2: `dns.query[]`, or
`dns.answer` for an alert on the reply). In a response the record's
`src_ip` is the resolver, so the client (the look-up's source) is its `dest_ip`.

Every field is attacker-reachable (a sensor copies packet data), so types are checked: a record whose
address is not a string, whose port is not 0-65535, whose time is out of range, or which is nested too
deep is rejected with its reason, and the scan goes on.
"""

from __future__ import annotations

import json
from datetime import UTC

from incidents.jsontext import error_text, loads, raw_decode, value_end
from incidents.scan.readers.clock import TimestampOutOfRange, iso_epoch
from incidents.scan.readers.lines import Rejected

NAME = "suricata"
COLUMNS = (
    "line", "epoch", "message", "event_type", "source_ip", "source_port", "dest_ip", "dest_port", "proto",
    "alert_signature", "alert_signature_id", "alert_category", "alert_severity", "alert_action",
    "http_hostname", "uri", "user_agent", "dns_query", "dns_qtype", "dns_rcode", "client_ip",
)  # fmt: skip
EVENT_SQL = None  # every eve record is an event
DEFAULT_ZONE = UTC  # records without an offset, unless --zone says otherwise
_INT64 = 1 << 63


def sniff(line: str) -> bool:
    text = line.lstrip()
    return text.startswith("{") and '"event_type"' in text or starts_array(text)


def starts_array(head: str) -> bool:
    """Whether text starts a JSON array of records: `[` then `{` (or `]`, or nothing yet), blanks aside.

    Many logs open their lines with a bracket that is no JSON: Apache's error log (`[Fri Mar 01 ...]`),
    journalctl -o short-monotonic (`[  123.456789]`), unbound (`[1709262922] unbound[812:0]: ...`).
    """
    text = head.lstrip()
    if text[:1] != "[":
        return False
    rest = text[1:].lstrip()
    return rest[:1] in ("{", "]", "")


def is_event(row) -> bool:
    return True


def _text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # an object or list where text belongs: left out, not stored as garbage
    return str(value)


def _int(record: dict, key: str, what: str, low: int = -_INT64, high: int = _INT64 - 1):
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Bad(f"{what} {json.dumps(value)[:40]} is not a number from {low} to {high}")
    return value


def _address(record: dict, key: str):
    value = record.get(key)
    if value is None or isinstance(value, str) and len(value) <= 255:
        return value
    raise _Bad(f"{key} is {json.dumps(value)[:40]}, not an address")


class _Bad(Exception):
    pass


class Reader:
    name = NAME
    columns = COLUMNS

    def __init__(self, *, zone=UTC, **_):
        self.zone = zone

    def parse(self, number: int, text: str):
        """One eve record per line (JSON Lines)."""
        if not text.strip():
            return None
        try:
            record = loads(text)
        except RecursionError:
            return Rejected("JSON nested too deep")
        except ValueError as e:
            return Rejected(f"invalid JSON: {error_text(e)}")
        return self.row(number, record, text)

    def row(self, number: int, record, text: str):
        """The row(s) of one decoded eve record, or Rejected(reason)."""
        if not isinstance(record, dict) or "timestamp" not in record:
            return Rejected("not an eve record (an object with a timestamp)")
        stamp = str(record["timestamp"])
        try:
            epoch = iso_epoch(stamp, self.zone)
        except TimestampOutOfRange:
            return Rejected(f"timestamp out of range {stamp[:40]!r}")
        except OverflowError:
            return Rejected(f"timestamp out of range {stamp[:40]!r}")
        except ValueError as e:
            # datetime's own words for a field past its calendar range ("day is out of range for month",
            # "second must be in 0..59" for a leap second, "hour must be in 0..23" for 24:00): a date
            # that does not exist, named with its value as ingest names it.
            impossible = "out of range" in str(e) or "must be in" in str(e)
            what = "impossible date" if impossible else "unparsable timestamp"
            return Rejected(f"{what} {stamp[:40]!r}")
        try:
            src, dest = _address(record, "src_ip"), _address(record, "dest_ip")
            sport = _int(record, "src_port", "src_port", 0, 65535)
            dport = _int(record, "dest_port", "dest_port", 0, 65535)
            alert = record.get("alert") if isinstance(record.get("alert"), dict) else {}
            http = record.get("http") if isinstance(record.get("http"), dict) else {}
            dns = record.get("dns") if isinstance(record.get("dns"), dict) else {}
            sid = _int(alert, "signature_id", "alert.signature_id")
            severity = _int(alert, "severity", "alert.severity")
            flow = record.get("flow") if isinstance(record.get("flow"), dict) else {}
        except _Bad as e:
            return Rejected(str(e))
        # The flow's client (who opened the connection): for malware, the affected system.
        client = flow.get("src_ip") if isinstance(flow.get("src_ip"), str) else None
        if client is None:
            client = dest if record.get("direction") == "to_client" else src
        queries, rcode, response = _dns_queries(dns)
        if response:
            # A response goes from the resolver to the client: the look-up's source is the client.
            src, dest, sport, dport, client = dest, src, dport, sport, dest
        base = (
            number, epoch, text, _text(record.get("event_type")), src, sport, dest, dport, _text(record.get("proto")),
            _text(alert.get("signature")), sid, _text(alert.get("category")), severity, _text(alert.get("action")),
            _text(http.get("hostname")), _text(http.get("url")), _text(http.get("http_user_agent")),
        )  # fmt: skip
        if not queries:
            return (*base, None, None, rcode, client)
        rows = [(*base, name, qtype, rcode, client) for name, qtype in queries]
        return rows[0] if len(rows) == 1 else rows


def _dns_queries(dns: dict) -> tuple[list[tuple[str, str | None]], str | None, bool]:
    """[(name, type)] of a dns object, its rcode, and whether it is a response (from the resolver).

    v3 `queries[]`; an alert's v2 `query[]` or `answer` (Suricata 5-7 put the look-up or the reply that
    fired an alert there); else v1/v2 `rrname` with `type` query/answer."""
    if not dns:
        return [], None, False
    found = []
    response = str(dns.get("type")) in ("answer", "response")
    queries = dns.get("queries")
    if not isinstance(queries, list):
        queries = dns.get("query")
    if not isinstance(queries, list) and isinstance(dns.get("answer"), dict) and "rrname" not in dns:
        dns = dns["answer"]
        response = True
    if isinstance(queries, list):
        for q in queries[:100]:
            if isinstance(q, dict) and isinstance(q.get("rrname"), str):
                found.append((q["rrname"].rstrip("."), _text(q.get("rrtype"))))
    elif isinstance(dns.get("rrname"), str):
        found.append((dns["rrname"].rstrip("."), _text(dns.get("rrtype"))))
    return found, _text(dns.get("rcode")), response


def iter_array(text: str):
    """Yield (record number, line, record or None, raw) from a JSON array, surviving a truncated tail.

    Decodes element by element (json.JSONDecoder.raw_decode), so records before a broken one go through;
    the broken one is yielded with record None and the rest of the array is not readable (a record nested
    too deep is skipped by its brackets, and the records after it are read).
    """
    pos = text.find("[") + 1
    number, line, counted = 0, 1, 0
    size = len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", counted, pos)
        counted = pos
        if pos >= size:
            yield number + 1, line, None, "end of file before the closing ]"
            return
        if text[pos] == "]":
            return
        number += 1
        try:
            record, end = raw_decode(text, pos)
        except RecursionError:
            yield number, line, None, "JSON nested too deep"
            end = value_end(text, pos) if text[pos] in "[{" else None
            if end is None:
                return
            pos = end  # the records after it are read
            continue
        except ValueError as e:
            yield number, line, None, f"invalid JSON: {error_text(e)}"
            return
        yield number, line, record, text[pos:end]
        pos = end
