"""`incidents rules export`: the same rules converted for a SIEM cluster (OpenSearch, Elasticsearch, Splunk).

For the day a centre's log volume outgrows one machine: the rules then run inside the SIEM, and the
hits of such a search, exported as JSON, can be ingested. List placeholders are expanded from
rules/lists/ as for scan; field names stay the Sigma names of the rules (map them in the SIEM, or add a
pySigma pipeline for your schema). Where a backend cannot convert a correlation rule (the Lucene
backends), the base rule's query is exported with a comment giving the threshold to set in the SIEM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

TARGETS = ("opensearch", "elasticsearch", "splunk")


@dataclass
class Exported:
    file: str
    title: str
    queries: list[str]
    note: str = ""


def _backend(target: str, pipeline):
    if target == "opensearch":
        from sigma.backends.opensearch import OpensearchLuceneBackend

        return OpensearchLuceneBackend(pipeline)
    if target == "elasticsearch":
        from sigma.backends.elasticsearch import LuceneBackend

        return LuceneBackend(pipeline)
    if target == "splunk":
        from sigma.backends.splunk import SplunkBackend

        return SplunkBackend(pipeline)
    raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")


def export_rules(folder: Path, target: str) -> tuple[list[Exported], list[str]]:
    """Converted queries per rule, and one problem line per file that would not convert."""
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule
    from sigma.exceptions import SigmaError
    from sigma.processing.pipeline import ProcessingPipeline

    from incidents.scan.rules import load_lists, rule_files

    pipeline = ProcessingPipeline.from_dict(
        {"name": "incidents export", "priority": 20, "transformations": [{"type": "value_placeholders"}]}
    )
    pipeline.vars.update(load_lists(folder))
    exported, problems = [], []
    for path in rule_files(folder):
        name = str(path.relative_to(folder))
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
        except (
            SigmaError,
            yaml.YAMLError,
            OSError,
            UnicodeDecodeError,
            KeyError,
            TypeError,
            ValueError,
        ) as e:
            problems.append(f"{name}: {e}")
            continue
        titles = [r.title for r in collection.rules if isinstance(r, SigmaCorrelationRule) or r._output]
        try:
            queries = _backend(target, pipeline).convert(collection)
            exported.append(Exported(name, " / ".join(titles), [str(q) for q in queries]))
        except NotImplementedError:
            for rule in collection.rules:
                if not isinstance(rule, SigmaCorrelationRule):
                    continue
                base = SigmaCollection([ref.rule for ref in rule.referenced_rules])
                for ref in base.rules:
                    ref._backreferences, ref._output = [], True  # export the base rule on its own
                queries = [str(q) for q in _backend(target, pipeline).convert(base)]
                exported.append(Exported(name, rule.title, queries, _threshold_note(target, rule)))
        except SigmaError as e:
            problems.append(f"{name}: {e}")
    return exported, problems


def _threshold_note(target: str, rule) -> str:
    cond = rule.condition
    counted = f" distinct {cond.fieldref}" if cond.fieldref else " events"
    return (
        f"the {target} backend converts no correlation rules: alert when {cond.op.name.lower()} {cond.count}"
        f"{counted} per {', '.join(rule.group_by or [])} within {rule.timespan.spec}"
    )
