"""Syslog (auth.log and friends): the header in its variants, and the sshd and PAM messages rules care about.

Headers read (each with or without an RFC 3164 `<PRI>` prefix, as a central collector may keep it):
- BSD / RFC 3164 as rsyslog writes it by default: `Dec 10 06:55:46 LabSZ sshd[24200]: message`
  (also journalctl's `short` output, and `short-precise` with fractional seconds). No year, no zone:
  the year comes from SyslogYears, the zone is the log's clock zone (`--zone`, else the store's).
- RFC 3339 timestamps (rsyslog's RSYSLOG_FileFormat, journalctl `short-iso`):
  `2020-10-05T06:55:46.123456+07:00 host prog[pid]: msg`; an offset is kept, none means the log's zone.
- RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID STRUCTURED-DATA MSG` ("-" is a nil value), also
  without the `<PRI>` (a collector's file template may leave it out).
- journalctl `short-full` (`Fri 2024-03-01 10:00:00 +07 host ...`: a numeric zone or UTC is kept, an
  abbreviation such as CET means the log's zone) and `short-unix` (Unix seconds).
journalctl's own lines (`-- Journal begins at ...`, `-- Boot <id> --`, `-- No entries --`) are read and
skipped, never rejected.

sshd's messages are free text with attacker-typed parts (the user name): every extraction is anchored
to the end of the message, so the source is the LAST `from IP port N`, the one sshd itself appended.
"""

from __future__ import annotations

import ipaddress
import re

from incidents.scan.readers.clock import MONTHS, LocalHours, SyslogYears, check_epoch, iso_epoch

NAME = "auth"
COLUMNS = ("line", "epoch", "host", "program", "pid", "message", "event", "user", "source_ip", "source_port")
# A row of this reader is an event when sshd/PAM said something about a login (column `event`).
EVENT_SQL = "event IS NOT NULL"

# For the block reader (fastread.py): fields whose value is always a piece of the raw line; `event`,
# which is NULL unless the message holds one of the strings `classify` looks for; and the strings whose
# lines must be read in full to be counted right (events, and "message repeated", which gives several rows).
VERBATIM = frozenset({"host", "program", "pid", "message", "user", "source_ip"})
EVENT_ATOMS = (
    "Failed ", "Invalid user", "Illegal user", "Accepted ", "error: PAM: ",
    "error: maximum authentication attempts exceeded for ", "authentication failure;", "POSSIBLE BREAK-IN ATTEMPT",
)  # fmt: skip
DERIVED = {"event": (EVENT_ATOMS, "", True)}
PARSE_ATOMS = (*EVENT_ATOMS, "message repeated")
_FAST_HOURS = 8  # the most recent hours a plain line may start with

_PRI = re.compile(r"<(\d{1,3})>")
_TAG = r"(?:([^\s\[:(]+(?:\([^)\s]*\))?)(?:\[(\d+)\])?: ?)?"
BSD = re.compile(r"([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(?:\.\d{1,9})? (\S+) " + _TAG + "(.*)")
# What follows the 16-character BSD timestamp.
TAIL = re.compile(r"(\S+) " + _TAG + "(.*)")
ISO = re.compile(
    r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (\S+) ([^\s\[:(]+(?:\([^)\s]*\))?)"
    r"(?:\[(\d+)\])?: ?(.*)"
)
# journalctl -o short-full (`Fri 2024-03-01 10:00:00 +07 host prog[pid]: msg`: the zone as the machine
# names it, a numeric offset or an abbreviation) and -o short-unix (`1709262000.123456 host prog[pid]: msg`).
SHORT_FULL = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d(?::?\d\d)?|[A-Z]{1,5}) "
    + TAIL.pattern
)
SHORT_UNIX = re.compile(r"(\d{9,10}(?:\.\d{1,9})?) " + TAIL.pattern)
_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "UT"})
RFC5424 = re.compile(r"1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: \ufeff?(.*))?")
_JOURNAL = re.compile(r"-- (?:Journal begins at|Logs begin at|Boot [0-9a-f]+ --|Reboot --|No entries --)")

# OpenSSH's auth messages (auth.c: auth_log, auth2.c) and pam_unix's (pam_unix_auth.c); FreeBSD and
# macOS sshd with OpenPAM ("error: PAM: Authentication error for ..."). The user name is whatever the
# client typed, so each pattern is anchored at the end: the greedy user takes everything up to the
# last `from HOST port N`, which sshd appends after it.
_END = r"(?: \S+)?(?:: .*)?$"  # " ssh2", then ": RSA SHA256:..." for public keys
_FAILED = re.compile(r"Failed (\S+) for (invalid user |illegal user )?(.*) from (\S+) port (\d{1,5})" + _END)
_INVALID = re.compile(r"(?:Invalid|Illegal) user (.*) from (\S+)(?: port (\d{1,5}))?(?: \[preauth\])?$")
_ACCEPTED = re.compile(r"Accepted (\S+) for (.*) from (\S+) port (\d{1,5})" + _END)
_OPENPAM = re.compile(
    r"error: PAM: [Aa]uthentication error for (?:illegal user |invalid user )?(.*) from (\S+?)(?: via \S+)?$"
)
# sshd closing a connection after MaxAuthTries failures (auth2.c, auth_maxtries_exceeded): a failed login.
_MAX_AUTH = re.compile(
    r"error: maximum authentication attempts exceeded for (?:invalid user |illegal user )?(.*) from (\S+) "
    r"port (\d{1,5})(?: ssh\d)?(?: \[preauth\])?$"
)
_PAM_FAILURE = re.compile(r"authentication failure;.*? ruser=\S* rhost=(\S*)(?:\s+user=(.*))?$")
_PAM_FAILURE_LOOSE = re.compile(r"authentication failure;.*? rhost=(\S*)(?:\s+user=(.*))?$")
_BREAK_IN = re.compile(r"\[([^\]\s]+)\] failed - POSSIBLE BREAK-IN ATTEMPT!?$")
_REPEATED = re.compile(r"message repeated (\d+) times: \[ ?(.*)\]$")
_MAX_REPEAT = 10_000

# The sshd lines a brute force fills a log with (Failed password/publickey, Invalid user, Accepted, and
# pam_unix's authentication failure), in a BSD line whose hour is known, read by ONE match from the
# minutes on: the same header and tag as TAIL (the tag atomic, so it is chosen as TAIL chooses it
# whatever follows), then the message as classify() reads it with the same anchored patterns. Such a
# line touches no reader state (OpenPAM's pid memory is for pam_auth_error and keyboard-interactive
# only), so parse() gives the row at once; any other line, or one this does not match, takes the full
# path. tests/test_scan_fastparse.py holds the two equal.
_EVENT_LINE = re.compile(
    r"([0-9]{2}):([0-9]{2}) (\S+) (?>" + _TAG + r")("
    r"Failed (password|publickey) for (invalid user |illegal user )?(.*) from (\S+) port (\d{1,5})"
    + _END
    + r"|(?:Invalid|Illegal) user (.*) from (\S+)(?: port (\d{1,5}))?(?: \[preauth\])?$"
    + r"|Accepted \S+ for (.*) from (\S+) port (\d{1,5})"
    + _END
    # pam_unix's line for sshd: "authentication failure;" first occurs right here, so _PAM_FAILURE's
    # search would match at this very place or go on to a later one (then: no match here, full path).
    + r"|pam_unix\(sshd:auth\): authentication failure;.*? ruser=\S* rhost=(\S*)(?:\s+user=(.*))?$"
    + ")"
)


def sniff(line: str) -> bool:
    line = _strip_pri(line)
    return bool(
        BSD.match(line)
        or ISO.match(line)
        or RFC5424.match(line)
        or SHORT_FULL.match(line)
        or SHORT_UNIX.match(line)
    )


def _strip_pri(text: str) -> str:
    if text[:1] == "<":
        m = _PRI.match(text)
        if m is not None:
            return text[m.end() :]
    return text


def _offset(zone: str) -> str:
    """An ISO 8601 offset for the zone journalctl printed; "" (the log's clock zone) for an abbreviation
    such as CET or EST, which names no offset by itself."""
    if zone in _UTC_NAMES:
        return "+00:00"
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        return f"{zone[0]}{digits[:2]}:{digits[2:4] or '00'}"
    return ""


def _port(text: str | None) -> int | None:
    if not text:
        return None
    port = int(text)
    return port if port <= 65535 else None


_BY_NAME = object()  # an OpenPAM line of this sshd pid named its client by DNS name (see Reader._row)


def _is_address(text: str) -> bool:
    """True for an IPv4 or IPv6 address literal (a DNS name is not one)."""
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def is_event(row) -> bool:
    return row[6] is not None


class Reader:
    """`parse(line_number, text)` returns a row, a list of rows, a reason (str) for a line read but
    skipped, or None if the line is not syslog."""

    name = NAME
    columns = COLUMNS

    def __init__(self, *, zone, years: SyslogYears):
        self.hours = LocalHours(zone)
        self.zone = zone
        self.years = years
        self._hours: dict[str, float] = {}  # "Oct  5 07" -> Unix time of that local hour
        self._openpam: dict[str, str] = {}  # sshd pid -> source of its last OpenPAM error line
        self._fast: tuple[int, bytes | None] = (-1, None)

    def fast_line(self) -> bytes:
        """A bytes regex (RE2) for whole lines (without their LF) this reader certainly reads as one row
        with no event, given that they hold none of PARSE_ATOMS: a BSD timestamp in an hour already seen (so reading it changes
        nothing here), then a host. The same object until a new hour is learnt."""
        count = len(self._hours)
        if self._fast[0] != count:
            keys = [k.encode() for k in list(self._hours)[-_FAST_HOURS:] if k.isascii()]
            alternatives = b"|".join(re.escape(k) for k in keys)
            self._fast = (count, b"(?:" + alternatives + rb"):\d\d:\d\d [!-~]+ [^\n]*" if keys else None)
        return self._fast[1]

    def parse(self, number: int, text: str):
        if text[9:10] == ":" and (base := self._hours.get(text[:9])) is not None:
            m = _EVENT_LINE.match(text, 10)
            if m is not None:
                mi, ss, host, program, pid, message, method, _, user, source, port, i_user, i_source, i_port, \
                    a_user, a_source, a_port, p_source, p_user = m.groups()  # fmt: skip
                epoch = base + int(mi) * 60 + int(ss)
                if method is not None:
                    event = "failed_password" if method == "password" else "failed_publickey"
                elif i_source is not None:
                    event, user, source, port = "invalid_user", i_user or None, i_source, i_port
                elif a_source is not None:
                    event, user, source, port = "accepted", a_user, a_source, a_port
                else:
                    event, user, source, port = "auth_failure", p_user or None, p_source or None, None
                return (number, epoch, host, program, pid, message, event, user, source, _port(port))
        return self.parse_full(number, text)

    def parse_full(self, number: int, text: str):
        """`parse` without the shortcut for common sshd lines (the oracle of the tests)."""
        if text[:1] == "<":
            text = _strip_pri(text)
            if text[:2] == "1 ":
                return self._rfc5424(number, text)
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
        elif base is not None:  # fractional seconds (journalctl -o short-precise)
            m = BSD.match(text)
            if m is None:
                return None
            epoch = base + int(m.group(4)) * 60 + int(m.group(5))
            host, program, pid, message = m.group(6, 7, 8, 9)
        else:
            if text[:3] == "-- " and _JOURNAL.match(text):
                return "journalctl separator line"
            if text[:2] == "1 ":  # RFC 5424 as a collector writes it to a file without the <PRI>
                row = self._rfc5424(number, text)
                if row is not None:
                    return row
            m = ISO.match(text)
            try:
                if m is not None:
                    stamp, host, program, pid, message = m.groups()
                    epoch = iso_epoch(stamp, self.zone)
                elif (m := SHORT_FULL.match(text)) is not None:
                    stamp, zone, host, program, pid, message = m.groups()
                    epoch = iso_epoch(stamp + _offset(zone), self.zone)
                elif (m := SHORT_UNIX.match(text)) is not None:
                    stamp, host, program, pid, message = m.groups()
                    epoch = check_epoch(float(stamp))
                else:
                    return None
            except (ValueError, OverflowError):
                return None
        return self._row(number, epoch, host, program, pid, message)

    def _rfc5424(self, number: int, text: str):
        m = RFC5424.match(text)
        if m is None:
            return None
        stamp, host, app, procid, _msgid, _sd, message = m.groups()
        if stamp == "-":
            return "RFC 5424 line without a timestamp"
        try:
            epoch = iso_epoch(stamp, self.zone)
        except (ValueError, OverflowError):
            return None
        nil = lambda v: None if v == "-" else v
        return self._row(number, epoch, nil(host), nil(app), nil(procid), message or "")

    def _row(self, number, epoch, host, program, pid, message):
        repeat = 1
        if message.startswith("message repeated"):
            r = _REPEATED.match(message)
            if r is not None:
                repeat, message = min(int(r.group(1)), _MAX_REPEAT), r.group(2)
        event, user, source, port = classify(message)
        if event is not None and pid is not None:
            # OpenPAM logs one failed attempt twice: "error: PAM: Authentication error for U from IP",
            # then "Failed keyboard-interactive/pam for U from IP port N". Count it once.
            if event == "pam_auth_error":
                if source is not None and not _is_address(source):
                    # sshd with UseDNS yes: OpenPAM names the client by its DNS name, and sshd's Failed
                    # line that follows names its address. That line counts the attempt (grouped by the
                    # address, as every other); this one stays a row, under an event no rule counts.
                    event = "pam_auth_error_by_name"
                    self._openpam[pid] = _BY_NAME
                else:
                    self._openpam[pid] = source
            elif event == "failed_keyboard_interactive" and self._openpam.pop(pid, None) == source:
                event = "failure_logged_twice"
        row = (number, epoch, host, program, pid, message, event, user, source, port)
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
        except (ValueError, OverflowError):  # Feb 30, hour 25
            return None
        self._hours[text[:9]] = base
        return base


def classify(message: str) -> tuple:
    """(event, user, source_ip, source_port) of an sshd / PAM message; Nones for anything else.

    Events: failed_password, failed_<method> (failed_keyboard_interactive, failed_publickey, failed_none),
    invalid_user, accepted, pam_auth_error (OpenPAM on FreeBSD/macOS), auth_failure (pam_unix),
    break_in_attempt; `failure_logged_twice` marks the second line OpenPAM writes for one attempt, and
    `pam_auth_error_by_name` the first one when it names the client by DNS name (Reader._row).
    sshd's "error: maximum authentication attempts exceeded for U from IP port N ssh2 [preauth]" (the
    attempt that hit MaxAuthTries) is read as failed_password, the failed login the rules count.
    """
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
            return event, m.group(3), m.group(4), _port(m.group(5))
    elif c == "I" and message.startswith(("Invalid user", "Illegal user")):
        m = _INVALID.match(message)
        if m is not None:
            return "invalid_user", m.group(1) or None, m.group(2), _port(m.group(3))
    elif c == "A" and message.startswith("Accepted "):
        m = _ACCEPTED.match(message)
        if m is not None:
            return "accepted", m.group(2), m.group(3), _port(m.group(4))
    elif c == "e" and message.startswith("error: PAM: "):
        m = _OPENPAM.match(message)
        if m is not None:
            return "pam_auth_error", m.group(1) or None, m.group(2), None
    elif c == "e" and message.startswith("error: maximum authentication attempts exceeded for "):
        m = _MAX_AUTH.match(message)
        if m is not None:
            return "failed_password", m.group(1) or None, m.group(2), _port(m.group(3))
    elif "authentication failure;" in message:
        m = _PAM_FAILURE.search(message) or _PAM_FAILURE_LOOSE.search(message)
        if m is not None:
            return "auth_failure", m.group(2) or None, m.group(1) or None, None
    elif "POSSIBLE BREAK-IN ATTEMPT" in message:
        m = _BREAK_IN.search(message)
        return "break_in_attempt", None, m.group(1) if m else None, None
    return None, None, None, None
