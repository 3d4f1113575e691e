"""Correlation rules whose base rules are in other files of the rules folder.

The Sigma correlation specification (sigma-specification, "Sigma Correlation Rules") lets a correlation
refer, by id or by name, to any rule of the same collection; a rules folder is one collection. A file is
converted on its own first (rules.load_file); one whose correlation names a rule it does not hold is
converted again with the rules of the folder's other files it refers to (`resolved`). A rule referred to
by a correlation without `generate: true` feeds it and makes no incident of its own, wherever it is
written (`silenced`), as pySigma does within one file.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import yaml

from incidents.files import read_text


def resolved(text: str, others: Sequence[Path]):
    """(SigmaCollection, ids): the rules of `text` and the rules of the files `others` that its
    correlations refer to, references resolved, ready to convert; `ids` are the ids (str) of the rules
    written in `text` (the others belong to their own files). Raises SigmaError
    (SigmaRuleNotFoundError when no file of the folder has a rule referred to)."""
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule
    from sigma.exceptions import SigmaRuleNotFoundError

    own = SigmaCollection.from_yaml(text, resolve_references=False)
    pool, broken = [], []
    for path in others:
        try:
            pool.append(SigmaCollection.from_yaml(read_text(path), resolve_references=False))
        except Exception:  # noqa: BLE001 - a file that does not load is reported as its own problem
            broken.append(path.name)
    try:
        SigmaCollection.merge([own, *pool])  # resolves every reference: raises for a rule found nowhere
    except SigmaRuleNotFoundError as e:
        if not broken:
            raise
        # The rule may be in a file that did not load: say so, that file's own line says why.
        raise SigmaRuleNotFoundError(
            f"{e}; it may be in {', '.join(sorted(broken))}, which did not load"
        ) from None
    needed = list(own.rules)
    for rule in own.rules:
        if isinstance(rule, SigmaCorrelationRule):
            needed += [ref.rule for ref in rule.referenced_rules if ref.rule not in needed]
    ids = {str(rule.id) for rule in own.rules}
    return SigmaCollection(needed), ids


def silenced(paths: Sequence[Path]) -> dict[Path, set[str]]:
    """For each file, the ids (str) of its rules that a correlation written in ANOTHER file refers to
    without `generate: true`. Files that do not parse are left out (their own problem is reported)."""
    docs: list[tuple[Path, dict]] = []
    for path in paths:
        try:
            docs += [(path, d) for d in yaml.safe_load_all(read_text(path)) if isinstance(d, dict)]
        except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError, ValueError):
            continue
    where: dict[str, tuple[Path, str]] = {}  # id or name -> (file, id)
    for path, doc in docs:
        rule_id = _uuid(doc.get("id"))
        for key in (rule_id, doc.get("name")):
            if isinstance(key, str) and key:
                where.setdefault(key, (path, rule_id))
    quiet: dict[Path, set[str]] = {}
    for path, doc in docs:
        correlation = doc.get("correlation")
        if not isinstance(correlation, dict) or correlation.get("generate") is True:
            continue
        refs = correlation.get("rules")
        for ref in refs if isinstance(refs, list) else [refs]:
            found = where.get(_uuid(ref) if isinstance(ref, str) else "")
            if found is not None and found[0] != path:
                quiet.setdefault(found[0], set()).add(found[1])
    return quiet


def _uuid(value) -> str:
    """A rule id as pySigma writes it (str(UUID): lower case); other text as it is."""
    text = str(value) if value is not None else ""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text
