"""What `incidents doctor` finds: one Check per finding, and the Report that holds them."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

OK, WARNING, PROBLEM = "ok", "warning", "problem"


def one_line(text: str) -> str:
    """`text` on one line: line breaks (SQLite's integrity messages, a library's error) become '; '."""
    return re.sub(r"\s*[\r\n]+\s*", "; ", str(text).strip())


@dataclass(frozen=True)
class Check:
    """One finding: `name` (store, integrity, schema, wal, disk, files, ingest, scan, alerts, config, smtp),
    its `level` (ok, warning, problem), one `message` sentence (always one line), and `detail` figures
    for --json."""

    name: str
    level: str
    message: str
    detail: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every check prints as exactly one line, whatever text a library or SQLite gave it.
        object.__setattr__(self, "message", one_line(self.message))

    def as_dict(self) -> dict:
        """The check as a plain dict (for --json)."""
        return dataclasses.asdict(self)


@dataclass
class Report:
    """Every check of one store and its configuration; healthy when none is a problem."""

    db: str
    config: str
    checks: list[Check]

    @property
    def healthy(self) -> bool:
        """True when no check is a problem (warnings allowed)."""
        return all(c.level != PROBLEM for c in self.checks)

    def as_dict(self) -> dict:
        """The report as a plain dict (for --json): healthy, db, config, checks."""
        return {
            "healthy": self.healthy,
            "db": self.db,
            "config": self.config,
            "checks": [c.as_dict() for c in self.checks],
        }
