"""`incidents rules import DIR`: which rules of a Sigma collection (a SigmaHQ checkout) run here.

    from incidents.scan.importer import check_collection
    results = check_collection(Path("sigma/rules"))      # -> list[Checked], one per rule file

Each file is loaded exactly as `incidents scan --rules` would load it (the folder's pipeline.yml, else
the shipped one), so "runs" means it converts, its log source goes to a reader here, and every field
it uses is one a reader fills. Why a rule does not run is said in one line and grouped (`reason`).
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from incidents.scan.rules import RuleError, load_file, load_pipeline, rule_files

# The first words of RuleError messages, grouped into a few reasons a centre can act on.
_REASONS = (
    ("sends logsource", "log source no reader here handles"),
    ("is not a field of any log reader", "a field no reader fills"),
    ("has no linear-time form", "a regex that needs backtracking"),
    ("correlation type", "a correlation type scan does not evaluate"),
    ("aliases", "correlation aliases"),
    ("YAML error", "YAML error"),
    ("not UTF-8", "not UTF-8"),
    ("no level", "no level"),
    ("no id", "no id"),
    ("Sigma:", "pySigma cannot convert it"),
)


@dataclass(frozen=True)
class Checked:
    file: str  # relative to the folder
    title: str | None
    runs: bool
    readers: tuple[str, ...]  # the log readers whose events it reads (when it runs)
    category: str | None  # the incident category it gives (when it runs)
    reason: str | None  # why not, grouped (when it does not run)
    message: str | None  # the full one-line message

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _reason(message: str) -> str:
    for needle, reason in _REASONS:
        if needle in message:
            return reason
    return "other"


def check_collection(folder: Path, *, into: Path | None = None) -> list[Checked]:
    """Load every rule file under `folder`; with `into`, copy the files that run there (same paths).

    Raises RuleError when the folder's pipeline.yml is unusable, or a file cannot be written into `into`.
    """
    try:
        pipeline = load_pipeline(folder)
    except OSError as e:  # the folder or its pipeline cannot be read (permission denied)
        raise RuleError(f"{e.filename or folder}: cannot read: {e.strerror or e}") from None
    results = []
    paths = rule_files(folder)
    for path in paths:
        name = str(path.relative_to(folder))
        try:  # a correlation may refer to a rule of another file (scan.references): that file is copied too
            rules = load_file(path, pipeline, [p for p in paths if p != path])
        except RuleError as e:
            message = str(e)
            results.append(Checked(name, None, False, (), None, _reason(message), message))
            continue
        except RecursionError:
            results.append(Checked(name, None, False, (), None, "other", "nested too deep"))
            continue
        if not rules:
            results.append(
                Checked(name, None, False, (), None, "no rule that produces incidents", "only base rules")
            )
            continue
        readers = tuple(dict.fromkeys(r for rule in rules for r in rule.readers))
        results.append(Checked(name, rules[0].title, True, readers, rules[0].category, None, None))
        if into is not None:
            target = into / name
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            except OSError as e:  # --into not writable, a full disk: stop, naming the file
                raise RuleError(f"cannot write {target}: {e.strerror or e}") from None
    return results


def summary(results: list[Checked]) -> dict:
    """Counts: total, runs, per reader, per category, and per reason for those that do not run."""
    runs = [r for r in results if r.runs]
    return {
        "rules": len(results),
        "runs": len(runs),
        "does_not_run": len(results) - len(runs),
        "per_reader": dict(Counter(reader for r in runs for reader in r.readers).most_common()),
        "per_category": dict(Counter(r.category for r in runs).most_common()),
        "per_reason": dict(Counter(r.reason for r in results if not r.runs).most_common()),
    }
