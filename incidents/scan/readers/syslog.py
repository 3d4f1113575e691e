"""Linux auth.log / syslog: the syslog header, and the sshd and PAM messages the rules care about."""

from __future__ import annotations

import re

from incidents.scan.readers.clock import MONTHS, LocalHours, SyslogYears, iso_epoch

NAME = "auth"
COLUMNS = ("line", "epoch", "host", "program", "pid", "message", "event", "user", "source_ip", "source_port")

# BSD syslog (RFC 3164) as rsyslog writes it by default: "Dec 10 06:55:46 LabSZ sshd[24200]: message".
# The program may carry a facility in parentheses, as old PAM did: "sshd(pam_unix)[19939]:"; the tag is
# optional in RFC 3164 ("syslogd 1.4.1: restart." has none that parses), so such lines keep only a message.
BSD = re.compile(
    r"([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\S+) (?:([^\s\[:(]+(?:\([^)\s]*\))?)(?:\[(\d+)\])?: ?)?(.*)"
)
# What follows the 16-character BSD timestamp.
TAIL = re.compile(r"(\S+) (?:([^\s\[:(]+(?:\([^)\s]*\))?)(?:\[(\d+)\])?: ?)?(.*)")
# RFC 5424-style timestamps (rsyslog's RSYSLOG_FileFormat): "2020-10-05T06:55:46.123456+07:00 host prog[pid]: msg".
ISO = re.compile(
    r"(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) (\S+) ([^\s\[:(]+(?:\([^)\s]*\))?)(?:\[(\d+)\])?: ?(.*)"
)

# OpenSSH's auth messages (auth2.c, auth.c: auth_log) and pam_unix's (pam_unix_auth.c).
_FAILED = re.compile(r"Failed (\S+) for (?:invalid user )?(.*?) from (\S+) port (\d+)")
_INVALID = re.compile(r"Invalid user (.*?) from (\S+)(?: port (\d+))?")
_ACCEPTED = re.compile(r"Accepted (\S+) for (.*?) from (\S+) port (\d+)")
_PAM_FAILURE = re.compile(r"authentication failure;.*? rhost=(\S*)(?:\s+user=(\S+))?")
_BREAK_IN = re.compile(r"\[(\S+)\] failed - POSSIBLE BREAK-IN ATTEMPT")
_REPEATED = re.compile(r"message repeated (\d+) times: \[ ?(.*)\]$")
_MAX_REPEAT = 10_000


def sniff(line: str) -> bool:
    return bool(BSD.match(line) or ISO.match(line))


class Reader:
    """Parse one file; `parse(line_number, text)` returns a row, a list of rows, or None if the line is not syslog."""

    name = NAME
    columns = COLUMNS

    def __init__(self, *, zone, years: SyslogYears):
        self.hours = LocalHours(zone)
        self.zone = zone
        self.years = years
        self._hours: dict[str, float] = {}  # "Oct  5 07" -> Unix time of that local hour

    def parse(self, number: int, text: str):
        # Fast path, BSD timestamps: "Mmm dd hh:mm:ss " has fixed width, so the hour's Unix time is cached
        # on the first 9 characters and only minutes and seconds are read per line.
        base = self._hours.get(text[:9])
        if base is None:
            base = self._hour_of(text)
        if base is not None and text[12:13] == ":" and text[15:16] == " ":
            m = TAIL.match(text, 16)
            if m is None:
                return None
            try:
                epoch = base + int(text[10:12]) * 60 + int(text[13:15])
            except ValueError:
                return None
            host, program, pid, message = m.groups()
        else:
            m = ISO.match(text)
            if m is None:
                return None
            stamp, host, program, pid, message = m.groups()
            try:
                epoch = iso_epoch(stamp, self.zone)
            except ValueError:
                return None
        repeat = 1
        if message.startswith("message repeated"):
            r = _REPEATED.match(message)
            if r is not None:
                repeat, message = min(int(r.group(1)), _MAX_REPEAT), r.group(2)
        row = (number, epoch, host, program, pid, message, *classify(message))
        return [row] * repeat if repeat > 1 else row

    def _hour_of(self, text: str) -> float | None:
        """Unix time of the local hour a BSD timestamp falls in (None if `text` has no BSD timestamp)."""
        m = BSD.match(text)
        if m is None:
            return None
        mon, day, hh = m.group(1), m.group(2), m.group(3)
        month = MONTHS.get(mon)
        if month is None:
            return None
        d = int(day)
        try:
            base = self.hours.epoch(self.years.year(month, d), month, d, int(hh))
        except ValueError:  # Feb 30, hour 25
            return None
        self._hours[text[:9]] = base
        return base


def classify(message: str) -> tuple:
    """(event, user, source_ip, source_port) of an sshd / PAM message; Nones for anything else."""
    c = message[:1]
    if c == "F" and message.startswith("Failed "):
        m = _FAILED.match(message)
        if m is not None:
            method = m.group(1)
            event = (
                "failed_password"
                if method == "password"
                else "failed_" + method.split("/")[0].replace("-", "_")
            )
            return event, m.group(2), m.group(3), int(m.group(4))
    elif c == "I" and message.startswith("Invalid user"):
        m = _INVALID.match(message)
        if m is not None:
            port = m.group(3)
            return "invalid_user", m.group(1) or None, m.group(2), int(port) if port else None
    elif c == "A" and message.startswith("Accepted "):
        m = _ACCEPTED.match(message)
        if m is not None:
            return "accepted", m.group(2), m.group(3), int(m.group(4))
    elif "authentication failure;" in message:
        m = _PAM_FAILURE.search(message)
        if m is not None:
            return "auth_failure", m.group(2), m.group(1) or None, None
    elif "POSSIBLE BREAK-IN ATTEMPT" in message:
        m = _BREAK_IN.search(message)
        return "break_in_attempt", None, m.group(1) if m else None, None
    return None, None, None, None
