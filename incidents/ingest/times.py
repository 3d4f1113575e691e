"""Times as feeds write them (ISO 8601 with or without offset, epoch seconds to nanoseconds) read as UTC.

Every failure is a BadRecord whose message is the reason kept in `rejects`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo


class BadRecord(ValueError):
    """A record that cannot become an incident; the message is the reason kept in `rejects`."""


# An epoch number as text: digits with a fraction, or in E notation as a spreadsheet re-saves a 13-digit
# millisecond time (`1.5550512E+12`); a minus sign too, so that a negative time is out of range, not unparsable.
_EPOCH = re.compile(r"^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d{1,2})?$")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_UTC_SUFFIX = re.compile(r"\s*(?:UTC|GMT)$", re.IGNORECASE)
_EPOCH_ZERO = datetime(1970, 1, 1, tzinfo=UTC)
# Nothing before the first CERTs existed, nothing later than tomorrow: such times are typos.
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def latest_allowed() -> datetime:
    """Times later than tomorrow are typos (or clocks gone wrong), not incidents."""
    return datetime.now(UTC) + timedelta(days=1)


def parse_time(value, naive_zone: ZoneInfo, latest: datetime | None = None) -> datetime:
    """A UTC datetime from ISO 8601 (with or without offset) or an epoch time.

    An all-digit value is always an epoch time, never an ISO basic date ("20201031" is not a day):
    seconds below 10^11, milliseconds below 10^14, microseconds below 10^17, nanoseconds above. The
    arithmetic is exact (integers and Decimal, no float). Raises BadRecord.
    """
    try:
        if value.__class__ is str:
            if _EPOCH.match(value) or _EPOCH.match(value := value.strip()):
                dt = _from_epoch(Decimal(value))
            else:
                dt = _from_iso(value)
        elif value is None:
            raise BadRecord("missing timestamp")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRecord(f"unparsable timestamp {str(value)[:100]!r}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise BadRecord(f"unparsable timestamp {value!r}")
        else:
            dt = _from_epoch(Decimal(value) if isinstance(value, int) else Decimal(repr(value)))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=naive_zone)
        dt = dt.astimezone(UTC)
    except (OverflowError, InvalidOperation, ValueError) as e:
        if isinstance(e, BadRecord):
            raise
        raise BadRecord(f"timestamp out of range {str(value)[:100]!r}") from None
    if dt < _EARLIEST or dt > (latest or latest_allowed()):
        raise BadRecord(f"timestamp out of range {str(value)[:100]!r}")
    return dt


def _from_epoch(number: Decimal) -> datetime:
    magnitude = abs(number)
    if magnitude < 10**11:
        micros = number * 1_000_000
    elif magnitude < 10**14:
        micros = number * 1_000  # milliseconds: Elasticsearch, Kibana, JavaScript feeds
    elif magnitude < 10**17:
        micros = number
    else:
        micros = number / 1_000
    return _EPOCH_ZERO + timedelta(microseconds=int(micros))


def _from_iso(text: str) -> datetime:
    if not text:
        raise BadRecord("missing timestamp")
    # RFC 3339 5.6 allows a lower-case `z` (and `t`), which fromisoformat does not read.
    iso = text[:-1] + "Z" if text[-1:] == "z" and text[-2:-1].isdigit() else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError as e:
        zone_name = _UTC_SUFFIX.search(text)
        if zone_name:
            # "2020-10-31 17:30:00 UTC", as many SIEM exports write it.
            try:
                return datetime.fromisoformat(text[: zone_name.start()].rstrip()).replace(tzinfo=UTC)
            except ValueError:
                pass
        if _DATE_LIKE.match(text) and ("range" in str(e) or "must be in" in str(e)):
            raise BadRecord(f"impossible date {text[:100]!r}") from None
        raise BadRecord(f"unparsable timestamp {text[:100]!r}") from None


def stamps(when: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """('YYYY-MM-DDTHH:MM:SSZ' in UTC, 'YYYY-MM-DD' in the reporting zone).

    datetime.isoformat costs more than the rest of the row; dates repeat, so they come from a cache.
    """
    utc_date = _DATES.get(ordinal := when.toordinal()) or _date_text(ordinal)
    local = when.astimezone(zone)
    local_date = _DATES.get(o := local.toordinal()) or _date_text(o)
    return f"{utc_date}T{when.hour:02d}:{when.minute:02d}:{when.second:02d}Z", local_date


def _date_text(ordinal: int) -> str:
    text = date.fromordinal(ordinal).isoformat()
    if len(_DATES) < 100_000:
        _DATES[ordinal] = text
    return text


_DATES: dict[int, str] = {}  # day ordinal -> "YYYY-MM-DD"
