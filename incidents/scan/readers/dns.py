"""DNS query logs: Zeek dns.log (tab-separated, with its #fields header), the BIND query log, the
dnsmasq / Pi-hole query log (`dnsmasq[812]: query[A] NAME from CLIENT`, pihole.log; also as OpenWrt's
logread writes it) and unbound's log-queries lines.

Zeek's `ts` is Unix time (UTC). BIND and dnsmasq write local wall-clock times without a zone: they are
read in the log's clock zone (`--zone`, else the store's reporting zone); syslog-style dates take their
year as auth.log's do (SyslogYears).
"""

from __future__ import annotations

import re

from incidents.scan.readers.clock import MONTHS, LocalHours, SyslogYears, check_epoch, iso_epoch

NAME = "dns"
COLUMNS = (
    "line",
    "epoch",
    "message",
    "source_ip",
    "source_port",
    "dest_ip",
    "dns_query",
    "dns_qtype",
    "dns_rcode",
)
EVENT_SQL = None  # every row is a look-up
# The header lines Zeek writes (Zeek docs, "Zeek Logs": the ASCII writer).
_ZEEK_HEADERS = ("#separator", "#set_separator", "#empty_field", "#unset_field", "#path", "#open", "#fields",
                 "#types", "#close")  # fmt: skip

# BIND 9 `querylog` (ARM, "The query-errors and queries categories"):
#   10-Dec-2020 06:55:46.123 queries: info: client @0x7f2c 192.0.2.10#53324 (evil.example): query: evil.example IN A +E(0)K (10.0.0.1)
# older releases omit the @0x... and "(name)" parts; via syslog the line starts with a syslog header.
BIND_QUERY = re.compile(
    r"client (?:@\S+ )?([0-9A-Fa-f.:]+)#(\d+)(?: \([^)]*\))?: (?:view \S+: )?query: (\S+) \S+ (\S+)"
)
BIND_TIME = re.compile(r"(\d\d)-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d)(?:\.\d+)?")
SYSLOG_TIME = re.compile(r"([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) ")
# dnsmasq (log-queries): "query[A] name from client"; its other lines (forwarded, reply, cached, config,
# DHCP) are read and skipped. Pi-hole's FTL writes the same lines to pihole.log.
DNSMASQ = re.compile(r"(?:dnsmasq|pihole-FTL)(?:-dhcp)?(?:\[\d+\])?: (?:\d+ [0-9a-fA-F.:]+/\d+ )?(.*)$")
# The type is a name (A, AAAA, HTTPS) or, for one dnsmasq has no name for, `type=65`.
DNSMASQ_QUERY = re.compile(r"query\[([^\]\s]+)\] (.+) from (\S+)$")
ISO_TIME = re.compile(r"(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) ")
# BusyBox syslogd / OpenWrt logread, where most dnsmasq instances log: `Fri Mar  1 10:15:22 2024 daemon.info ...`.
LOGREAD_TIME = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4}) "
)
# unbound's log-queries / log-replies (unbound.conf(5)): `[1709262922] unbound[812:0] info: CLIENT NAME. TYPE CLASS`,
# a reply adds `RCODE TIME CACHED SIZE`; through syslog `unbound: [812:0] info: ...`.
UNBOUND = re.compile(
    r"unbound(?:\[\d+:\d+\])?:? (?:\[\d+:\d+\] )?info: ([0-9A-Fa-f.:]+) (\S+) (\S+) (?:IN|CH|HS|ANY)(?: ([A-Z]+) [\d.]+ \d+ \d+)?$"
)
UNIX_TIME = re.compile(r"\[(\d{9,10})\] ")
# Other lines named or unbound write (zone loads, lame servers, query errors, notices): read, no look-up.
SERVER_OTHER = re.compile(
    r"\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d|.{15} \S+ (?:named\[\d+\]|unbound(?:\[\d+\])?): |\[\d+\] unbound\[\d+:\d+\] "
)


def sniff(line: str) -> bool:
    return (
        line.startswith(("#separator", "#fields\tts"))
        or "query: " in line
        and BIND_QUERY.search(line) is not None
        or DNSMASQ.search(line) is not None
        or UNBOUND.search(line) is not None
    )


def is_event(row) -> bool:
    return True


class Reader:
    """Zeek TSV when a `#fields` header has been seen, else BIND query log lines."""

    name = NAME
    columns = COLUMNS

    def __init__(self, *, zone, years: SyslogYears):
        self.zone = zone
        self.hours = LocalHours(zone)
        self.years = years
        self.fields: dict[str, int] | None = None  # Zeek column positions, from the #fields header

    def parse(self, number: int, text: str):
        if text.startswith(_ZEEK_HEADERS):
            if text.startswith("#fields\t"):
                self.fields = {name: i for i, name in enumerate(text.split("\t")[1:])}
            return "Zeek header line"
        if self.fields is not None:
            return self._zeek(number, text)
        return self._bind(number, text)

    def _zeek(self, number: int, text: str):
        # Zeek writes "-" for an unset field and "(empty)" for an empty one (Zeek docs, "Zeek Logs").
        values = text.split("\t")
        f = self.fields
        if len(values) != len(f) or "ts" not in f or "query" not in f:
            return None

        def get(name):
            i = f.get(name)
            v = values[i] if i is not None else "-"
            return None if v in ("-", "(empty)") else v

        try:
            epoch = check_epoch(float(values[f["ts"]]))
            port = get("id.orig_p")
            port = int(port) if port else None
        except ValueError:
            return None
        if port is not None and not 0 <= port <= 65535:
            port = None
        return (
            number, epoch, text, get("id.orig_h"), port, get("id.resp_h"), get("query"),
            get("qtype_name"), get("rcode_name"),
        )  # fmt: skip

    def _bind(self, number: int, text: str):
        m = BIND_QUERY.search(text)
        if m is None:
            return self._dnsmasq(number, text)
        epoch = self._time(text)
        if epoch is None:
            return None
        client, port, name, qtype = m.groups()
        port = int(port)
        return (
            number,
            epoch,
            text,
            client,
            port if port <= 65535 else None,
            None,
            name.rstrip("."),
            qtype,
            None,
        )

    def _dnsmasq(self, number: int, text: str):
        m = DNSMASQ.search(text)
        if m is None:
            return self._unbound(number, text)
        q = DNSMASQ_QUERY.match(m.group(1))
        if q is None:
            return "dnsmasq line that is not a query (forwarded, reply, cached, ...)"
        epoch = self._time(text)
        if epoch is None:
            return None
        qtype, name, client = q.groups()
        return number, epoch, text, client, None, None, name.rstrip("."), qtype, None

    def _unbound(self, number: int, text: str):
        m = UNBOUND.search(text)
        if m is None:
            return "DNS server line that is not a query" if SERVER_OTHER.match(text) else None
        epoch = self._time(text)
        if epoch is None:
            return None
        client, name, qtype, rcode = m.groups()
        return number, epoch, text, client, None, None, name.rstrip("."), qtype, rcode

    def _local(self, yyyy: str | None, mon: str, dd: str, hh: str, mi: str, ss: str) -> float | None:
        """Unix time of a local time written with a month name (None: not a month); no year: SyslogYears's.
        Raises ValueError or OverflowError for a date that does not exist."""
        month = MONTHS.get(mon)
        if month is None:
            return None
        year = int(yyyy) if yyyy is not None else self.years.year(month, int(dd))
        return self.hours.epoch(year, month, int(dd), int(hh)) + int(mi) * 60 + int(ss)

    def _time(self, text: str) -> float | None:
        try:
            if t := BIND_TIME.match(text):
                dd, mon, yyyy, hh, mi, ss = t.groups()
                return self._local(yyyy, mon, dd, hh, mi, ss)
            if t := SYSLOG_TIME.match(text):
                mon, dd, hh, mi, ss = t.groups()
                return self._local(None, mon, dd, hh, mi, ss)
            if t := ISO_TIME.match(text):
                return iso_epoch(t.group(1), self.zone)
            if t := LOGREAD_TIME.match(text):
                mon, dd, hh, mi, ss, yyyy = t.groups()
                return self._local(yyyy, mon, dd, hh, mi, ss)
            if t := UNIX_TIME.match(text):
                return check_epoch(float(t.group(1)))
        except (ValueError, OverflowError):
            return None
        return None
