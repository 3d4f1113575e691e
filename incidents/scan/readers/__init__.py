"""Log readers: one module per format, each turning lines into rows of named fields (see EVENT_FIELDS).

A reader is pure: `Reader(zone=..., years=...).parse(line_number, text)` returns
- a tuple: one row in the module's COLUMNS order (an empty tuple: nothing);
- a list of rows (`message repeated 3 times`, a DNS record with several queries);
- a str: the line was read and is no event (a journalctl separator, a Zeek header): the reason;
- `Rejected(reason)`: the line or record is refused for that reason (quarantined in `rejects`);
- None: the line fits no line of this format.
Formats are detected by parsing the first SNIFF_LINES lines with every reader; `--format` forces one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path

from incidents.scan.readers import access, dns, eve, syslog
from incidents.scan.readers.clock import SyslogYears
from incidents.scan.readers.lines import Rejected, head_lines

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
    "uri_path_decoded": "TEXT",  # the path alone, percent-decoded once ('+' stays: it is no space in a path)
    "http_version": "TEXT",
    "status": "INTEGER",
    "bytes": "INTEGER",
    "referrer": "TEXT",
    "user_agent": "TEXT",
    "http_hostname": "TEXT",  # the web site asked for (HTTP Host, Apache's virtual host)
    "event_type": "TEXT",
    "alert_signature": "TEXT",
    "alert_signature_id": "INTEGER",
    "alert_category": "TEXT",
    "alert_severity": "INTEGER",
    "alert_action": "TEXT",
    "dns_query": "TEXT",
    "dns_qtype": "TEXT",
    "dns_rcode": "TEXT",
    "client_ip": "TEXT",  # the side that opened the connection (eve's flow client): the affected system for malware
}

SNIFF_LINES = 200
# The detected format must recognise at least this share of the sniffed lines, or the scan says it guessed.
CONFIDENT = 0.5


class UnknownFormat(Exception):
    """The file's first lines fit none of the formats scan reads."""


@dataclass(frozen=True)
class Detection:
    """The format a file was read in, and how sure the guess is."""

    fmt: str
    parsed: int  # sniffed lines the reader could read (events or known non-event lines)
    events: int  # sniffed lines that were events
    lines: int  # sniffed (non-empty) lines
    dns_events: int = 0  # sniffed lines the DNS reader reads as look-ups (a syslog holding dnsmasq's lines)

    @property
    def mixed(self) -> str | None:
        """A sentence when a file read as auth also holds DNS look-ups (dnsmasq or named logging to the
        same syslog file): the auth reader keeps them as plain syslog lines, which no DNS rule reads."""
        if self.fmt != syslog.NAME or not self.dns_events:
            return None
        return (
            f"{self.dns_events} of the first {self.lines} lines are DNS look-ups (dnsmasq, named) that the "
            "DNS rules do not read in an auth log: scan this file again with --format dns"
        )

    @property
    def doubtful(self) -> str | None:
        """A sentence when the guess rests on few lines, else None."""
        if self.parsed >= CONFIDENT * self.lines and self.events:
            return None
        return (
            f"format guessed as {self.fmt} from {self.parsed} of the first {self.lines} lines "
            f"({self.events} events); use --format if it is another"
        )


def _score(module, lines: list[str]) -> tuple[int, int]:
    reader = module.Reader(zone=UTC, years=SyslogYears(year=None, modified=date.today()))
    parsed = events = 0
    for number, text in enumerate(lines, 1):
        try:
            row = reader.parse(number, text)
        except Exception:  # noqa: BLE001, S112 - a reader bug must not stop detection; load reports it
            continue
        if row is None or isinstance(row, Rejected):
            continue
        parsed += 1
        if isinstance(row, str):
            continue
        first = row[0] if isinstance(row, list) else row
        if first and module.is_event(first):
            events += 1
    return events, parsed


def detect(path: Path) -> Detection:
    """Parse the first non-empty lines with every reader; the one that recognises most events wins
    (ties: most lines read, then the order dns, suricata, web, auth — the specific before the generic)."""
    lines = head_lines(path, SNIFF_LINES)
    if not lines:
        raise UnknownFormat("empty file")
    if eve.starts_array("\n".join(lines[:3])):  # a JSON array: only eve exports come as one
        return Detection(eve.NAME, len(lines), len(lines), len(lines))
    order = (dns, eve, access, syslog)
    scores = {m.NAME: _score(m, lines) for m in order}
    best = max(order, key=lambda m: scores[m.NAME])
    events, parsed = scores[best.NAME]
    if parsed == 0:
        raise UnknownFormat(
            f"line 1 fits none of the formats scan reads ({', '.join(FORMATS)}): {lines[0][:80]!r}"
        )
    return Detection(best.NAME, parsed, events, len(lines), scores[dns.NAME][0])


def detect_format(path: Path) -> str:
    """The format whose reader recognises most of the first non-empty lines (see `detect`)."""
    return detect(path).fmt
