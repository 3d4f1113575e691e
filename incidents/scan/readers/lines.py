"""Line-by-line reading of raw log files that survives binary garbage, huge lines and bad UTF-8."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# A log line longer than this is not a log line (a 10 MB "line" is a core dump or a binary blob);
# it is skipped with a message instead of being parsed, and never held in memory whole.
MAX_LINE_BYTES = 1 << 20
# Bytes sniffed for NUL: text logs never contain NUL, binary files almost always do early on.
SNIFF_BYTES = 8192


class ReadError(Exception):
    """The file cannot be read as a text log at all (missing, a folder, binary)."""


@dataclass
class LineProblems:
    """What went wrong while splitting a file into lines; the scan turns these into rejects."""

    too_long: list[tuple[int, int]] = field(default_factory=list)  # (line, length in bytes)
    bad_utf8: list[int] = field(default_factory=list)  # lines decoded with U+FFFD replacements
    no_final_newline: bool = False


def check_text_file(path: Path) -> None:
    """Raise ReadError unless `path` is a readable, non-binary file."""
    if not path.exists():
        raise ReadError("no such file")
    if path.is_dir():
        raise ReadError("is a folder, not a log file")
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as e:
        raise ReadError(e.strerror or str(e)) from None
    if b"\x00" in head:
        raise ReadError("binary data (NUL bytes), not a text log")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class LineReader:
    """Iterate (line number, text without newline) over a file; problems are collected, never raised."""

    def __init__(self, path: Path):
        self.path = path
        self.problems = LineProblems()
        self.lines = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        number = 0
        limit = MAX_LINE_BYTES + 1
        bad_utf8 = self.problems.bad_utf8
        with self.path.open("rb") as fh:
            readline = fh.readline
            while raw := readline(limit):
                number += 1
                if raw[-1:] != b"\n":
                    if len(raw) == limit:
                        self.problems.too_long.append((number, self._skip_rest(fh, len(raw))))
                        continue
                    self.problems.no_final_newline = True
                else:
                    raw = raw[:-1]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    bad_utf8.append(number)
                    text = raw.decode("utf-8", errors="replace")
                yield number, text.rstrip("\r")
        self.lines = number

    @staticmethod
    def _skip_rest(fh, length: int) -> int:
        """Consume an over-long line up to its newline; returns its full length in bytes."""
        while chunk := fh.readline(1 << 20):
            length += len(chunk)
            if chunk.endswith(b"\n"):
                return length - 1
        return length
