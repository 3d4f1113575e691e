"""Web server access logs: Apache / nginx combined and common, with their variants in the wild.

- NCSA common and combined (Apache `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`, nginx's
  `combined`); any fields after the user agent are allowed and ignored (nginx's default `main` format
  adds `"$http_x_forwarded_for"`; many sites append request times, upstream addresses, ...);
- Apache `vhost_combined` (Debian's other_vhosts_access.log): `%v:%p` before the client — the virtual
  host becomes `http_hostname` (the attacked site), never the source; also `%v` without its port;
- each line wrapped in one more pair of double quotes (some exports).
Timestamps carry their own offset (`[10/Oct/2000:13:55:36 -0700]`): `--zone` does not apply.
"""

from __future__ import annotations

import calendar
import re
from urllib.parse import unquote, unquote_plus

from incidents.scan.readers.clock import MONTHS, TimestampOutOfRange, check_epoch
from incidents.scan.readers.lines import Rejected

NAME = "web"
COLUMNS = (
    "line", "epoch", "message", "source_ip", "user", "method", "uri", "uri_path", "uri_query", "uri_decoded",
    "uri_path_decoded", "http_version", "status", "bytes", "referrer", "user_agent", "http_hostname",
)  # fmt: skip
EVENT_SQL = None  # every access-log line is an event

# For the block reader (fastread.py): fields whose value is always a piece of the raw line; the decoded
# URIs, which are one (with '+' read as a space in the query) unless the request holds a '%': the
# marker finds such requests (or one with an escaped quote, past which it would not look).
VERBATIM = frozenset({
    "message", "source_ip", "user", "method", "uri", "uri_path", "uri_query", "http_version", "referrer",
    "user_agent", "http_hostname",
})  # fmt: skip
DERIVED = {"uri_decoded": (("\x00uri%",), "+", False), "uri_path_decoded": (("\x00uri%",), "", False)}
MARKERS = {"\x00uri%": rb'\] "[^"\n]*(?:%|\\")'}
PARSE_ATOMS = ()
_FAST_QUOTED = rb'"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"'
# A line COMBINED reads (with no virtual host) and whose date is valid: three fields of printable ASCII,
# a day 01-31 of a named month of 1970-2099, then the request, status, size and optionally the rest.
_FAST_LINE = (
    rb"[!#-~][!-~]* [!-~]+ [!-~]+ \[(?:0[1-9]|[12]\d|3[01])/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/"
    rb"(?:19[7-9]\d|20\d\d):\d\d:\d\d:\d\d [+-]\d{4}\] " + _FAST_QUOTED + rb" (?:\d{3}|-) (?:\d+|-)"
    rb"(?: " + _FAST_QUOTED + b" " + _FAST_QUOTED + rb"(?: [^\n]*)?)?"
)

_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'  # a quoted field, \" and \\ escaped (unrolled: no per-character alternation)
# Apache escapes a double quote inside a quoted field as \" (mod_log_config, "Security considerations").
# The virtual host comes as `%v:%p` (vhost_combined) or `%v` alone (Apache's "%v %h %l %u %t ..." of its
# virtual-host examples): a name that is no IPv4 address, before a client that is an IP address.
_VHOST = (
    r"(?:([^\s:]+:\d{1,5}|(?!\d{1,3}(?:\.\d{1,3}){3} )[^\s:]+(?= (?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+) "
    r"\S+ \S+ \[)) (?=\S+ \S+ \S+ \[))?"
)
COMBINED = re.compile(
    _VHOST + r"(\S+) (\S+) (.+?) \[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) "
    r"([+-]\d{4})\] " + _QUOTED + r" (\d{3}|-) (\d+|-)(?: " + _QUOTED + " " + _QUOTED + r"(?:\s.*)?)?"
)

# The usual shape (three fields before the time, no virtual host) first: 7x faster than COMBINED.
FAST = re.compile(
    r"(\S+) (\S+) (\S+) \[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\] "
    + _QUOTED
    + r" (\d{3}|-) (\d+|-)(?: "
    + _QUOTED
    + " "
    + _QUOTED
    + r"(?:\s.*)?)?"
)


def _unwrap(line: str) -> str:
    # Some exports (the apache-http-logs data set among them) put every line inside one more pair of quotes.
    if len(line) > 1 and line[0] == '"' and line[-1] == '"' and line[1:2] != '"':
        return line[1:-1]
    return line


def sniff(line: str) -> bool:
    line = _unwrap(line).rstrip()
    return FAST.fullmatch(line) is not None or COMBINED.fullmatch(line) is not None


def is_event(row) -> bool:
    return True


class Reader:
    name = NAME
    columns = COLUMNS

    def __init__(self, **_):
        self._days: dict[tuple[str, str, str], int] = {}
        self._decoded: dict[str, tuple[str, str]] = {}

    def fast_line(self) -> bytes:
        """A bytes regex (RE2) for whole lines (without their LF) this reader certainly reads as one row."""
        return _FAST_LINE

    def parse(self, number: int, text: str):
        line = _unwrap(text.rstrip())
        # FAST first: a line it reads, COMBINED reads the same way with no virtual host (its look-ahead
        # wants three fields and '[' after a vhost, and a FAST line has only two before its date).
        m = FAST.fullmatch(line)
        if m is not None:
            vhost, groups = None, m.groups()
        else:
            m = COMBINED.fullmatch(line)
            if m is None:
                return None
            vhost, groups = m.group(1), m.groups()[1:]
        (
            host,
            _ident,
            user,
            dd,
            mon,
            yyyy,
            hh,
            mi,
            ss,
            offset,
            request,
            status,
            size,
            referrer,
            agent,
        ) = groups
        key = (yyyy, mon, dd)
        day = self._days.get(key)
        if day is None:
            month = MONTHS.get(mon)
            if month is None:
                return None
            try:
                day = calendar.timegm((int(yyyy), month, int(dd), 0, 0, 0))
                check_epoch(day)
            except TimestampOutOfRange as e:
                return Rejected(str(e))
            except ValueError:
                return None
            self._days[key] = day
        sign = -1 if offset[0] == "-" else 1
        shift = sign * (int(offset[1:3]) * 3600 + int(offset[3:5]) * 60)
        epoch = day + int(hh) * 3600 + int(mi) * 60 + int(ss) - shift
        parts = request.split(" ")
        if len(parts) == 3:
            method, uri, version = parts
        else:  # a garbled request line ("-", binary probes): keep it whole as the URI
            method, uri, version = None, request, None
        path, _, query = uri.partition("?")
        decoded = path_decoded = uri
        if "%" in uri or "+" in uri:  # URIs repeat: decode each distinct one once
            pair = self._decoded.get(uri)
            if pair is None:
                if len(self._decoded) > 100_000:
                    self._decoded.clear()
                pair = self._decoded[uri] = (unquote_plus(uri), unquote(path) if "%" in path else path)
            decoded, path_decoded = pair
        elif query:
            path_decoded = path
        size = None if size == "-" else int(size)
        if size is not None and size >= 1 << 63:
            size = None
        return (
            number, epoch, line, host, None if user == "-" else user, method, uri, path, query or None, decoded,
            path_decoded, version, None if status == "-" else int(status), size,
            None if referrer in (None, "-") else referrer, None if agent in (None, "-") else agent,
            vhost.rsplit(":", 1)[0] if vhost else None,
        )  # fmt: skip
