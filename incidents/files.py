"""Opening the files the tool reads besides its main input (configuration, rules, lists, templates,
published figures): only regular files. Opening a FIFO for reading blocks until a writer comes, so a
FIFO, socket, device or folder is refused before it is opened, with `NotRegularFile`, an OSError whose
`strerror` is "not a regular file (a FIFO)" and whose str() is "PATH is not a regular file (a FIFO)".
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


class NotRegularFile(OSError):
    def __init__(self, path: str | Path, kind: str):
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", str(path))
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.filename} is not a regular file ({self.kind})"


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def check_regular(path: str | Path) -> None:
    """Raise NotRegularFile unless `path` (symlinks followed) is a regular file; OSError when it cannot
    be looked at (missing, permission denied on its folder)."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegularFile(path, _kind(mode))


def open_regular(path: str | Path, mode: str = "r", **kwargs):
    """`open(path, mode, **kwargs)` for reading a regular file only (see check_regular). The open itself
    does not block (O_NONBLOCK) and is checked again, so a file swapped for a FIFO meanwhile is refused."""
    if any(c in mode for c in "wax+"):
        raise ValueError(f"open_regular reads only, not mode {mode!r}")
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, _kind(st.st_mode))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return open(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    with open_regular(path, "r", encoding=encoding) as fh:
        return fh.read()


def read_bytes(path: str | Path) -> bytes:
    with open_regular(path, "rb") as fh:
        return fh.read()


def regular_problem(path: str | Path) -> str | None:
    """None when `path` is a readable regular file, else why not, one line ("PATH is not a regular file
    (a FIFO)", "cannot read PATH: Permission denied")."""
    try:
        with open_regular(path, "rb"):
            return None
    except NotRegularFile as e:
        return str(e)
    except OSError as e:
        return f"cannot read {path}: {e.strerror or e}"


# Control bytes that text does not hold (tab, LF, VT, FF, CR and ESC, for a log's ANSI colours, aside).
_BINARY_CONTROLS = bytes([*range(1, 9), *range(14, 27), *range(28, 32), 127])


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes of a file are binary data, not text that holds a few NUL bytes.

    Text can hold NUL bytes: a syslog file after a power cut has runs of them where blocks were allocated
    but never written (ext4's delayed allocation), a field copied from a C buffer ends in one. Refusing
    the whole file for them loses every good line; the lines that hold them are refused one by one.
    Binary data (an executable, an image, a database page) holds other control bytes too: it is binary
    when more than 1 in 100 of the bytes left once the NULs are taken out are such bytes, or when
    nothing but NULs and blanks is left.
    """
    if b"\x00" not in head:
        return False
    rest = head.replace(b"\x00", b"")
    if not rest.strip():
        return True
    controls = len(rest) - len(rest.translate(None, _BINARY_CONTROLS))
    return controls * 100 > len(rest)


def looks_utf16(head: bytes) -> bool:
    """Whether the first bytes of a file are UTF-16 text (a byte-order mark, or ASCII text with every
    other byte NUL, as Windows' "Unicode" and PowerShell's `>` write it)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    even, odd = head[0::2], head[1::2]
    if len(odd) < 2:
        return False
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    return max(nul_even, nul_odd) >= 0.9 and min(nul_even, nul_odd) <= 0.1
