"""`incidents doctor`'s checks of the store's files on disk: the WAL's size, the free space under the
store, and whether the store, its folder and its -wal/-shm files can be written by the next writer.

The bounds (documented in README, "incidents doctor"):
- WAL: a problem when it is larger than the store and over WAL_OVER_STORE_BYTES (64 MB), or over
  WAL_LIMIT_BYTES (1 GB) whatever the store's size. A writer's auto-checkpoint resets the WAL but never
  shrinks the file, so such a WAL is disk held for nothing (a reader kept it from being reset during a
  long write, or a writer was killed).
- Free space (os.statvfs, the blocks an unprivileged user may take): a problem below MIN_FREE_BYTES
  (100 MB: one ingest batch of 50,000 rows is ~50 MB of store plus its WAL), a warning below
  LOW_FREE_BYTES (1.2 GB: the WAL ceiling of one batch on a large store, README "disk and waiting");
  "full" below FULL_BYTES (1 MiB: not even a -shm file and a few pages fit).
"""

from __future__ import annotations

import os
import pwd
import re
import stat
from pathlib import Path

from incidents.doctor_report import OK, PROBLEM, WARNING, Check

MB = 1_000_000
WAL_OVER_STORE_BYTES = 64 * MB
WAL_LIMIT_BYTES = 1_000 * MB
MIN_FREE_BYTES = 100 * MB
LOW_FREE_BYTES = 1_200 * MB
FULL_BYTES = 1024 * 1024


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _mount(path: Path) -> Path:
    """The mount point of the file system holding `path` (for the messages): the longest mount point over
    it in the kernel's mount table, which also knows a bind mount (os.path.ismount cannot: a bind mount of
    a folder of the same file system has its device), else the first folder up that is a mount point."""
    here = _folder(path).resolve()
    best = None
    for point in _mount_points():
        if (here == point or point in here.parents) and (best is None or len(point.parts) > len(best.parts)):
            best = point
    if best is not None:
        return best
    while not os.path.ismount(here) and here != here.parent:
        here = here.parent
    return here


def _mount_points() -> list[Path]:
    """Mount points from /proc/self/mounts (octal escapes such as '\\040' for a blank undone); [] elsewhere."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            fields = [line.split() for line in f]
    except OSError:
        return []
    unescape = lambda s: re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)
    return [Path(unescape(f[1])) for f in fields if len(f) > 1]


def free_bytes(path: Path) -> int | None:
    """Bytes an unprivileged writer may still use on the file system holding `path`; None when unknown."""
    try:
        st = os.statvfs(_folder(path))
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def disk_full(path: Path) -> bool:
    """True when the file system holding `path` has less than FULL_BYTES free."""
    free = free_bytes(path)
    return free is not None and free < FULL_BYTES


def _size(n: int) -> str:
    return f"{n / MB:,.1f} MB" if n < 10_000 * MB else f"{n / 1e9:,.1f} GB"


def wal_check(path: Path, size: int) -> Check:
    """The WAL beside the store at `path` (`size` bytes): a problem when larger than the bounds above."""
    wal = Path(f"{path}-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    detail = {
        "wal_bytes": wal_bytes,
        "store_bytes": size,
        "bound": f"> store and > {WAL_OVER_STORE_BYTES}, or > {WAL_LIMIT_BYTES}",
    }
    if (wal_bytes > size and wal_bytes > WAL_OVER_STORE_BYTES) or wal_bytes > WAL_LIMIT_BYTES:
        return Check(
            "wal",
            PROBLEM,
            f"The write-ahead log {wal} is {_size(wal_bytes)} beside a store of {_size(size)} (bound: larger "
            f"than the store and over {_size(WAL_OVER_STORE_BYTES)}, or over {_size(WAL_LIMIT_BYTES)}): "
            "its space is held for nothing. While no ingest, scan or alert runs, free it with "
            f"`sqlite3 {path} 'PRAGMA wal_checkpoint(TRUNCATE)'` (a reader that stays open, such as the TUI, "
            "keeps it from shrinking: close it first).",
            detail,
        )
    return Check("wal", OK, f"The write-ahead log is {_size(wal_bytes)}.", detail)


def space_check(path: Path) -> Check:
    """Free space on the file system holding the store, against MIN_FREE_BYTES and LOW_FREE_BYTES."""
    free = free_bytes(path)
    if free is None:
        return Check("disk", WARNING, f"The free space under {_folder(path)} cannot be read.")
    where = _mount(path)
    detail = {"free_bytes": free, "mount": str(where), "min_free_bytes": MIN_FREE_BYTES}
    fix = (
        f"free some space on {where} (or move the store elsewhere and give --db its new path); reads "
        "recover at once, writers at their next run"
    )
    if free < FULL_BYTES:
        return Check(
            "disk",
            PROBLEM,
            f"The disk holding the store is full: {free:,} bytes free on {where}. Every writer (ingest, scan, "
            f"alert) fails and reads may fail too: {fix}.",
            detail,
        )
    if free < MIN_FREE_BYTES:
        return Check(
            "disk",
            PROBLEM,
            f"Only {free:,} bytes ({_size(free)}) free on {where}, below the {_size(MIN_FREE_BYTES)} one ingest "
            f"batch needs: the next ingest or scan may stop with 'the disk is full'; {fix}.",
            detail,
        )
    if free < LOW_FREE_BYTES:
        return Check(
            "disk",
            WARNING,
            f"{_size(free)} free on {where} ({free:,} bytes): enough for a batch on a small store, less than "
            f"the {_size(LOW_FREE_BYTES)} one batch's write-ahead log may reach on a large one.",
            detail,
        )
    return Check("disk", OK, f"{_size(free)} free on {where}.", detail)


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _readonly_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(_folder(path)).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _can_write(st: os.stat_result, uid: int) -> bool:
    """Whether the user `uid` may write a file of status `st` (its owner, group and other bits; root may)."""
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IWUSR)
    try:
        user = pwd.getpwuid(uid)
        groups = os.getgrouplist(user.pw_name, user.pw_gid)
    except KeyError:
        groups = []
    return bool(st.st_mode & (stat.S_IWGRP if st.st_gid in groups else stat.S_IWOTH))


def permission_checks(path: Path) -> list[Check]:
    """Can the next writer write the store at `path`, its folder (for new -wal/-shm/-journal files) and its
    -wal/-shm files? The next writer is taken to run as the store's owner (or as this user). A -wal or
    -shm file the store's owner cannot write (a read command run as another user, or on a 0444 store,
    leaves them so) makes it fail with 'attempt to write a readonly database'."""
    if not path.is_file():
        return []
    me = _user(os.geteuid())
    folder = _folder(path)
    st = path.stat()
    owner = _user(st.st_uid)
    mode = stat.S_IMODE(st.st_mode)
    if _readonly_mount(path):
        return [
            Check(
                "files",
                PROBLEM,
                f"The store is on a read-only mount ({_mount(path)}): reads work, every writer fails. Remount "
                f"it read-write (`mount -o remount,rw {_mount(path)}`) or copy the store elsewhere.",
            )
        ]
    checks = []
    writable_by_mode = mode & stat.S_IWUSR and (os.geteuid() in (0, st.st_uid))
    if writable_by_mode and not os.access(path, os.W_OK):
        # The mode allows it and still it cannot be written: chmod is no fix (the probe saw that advice).
        checks.append(
            Check(
                "files",
                PROBLEM,
                f"{path} (owner {owner}, mode {mode:04o}) cannot be written although its mode allows it: an "
                f"immutable or append-only attribute (see `lsattr {path}`; `chattr -i -a {path}` as root "
                "removes them) or a security policy (ACL, SELinux, AppArmor). Ingest, scan and alert fail with "
                "'read-only' until then; reads work.",
                {"file": str(path), "owner": owner, "mode": f"{mode:04o}"},
            )
        )
    elif not os.access(path, os.W_OK) or not mode & stat.S_IWUSR:
        checks.append(
            Check(
                "files",
                PROBLEM if not os.access(path, os.W_OK) else WARNING,
                f"{path} (owner {owner}, mode {mode:04o}) cannot be written by "
                f"{'its owner' if os.access(path, os.W_OK) else 'this user (' + me + ')'}: ingest, scan and "
                f"alert fail with 'read-only'. Fix: `chmod u+w {path}`, and run the writers as {owner} "
                f"(or `chown {me} {path}`).",
                {"file": str(path), "owner": owner, "mode": f"{mode:04o}"},
            )
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        checks.append(
            Check(
                "files",
                PROBLEM,
                f"This user ({me}) cannot write the folder {folder}: a writer cannot make the store's -wal and "
                f"-shm files beside it. Fix: `chmod u+wx {folder}` as its owner, or move the store.",
                {"file": str(folder)},
            )
        )
    # -journal: the rollback journal of a store still in DELETE mode (an older release's, or a copy).
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(f"{path}{suffix}")
        try:
            sst = side.stat()
        except OSError:
            continue
        side_owner, side_mode = _user(sst.st_uid), stat.S_IMODE(sst.st_mode)
        if not _can_write(sst, st.st_uid):
            wrong = (
                f"owned by {side_owner} with mode {side_mode:04o}: the store's owner {owner} cannot write it"
            )
        elif not os.access(side, os.W_OK):
            wrong = f"owned by {side_owner} with mode {side_mode:04o}: this user ({me}) cannot write it"
        else:
            continue
        remove = (
            f"or remove it (`rm {side}`) while no process has the store open"
            if suffix == "-shm" or sst.st_size == 0
            else "never remove it: it holds committed changes not yet in the store"
            if suffix == "-wal"
            else "never remove it: it is needed to roll back an interrupted write"
        )
        checks.append(
            Check(
                "files",
                PROBLEM,
                f"{side} is {wrong}, so the next writer fails with 'attempt to write a readonly "
                f"database'. Fix: `chown {owner} {side} && chmod {mode | stat.S_IWUSR:04o} {side}`, {remove}.",
                {"file": str(side), "owner": side_owner, "mode": f"{side_mode:04o}"},
            )
        )
    if not checks:
        checks.append(
            Check(
                "files",
                OK,
                f"The store, its folder and its -wal/-shm files can be written ({owner}, {mode:04o}).",
            )
        )
    return checks


def access_fix(path: Path) -> str | None:
    """What to do when this user cannot reach or read the store at `path`; None when it can."""
    me, folder = _user(os.geteuid()), _folder(path)
    for step in [*reversed(folder.resolve().parents), folder.resolve()]:
        if step.is_dir() and not os.access(step, os.X_OK):
            owner = _user(step.stat().st_uid)
            return (
                f"this user ({me}) cannot enter the folder {step} (owner {owner}): run doctor as {owner}, or "
                f"`chmod o+x {step}`"
            )
    if path.exists() and not os.access(path, os.R_OK):
        owner = _user(path.stat().st_uid)
        return f"this user ({me}) cannot read {path} (owner {owner}): run doctor as {owner}, or `chmod o+r {path}`"
    return None


def file_checks(path: Path) -> list[Check]:
    """The WAL's size, the free space and the permissions of the store at `path` (any that apply); none
    when this user cannot reach the store (the store check says so: access_fix)."""
    if access_fix(path):
        return []
    checks = []
    if path.is_file():
        checks.append(wal_check(path, path.stat().st_size))
    if _folder(path).is_dir():
        checks.append(space_check(path))
    checks.extend(permission_checks(path))
    return checks
