"""What a file is before it is read: its text encoding, the 8-bit encoding bad bytes look like, and the
known exports that are not a layout ingest reads (MISP events, TheHive alerts)."""

from __future__ import annotations


def sniff_encoding(head: bytes) -> str:
    """The text encoding of a file from its first bytes: UTF-16 (Excel's "Unicode Text") or UTF-8."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") * 3 > len(sample):
        # UTF-16 without a byte-order mark: ASCII text leaves every other byte NUL.
        return "utf-16-le" if sample[1::2].count(b"\x00") > sample[0::2].count(b"\x00") else "utf-16-be"
    return "utf-8-sig"


def legacy_encoding_hint(raw: bytes) -> str:
    """For bytes that are not UTF-8: which 8-bit encoding they look like, and how to convert the file."""
    try:
        text = raw.decode("cp1258")
    except UnicodeDecodeError:
        text = ""
    vietnamese = any(ch in _VIETNAMESE for ch in text)
    name, codec = ("Windows-1258 (Vietnamese)", "CP1258") if vietnamese else ("Windows-1252", "CP1252")
    return f"invalid UTF-8: it looks like {name}; convert the file with `iconv -f {codec} -t UTF-8 FILE > FILE.utf8`"


_VIETNAMESE = set("ăâđêôơưĂÂĐÊÔƠƯ\u0300\u0301\u0303\u0309\u0323")


def unsupported_layout(value) -> str | None:
    """A message naming a known export that is not a layout ingest reads (MISP event, TheHive alert)."""
    first = value[0] if isinstance(value, list) and value else value
    if not isinstance(first, dict):
        return None
    misp = _misp_kind(first)
    if misp:
        return (
            f"a MISP {misp} export, not a supported layout: export the attributes as CSV "
            "(restSearch with returnFormat csv), or take MISP events through IntelMQ's MISP collector"
        )
    kind = str(first.get("_type", "")).lower()
    if kind in ("alert", "case") or (
        "sourceRef" in first and ("artifacts" in first or "observables" in first)
    ):
        return (
            f"a TheHive {kind or 'alert'} export, not a supported layout: export its observables as CSV, "
            "or feed them through IntelMQ"
        )
    return None


# The top-level keys of MISP's REST answers: /events (Event), /attributes/restSearch (Attribute),
# /objects (Object), /sightings (Sighting); each may come inside {"response": ...} (a dict or a list).
_MISP_KEYS = {"Event": "event", "Attribute": "attribute", "Object": "object", "Sighting": "sighting"}


def _misp_kind(doc: dict) -> str | None:
    """'event', 'attribute', ... when `doc` is a MISP REST answer, else None."""
    response = doc.get("response")
    if isinstance(response, list) and response and isinstance(response[0], dict):
        doc = response[0]
    elif isinstance(response, dict):
        doc = response
    for key, kind in _MISP_KEYS.items():
        if key in doc and isinstance(doc[key], (dict, list)):
            return kind
    return None
