"""The events table: one scratch SQLite database per scanned file, filled by a reader, queried by the rules."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from incidents.scan.readers import EVENT_FIELDS, READERS, eve
from incidents.scan.readers.clock import SyslogYears
from incidents.scan.readers.lines import LineReader

BATCH = 20_000
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

    def reject(self, line: int, text: str, reason: str) -> None:
        self.unparsed += 1
        if len(self.rejects) < MAX_REJECTS:
            self.rejects.append((line, text[:REJECT_TEXT], reason))


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def regexp(pattern: str, value) -> bool:
    """SQLite's REGEXP operator (`X REGEXP Y` calls regexp(Y, X)); pySigma's sqlite backend emits it for |re."""
    if value is None:
        return False
    return _compiled(pattern).search(str(value)) is not None


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


def load(conn: sqlite3.Connection, path: Path, fmt: str, *, zone: ZoneInfo, year: int | None) -> FileRead:
    """Parse `path` with the reader for `fmt` into the events table."""
    module = READERS[fmt]
    modified = datetime.fromtimestamp(path.stat().st_mtime, zone).date()
    reader = module.Reader(zone=zone, years=SyslogYears(year=year, modified=modified))
    result = FileRead(fmt=fmt)
    insert = (
        f"INSERT INTO events ({', '.join(module.COLUMNS)}) VALUES ({', '.join('?' for _ in module.COLUMNS)})"
    )
    if fmt == eve.NAME and _is_json_array(path):
        _load_array(conn, path, reader, insert, result)
        return result
    lines = LineReader(path)
    batch: list[tuple] = []
    parse = reader.parse
    append = batch.append
    for number, text in lines:
        row = parse(number, text)
        if type(row) is tuple:
            if row:
                append(row)
        elif row is None:
            if text.strip():
                result.reject(number, text, f"fits no {fmt} line")
        else:
            batch.extend(row)
        if len(batch) >= BATCH:
            conn.executemany(insert, batch)
            result.events += len(batch)
            batch.clear()
    if batch:
        conn.executemany(insert, batch)
        result.events += len(batch)
    result.lines = lines.lines
    for number, length in lines.problems.too_long:
        result.reject(number, "", f"line is {length:,} bytes long, over the 1 MiB limit of a log line")
    result.bad_utf8 = len(lines.problems.bad_utf8)
    if lines.problems.no_final_newline and result.rejects and result.rejects[-1][0] == lines.lines:
        line, text, reason = result.rejects[-1]
        result.rejects[-1] = (line, text, reason + " (last line, no final newline: truncated?)")
    return result


def _is_json_array(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4096).lstrip().startswith(b"[")


def _load_array(conn, path: Path, reader, insert: str, result: FileRead) -> None:
    # A JSON array is read whole: alert exports are small next to eve.json itself, which is JSON Lines.
    lines = LineReader(path)
    text = "\n".join(t for _, t in lines)
    result.bad_utf8 = len(lines.problems.bad_utf8)
    rows = []
    for number, line, record, raw in eve.iter_array(text):
        result.lines = number
        if record is None:  # `raw` is then the reason the array stops here
            result.reject(line, "", raw)
            continue
        row = reader.row(number, record, json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        if row is None:
            result.reject(line, raw, "not an eve record (an object with a timestamp)")
        else:
            rows.append(row)
    conn.executemany(insert, rows)
    result.events = len(rows)


def day_of(epoch: float, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(epoch, zone).date()
