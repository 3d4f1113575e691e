"""Apache / nginx access logs in the combined format, also with each line wrapped in double quotes."""

from __future__ import annotations

import calendar
import re
from urllib.parse import unquote_plus

from incidents.scan.readers.clock import MONTHS

NAME = "web"
COLUMNS = (
    "line", "epoch", "message", "source_ip", "user", "method", "uri", "uri_path", "uri_query", "uri_decoded",
    "http_version", "status", "bytes", "referrer", "user_agent",
)  # fmt: skip

# NCSA combined (Apache's "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"", nginx's default
# `combined`); the referrer and user agent are optional so the common log format reads too. Apache escapes
# a double quote inside a quoted field as \" (mod_log_config, "Security considerations").
COMBINED = re.compile(
    r"(\S+) (\S+) (.+?) \[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\] "
    r'"((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?'
)


def _unwrap(line: str) -> str:
    # Some exports (the apache-http-logs data set among them) put every line inside one more pair of quotes.
    if len(line) > 1 and line[0] == '"' and line[-1] == '"' and line[1:2] != '"':
        return line[1:-1]
    return line


def sniff(line: str) -> bool:
    return COMBINED.fullmatch(_unwrap(line).rstrip()) is not None


class Reader:
    name = NAME
    columns = COLUMNS

    def __init__(self, **_):
        self._days: dict[tuple[str, str, str], int] = {}

    def parse(self, number: int, text: str):
        line = _unwrap(text.rstrip())
        m = COMBINED.fullmatch(line)
        if m is None:
            return None
        host, _ident, user, dd, mon, yyyy, hh, mi, ss, offset, request, status, size, referrer, agent = (
            m.groups()
        )
        key = (yyyy, mon, dd)
        day = self._days.get(key)
        if day is None:
            month = MONTHS.get(mon)
            if month is None:
                return None
            try:
                day = calendar.timegm((int(yyyy), month, int(dd), 0, 0, 0))
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
        decoded = unquote_plus(uri) if "%" in uri or "+" in uri else uri
        return (
            number, epoch, line, host, None if user == "-" else user, method, uri, path, query or None, decoded,
            version, None if status == "-" else int(status), None if size == "-" else int(size),
            None if referrer in (None, "-") else referrer, None if agent in (None, "-") else agent,
        )  # fmt: skip
