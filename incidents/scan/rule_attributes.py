"""What a Sigma rule says besides its detection: the incident it makes (category, RSIT taxonomy and type,
from its `incident:` field, a base rule's, or its ATT&CK tags), its level and id, and its fixtures."""

from __future__ import annotations

from pathlib import Path

from incidents.scan.classify import classify
from incidents.taxonomy import CATEGORIES, category_from_rsit, rsit


def classification(sigma_rule, title: str, bases=()) -> tuple[str, str, str, str]:
    """(category, taxonomy, type, why): the rule's `incident:` field, else (correlations) a base rule's,
    else the ATT&CK tags and log source (classify.py); unknown -> other."""
    from incidents.scan.rules import RuleError  # rules.py imports this module

    attributes = sigma_rule.custom_attributes or {}
    incident = attributes.get("incident")
    if incident is None:
        for base in bases:
            if isinstance((base.custom_attributes or {}).get("incident"), dict):
                return classification(base, title)
        (category, taxonomy, type_), why = classify(sigma_rule.tags, getattr(sigma_rule, "logsource", None))
        for base in bases:
            if category != "other":
                break
            (category, taxonomy, type_), why = classify(base.tags, base.logsource)
        return category, taxonomy, type_, why
    if not isinstance(incident, dict) or "category" not in incident:
        raise RuleError(f"rule {title!r}: `incident:` needs at least `category:`")
    category = str(incident["category"])
    if category not in CATEGORIES:
        raise RuleError(f"rule {title!r}: category {category!r} is none of {', '.join(CATEGORIES)}")
    taxonomy, type_ = rsit(category)
    taxonomy, type_ = str(incident.get("taxonomy", taxonomy)), str(incident.get("type", type_))
    if category_from_rsit(taxonomy, type_) != category:
        raise RuleError(f"rule {title!r}: RSIT {taxonomy}/{type_} does not belong to category {category}")
    return category, taxonomy, type_, "the rule's incident field"


def common_attributes(path: Path, sigma_rule, title: str, bases=()) -> dict:
    """The Rule fields every rule has, read from a pySigma rule (RuleError when one is missing or wrong)."""
    from incidents.scan.rules import DEFAULT_EPISODE_S, Fixture, RuleError, parse_duration

    attributes = sigma_rule.custom_attributes or {}
    incident = attributes.get("incident") if isinstance(attributes.get("incident"), dict) else {}
    category, taxonomy, type_, why = classification(sigma_rule, title, bases)
    if sigma_rule.level is None:
        raise RuleError(f"rule {title!r}: no level (informational, low, medium, high or critical)")
    if sigma_rule.id is None:
        raise RuleError(f"rule {title!r}: no id (a UUID keeps its incidents stable when the title changes)")
    fixtures = []
    for item in attributes.get("fixtures") or []:
        if not isinstance(item, dict) or "file" not in item or "incidents" not in item:
            raise RuleError(f"rule {title!r}: each fixture needs `file` and `incidents`")
        fixtures.append(
            Fixture(
                path.parent / str(item["file"]), int(item["incidents"]), item.get("format"), item.get("year")
            )
        )
    return {
        "id": str(sigma_rule.id),
        "title": title,
        "level": sigma_rule.level.name.lower(),
        "file": path,
        "category": category,
        "taxonomy": taxonomy,
        "type": type_,
        "classified_by": why,
        "description": (sigma_rule.description or "").strip(),
        "falsepositives": tuple(sigma_rule.falsepositives or ()),
        "episode_gap": parse_duration(incident.get("episode", f"{DEFAULT_EPISODE_S}s")),
        "fixtures": fixtures,
    }
