"""Suricata eve.json: JSON Lines as Suricata writes it, or a JSON array of alert objects."""

from __future__ import annotations

import json
from datetime import UTC

from incidents.scan.readers.clock import iso_epoch

NAME = "suricata"
COLUMNS = (
    "line", "epoch", "message", "event_type", "source_ip", "source_port", "dest_ip", "dest_port", "proto",
    "alert_signature", "alert_signature_id", "alert_category", "alert_severity", "alert_action",
    "http_hostname", "uri", "user_agent", "dns_query",
)  # fmt: skip


def sniff(line: str) -> bool:
    text = line.lstrip()
    return text.startswith("{") and '"event_type"' in text or text == "[" or text.startswith("[{")


class Reader:
    name = NAME
    columns = COLUMNS

    def __init__(self, **_):
        pass

    def parse(self, number: int, text: str):
        """One eve record per line (JSON Lines)."""
        if not text.strip():
            return None
        try:
            record = json.loads(text)
        except ValueError:
            return None
        return self.row(number, record, text)

    def row(self, number: int, record, text: str):
        if not isinstance(record, dict) or "timestamp" not in record:
            return None
        try:
            # eve writes an offset ("+0000"); a record without one is taken as UTC.
            epoch = iso_epoch(str(record["timestamp"]), UTC)
        except ValueError:
            return None
        alert = record.get("alert") if isinstance(record.get("alert"), dict) else {}
        http = record.get("http") if isinstance(record.get("http"), dict) else {}
        dns = record.get("dns") if isinstance(record.get("dns"), dict) else {}
        return (
            number, epoch, text, record.get("event_type"), record.get("src_ip"), record.get("src_port"),
            record.get("dest_ip"), record.get("dest_port"), record.get("proto"),
            alert.get("signature"), alert.get("signature_id"), alert.get("category"), alert.get("severity"),
            alert.get("action"), http.get("hostname"), http.get("url"), http.get("http_user_agent"),
            dns.get("rrname"),
        )  # fmt: skip


def iter_array(text: str):
    """Yield (record number, line, record or None, raw) from a JSON array, surviving a truncated tail.

    Decodes element by element (json.JSONDecoder.raw_decode), so records before a broken one go through;
    the broken one is yielded with record None and the rest of the array is not readable.
    """
    decoder = json.JSONDecoder()
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
            record, end = decoder.raw_decode(text, pos)
        except ValueError as e:
            yield number, line, None, f"invalid JSON: {e.msg}"
            return
        yield number, line, record, text[pos:end]
        pos = end
