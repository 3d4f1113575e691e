"""Turning the timestamps logs write into Unix seconds, fast (one calendar computation per hour seen)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
# The times a log record may carry: 1970-01-01 up to (not including) 2100-01-01 UTC. Anything else
# (year 1, year 9999, NaN) is a broken or hostile record, rejected with "timestamp out of range".
EPOCH_MIN, EPOCH_MAX = 0.0, 4102444800.0


class TimestampOutOfRange(ValueError):
    """A timestamp that parses but lies outside 1970-2099."""


def check_epoch(epoch: float) -> float:
    """`epoch` itself when it lies within 1970-2099 UTC; TimestampOutOfRange (a ValueError) otherwise."""
    if not EPOCH_MIN <= epoch < EPOCH_MAX:  # also False for NaN
        raise TimestampOutOfRange(f"timestamp out of range ({epoch!r})")
    return epoch


class LocalHours:
    """Unix seconds of local wall-clock hours in one zone, cached: logs repeat the same hour thousands of times."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self._cache: dict[tuple[int, int, int, int], float] = {}

    def epoch(self, year: int, month: int, day: int, hour: int) -> float:
        key = (year, month, day, hour)
        found = self._cache.get(key)
        if found is None:
            found = check_epoch(datetime(year, month, day, hour, tzinfo=self.zone).timestamp())
            self._cache[key] = found
        return found


class SyslogYears:
    """The year of a BSD-syslog timestamp, which has none (RFC 3164 section 4.1.2).

    With an explicit year it is the year of the first line, and a month that goes backwards (Dec -> Jan)
    moves to the next year. Without one it comes from the file's modification time: a line whose month
    and day lie after that date was written the year before (the usual case of a log rotated in January).
    """

    def __init__(self, *, year: int | None, modified: date):
        self.explicit = year
        self.modified = modified
        self._last_month = 0

    def year(self, month: int, day: int) -> int:
        if self.explicit is not None:
            if month < self._last_month:
                self.explicit += 1
            self._last_month = month
            return self.explicit
        if (month, day) > (self.modified.month, self.modified.day):
            return self.modified.year - 1
        return self.modified.year


def iso_epoch(text: str, naive_zone: ZoneInfo | timezone) -> float:
    """Unix seconds of an ISO 8601 timestamp; one without an offset is read in `naive_zone`.

    Raises ValueError (TimestampOutOfRange outside 1970-2099) when it is not one.
    """
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_zone)
    try:
        return check_epoch(moment.timestamp())
    except OverflowError:
        raise TimestampOutOfRange(f"timestamp out of range ({text!r})") from None
