"""Line-by-line reading of raw log files that survives binary garbage, huge lines, bad UTF-8, CR-only line
ends and logrotate's compressed files (.gz, .bz2, .xz: read through, never refused as binary)."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from incidents import files
from incidents.files import looks_binary, looks_utf16

# A log line longer than this is not a log line (a 10 MB "line" is a core dump or a binary blob);
# it is skipped with a message instead of being parsed, and never held in memory whole.
MAX_LINE_BYTES = 1 << 20
# Bytes sniffed for binary data: binary files hold NUL and other control bytes early on.
SNIFF_BYTES = 8192
# Magic numbers of the compressions logrotate can use (gzip: RFC 1952; bzip2; xz).
_COMPRESSED = (
    (b"\x1f\x8b", gzip.open, "gzip"),
    (b"BZh", bz2.open, "bzip2"),
    (b"\xfd7zXZ\x00", lzma.open, "xz"),
)


class Rejected(str):
    """A reader's reason to reject one line or record: `parse` returns it instead of a row.

    (A plain str is a reason to skip a line that was read but is no event; None means "fits no line".)
    """


class ReadError(Exception):
    """The file cannot be read as a text log at all (missing, a folder, binary, a broken archive)."""


@dataclass
class LineProblems:
    """What went wrong while splitting a file into lines; the scan turns these into rejects."""

    too_long: list[tuple[int, int]] = field(default_factory=list)  # (line, length in bytes)
    bad_utf8: list[int] = field(default_factory=list)  # lines decoded with U+FFFD replacements
    no_final_newline: bool = False
    cr_only: bool = False  # the file ends its lines with CR alone (classic Mac OS): split on CR
    mixed_cr: bool = False  # some lines of a LF or CRLF file end with CR alone: split there too


def compression(path: Path) -> str | None:
    """'gzip', 'bzip2' or 'xz' when the file starts with that magic number, else None."""
    with path.open("rb") as fh:
        head = fh.read(6)
    for magic, _, name in _COMPRESSED:
        if head.startswith(magic):
            return name
    return None


def open_log(path: Path) -> BinaryIO:
    """The file's bytes, decompressed on the fly when it is a gzip, bzip2 or xz file."""
    with path.open("rb") as fh:
        head = fh.read(6)
    for magic, opener, _ in _COMPRESSED:
        if head.startswith(magic):
            return opener(path, "rb")
    return path.open("rb")


def check_text_file(path: Path) -> None:
    """Raise ReadError unless `path` is a readable, non-binary regular file (compressed text is text)."""
    if not path.exists():
        raise ReadError("no such file")
    if path.is_dir():
        raise ReadError("is a folder, not a log file")
    try:
        files.check_regular(path)
    except files.NotRegularFile as e:
        raise ReadError(f"not a regular file ({e.kind}), not read") from None
    try:
        with open_log(path) as fh:
            head = fh.read(SNIFF_BYTES)
    except (OSError, EOFError, lzma.LZMAError) as e:
        kind = compression(path)
        what = f"broken {kind} file" if kind else (getattr(e, "strerror", None) or str(e))
        raise ReadError(f"{what}: {e}" if kind else what) from None
    if looks_utf16(head):
        raise ReadError("UTF-16 text, not UTF-8: convert it with `iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8`")
    if looks_binary(head):
        raise ReadError("binary data (NUL bytes), not a text log")


def head_lines(path: Path, count: int, limit: int = MAX_LINE_BYTES) -> list[str]:
    """The first `count` non-empty lines (decoded, bad bytes replaced), CR-only files split on CR."""
    found = []
    for _, text in LineReader(path, limit=limit):
        if text.strip():
            found.append(text)
            if len(found) >= count:
                break
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# A run of CRs that ends a line alone: followed by neither LF nor another CR (a run before LF is a CRLF
# ending with stray CRs, which every line's rstrip("\r") removes).
_LONE_CR = re.compile(rb"\r+(?![\r\n])")
_LONE_CR_TEXT = re.compile("\r+")


def _lone_cr_to_lf(block: bytes, problems: LineProblems) -> bytes:
    """`block` with each CR that ends a line alone (not before LF) made a LF: files pasted together from
    several systems mix CR-only lines into LF or CRLF ones, and each such line is a line, not a part of
    the line before it (which the reader would read alone, the others lost in silence)."""
    crs = block.count(b"\r")
    if crs and crs != block.count(b"\r\n"):
        block, changed = _LONE_CR.subn(b"\n", block)
        problems.mixed_cr = problems.mixed_cr or bool(changed)
    return block


def _has_line_over(block: bytes, limit: int) -> bool:
    """Whether a block of whole lines holds one longer than `limit` bytes. Only a line starting in the
    first len(block) - limit bytes can be: a few find() calls, not a split of the whole block."""
    start, find = 0, block.find
    while len(block) - start > limit:
        end = find(b"\n", start)
        if end < 0:  # no LF after `start`: the rest is one line
            end = len(block)
        if end - start > limit:
            return True
        start = end + 1
    return False


def _read_some(fh, size: int, digest=None) -> tuple[bytes, BaseException | None]:
    """Up to `size` bytes, and the error that stopped the reading early (a compressed file cut short):
    read1() hands over what was decompressed before it, where read() would drop it."""
    chunks, got = [], 0
    read1 = getattr(fh, "read1", fh.read)
    try:
        while got < size:
            data = read1(size - got)
            if not data:
                break
            chunks.append(data)
            got += len(data)
            if digest is not None:
                digest.update(data)
    except (OSError, EOFError, lzma.LZMAError) as e:
        return b"".join(chunks), e
    return b"".join(chunks), None


class LineReader:
    """Iterate (line number, text without line end) over a file; problems are collected, never raised.

    Lines end with LF, CRLF or — when the file's first 64 KiB hold a CR but no LF — CR alone.
    """

    def __init__(self, path: Path, *, limit: int = MAX_LINE_BYTES):
        self.path = path
        self.problems = LineProblems()
        self.lines = 0
        self.limit = limit
        self.sha256: str | None = None  # set by blocks() when it read a plain file to its end

    def __iter__(self) -> Iterator[tuple[int, str]]:
        with open_log(self.path) as fh:
            head = fh.peek(1 << 16)[: 1 << 16] if hasattr(fh, "peek") else b""
            if b"\r" in head and b"\n" not in head:
                self.problems.cr_only = True
                yield from self._split(fh, b"\r")
            else:
                yield from self._lines(fh)

    def blocks(self, size: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
        """(lines before it, block) pairs: runs of whole lines each ending in LF, at most `limit` bytes
        each; the file's last line, when it has no LF, comes alone without one. Over-long lines are
        skipped and recorded as `read` records them. Not for CR-only files (`cr_only_head` tells)."""
        number = 0
        limit = self.limit
        try:
            with open_log(self.path) as fh:
                # A plain file is hashed as it is read (the run record keeps its SHA-256): one pass, not two.
                digest = hashlib.sha256() if compression(self.path) is None else None
                pending = b""
                while True:
                    data, error = _read_some(fh, size, digest)
                    if not data and error is None:
                        break
                    buf = pending + data if pending else data
                    cut = buf.rfind(b"\n")
                    if cut < 0:
                        pending = buf
                        if len(pending) > limit and error is None:  # one over-long line: skip to its end
                            length = self._skip_rest(fh, len(pending))
                            number += 1
                            self.problems.too_long.append((number, length))
                            pending = b""
                    else:
                        block, pending = _lone_cr_to_lf(buf[: cut + 1], self.problems), buf[cut + 1 :]
                        if len(block) > limit and _has_line_over(block, limit):
                            yield from self._long_lines(number, block)
                        else:
                            yield number, block
                        number += block.count(b"\n")
                    if error is not None:  # the lines before it were read, as readline() reads them
                        raise error
                if pending:
                    self.problems.no_final_newline = True
                    pending = _lone_cr_to_lf(pending, self.problems)
                    if b"\n" in pending.rstrip(b"\n"):  # lines ended by CR alone, the last without one
                        block, pending = (
                            pending[: pending.rindex(b"\n") + 1],
                            pending[pending.rindex(b"\n") + 1 :],
                        )
                        yield number, block
                        number += block.count(b"\n")
                    if pending:
                        yield number, pending
                        number += 1
                if digest is not None and not self.problems.too_long:
                    self.sha256 = digest.hexdigest()
        finally:
            self.lines = number

    def _long_lines(self, number: int, block: bytes) -> Iterator[tuple[int, bytes]]:
        """A block holding an over-long line: its other lines in smaller blocks, the long ones recorded."""
        start = 0
        lines = block.split(b"\n")[:-1]
        for i, raw in enumerate(lines):
            if len(raw) > self.limit:
                if i > start:
                    yield number + start, b"\n".join(lines[start:i]) + b"\n"
                self.problems.too_long.append((number + i + 1, len(raw)))
                start = i + 1
        if start < len(lines):
            yield number + start, b"\n".join(lines[start:]) + b"\n"

    def cr_only_head(self) -> bool:
        """True when the file's first 64 KiB hold a CR but no LF (lines end with CR alone)."""
        with open_log(self.path) as fh:
            head = fh.peek(1 << 16)[: 1 << 16] if hasattr(fh, "peek") else fh.read(1 << 16)
        return b"\r" in head and b"\n" not in head

    def _decode(self, number: int, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problems.bad_utf8.append(number)
            return raw.decode("utf-8", errors="replace")

    def _lines(self, fh) -> Iterator[tuple[int, str]]:
        number = 0
        limit = self.limit + 1
        bad_utf8 = self.problems.bad_utf8
        readline = fh.readline
        try:
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
                text = text.rstrip("\r")
                if "\r" in text:  # lines ended by CR alone inside a file of LF or CRLF lines
                    self.problems.mixed_cr = True
                    *parts, text = _LONE_CR_TEXT.split(text)  # as _LONE_CR splits a block
                    for part in parts:
                        yield number, part
                        number += 1
                yield number, text
        finally:
            self.lines = number

    def _split(self, fh, sep: bytes) -> Iterator[tuple[int, str]]:
        """Lines ending in `sep` (CR-only files), read in blocks so no line is held past the limit."""
        number, pending, skipping = 0, b"", 0
        try:
            while block := fh.read(1 << 20):
                parts = (pending + block).split(sep)
                pending = parts.pop()
                for raw in parts:
                    number += 1
                    if raw[:1] == b"\n":  # CRLF in a file whose first lines end with CR alone
                        raw = raw[1:]
                    if skipping or len(raw) > self.limit:
                        self.problems.too_long.append((number, skipping + len(raw)))
                        skipping = 0
                        continue
                    yield number, self._decode(number, raw)
                if len(pending) > self.limit:
                    skipping += len(pending)
                    pending = b""
            if pending or skipping:
                number += 1
                self.problems.no_final_newline = True
                if skipping:
                    self.problems.too_long.append((number, skipping + len(pending)))
                else:
                    yield number, self._decode(number, pending)
        finally:
            self.lines = number

    @staticmethod
    def _skip_rest(fh, length: int) -> int:
        """Consume an over-long line up to its newline; returns its full length in bytes."""
        while chunk := fh.readline(1 << 20):
            length += len(chunk)
            if chunk.endswith(b"\n"):
                return length - 1
        return length
