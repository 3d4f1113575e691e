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
    if "Event" in first or (isinstance(first.get("response"), list) and _is_misp(first["response"])):
        return (
            "a MISP event export, not a supported layout: export the event's attributes as CSV, "
            "or take MISP events through IntelMQ's MISP collector"
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


def _is_misp(items: list) -> bool:
    return bool(items) and isinstance(items[0], dict) and "Event" in items[0]
