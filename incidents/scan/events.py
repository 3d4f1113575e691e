"""The events table: one scratch SQLite database per scanned file, filled by a reader, queried by the rules."""

from __future__ import annotations

import json
import lzma
import sqlite3
from array import array
from collections import Counter
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import re2

from incidents.scan import fastread
from incidents.scan.readers import EVENT_FIELDS, READERS, eve
from incidents.scan.readers.clock import SyslogYears
from incidents.scan.readers.lines import LineReader, Rejected, open_log

BATCH = 20_000
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
# Rejected lines kept per file, with their text cut to this length (a 10 MB line is reported, not stored).
MAX_REJECTS = 10_000
REJECT_TEXT = 500


@dataclass
class FileRead:
    """What reading one file into the events table found."""

    fmt: str
    lines: int = 0  # lines (or records) read
    events: int = 0  # rows in the events table
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason)
    unparsed: int = 0  # lines that fit no format, too long, truncated records
    bad_utf8: int = 0  # lines read with invalid UTF-8 replaced by U+FFFD
    recognised: int = 0  # events the format is about (auth: sshd/PAM login events; others: every row)
    skipped: Counter = field(default_factory=Counter)  # reason -> lines read that are no event
    cr_only: bool = False  # lines were split on CR alone
    sha256: str | None = None  # of the file's bytes, when the block reader read them all (not compressed)
    # With rules: for each row written (rowid - 1), the bit mask of the rules that may select it.
    masks: MutableSequence[int] | None = None
    event_lines: int = 0  # lines (records) that gave at least one recognised event

    @property
    def unaccounted(self) -> int:
        """Lines read that are neither an event, a skip with its reason, nor a reject: 0 unless a bug.

        The scan's accounting: lines == event_lines + sum(skipped) + unparsed.
        """
        return self.lines - self.event_lines - sum(self.skipped.values()) - self.unparsed

    def reject(self, line: int, text: str, reason: str) -> None:
        self.unparsed += 1
        if len(self.rejects) < MAX_REJECTS:
            self.rejects.append((line, text[:REJECT_TEXT], reason))


@lru_cache(maxsize=512)
def compile_regex(pattern: str):
    """`pattern` compiled by RE2, whose matching time is linear in the text (no catastrophic backtracking).

    Raises ValueError for what RE2 refuses (look-arounds, back-references): a rule using them is left out
    when it loads (rules.py), so no rule regex can hang a scan.
    """
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as e:
        raise ValueError(f"regex {pattern!r} has no linear-time form (RE2: {e})") from None


_SEEN: dict[tuple[str, str], bool] = {}


def regexp(pattern: str, value) -> bool:
    """SQLite's REGEXP operator (`X REGEXP Y` calls regexp(Y, X)); pySigma's sqlite backend emits it for |re.

    Log fields repeat (the same URI, the same agent): each distinct (pattern, value) is searched once.
    """
    if value is None:
        return False
    text = value if type(value) is str else str(value)
    found = _SEEN.get((pattern, text))
    if found is None:
        if len(_SEEN) > 200_000:
            _SEEN.clear()
        found = _SEEN[(pattern, text)] = compile_regex(pattern).search(text) is not None
    return found


def connect() -> sqlite3.Connection:
    """A scratch database with an empty events table and REGEXP registered.

    '' opens a private temporary database on disk (SQLite "Temporary Databases"): a million-line log then
    costs page cache, not a million Python objects, and the file vanishes when the connection closes.
    """
    conn = sqlite3.connect("")
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB
    conn.create_function("regexp", 2, regexp, deterministic=True)
    columns = ", ".join(
        f"{name} {kind} COLLATE NOCASE" if kind == "TEXT" else f"{name} {kind}"
        for name, kind in EVENT_FIELDS.items()
    )
    conn.execute(f"CREATE TABLE events ({columns})")
    return conn


def load(
    conn: sqlite3.Connection,
    path: Path,
    fmt: str,
    *,
    zone: ZoneInfo,
    year: int | None,
    log_zone: ZoneInfo | None = None,
    predicates: list[str] | None = None,
) -> FileRead:
    """Parse `path` with the reader for `fmt` into the events table.

    Times without an offset are read in `log_zone` (the log's clock, `--zone`), else the format's own
    default (UTC for eve.json), else `zone` (the store's reporting zone).
    With `predicates` (the SQL conditions of the rules that will run over the table), only the rows one
    of them may select are written, and formats with a block reader parse only the lines that may hold
    such a row (fastread.py); the counts are those of a full read either way.
    """  # fmt: skip
    module = READERS[fmt]
    clock = log_zone or getattr(module, "DEFAULT_ZONE", None) or zone
    modified = datetime.fromtimestamp(path.stat().st_mtime, clock).date()
    reader = module.Reader(zone=clock, years=SyslogYears(year=year, modified=modified))
    result = FileRead(fmt=fmt)
    insert = (
        f"INSERT INTO events ({', '.join(module.COLUMNS)}) VALUES ({', '.join('?' for _ in module.COLUMNS)})"
    )
    plan = None if predicates is None else fastread.make_plan(module, predicates)
    if fmt == eve.NAME and _is_json_array(path):
        _load_array(conn, path, reader, insert, result)
    else:
        _load_lines(conn, path, fmt, reader, insert, result, plan, rules=len(predicates or ()))
        if plan is not None:
            return result
    event_sql = getattr(module, "EVENT_SQL", None)
    result.recognised = (
        conn.execute(f"SELECT count(*) FROM events WHERE {event_sql}").fetchone()[0]
        if event_sql
        else result.events
    )
    return result


def _load_lines(
    conn, path: Path, fmt: str, reader, insert: str, result: FileRead, plan=None, rules: int = 0
) -> None:
    """Every line through the reader (or, with a plan and a block reader, the lines that need it)."""
    lines = LineReader(path)
    batch: list[tuple] = []
    parse = reader.parse
    append = batch.append
    skipped = result.skipped
    module = READERS[fmt]
    is_event = module.is_event
    keep = plan.keep if plan is not None else None
    every_row_an_event = getattr(module, "EVENT_SQL", None) is None
    # Read, but no event: the reason each such line is counted under (every line is an event, a skip or
    # a reject; FileRead.unaccounted checks it).
    no_event = "a syslog line that is no sshd/PAM login event" if fmt == "auth" else "no event in this line"
    masks = mask_array(rules)
    add_mask = masks.append
    rows = 0  # rows read (with a plan, only those some rule may select are written)
    recognised = event_lines = plain_skips = 0

    def take(number: int, text: str) -> None:
        nonlocal rows, recognised, event_lines, plain_skips
        try:
            row = parse(number, text)
        except Exception as e:  # noqa: BLE001 - one line never stops a scan; it is rejected, named
            row = Rejected(f"the {fmt} reader failed on this line ({type(e).__name__}: {e})")
        if type(row) is tuple:
            if row:
                rows += 1
                if keep is None:
                    append(row)
                elif mask := keep(row):
                    append(row)
                    add_mask(mask)
                if len(batch) >= BATCH:
                    conn.executemany(insert, batch)
                    batch.clear()
                if is_event(row):
                    event_lines += 1
                    recognised += 1
                else:
                    if not plain_skips:  # the reasons keep the order they first occur in
                        skipped[no_event] = 0
                    plain_skips += 1
            else:
                if not plain_skips:
                    skipped[no_event] = 0
                plain_skips += 1
        elif row is None:
            if text.strip():
                result.reject(number, text, f"fits no {fmt} line")
            else:
                skipped["blank line"] += 1
        elif type(row) is list:
            rows += len(row)
            events = sum(1 for r in row if is_event(r))
            recognised += events
            if keep is None:
                batch.extend(row)
            else:
                for r in row:
                    if mask := keep(r):
                        append(r)
                        add_mask(mask)
            if events:
                event_lines += 1
            else:
                if not plain_skips:
                    skipped[no_event] = 0
                plain_skips += 1
            if len(batch) >= BATCH:
                conn.executemany(insert, batch)
                batch.clear()
        elif type(row) is Rejected:
            result.reject(number, text, row)
        else:
            skipped[row] += 1

    def plain(count: int) -> None:  # lines the block reader counted as one plain row each
        nonlocal rows, event_lines, plain_skips
        rows += count
        if every_row_an_event:
            event_lines += count
        elif count:
            if not plain_skips:
                skipped[no_event] = 0
            plain_skips += count

    try:
        if plan is not None and hasattr(reader, "fast_line") and not lines.cr_only_head():
            fastread.read_blocks(lines, reader, module, plan, take, plain)
        else:
            for number, text in lines:
                take(number, text)
    except (OSError, EOFError, lzma.LZMAError) as e:  # a compressed file cut short or corrupt
        result.reject(lines.lines + 1, "", f"the file cannot be read past this point ({e})")
    if batch:
        conn.executemany(insert, batch)
    result.event_lines += event_lines
    if plain_skips:
        skipped[no_event] += plain_skips
    result.events = rows
    result.masks = masks if keep is not None else None
    result.recognised = rows if every_row_an_event else recognised
    result.lines = lines.lines
    result.sha256 = lines.sha256
    result.cr_only = lines.problems.cr_only
    for number, length in lines.problems.too_long:
        result.reject(number, "", f"line is {length:,} bytes long, over the 1 MiB limit of a log line")
    result.bad_utf8 = len(lines.problems.bad_utf8)
    if lines.problems.no_final_newline and result.rejects and result.rejects[-1][0] == lines.lines:
        line, text, reason = result.rejects[-1]
        result.rejects[-1] = (line, text, reason + " (last line, no final newline: truncated?)")


def mask_array(rules: int) -> MutableSequence[int]:
    """An empty sequence for the rules' bit mask of each row kept: one machine word per row, as small as
    `rules` bits allow (1 byte for up to 8 rules), instead of a list's 8-byte pointer per row."""
    for code in ("B", "H", "I", "Q"):
        if rules <= array(code).itemsize * 8:
            return array(code)
    return []  # over 64 rules: Python ints


def _is_json_array(path: Path) -> bool:
    try:
        with open_log(path) as fh:
            head = fh.read(4096)
    except (OSError, EOFError, lzma.LZMAError):  # a broken archive: read line by line, which reports it
        return False
    return eve.starts_array(head.decode("utf-8", errors="replace"))


def _load_array(conn, path: Path, reader, insert: str, result: FileRead) -> None:
    # A JSON array is read whole: alert exports are small next to eve.json itself, which is JSON Lines.
    lines = LineReader(path)
    try:
        text = "\n".join(t for _, t in lines)
    except (OSError, EOFError, lzma.LZMAError) as e:
        result.reject(1, "", f"the file cannot be read ({e})")
        return
    result.bad_utf8 = len(lines.problems.bad_utf8)
    rows = []
    for number, line, record, raw in eve.iter_array(text):
        result.lines = number
        if record is None:  # `raw` is then the reason the array stops here
            result.reject(line, "", raw)
            continue
        try:
            row = reader.row(number, record, json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        except (RecursionError, ValueError):
            row = Rejected("JSON nested too deep")
        if row is None or type(row) is Rejected:
            result.reject(line, raw, row or "not an eve record (an object with a timestamp)")
        elif type(row) is list:
            rows.extend(row)
            if row:
                result.event_lines += 1
            else:
                result.skipped["no event in this record"] += 1
        elif row:
            rows.append(row)
            result.event_lines += 1
        else:
            result.skipped["no event in this record"] += 1
    conn.executemany(insert, rows)
    result.events = len(rows)


def day_of(epoch: float, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch, zone).date()
