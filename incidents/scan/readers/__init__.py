"""Log readers: one module per format, each turning lines into rows of named fields (see EVENT_FIELDS).

Formats are detected from the first lines of a file; `--format` forces one.
"""

from __future__ import annotations

from pathlib import Path

from incidents.scan.readers import access, dns, eve, syslog

READERS = {m.NAME: m for m in (syslog, access, eve, dns)}
FORMATS = tuple(READERS)

# Every field a reader can fill, with its SQLite type: the columns of the events table that rules query.
# Text columns compare case-insensitively, as Sigma requires (Sigma specification, "String matching").
EVENT_FIELDS: dict[str, str] = {
    "line": "INTEGER",  # line number in the file (record number for a JSON array)
    "epoch": "REAL",  # Unix seconds, UTC
    "message": "TEXT",  # the message (syslog) or the whole original line
    "host": "TEXT",  # the host that wrote the syslog line
    "program": "TEXT",
    "pid": "TEXT",
    "event": "TEXT",  # normalised sshd/PAM event: failed_password, invalid_user, auth_failure, accepted, ...
    "user": "TEXT",
    "source_ip": "TEXT",  # the remote side: client, attacker (as logged: an IP, sometimes a host name)
    "source_port": "INTEGER",
    "dest_ip": "TEXT",
    "dest_port": "INTEGER",
    "proto": "TEXT",
    "method": "TEXT",
    "uri": "TEXT",  # request target as logged (percent-encoded)
    "uri_path": "TEXT",
    "uri_query": "TEXT",
    "uri_decoded": "TEXT",  # the request target percent-decoded once, '+' read as space
    "http_version": "TEXT",
    "status": "INTEGER",
    "bytes": "INTEGER",
    "referrer": "TEXT",
    "user_agent": "TEXT",
    "http_hostname": "TEXT",
    "event_type": "TEXT",
    "alert_signature": "TEXT",
    "alert_signature_id": "INTEGER",
    "alert_category": "TEXT",
    "alert_severity": "INTEGER",
    "alert_action": "TEXT",
    "dns_query": "TEXT",
    "dns_qtype": "TEXT",
    "dns_rcode": "TEXT",
}

SNIFF_LINES = 50


class UnknownFormat(Exception):
    """The file's first lines fit none of the formats scan reads."""


def detect_format(path: Path) -> str:
    """The format whose reader recognises most of the first non-empty lines."""
    lines = []
    with path.open("rb") as fh:
        for raw in fh:
            text = raw[:4096].decode("utf-8", errors="replace").rstrip("\r\n")
            if text.strip():
                lines.append(text)
            if len(lines) >= SNIFF_LINES:
                break
    if not lines:
        raise UnknownFormat("empty file")
    # The DNS reader first: a BIND query log written through syslog also has a syslog header.
    order = (dns, eve, access, syslog)
    scores = {m.NAME: sum(1 for line in lines if m.sniff(line)) for m in order}
    best = max(order, key=lambda m: scores[m.NAME])
    if scores[best.NAME] == 0:
        raise UnknownFormat(
            f"line 1 fits none of the formats scan reads ({', '.join(FORMATS)}): {lines[0][:80]!r}"
        )
    return best.NAME
