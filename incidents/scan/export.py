"""`incidents rules export`: the same rules converted for a SIEM cluster (OpenSearch, Elasticsearch, Splunk).

For the day a centre's log volume outgrows one machine: the rules then run inside the SIEM. Field names
follow the target's common schema: the Elastic Common Schema (ECS) for OpenSearch and Elasticsearch,
Splunk's Common Information Model (CIM) for Splunk (tables ECS and CIM below). List placeholders are
expanded from rules/lists/ as for scan.

Meaning is kept, not only syntax:
- Lucene (OpenSearch/Elasticsearch): every value becomes a case-insensitive Lucene regex over the whole
  term (`/.*[uU][nN][iI][oO][nN]\\ [sS].../`), since keyword fields compare case-sensitively and Sigma
  does not; rule regexes are rewritten for Lucene's RegExp (lucene.py) or the rule is named as not
  translatable, with the reason. Keyword searches go to `message`. Correlations have no Lucene form: the
  base query is exported with the threshold to set in an alerting rule.
- Splunk: correlations are a sliding window (`streamstats time_window=...`), as scan counts them, not
  fixed `bin` buckets that miss a burst across a boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from incidents.files import read_text
from incidents.scan.lucene import Untranslatable, sigma_string
from incidents.scan.lucene import regex as lucene_regex

TARGETS = ("opensearch", "elasticsearch", "splunk")

# The events table's columns (what the readers fill, see pipeline.yml) -> ECS. Percent-decoded forms have
# no ECS field: they get a custom name beside the raw one (fill it with a urldecode ingest processor).
COLUMN_ECS = {
    "source_ip": "source.ip", "source_port": "source.port", "dest_ip": "destination.ip",
    "dest_port": "destination.port", "user": "user.name", "host": "host.name", "program": "process.name",
    "pid": "process.pid", "event": "event.action", "message": "message", "proto": "network.transport",
    "method": "http.request.method", "uri": "url.original", "uri_path": "url.path", "uri_query": "url.query",
    "uri_decoded": "url.decoded", "uri_path_decoded": "url.path_decoded", "http_version": "http.version",
    "status": "http.response.status_code", "bytes": "http.response.body.bytes",
    "referrer": "http.request.referrer", "user_agent": "user_agent.original", "http_hostname": "url.domain",
    "event_type": "suricata.eve.event_type", "alert_signature": "rule.name", "alert_signature_id": "rule.id",
    "alert_category": "rule.category", "alert_severity": "event.severity", "alert_action": "event.type",
    "dns_query": "dns.question.name", "dns_qtype": "dns.question.type", "dns_rcode": "dns.response_code",
    "client_ip": "client.ip",
}  # fmt: skip
# The same columns -> Splunk CIM (Authentication, Web, Network_Resolution and Intrusion_Detection models).
COLUMN_CIM = {
    "source_ip": "src", "source_port": "src_port", "dest_ip": "dest", "dest_port": "dest_port", "user": "user",
    "host": "dest", "program": "app", "pid": "process_id", "event": "event", "message": "_raw",
    "proto": "transport", "method": "http_method", "uri": "url", "uri_path": "uri_path",
    "uri_query": "uri_query", "uri_decoded": "url_decoded", "uri_path_decoded": "uri_path_decoded",
    "http_version": "http_version", "status": "status", "bytes": "bytes", "referrer": "http_referrer",
    "user_agent": "http_user_agent", "http_hostname": "site", "event_type": "event_type",
    "alert_signature": "signature", "alert_signature_id": "signature_id", "alert_category": "category",
    "alert_severity": "severity", "alert_action": "action", "dns_query": "query", "dns_qtype": "record_type",
    "dns_rcode": "reply_code", "client_ip": "src",
}  # fmt: skip


def schema_mapping(folder: Path, target: str) -> dict[str, str]:
    """Sigma field name -> the target's field name: through the rules' pipeline.yml to a reader column,
    then COLUMN_ECS (OpenSearch, Elasticsearch) or COLUMN_CIM (Splunk)."""
    from incidents.scan.rules import pipeline_path

    columns = COLUMN_CIM if target == "splunk" else COLUMN_ECS
    mapping = {column: name for column, name in columns.items()}
    pipeline = yaml.safe_load(read_text(pipeline_path(folder))) or {}
    for item in pipeline.get("transformations") or []:
        if item.get("type") == "field_name_mapping":
            for sigma_name, column in (item.get("mapping") or {}).items():
                if isinstance(column, str) and column in columns:
                    mapping[sigma_name] = columns[column]
    return mapping


@dataclass
class Exported:
    file: str
    title: str
    queries: list[str]
    note: str = ""
    untranslatable: list[str] = field(default_factory=list)  # rule titles not exported, with the reason


def _lucene_backend(target: str, pipeline):
    if target == "opensearch":
        from sigma.backends.opensearch import OpensearchLuceneBackend as Base
    else:
        from sigma.backends.elasticsearch import LuceneBackend as Base

    class Caseless(Base):
        """Values as case-insensitive whole-term Lucene regexes; ranges the classic parser reads."""

        convert_or_as_in = False
        compare_op_expression = "{field}:{operator}"

        def convert_condition_field_eq_val_str(self, cond, state):
            parts = getattr(cond.value, "s", (str(cond.value),))
            cased = type(cond.value).__name__ == "SigmaCasedString"
            body = sigma_string(parts, caseless=not cased)
            return f"{self.escape_and_quote_field(cond.field)}:/{body}/"

        def convert_condition_field_eq_val_re(self, cond, state):
            body = lucene_regex(str(cond.value.regexp))
            return f"{self.escape_and_quote_field(cond.field)}:/{body}/"

        def convert_condition_val_str(self, cond, state):
            parts = getattr(cond.value, "s", (str(cond.value),))
            return f"message:/.*{sigma_string(parts)}.*/"

        def convert_condition_not(self, cond, state):
            # Lucene's classic parser turns a group holding only a negation into "match nothing":
            # anchor it on all documents so `a AND (NOT b)` keeps what it means.
            inner = super().convert_condition_not(cond, state)
            return f"(*:* AND {inner})" if isinstance(inner, str) else inner

        def convert_condition_field_compare_op_val(self, cond, state):
            op, value = cond.value.op.name, cond.value.number
            ranges = {"LT": "[* TO {v}}}", "LTE": "[* TO {v}]", "GT": "{{{v} TO *]", "GTE": "[{v} TO *]"}
            return f"{self.escape_and_quote_field(cond.field)}:" + ranges[op].format(v=value)

    return Caseless(pipeline)


def _pipeline(folder: Path, mapping: dict):
    from sigma.processing.pipeline import ProcessingPipeline

    from incidents.scan.rules import load_lists, shipped_rules_dir

    pipeline = ProcessingPipeline.from_dict(
        {
            "name": "incidents export",
            "priority": 20,
            "transformations": [
                {"type": "value_placeholders"},
                {"type": "field_name_mapping", "mapping": mapping},
            ],
        }
    )
    pipeline.vars.update(load_lists(shipped_rules_dir()))
    pipeline.vars.update(load_lists(folder))
    return pipeline


def export_rules(folder: Path, target: str) -> tuple[list[Exported], list[str]]:
    """Converted queries per rule file, and one problem line per rule that could not be exported."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    from incidents.scan.rules import rule_files

    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    mapping = schema_mapping(folder, target)
    pipeline = _pipeline(folder, mapping)
    exported, problems = [], []
    for path in rule_files(folder):
        name = str(path.relative_to(folder))
        try:
            text = read_text(path)
        except OSError as e:  # permission denied, a FIFO: the wording of rules list / rules test
            problems.append(f"{name}: cannot read: {e.strerror or e}")
            continue
        try:
            collection = SigmaCollection.from_yaml(text)
            if target == "splunk":
                result = _splunk(name, collection, pipeline, mapping)
            else:
                result = _lucene(name, collection, pipeline, target, mapping)
        except Untranslatable as e:
            problems.append(f"{name}: cannot be translated for {target}: {e}")
            continue
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
        exported.append(result)
    return exported, problems


def _split(collection):
    from sigma.correlations import SigmaCorrelationRule

    correlations = [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]
    plain = [r for r in collection.rules if not isinstance(r, SigmaCorrelationRule) and r._output]
    return correlations, plain


def _base_collection(rule):
    from sigma.collection import SigmaCollection

    base = SigmaCollection([ref.rule for ref in rule.referenced_rules])
    for ref in base.rules:
        ref._backreferences, ref._output = [], True  # the base rule on its own
    return base


def _lucene(name: str, collection, pipeline, target: str, mapping: dict) -> Exported:
    correlations, plain = _split(collection)
    titles = [r.title for r in plain + correlations]
    if correlations:
        rule = correlations[0]
        queries = [str(q) for q in _lucene_backend(target, pipeline).convert(_base_collection(rule))]
        return Exported(name, " / ".join(titles), queries, _threshold_note(target, rule, mapping))
    queries = [str(q) for q in _lucene_backend(target, pipeline).convert(collection)]
    return Exported(name, " / ".join(titles), queries)


def _splunk(name: str, collection, pipeline, mapping: dict) -> Exported:
    from sigma.backends.splunk import SplunkBackend

    correlations, plain = _split(collection)
    titles = [r.title for r in plain + correlations]
    if not correlations:
        return Exported(
            name, " / ".join(titles), [str(q) for q in SplunkBackend(pipeline).convert(collection)]
        )
    queries = []
    for rule in correlations:
        base = " OR ".join(f"({q})" for q in SplunkBackend(pipeline).convert(_base_collection(rule)))
        by = " ".join(mapping.get(g, g) for g in rule.group_by or [])
        span = rule.timespan.spec
        cond = rule.condition
        op = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<", "eq": "==", "neq": "!="}[cond.op.name.lower()]
        if cond.fieldref:
            field_name = cond.fieldref[0] if isinstance(cond.fieldref, list) else cond.fieldref
            metric, what = f"dc({mapping.get(field_name, field_name)}) as value_count", "value_count"
        else:
            metric, what = "count as event_count", "event_count"
        # A sliding window over time-ordered events, as scan counts: a burst across a bucket boundary counts.
        queries.append(
            f"{base}\n| sort 0 _time\n| streamstats time_window={span} {metric}{' by ' + by if by else ''}\n"
            f"| where {what} {op} {cond.count}"
        )
    return Exported(name, " / ".join(titles), queries)


def _threshold_note(target: str, rule, mapping: dict) -> str:
    cond = rule.condition
    ref = cond.fieldref[0] if isinstance(cond.fieldref, list) else cond.fieldref
    counted = f" distinct {mapping.get(ref, ref)}" if ref else " events"
    by = ", ".join(mapping.get(g, g) for g in rule.group_by or [])
    return (
        f"the {target} query language has no correlation: alert when {cond.op.name.lower()} {cond.count}"
        f"{counted} per {by} within {rule.timespan.spec} (a sliding window)"
    )
