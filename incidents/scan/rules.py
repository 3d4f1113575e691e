"""Loading Sigma rules from a folder: pipeline.yml, list placeholders, conversion to SQL, and validation.

A rule file may hold several YAML documents (a base rule and the correlation rules built on it, as in the
Sigma correlation specification); correlation rules reference rules of their own file by name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from incidents.files import NotRegularFile, read_text
from incidents.scan import references
from incidents.scan.backend import make_backend
from incidents.scan.readers import EVENT_FIELDS
from incidents.scan.rule_attributes import common_attributes as _common
from incidents.scan.rule_yaml import yaml_problem

PIPELINE_FILE = "pipeline.yml"
LISTS_DIR = "lists"
FIXTURES_DIR = "fixtures"
TABLE = "events"
# The correlation types whose windows scan evaluates (Sigma correlation specification, "Correlation types").
CORRELATION_TYPES = ("event_count", "value_count")
DEFAULT_EPISODE_S = 3600
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RuleError(Exception):
    """A rule file cannot be used: YAML error, invalid Sigma, unknown field, bad classification."""


@dataclass(frozen=True)
class Problem:
    """One rule file (or rule) that was left out, and why."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class Fixture:
    file: Path
    incidents: int
    fmt: str | None = None
    year: int | None = None


@dataclass
class Rule:
    """A rule that produces incidents: a plain Sigma rule or an event_count / value_count correlation."""

    id: str
    title: str
    level: str
    file: Path
    kind: str  # 'event', 'event_count' or 'value_count'
    category: str
    taxonomy: str
    type: str
    readers: tuple[str, ...]  # formats whose events the rule reads
    # SQL condition over the events table (for correlations: the base rules' conditions, OR-ed).
    predicate: str
    description: str = ""
    classified_by: str = "the rule's incident field"
    falsepositives: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ("source_ip",)
    value_field: str | None = None  # the field whose distinct values value_count counts
    timespan: int = 0  # seconds, correlations only
    op: str = "gte"
    count: int = 1
    # Plain rules: matches from one source further apart than this are separate incidents.
    episode_gap: int = DEFAULT_EPISODE_S
    fixtures: list[Fixture] = field(default_factory=list)

    @property
    def threshold(self) -> str:
        if self.kind == "event":
            return ""
        what = "events" if self.kind == "event_count" else f"distinct {self.value_field}"
        return f"{_OPS[self.op]} {self.count} {what} per {', '.join(self.group_by)} in {_duration(self.timespan)}"


@dataclass
class RuleSet:
    folder: Path
    rules: list[Rule]
    problems: list[Problem]


_OPS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<", "eq": "=", "neq": "!="}


def _duration(seconds: int) -> str:
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_duration(text) -> int:
    m = _DURATION.match(str(text).strip())
    if m is None:
        raise RuleError(f"duration {text!r} is not like 30m, 1h or 2d")
    return int(m.group(1)) * _UNITS[m.group(2)]


def rule_files(folder: Path) -> list[Path]:
    """Every Sigma rule file under `folder`, leaving out the pipeline, lists and fixtures."""
    found = []
    for path in sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml")):
        parts = path.relative_to(folder).parts
        if parts[0] in (LISTS_DIR, FIXTURES_DIR) or parts == (PIPELINE_FILE,):
            continue
        found.append(path)
    return found


def load_lists(folder: Path) -> dict[str, list[str]]:
    """Placeholder values: rules/lists/NAME.txt, one value a line, '#' starts a comment, becomes %NAME%."""
    values = {}
    for path in sorted((folder / LISTS_DIR).glob("*.txt")):
        try:
            text = read_text(path)
        except NotRegularFile as e:
            raise RuleError(str(e)) from None
        except OSError as e:
            raise RuleError(f"{path}: cannot read: {e.strerror or e}") from None
        except UnicodeDecodeError as e:
            raise RuleError(f"{path}: not UTF-8 ({e.reason} at byte {e.start})") from None
        lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
        values[path.stem] = [line for line in lines if line]
    return values


def shipped_rules_dir() -> Path:
    """The shipped rules/ (the repository's, else the copy inside an installed package)."""
    package = Path(__file__).resolve().parent.parent
    repo = package.parent / "rules"
    if (repo / PIPELINE_FILE).is_file():
        return repo
    return package / "_data" / "rules"


def pipeline_path(folder: Path) -> Path:
    """The folder's own pipeline.yml, else the shipped one: a folder of SigmaHQ rules has none, and its
    rules name fields as SigmaHQ does (cs-user-agent, c-uri, query, ...), which the shipped pipeline maps."""
    own = folder / PIPELINE_FILE
    return own if own.exists() else shipped_rules_dir() / PIPELINE_FILE


def load_pipeline(folder: Path):
    """The folder's pipeline (see pipeline_path) as a pySigma ProcessingPipeline, its vars filled from the
    list files (the shipped lists, overridden by the folder's own)."""
    from sigma.exceptions import SigmaError
    from sigma.processing.pipeline import ProcessingPipeline

    path = pipeline_path(folder)
    if not path.exists():
        raise RuleError(f"{path}: missing (it maps Sigma field names to the fields the log readers fill)")
    try:
        pipeline = ProcessingPipeline.from_yaml(read_text(path))
    except NotRegularFile as e:
        raise RuleError(str(e)) from None
    except (SigmaError, yaml.YAMLError, OSError, UnicodeDecodeError) as e:
        raise RuleError(f"{path}: {e}") from None
    except RecursionError:
        raise RuleError(f"{path}: YAML nested too deep") from None
    except (ValueError, TypeError, KeyError, AttributeError) as e:  # a value or shape pySigma cannot read
        raise RuleError(f"{path}: {type(e).__name__}: {str(e).split(';')[0]}") from None
    shipped = shipped_rules_dir()
    if shipped.resolve() != folder.resolve():
        pipeline.vars.update(load_lists(shipped))
    pipeline.vars.update(load_lists(folder))
    return pipeline


def load_rules(folder: Path, *, cache: bool = True) -> RuleSet:
    """Load and convert every rule under `folder`; a bad file becomes a Problem, the others load.

    The result is cached by content hash (cache.py): unchanged rules load without pySigma.
    """
    from incidents.scan import cache as rule_cache

    digest = None
    if cache:
        shipped = shipped_rules_dir()
        lists = sorted((folder / LISTS_DIR).glob("*.txt"))
        if shipped.resolve() != folder.resolve():
            lists = sorted((shipped / LISTS_DIR).glob("*.txt")) + lists
        try:
            digest = rule_cache.key(folder, rule_files(folder), pipeline_path(folder), lists)
        except OSError:
            digest = None
        stored = rule_cache.read(digest) if digest else None
        if stored is not None:
            return _from_cache(folder, stored)
    ruleset = _convert_all(folder)
    if digest:
        rule_cache.write(digest, ruleset)
    return ruleset


def _from_cache(folder: Path, stored: dict) -> RuleSet:
    rules = []
    for r in stored["rules"]:
        fixtures = [Fixture(**(f | {"file": Path(f["file"])})) for f in r.pop("fixtures")]
        for name in ("readers", "falsepositives", "group_by"):
            r[name] = tuple(r[name])
        rules.append(Rule(**(r | {"file": Path(r["file"]), "fixtures": fixtures})))
    return RuleSet(folder=folder, rules=rules, problems=[Problem(**p) for p in stored["problems"]])


def _convert_all(folder: Path) -> RuleSet:
    pipeline = load_pipeline(folder)
    rules: list[Rule] = []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    paths = rule_files(folder)
    # Rules a correlation of another file refers to feed it and make no incident of their own.
    quiet = references.silenced(paths)
    for path in paths:
        name = str(path.relative_to(folder))
        try:
            loaded = load_file(path, pipeline, [p for p in paths if p != path])
        except RuleError as e:
            problems.append(Problem(name, str(e)))
            continue
        for rule in loaded:
            if rule.kind == "event" and rule.id in quiet.get(path, ()):
                continue
            if rule.id in seen:
                problems.append(Problem(name, f"rule id {rule.id} is already used by {seen[rule.id].name}"))
                continue
            seen[rule.id] = path
            rules.append(rule)
    return RuleSet(folder=folder, rules=rules, problems=problems)


def load_file(path: Path, pipeline, others: Sequence[Path] = ()) -> list[Rule]:
    """The incident-producing rules of one file, converted to SQL over the events table. A correlation
    may refer to rules of the files `others` (the rest of its folder: references.resolved)."""
    from sigma.correlations import SigmaCorrelationRule
    from sigma.exceptions import SigmaError

    try:
        text = read_text(path)
    except OSError as e:  # permission denied: this rule is a problem, the others load
        raise RuleError(f"cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise RuleError(f"not UTF-8 ({e.reason} at byte {e.start})") from None
    if (problem := yaml_problem(text)) is not None:
        raise RuleError(problem)
    try:
        collection, own = _collection(text, others)
        backend = make_backend(pipeline, TABLE)
        backend.convert(collection)
    except SigmaError as e:
        raise RuleError(f"Sigma: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as e:  # pySigma's on some malformed documents
        raise RuleError(f"Sigma: {type(e).__name__}: {e}") from None
    except RecursionError:
        raise RuleError("Sigma: the rule is nested too deep") from None
    rules = []
    for sigma_rule in collection.rules:
        if own is not None and str(sigma_rule.id) not in own:
            continue  # a rule of another file that a correlation here refers to: loaded with its file
        title = sigma_rule.title or "(untitled)"
        if isinstance(sigma_rule, SigmaCorrelationRule):
            rules.append(_correlation(path, sigma_rule, title, backend))
        elif sigma_rule._output:
            rules.append(_plain(path, sigma_rule, title, backend))
    return rules


def _collection(text: str, others: Sequence[Path]):
    """(SigmaCollection, None) of one file; (collection, its own rule ids) when a correlation of it
    refers to a rule of another file of the folder. Raises SigmaError."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaRuleNotFoundError

    try:
        return SigmaCollection.from_yaml(text), None
    except SigmaRuleNotFoundError:
        if not others:
            raise
    return references.resolved(text, others)


_REGEXP = re.compile(r"REGEXP '((?:[^']|'')*)'")


def _predicate(sigma_rule, title: str) -> str:
    from incidents.scan.events import compile_regex

    queries = sigma_rule.get_conversion_result()
    prefix = f"SELECT * FROM {TABLE} WHERE "
    parts = [q.removeprefix(prefix) for q in queries]
    if not parts or not all(isinstance(p, str) for p in parts):
        raise RuleError(f"rule {title!r}: converted to no SQL condition")
    predicate = " OR ".join(f"({p})" for p in parts)
    for literal in _REGEXP.findall(predicate):
        try:  # every |re runs on RE2 (linear time); a regex RE2 cannot run is refused here, not at scan time
            compile_regex(literal.replace("''", "'"))
        except ValueError as e:
            raise RuleError(f"rule {title!r}: {e}") from None
    return predicate


def _check_fields(title: str, fields) -> None:
    unknown = sorted(f for f in fields if f not in EVENT_FIELDS)
    if unknown:
        raise RuleError(
            f"rule {title!r}: field {', '.join(map(repr, unknown))} is not a field of any log reader "
            f"(map it in pipeline.yml to one of: {', '.join(EVENT_FIELDS)})"
        )


def _readers(sigma_rule, title: str) -> tuple[str, ...]:
    states = sigma_rule.get_conversion_states()
    reader = states[0].processing_state.get("reader") if states else None
    if not reader:
        raise RuleError(
            f"rule {title!r}: pipeline.yml sends logsource {sigma_rule.logsource} to no log reader"
        )
    return tuple(reader) if isinstance(reader, list) else (reader,)


def _base(sigma_rule, title: str, backend) -> tuple[str, tuple[str, ...], list[str]]:
    readers = _readers(sigma_rule, title)
    fields = backend.required_fields(sigma_rule)
    _check_fields(title, fields)
    return _predicate(sigma_rule, title), readers, fields


def _plain(path: Path, sigma_rule, title: str, backend) -> Rule:
    predicate, readers, _ = _base(sigma_rule, title, backend)
    return Rule(kind="event", readers=readers, predicate=predicate, **_common(path, sigma_rule, title))


def _correlation(path: Path, sigma_rule, title: str, backend) -> Rule:
    kind = sigma_rule.type.name.lower()
    if kind not in CORRELATION_TYPES:
        raise RuleError(
            f"rule {title!r}: correlation type {kind} is not supported ({', '.join(CORRELATION_TYPES)})"
        )
    if sigma_rule.aliases and sigma_rule.aliases.aliases:
        raise RuleError(f"rule {title!r}: correlation aliases are not supported")
    predicates, readers = [], []
    for ref in sigma_rule.referenced_rules:
        predicate, base_readers, _ = _base(ref.rule, ref.rule.title or ref.reference, backend)
        predicates.append(f"({predicate})")
        readers.extend(r for r in base_readers if r not in readers)
    group_by = tuple(sigma_rule.group_by or ())
    value_field = sigma_rule.condition.fieldref
    if isinstance(value_field, list):
        if len(value_field) != 1:
            raise RuleError(f"rule {title!r}: value_count over several fields is not supported")
        value_field = value_field[0]
    if kind == "value_count" and not value_field:
        raise RuleError(f"rule {title!r}: value_count needs `condition: field:`")
    _check_fields(title, [*group_by, *([value_field] if value_field else [])])
    return Rule(
        kind=kind,
        readers=tuple(readers),
        predicate=" OR ".join(predicates),
        group_by=group_by,
        value_field=value_field,
        timespan=int(sigma_rule.timespan.seconds),
        op=sigma_rule.condition.op.name.lower(),
        count=int(sigma_rule.condition.count),
        **_common(path, sigma_rule, title, [ref.rule for ref in sigma_rule.referenced_rules]),
    )
