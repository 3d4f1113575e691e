"""The bulletin as JSON: every number with its provenance (internal edition) or without (public)."""

from __future__ import annotations

import dataclasses
from typing import Any

from incidents import __version__
from incidents.bulletin.numbers import Bulletin
from incidents.bulletin.templating import lead
from incidents.bulletin.wording import episode_text


def as_json(b: Bulletin, lang: str, *, templates_dir=None) -> dict:
    """Every number of the bulletin with its provenance, the cut-off, and the lead paragraph in `lang`."""
    p = b.provenance
    e = b.edition
    data = {
        "bulletin": "incidents monthly bulletin",
        "generator": f"incidents {__version__}",
        "edition": e.name,
        "tlp": e.tlp_label,
        "issued": e.issue_date,
        "issuer": e.issuer,
        "contact": e.contact,
        "month": b.month,
        "lang": lang,
        "zone": b.zone,
        "cutoff": b.cutoff,
        "cutoff_provenance": p["cutoff"],
        "data_span": {"first_day": b.first_day, "last_day": b.last_day},
        "lead": lead(b, lang, templates_dir),
        "figures": {"total": p["total"], "categories": p["categories"]},
        "monthly": {"values": b.monthly, "provenance": p["monthly"]},
        "year_to_date_series": {
            "this_year": {"first_month": b.ytd_from, "values": b.ytd_this_year, "provenance": p["ytd_this_year"]},
            "last_year": {"first_month": f"{b.year - 1}-01", "values": b.ytd_last_year, "provenance": p["ytd_last_year"]},
        },
        "top_sectors": {"values": [{"sector": v, "count": n} for v, n in b.top_sectors], "provenance": p["top_sectors"]},
        "top_targets": {"values": [{"target": v, "count": n} for v, n in b.top_targets], "provenance": p["top_targets"]},
        "spikes": {
            "values": None if b.spikes is None else [_alarm_dict(a) for a in b.spikes],
            "episodes": None if b.episodes is None else [_episode_dict(e) for e in b.episodes],
            "sentences": None if b.episodes is None else [episode_text(e, {}, lang) for e in b.episodes],
            "note": b.spikes_note,
            "judged_from": b.spikes_judged_from,
            "judged_to": b.spikes_judged_to,
            "provenance": p["spikes"],
        },
        "published": [c.as_dict() for c in b.published],
        "notes": [dataclasses.asdict(n) for n in b.notes],
    }  # fmt: skip
    if e.public:
        # The public edition carries no internal check (cut-off, published-vs-computed) and no victim name.
        for key in ("cutoff", "cutoff_provenance", "published", "data_span"):
            del data[key]
        data["notes"] = [n for n in data["notes"] if n["code"] in ("no_last_year", "ytd_from")]
        if not e.names_targets:
            del data["top_targets"]
        # nor the SQL provenance of each number and the detector's raw alarms (internal edition only)
        del data["spikes"]["values"]
        for ep in data["spikes"]["episodes"] or []:
            del ep["alarms"]
        data = _without_provenance(data)
    return data


def _without_provenance(x: Any) -> Any:
    """`x` with every "provenance" key removed at any depth; a {value, provenance} pair becomes its value."""
    if isinstance(x, dict):
        if set(x) == {"value", "provenance"}:
            return _without_provenance(x["value"])
        return {k: _without_provenance(v) for k, v in x.items() if k != "provenance"}
    if isinstance(x, list):
        return [_without_provenance(v) for v in x]
    return x


def _episode_dict(e: Any) -> dict:
    skip = ("alarms", "folded")
    d = {f.name: getattr(e, f.name) for f in dataclasses.fields(e) if f.name not in skip}
    d["key"] = e.key
    d["days"] = list(e.days)
    d["alarms"] = [_alarm_dict(a) for a in e.alarms]
    d["folded"] = [f.key for f in e.folded]
    return d


def _alarm_dict(alarm: Any) -> dict:
    return dataclasses.asdict(alarm) if dataclasses.is_dataclass(alarm) else dict(vars(alarm))
