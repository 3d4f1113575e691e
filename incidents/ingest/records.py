"""Turn one feed record (the project's own schema or IntelMQ-style) into an incident row, or say why not.

A record is a flat dict of field name -> value. Nested JSON ({"time": {"source": ...}}) is flattened to
IntelMQ's dotted names before it gets here (see formats.flatten). No value of any field raises past the
row: every failure is a BadRecord whose message is the reason kept in `rejects`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from incidents.ingest.hosts import BadTarget
from incidents.ingest.hosts import normalise_target as _normalise_text
from incidents.ingest.times import BadRecord, latest_allowed, parse_time, stamps
from incidents.store_sql import sector_name
from incidents.taxonomy import SEVERITIES, classify, classify_label, severity_from_label

__all__ = [
    "ALIASES",
    "EMPTY_MARKERS",
    "OWN_COLUMNS",
    "BadRecord",
    "Plan",
    "expand_extra",
    "incident_id",
    "is_empty",
    "latest_allowed",
    "normalise_target",
    "parse_time",
    "pick",
    "resolve_category",
    "to_row",
]

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

# Field names each incident field is read from. In each ROW the first candidate with a non-empty value
# wins, so an empty `source.url` does not hide the row's `source.fqdn`. IntelMQ's harmonisation names the
# affected host `source.*` for phishing and defacement reports (intelmq docs, "Data Format"), and its
# outputs take `time.observation` when `time.source` is absent.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": (
        "time",
        "time.source",
        "occurred_at",
        "timestamp",
        "@timestamp",
        "datetime",
        "date",
        "event_time",
        "first_seen",
        "time.observation",
    ),
    "category": ("category", "classification", "incident_category", "loại", "phân loại"),
    "taxonomy": ("taxonomy", "classification.taxonomy", "rsit.taxonomy"),
    "type": ("type", "classification.type", "rsit.type"),
    "target": (
        "target",
        "url",
        "domain",
        "fqdn",
        "hostname",
        "ip",
        "source.url",
        "source.fqdn",
        "source.reverse_dns",
        "source.ip",
        "source.network",
        "destination.url",
        "destination.fqdn",
        "destination.ip",
    ),
    "source_ip": ("source_ip", "attacker_ip", "src_ip"),
    "sector": ("sector", "extra.sector", "extra.industry", "extra.sector.name", "source.sector"),
    "feed": ("feed", "feed.name", "feed_name", "feed.code", "feed.provider"),
    "severity": ("severity", "extra.severity", "priority", "mức độ"),
    "status": ("status", "extra.status"),
    "description": ("description", "event_description.text", "comment", "extra.description"),
    # The feed's own identifier of the record: with the feed, it says that a re-sent record is a
    # correction of a stored one, not a new incident.
    "record_id": ("id", "_id", "uuid", "event_id", "record_id", "extra.id", "extra.event_id"),
}

# Values that mean "no value" in the exports feeds really send: IntelMQ's SQL table as CSV writes `\N`
# (PostgreSQL COPY) or `NULL`; JSON feeds send "null", "none", "-", "N/A". Such a value counts as empty
# in EVERY field (compared after trimming blanks, case-insensitively), so it never hides the next
# candidate (`source.url` = `\N` falls through to `source.fqdn`) and a `time.source` of "null" falls
# back to `time.observation`. The README's Ingest section lists them (incidents.ingest.reference).
EMPTY_MARKERS: tuple[str, ...] = (
    "",
    "\\N",
    "NULL",
    "null",
    "(null)",
    "<null>",
    "nil",
    "None",
    "none",
    "(none)",
    "undefined",
    "N/A",
    "n/a",
    "NA",
    "-",
    "--",
)
_EMPTY = frozenset(m.lower() for m in EMPTY_MARKERS)
_EMPTY_MAX = max(len(m) for m in EMPTY_MARKERS)


def is_empty(value) -> bool:
    """True for None, an empty list or object, blanks, or one of EMPTY_MARKERS (any case, any blanks around)."""
    if value is None:
        return True
    if value.__class__ is str:
        return not value or (len(value) <= _EMPTY_MAX + 8 and value.strip().lower() in _EMPTY)
    return value == [] or value == {}


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Plan:
    """For one set of field names: the names present for each incident field, in priority order, and a
    getter per field that returns the row's first non-empty value among them (see `pick`)."""

    fields: dict[str, tuple[str, ...]]
    get: dict[str, Callable[[dict], object]]
    # The same value as text: `_text(get[f](rec))`, in one step (the free-text fields of every row).
    text: dict[str, Callable[[dict], str | None]]

    @classmethod
    def for_names(cls, names) -> Plan:
        folded: dict[str, str] = {}
        for n in names:
            if isinstance(n, str):
                folded.setdefault(n.strip().lower(), n)
        fields = {f: tuple(folded[a] for a in aliases if a in folded) for f, aliases in ALIASES.items()}
        get = {f: _getter(names) for f, names in fields.items()}
        text = {f: _text_getter(names, get[f]) for f, names in fields.items()}
        return cls(fields, get, text)


def _none(rec: dict) -> None:
    return None


def _getter(names: tuple[str, ...]) -> Callable[[dict], object]:
    if not names:
        return _none
    if len(names) > 1:
        return lambda rec: pick(rec, names)
    (name,) = names

    def one(rec: dict):
        value = rec.get(name)
        if value.__class__ is str:
            # is_empty(value) or value.isspace(), inlined: this runs for every field of every row.
            if len(value) > _SHORT:
                return None if value.isspace() else value
            return None if value.strip().lower() in _EMPTY else value
        return None if value == [] or value == {} else value

    return one


_SHORT = _EMPTY_MAX + 8  # is_empty's bound


def _text_getter(names: tuple[str, ...], get: Callable[[dict], object]) -> Callable[[dict], str | None]:
    if len(names) != 1:
        return lambda rec: _text(get(rec))
    (name,) = names

    def one_text(rec: dict) -> str | None:
        value = rec.get(name)
        if value.__class__ is str:
            # _text(one(rec)) in one step: the stripped text, None when it is blank or an empty marker.
            text = value.strip()
            return None if len(text) <= _EMPTY_MAX and text.lower() in _EMPTY else text
        return _text(None if value == [] or value == {} else value)

    return one_text


def pick(rec: dict, names: tuple[str, ...]):
    """The first value among `names` that is not empty (None, blanks, an EMPTY_MARKERS value), else None."""
    for name in names:
        value = rec.get(name)
        if value is None:
            continue
        if value.__class__ is str:
            if not is_empty(value) and not value.isspace():
                return value
        elif value != [] and value != {}:
            return value
    return None


def expand_extra(rec: dict) -> dict:
    """IntelMQ's `extra` as JSON text (its SQL table, CSV exports) becomes `extra.*` fields."""
    text = rec.get("extra")
    if text.__class__ is str and text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return rec
        if isinstance(value, dict):
            expanded = dict(rec)
            try:
                _add_extra(expanded, "extra.", value)
            except RecursionError:
                return rec
            return expanded
    return rec


def _add_extra(rec: dict, prefix: str, value: dict) -> None:
    # Nested objects get IntelMQ's dotted names, as a JSON event's `extra` is flattened
    # (`{"sector": {"name": ...}}` is `extra.sector.name`); a field the row already has wins.
    for key, item in value.items():
        if isinstance(item, dict):
            _add_extra(rec, f"{prefix}{key}.", item)
        elif not isinstance(item, list):
            rec.setdefault(f"{prefix}{key}", item)


def normalise_target(value) -> tuple[str | None, str | None]:
    """(target, kind) with kind domain, url, ip or text; the same host always gives the same string.

    See incidents.ingest.hosts for which spellings are one target. Raises BadRecord for a broken URL.
    """
    if value is None:
        return None, None
    if value.__class__ is not str:
        if isinstance(value, (dict, list)):
            raise BadRecord("target is a JSON object or list, not a host")
        value = str(value)
    try:
        return _normalise_text(value)
    except BadTarget as e:
        raise BadRecord(str(e)) from None


def incident_id(category: str, target: str | None, day: str, fallback: str) -> str:
    """The dedup key: one incident per category, target and local day.

    Feeds that report the same defacement or phishing site the same day describe one incident
    ("multiple reports of the same incident are one incident"). Without a target, the record's own
    identity (time, source, description) is the key, so distinct untargeted reports never merge.
    """
    key = f"{category}|{target}|{day}" if target else f"{category}||{fallback}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def resolve_category(label, taxonomy, type_) -> tuple[str, str, str]:
    """(category, taxonomy, type): the category from the label if there is one, else from RSIT.

    The feed's own RSIT taxonomy/type is always what is stored when it gives one (IntelMQ 2.x names
    as the RSIT names IntelMQ 3 gave them); a label alone is filed under its category's RSIT pair.
    """
    rsit = classify(_text(taxonomy), _text(type_)) if (_text(taxonomy) or _text(type_)) else None
    if _text(label):
        found = classify_label(_text(label))
        if found is None:
            raise BadRecord(f"unknown category {str(label)[:100]!r}")
        if rsit is not None:
            return found.category, rsit.taxonomy, rsit.type
        return found.category, found.taxonomy, found.type
    if rsit is None:
        if _text(taxonomy) or _text(type_):
            raise BadRecord(f"unknown classification {str(taxonomy)[:60]!r}/{str(type_)[:60]!r}")
        raise BadRecord("missing category")
    return rsit.category, rsit.taxonomy, rsit.type


_encode_raw = json.JSONEncoder(ensure_ascii=False, default=str).encode
_encode_text = json.encoder.encode_basestring  # the C function JSONEncoder uses for each str
_KEY_TEXT: dict[str, str] = {}  # field name -> '"name": ' as JSONEncoder writes it


def raw_json(rec: dict) -> str:
    """The record as JSON, exactly as `JSONEncoder(ensure_ascii=False, default=str).encode` writes it.

    A record whose names and values are all text (every CSV row) is joined from the C string encoder,
    a third cheaper than the encoder's set-up on every row; anything else goes through the encoder.
    """
    parts = []
    for name, value in rec.items():
        if value.__class__ is not str:
            return _encode_raw(rec)
        key = _KEY_TEXT.get(name)
        if key is None:
            if name.__class__ is not str:
                return _encode_raw(rec)
            key = _encode_text(name) + ": "
            if len(_KEY_TEXT) < 4096:
                _KEY_TEXT[name] = key
        parts.append(key + _encode_text(value))
    return "{" + ", ".join(parts) + "}"


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
    """The incident tuple (store.RECORD_COLUMNS order) for a record, or BadRecord.

    This runs once per row of every feed: it is written for speed (see bench/ingest.py).
    """
    g = plan.get
    t = plan.text
    when = parse_time(g["time"](rec), naive_zone, latest)
    key = (g["category"](rec), g["taxonomy"](rec), g["type"](rec))
    try:
        category, taxonomy, type_ = _CLASSIFIED[key]
    except (KeyError, TypeError):
        category, taxonomy, type_ = resolve_category(*key)
        if len(_CLASSIFIED) < 4096:
            try:
                _CLASSIFIED[key] = (category, taxonomy, type_)
            except TypeError:
                pass
    target, kind = normalise_target(g["target"](rec))
    occurred, day = stamps(when, zone)
    source_ip = t["source_ip"](rec)
    description = t["description"](rec)
    severity = g["severity"](rec)
    if severity is not None:
        found = _SEVERITY.get(severity) if severity.__class__ is str else None
        if found is None:
            found = severity_from_label(severity if severity.__class__ is str else str(severity))
            if found is not None and severity.__class__ is str and len(_SEVERITY) < 4096:
                _SEVERITY[severity] = found
        if found is None:
            raise BadRecord(
                f"unknown severity {str(severity)[:60]!r} (expected one of {', '.join(SEVERITIES)}, or thấp, "
                "trung bình, cao, nghiêm trọng)"
            )
        severity = found
    feed = t["feed"](rec) or default_feed
    record_id = t["record_id"](rec)
    raw = raw_json(rec)
    if not raw.isascii() and _LONE_SURROGATE.search(raw):
        raise BadRecord("invalid Unicode: a lone surrogate (a JSON escape such as \\ud800 with no pair)")
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
        sector_name(t["sector"](rec)),
        feed,
        severity,
        t["status"](rec) or "new",
        description,
        run_id,
        raw,
        f"{feed}\x1f{record_id}" if record_id else None,
    )


# severity label as written -> severity: a feed writes a handful of labels a million times.
_SEVERITY: dict[str, str] = {}

# (label, taxonomy, type) -> (category, taxonomy, type): a feed repeats a handful of labels a million times.
_CLASSIFIED: dict[tuple, tuple[str, str, str]] = {}


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return _encode_raw(value)
    text = (value if value.__class__ is str else str(value)).strip()
    return None if is_empty(text) else text
