"""Turn one feed record (the project's own schema or IntelMQ-style) into an incident row, or say why not.

A record is a flat dict of field name -> value. Nested JSON ({"time": {"source": ...}}) is flattened to
IntelMQ's dotted names before it gets here (see formats.flatten).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from incidents.taxonomy import CATEGORIES, category_from_label, category_from_rsit

# The project's own export schema (sample_logs/, bench/): the columns a feed export writes.
OWN_COLUMNS = (
    "id",
    "time",
    "category",
    "target",
    "sector",
    "feed",
    "severity",
    "status",
    "source_ip",
    "description",
)

# Field names each incident field is read from, first match wins. IntelMQ's harmonisation names the
# affected host `source.*` for phishing and defacement reports (intelmq docs, "Data Format").
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "time.source", "occurred_at", "timestamp", "@timestamp", "datetime", "date"),
    "category": ("category", "classification", "incident_category"),
    "taxonomy": ("taxonomy", "classification.taxonomy"),
    "type": ("type", "classification.type"),
    "target": ("target", "url", "domain", "fqdn", "ip", "source.url", "source.fqdn", "source.ip"),
    "source_ip": ("source_ip", "attacker_ip", "src_ip"),
    "sector": ("sector", "extra.sector", "extra.industry"),
    "feed": ("feed", "feed.name", "feed_name"),
    "severity": ("severity", "extra.severity", "priority"),
    "status": ("status", "extra.status"),
    "description": ("description", "event_description.text", "comment"),
}

SEVERITIES = ("low", "medium", "high", "critical")

_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")
# Nothing before the first CERTs existed, nothing later than tomorrow: such times are typos.
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


class BadRecord(ValueError):
    """A record that cannot become an incident; the message is the reason kept in `rejects`."""


@dataclass(frozen=True)
class Plan:
    """For one set of field names: which name each incident field is read from."""

    fields: dict[str, str | None]

    @classmethod
    def for_names(cls, names) -> Plan:
        folded = {n.strip().lower(): n for n in names if isinstance(n, str)}
        return cls(
            {f: next((folded[a] for a in aliases if a in folded), None) for f, aliases in ALIASES.items()}
        )


def latest_allowed() -> datetime:
    """Times later than tomorrow are typos (or clocks gone wrong), not incidents."""
    return datetime.now(UTC) + timedelta(days=1)


def parse_time(value, naive_zone: ZoneInfo, latest: datetime | None = None) -> datetime:
    """A UTC datetime from ISO 8601 (with or without offset) or epoch seconds (milliseconds if 13 digits)."""
    if value.__class__ is str:
        # Fast path first: nearly every feed writes plain ISO 8601.
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            dt = _parse_slow(value)
    elif value is None or isinstance(value, bool):
        raise BadRecord("missing timestamp" if value is None else f"unparsable timestamp {value!r}")
    else:
        dt = _parse_slow(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=naive_zone)
    dt = dt.astimezone(UTC)
    if dt < _EARLIEST or dt > (latest or latest_allowed()):
        raise BadRecord(f"timestamp out of range {value!r}")
    return dt


def _parse_slow(value) -> datetime:
    if isinstance(value, (int, float)) or _EPOCH.match(str(value).strip()):
        seconds = float(value)
        if seconds > 1e11:  # 13 digits: milliseconds, as Elasticsearch and many JS feeds write them
            seconds /= 1000
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip()
    if not text:
        raise BadRecord("missing timestamp")
    try:
        return datetime.fromisoformat(text)
    except ValueError as e:
        if _DATE_LIKE.match(text) and ("range" in str(e) or "must be in" in str(e)):
            raise BadRecord(f"impossible date {text!r}") from None
        raise BadRecord(f"unparsable timestamp {text!r}") from None


def normalise_target(value) -> tuple[str | None, str | None]:
    """(target, kind) with kind domain, url or ip; the same host always gives the same string."""
    if value is None:
        return None, None
    text = str(value).strip()
    if not text:
        return None, None
    if "://" in text:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        netloc = host + (f":{parts.port}" if parts.port else "") if host else parts.netloc.lower()
        return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, "")), "url"
    if text[0].isdigit() or ":" in text:
        try:
            return str(ipaddress.ip_address(text)), "ip"
        except ValueError:
            pass
    domain = text.lower().rstrip(".")
    domain = domain.removeprefix("www.")
    return domain, "domain"


def incident_id(category: str, target: str | None, day: str, fallback: str) -> str:
    """The dedup key: one incident per category, target and local day.

    Feeds that report the same defacement or phishing site the same day describe one incident
    ("multiple reports of the same incident are one incident"). Without a target, the record's own
    identity (time, source, description) is the key, so distinct untargeted reports never merge.
    """
    key = f"{category}|{target}|{day}" if target else f"{category}||{fallback}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def resolve_category(rec: dict, plan: Plan) -> tuple[str, str, str]:
    """(category, taxonomy, type) from a category label or an RSIT classification."""
    get = plan.fields
    label = rec.get(get["category"]) if get["category"] else None
    taxonomy = rec.get(get["taxonomy"]) if get["taxonomy"] else None
    type_ = rec.get(get["type"]) if get["type"] else None
    category = None
    if label not in (None, ""):
        category = category_from_label(str(label))
        if category is None:
            raise BadRecord(f"unknown category {label!r}")
    elif taxonomy or type_:
        category = category_from_rsit(str(taxonomy or ""), str(type_ or ""))
        if category is None:
            raise BadRecord(f"unknown classification {taxonomy!r}/{type_!r}")
    else:
        raise BadRecord("missing category")
    c = CATEGORIES[category]
    # Keep the feed's own RSIT type when it is one of this category's (malware-distribution, c2 ...).
    if type_ and category_from_rsit(None, str(type_)) == category:
        return category, c.taxonomy, str(type_).strip().lower()
    return category, c.taxonomy, c.type


_encode_raw = json.JSONEncoder(ensure_ascii=False, default=str).encode


def to_row(
    rec: dict,
    plan: Plan,
    *,
    naive_zone: ZoneInfo,
    zone: ZoneInfo,
    default_feed: str,
    run_id: int,
    latest: datetime,
) -> tuple:
    """The incident tuple (store.INCIDENT_COLUMNS order) for a record, or BadRecord.

    This runs once per row of every feed: it is written for speed (see bench/ingest.py).
    """
    f = plan.fields
    get = rec.get  # a missing field name is None, and rec.get(None) is None
    when = parse_time(get(f["time"]), naive_zone, latest)
    key = (get(f["category"]), get(f["taxonomy"]), get(f["type"]))
    try:
        category, taxonomy, type_ = _CLASSIFIED[key]
    except (KeyError, TypeError):
        category, taxonomy, type_ = resolve_category(rec, plan)
        if len(_CLASSIFIED) < 4096:
            _CLASSIFIED[key] = (category, taxonomy, type_)
    target, kind = normalise_target(get(f["target"]))
    occurred, day = _stamps(when, zone)
    source_ip = _text(get(f["source_ip"]))
    description = _text(get(f["description"]))
    severity = _text(get(f["severity"]))
    if severity is not None:
        severity = severity.lower()
        if severity not in SEVERITIES:
            raise BadRecord(f"unknown severity {severity!r} (expected one of {', '.join(SEVERITIES)})")
    return (
        incident_id(category, target, day, f"{occurred}|{source_ip}|{description}"),
        occurred,
        day,
        category,
        taxonomy,
        type_,
        target,
        kind,
        source_ip,
        _text(get(f["sector"])),
        _text(get(f["feed"])) or default_feed,
        severity,
        _text(get(f["status"])) or "new",
        description,
        run_id,
        _encode_raw(rec),
    )


def _stamps(when: datetime, zone: ZoneInfo) -> tuple[str, str]:
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


_DATES: dict[int, str] = {}

# (label, taxonomy, type) -> (category, taxonomy, type): a feed repeats a handful of labels a million times.
_CLASSIFIED: dict[tuple, tuple[str, str, str]] = {}


def _text(value) -> str | None:
    if value is None:
        return None
    text = (value if value.__class__ is str else str(value)).strip()
    return text or None
