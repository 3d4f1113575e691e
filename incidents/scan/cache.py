"""Converted rules cached by content hash: loading unchanged rules skips pySigma entirely.

The key is a SHA-256 over every input of the conversion: the folder, each rule file's path and bytes, the
pipeline.yml used, the list files, the versions of pySigma, pysigma-backend-sqlite and this package,
and the source of the modules that convert (rules.py, rule_attributes.py, classify.py). Any change gives
a new key, so a stale entry is never read. Entries live in `$INCIDENTS_CACHE_DIR`, else `$XDG_CACHE_HOME/incidents`,
else `~/.cache/incidents`; a cache that cannot be written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from incidents.files import read_bytes, read_text

FORMAT = 1
_KEEP = 20  # entries kept; older ones are removed when a new one is written


def cache_dir() -> Path:
    if os.environ.get("INCIDENTS_CACHE_DIR"):
        return Path(os.environ["INCIDENTS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "incidents"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def key(folder: Path, files: list[Path], pipeline: Path, lists: list[Path]) -> str:
    """The content hash of everything a conversion of these rules depends on."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    # The folder itself too: cached rules carry absolute paths (their files, their fixtures).
    parts = [
        f"format {FORMAT}",
        str(folder.resolve()),
        sys.version,
        *(_version(n) for n in ("pysigma", "pysigma-backend-sqlite", "incidents")),
    ]
    for text in parts:
        digest.update(text.encode() + b"\0")
    for source in (
        here / "rules.py",
        here / "rule_attributes.py",
        here / "backend.py",
        here / "classify.py",
        here / "readers" / "__init__.py",
    ):
        digest.update(source.read_bytes() + b"\0")
    for path in [pipeline, *lists, *files]:
        name = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
        digest.update(name.encode() + b"\0" + read_bytes(path) + b"\0")
    return digest.hexdigest()


def read(digest: str) -> dict | None:
    path = cache_dir() / f"rules-{digest}.json"
    try:
        return json.loads(read_text(path))
    except (OSError, ValueError):
        return None


def write(digest: str, ruleset) -> None:
    """Store a RuleSet (never raises: a cache that cannot be written is skipped)."""
    folder = cache_dir()
    data = {
        "rules": [
            asdict(r)
            | {"file": str(r.file), "fixtures": [asdict(f) | {"file": str(f.file)} for f in r.fixtures]}
            for r in ruleset.rules
        ],
        "problems": [asdict(p) for p in ruleset.problems],
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".rules-{digest}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, folder / f"rules-{digest}.json")
        entries = sorted(folder.glob("rules-*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-_KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
