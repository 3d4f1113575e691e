"""`incidents scan`: raw security logs through Sigma rules into incidents in the store.

    from incidents.scan import scan_paths
    report = scan_paths(db, ["sample_logs/raw/"])        # -> ScanReport

Each input file is read into a scratch events table, every rule whose log source fits the file's format
runs over it, and the incidents found are written in ONE transaction per file together with the run
record (store.start_run(kind='scan') ... store.finish_run), so a failure leaves nothing half-written.
Incident ids are sha1(rule id | source | episode start): scanning the same file again adds nothing.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from incidents.scan import events as events_table
from incidents.scan import found
from incidents.scan.engine import iter_episodes
from incidents.scan.found import FEED, STATUS, incident_id, incident_row
from incidents.scan.readers import FORMATS, UnknownFormat
from incidents.scan.readers import detect as detect_format
from incidents.scan.readers.lines import ReadError, check_text_file, sha256_of
from incidents.scan.rules import Rule, RuleError, RuleSet, load_rules, shipped_rules_dir

if TYPE_CHECKING:
    import sqlite_utils

__all__ = [
    "FEED",
    "FORMATS",
    "STATUS",
    "FileReport",
    "RuleError",
    "ScanError",
    "ScanReport",
    "incident_id",
    "incident_row",
    "resolve_rules_dir",
    "scan_paths",
]


class ScanError(Exception):
    """The scan cannot start (no rules folder, a broken pipeline.yml, an unknown --format)."""


@dataclass
class FileReport:
    """What scanning one file did. `complete` is False when some of it could not be read."""

    file: str
    fmt: str | None = None
    lines: int = 0  # lines (or records) read
    events: int = 0  # rows the reader produced
    recognised: int = 0  # events the format is about (auth: sshd/PAM login events)
    skipped: dict = field(
        default_factory=dict
    )  # reason -> lines read that are no event (journalctl separators)
    unparsed: int = 0  # lines rejected (fit no line of the format, broken records): see `rejects`
    bad_utf8: int = 0
    found: int = 0  # incidents the rules produced from this file
    new: int = 0  # of which were not already in the store
    per_rule: Counter = field(default_factory=Counter)  # rule id -> incidents found
    new_per_rule: Counter = field(default_factory=Counter)  # rule id -> incidents new to the store
    run_id: int | None = None
    error: str | None = None  # the file could not be scanned at all
    busy: bool = False  # error is the store kept busy by another writer (exit 75: try again)
    notes: list[str] = field(default_factory=list)  # one line per problem: unparsed lines, bad bytes, ...

    @property
    def complete(self) -> bool:
        return self.error is None and not self.notes

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("per_rule", "new_per_rule")} | {
            "per_rule": dict(self.per_rule),
            "new_per_rule": dict(self.new_per_rule),
            "complete": self.complete,
        }


@dataclass
class ScanReport:
    rules_dir: str
    rules: list[Rule]
    rule_problems: list[str]
    files: list[FileReport] = field(default_factory=list)
    path_problems: list[str] = field(default_factory=list)  # a folder with no file to read, ...

    @property
    def complete(self) -> bool:
        """Every file read completely, every rule loaded, something read: the CLI's exit code 0."""
        return (
            not self.rule_problems
            and not self.path_problems
            and bool(self.files)
            and all(f.complete for f in self.files)
        )

    def per_rule(self) -> list[dict]:
        """Incidents per rule over all files, every loaded rule listed (zero included)."""
        found, new = Counter(), Counter()
        for f in self.files:
            found.update(f.per_rule)
            new.update(f.new_per_rule)
        return [
            {"rule": r.title, "id": r.id, "category": r.category, "level": r.level, "incidents": found[r.id],
             "new": new[r.id]}
            for r in self.rules
        ]  # fmt: skip

    def as_dict(self) -> dict:
        return {
            "rules_dir": self.rules_dir,
            "complete": self.complete,
            "rule_problems": self.rule_problems,
            "path_problems": self.path_problems,
            "per_rule": self.per_rule(),
            "files": [f.as_dict() for f in self.files],
        }


def resolve_rules_dir(rules_dir: str | Path | None = None) -> Path:
    """--rules, else the repository's rules/ next to the package, else the copy inside an installed wheel."""
    if rules_dir is not None:
        return Path(rules_dir)
    return shipped_rules_dir()


def load_ruleset(rules_dir: str | Path | None = None):
    """(folder, RuleSet) of the rules in `rules_dir` (default: the shipped ones); ScanError if unusable.

    A rule with an error does not stop the others: it is listed in RuleSet.problems.
    """
    folder = resolve_rules_dir(rules_dir)
    if not folder.is_dir():
        raise ScanError(f"rules folder {folder} does not exist")
    try:
        return folder, load_rules(folder)
    except RuleError as e:
        raise ScanError(str(e)) from None
    except OSError as e:  # the folder, its pipeline or its lists cannot be read (permission denied)
        raise ScanError(f"{e.filename or folder}: cannot read: {e.strerror or e}") from None


def expand_paths(paths: Iterable[str | Path], problems: list[str] | None = None) -> list[Path]:
    """Files as given; a folder stands for the files in it, recursively, leaving out hidden files and
    folders BELOW it (the folder given may itself be reached through `..` or a dot-folder).

    A folder that holds no file to read, or cannot be read itself (permission denied), is named in
    `problems`: a folder that cannot be listed is never skipped in silence (Path.rglob would).
    """
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            inside, unreadable = [], []
            for root, dirs, files in os.walk(p, onerror=unreadable.append):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                inside += [Path(root, f) for f in files if not f.startswith(".") and Path(root, f).is_file()]
            inside.sort()
            if problems is not None:
                problems += [f"{e.filename}: cannot read the folder: {e.strerror or e}" for e in unreadable]
                if not inside and not unreadable:
                    problems.append(f"{p}: the folder holds no file to scan (hidden files are left out)")
            found.extend(inside)
        else:
            found.append(p)
    return found


def scan_paths(
    db: sqlite_utils.Database,
    paths: Iterable[str | Path],
    rules_dir: str | Path | None = None,
    fmt: str | None = None,
    *,
    year: int | None = None,
    log_zone: str | ZoneInfo | None = None,
    on_file: Callable[[FileReport], None] | None = None,
) -> ScanReport:
    """Scan log files (or folders of them) with the rules in `rules_dir` and store the incidents.

    `log_zone` is the zone of the logs' clocks for timestamps written without an offset (syslog, BIND,
    dnsmasq); default: the store's reporting zone (eve.json: UTC). Timestamps with an offset keep theirs.
    Raises ScanError for an unknown format or zone, or unusable rules.
    """
    if fmt is not None and fmt not in FORMATS:
        raise ScanError(f"unknown format {fmt!r}; scan reads {', '.join(FORMATS)}")
    from incidents import store  # lazily: `rules list|test` need no store (and no sqlite_utils import)

    clock = _zone(log_zone)
    folder, ruleset = load_ruleset(rules_dir)
    report = ScanReport(str(folder), ruleset.rules, [str(p) for p in ruleset.problems])
    zone = store.reporting_zone(db)
    for path in expand_paths(paths, report.path_problems):
        result = scan_file(db, path, ruleset, fmt=fmt, zone=zone, year=year, log_zone=clock)
        report.files.append(result)
        if on_file is not None:
            on_file(result)
    return report


def _zone(name: str | ZoneInfo | None) -> ZoneInfo | None:
    if name is None or isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScanError(
            f"unknown time zone {name!r} (an IANA name such as UTC or Asia/Ho_Chi_Minh)"
        ) from None


def scan_file(
    db: sqlite_utils.Database,
    path: Path,
    ruleset: RuleSet,
    *,
    fmt: str | None,
    zone: ZoneInfo,
    year: int | None,
    log_zone: ZoneInfo | None = None,
) -> FileReport:
    """Read one file, run the rules that fit its format, store the incidents in one transaction."""
    from incidents import store

    result = FileReport(file=str(path))
    guess = None
    try:
        check_text_file(path)
        if path.stat().st_size == 0:
            result.fmt = fmt
            result.notes.append("empty file, nothing to scan")
            return result
        if fmt is None:
            guess = detect_format(path)
        result.fmt = fmt or guess.fmt
    except (ReadError, UnknownFormat) as e:
        result.error = str(e)
        return result
    except OSError as e:  # permission denied, an I/O error: this file fails, the others go on
        result.error = f"cannot read: {e.strerror or e}"
        return result
    conn = events_table.connect()
    try:
        # Only the rows some rule may select are written to the events table (the rules then judge them).
        mine = [rule for rule in ruleset.rules if result.fmt in rule.readers]
        read = events_table.load(
            conn, path, result.fmt, zone=zone, year=year, log_zone=log_zone,
            predicates=[rule.predicate for rule in mine],
        )  # fmt: skip
        bits = {}
        if read.masks is not None:
            masks = read.masks
            conn.create_function("may", 2, lambda rowid, bit: masks[rowid - 1] >> bit & 1, deterministic=True)
            bits = {rule.id: k for k, rule in enumerate(mine)}
        result.lines, result.events, result.unparsed, result.bad_utf8 = (
            read.lines,
            read.events,
            read.unparsed,
            read.bad_utf8,
        )
        result.recognised = read.recognised
        result.skipped = dict(read.skipped)
        if guess is not None and guess.doubtful and read.unparsed == 0:
            result.notes.append(guess.doubtful)
        if guess is not None and guess.mixed:
            result.notes.append(guess.mixed)
        _note_problems(result, read)
        if read.unaccounted > 0:  # every line is an event, a skip with its reason, or a reject
            result.notes.append(
                f"{read.unaccounted:,} lines read are neither events, skipped nor rejected (a reader bug)"
            )
        if result.events and not any(result.fmt in rule.readers for rule in ruleset.rules):
            result.notes.append(
                f"no loaded rule reads {result.fmt} logs, so nothing in this file was looked at"
            )
        # The incidents wait in the scratch database, a batch at a time (found.py): memory stays bounded
        # however many a file gives, and the store is written in one transaction at the end, as before.
        found.create_table(conn)
        episodes = 0
        for rule in mine:
            count = found.spill(conn, iter_episodes(conn, rule, bits.get(rule.id)), path, result.fmt, zone)
            result.per_rule[rule.id] += count
            episodes += count
        if result.lines and not result.recognised and not episodes:
            what = "sshd/PAM login event" if result.fmt == "auth" else f"{result.fmt} event"
            result.notes.append(
                f"read {result.lines:,} lines as {result.fmt} but recognised no {what} in them"
                + ("" if fmt else "; use --format if the file is another kind of log")
            )
        sha = read.sha256 or sha256_of(path)
        with store.write_transaction(db):  # the store's one write lock: a note while busy, StoreBusy after
            run_id = store.start_run(db, file=str(path), sha256=sha, kind="scan", fmt=result.fmt)
            result.found, result.new = found.write(db, conn, run_id, result.new_per_rule)
            store.add_rejects(db, run_id, read.rejects)
            store.finish_run(
                db, run_id, read=read.lines, accepted=result.new, duplicate=result.found - result.new,
                rejected=read.unparsed, status="ok",
            )  # fmt: skip
        result.run_id = run_id
    except store.StoreBusy as e:  # the next files go on: each waits, and is reported, on its own
        result.error, result.busy = f"{e}; nothing of this file was written", True
        result.found = result.new = 0
        result.per_rule.clear()
        result.new_per_rule.clear()
    except sqlite3.DatabaseError as e:  # the store, not the log: the transaction rolled back, stop here
        raise ScanError(
            f"{path}: {store.explain(e, store.store_file(db))}; nothing of this file was written"
        ) from None
    except (OSError, UnknownFormat) as e:
        result.error = str(e)
        result.found = result.new = 0
        result.per_rule.clear()
        result.new_per_rule.clear()
    finally:
        conn.close()
    return result


def _note_problems(result: FileReport, read: events_table.FileRead) -> None:
    if read.rejects:
        line, text, reason = read.rejects[0]
        more = (
            f" (and {read.unparsed - 1:,} more lines, see `incidents rejects`)" if read.unparsed > 1 else ""
        )
        shown = f": {text[:60]!r}" if text else ""
        result.notes.append(f"line {line}: {reason}{shown}{more}")
    if read.bad_utf8:
        result.notes.append(f"{read.bad_utf8:,} lines with invalid UTF-8, read with the bad bytes replaced")
