"""The disk under the store: is it full, and the -wal/-shm files a failed command left that nobody uses."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

# Below this much free space an I/O error while using the store is put down to a full disk: SQLite
# reports a failed write of its -shm (or of a page) as SQLITE_IOERR, not SQLITE_FULL.
FULL_BELOW_BYTES = 1 << 20
# SQLite maps the wal-index (-shm) in 32 KiB regions; a -shm smaller than one was never usable by any
# connection (https://sqlite.org/walformat.html#the_wal_index_file_format).
SHM_REGION = 32 * 1024
# The byte of the -shm on which every connection holds a shared lock while it uses the file: SQLite's
# "dead man switch" (UNIX_SHM_DMS = 120 + 8 in os_unix.c, https://sqlite.org/walformat.html#dms).
SHM_DMS_BYTE = 128


def disk_full(path: str | Path | None) -> bool:
    """True when the file system holding `path` (a file or folder) has less than FULL_BELOW_BYTES free
    for this user (os.statvfs f_bavail). False when that cannot be told."""
    where = Path(path) if path else Path(".")
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        st = os.statvfs(where)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < FULL_BELOW_BYTES


# The -wal/-shm files each store had not when this process first opened it: only those are ever removed.
_absent_before: dict[Path, set[Path]] = {}


def remember_sidecars(file: str | Path) -> None:
    """Note which of the store's -wal/-shm do not exist yet, before this process opens it (the first time)."""
    key = Path(file).absolute()
    if key not in _absent_before:
        _absent_before[key] = {p for p in (Path(f"{key}-wal"), Path(f"{key}-shm")) if not p.exists()}


def remove_unused_sidecars(file: str | Path | None, *, after_read: bool = False) -> list[Path]:
    """Remove the -shm and -wal this process created beside the store when no connection can be using
    them (call it after closing this process's connections); returns what was removed. `after_read`:
    the -shm may have been mapped (a `mode=ro` read of a WAL store, which SQLite does not tidy at close).

    Only files absent before this process opened the store (remember_sidecars), and only when the -wal
    is absent or empty (it holds no committed page), the -shm is smaller than one wal-index region (no
    connection ever mapped it) and no process holds the -shm's DMS lock (taken here exclusively, as the
    first SQLite connection does, https://sqlite.org/walformat.html#dms). That is what a command leaves
    when the disk filled while it opened the store.
    """
    if not file:
        return []
    key = Path(file).absolute()
    ours = _absent_before.get(key, set())
    shm, wal = Path(f"{key}-shm"), Path(f"{key}-wal")
    if shm not in ours:
        return []
    try:
        if wal.exists() and wal.stat().st_size > 0:
            return []
        if not shm.exists() or (shm.stat().st_size >= SHM_REGION and not after_read):
            return []
        fd = _open_for_lock(shm)
    except OSError:
        return []
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SHM_DMS_BYTE)
    except OSError:
        os.close(fd)
        return []  # a live connection uses it
    try:
        return _remove([p for p in (wal, shm) if p in ours])
    finally:
        os.close(fd)


def _open_for_lock(shm: Path) -> int:
    """The -shm opened for writing, which a write lock needs. SQLite gives it the store's mode, so beside a
    0444 store it is 0444 too: this process made it (remember_sidecars), so it may lend itself the write
    bit for the moment of the check (given back if the file stays). Raises OSError."""
    try:
        return os.open(shm, os.O_RDWR)
    except PermissionError:
        st = shm.stat()
        if st.st_uid != os.geteuid():
            raise
        mode = st.st_mode & 0o7777
        os.chmod(shm, mode | 0o200)
        try:
            return os.open(shm, os.O_RDWR)
        finally:
            os.chmod(shm, mode)


def _remove(paths: list[Path]) -> list[Path]:
    removed = []
    for p in paths:
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
        except OSError:
            break
    return removed
