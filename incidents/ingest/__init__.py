"""Load feed exports into the store: validated, deduplicated, bad rows quarantined, nothing lost.

One file is one transaction: a crash or Ctrl-C leaves the store as it was before that file.
Every row read is accounted for: read = accepted + duplicate + rejected, and each rejected row is kept
in `rejects` with its line (or record) number and the reason, like IntelMQ's dump files.
"""

from __future__ import annotations

import gc
import hashlib
import signal
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from incidents import files, store
from incidents.ingest import runs
from incidents.ingest.formats import FORMATS, FormatError, detect_format, read_items
from incidents.ingest.records import (
    BadRecord,
    Plan,
    expand_extra,
    incident_id,
    latest_allowed,
    normalise_target,
    to_row,
)
from incidents.ingest.writer import env_whole, history_of, tuned, write_batch

__all__ = [
    "FORMATS",
    "FileResult",
    "IngestError",
    "history_of",
    "incident_id",
    "ingest_file",
    "normalise_target",
]

BATCH = 5_000
# Rows per transaction: bounds the WAL (about 25-60 MB at this size, see the README), whatever the file size.
COMMIT_ROWS = env_whole("INCIDENTS_INGEST_COMMIT_ROWS", 50_000)
DEFAULT_INPUT_ZONE = "Asia/Ho_Chi_Minh"


class IngestError(Exception):
    """A file could not be ingested."""


class StrictRefusal(IngestError):
    """--strict: a bad row makes the whole file refused."""


@dataclass
class FileResult:
    """What ingesting one file did. `status`: ok, skipped, refused, failed, busy (see ingest_file)."""

    file: str
    status: str
    format: str | None = None
    run_id: int | None = None
    read: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    corrected: int = 0  # of `accepted`: records that replaced their stored earlier version
    message: str | None = None
    reasons: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped")

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "format": self.format,
            "run_id": self.run_id,
            "read": self.read,
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "corrected": self.corrected,
            "message": self.message,
            "reasons": dict(self.reasons),
        }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_file(
    db: sqlite_utils.Database,
    path: str | Path,
    *,
    fmt: str | None = None,
    strict: bool = False,
    input_zone: str | None = None,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
    wait: float = runs.DEFAULT_WAIT_S,
    on_wait: Callable[[str], None] | None = None,
) -> FileResult:
    """Ingest one file; never raises for bad input or a busy store, the result says what happened.

    status: ok, skipped (same content already ingested, or being ingested by another process right
    now), refused (--strict), failed (unreadable, unknown layout, no usable row), busy (the store's
    write lock was not had within `wait` seconds: worth retrying). Commits every COMMIT_ROWS rows under
    a run marked ok only at the end; whatever stops the file before that undoes it (runs.undo).
    KeyboardInterrupt is re-raised after the undo.
    """
    path = Path(path)
    result = FileResult(file=str(path), status="failed")
    try:
        naive_zone = ZoneInfo(input_zone or DEFAULT_INPUT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        result.message = f"unknown time zone {input_zone!r}"
        return result
    try:
        if path.is_dir():
            raise FormatError("is a folder, not a file")
        if path.exists():
            try:
                files.check_regular(path)
            except files.NotRegularFile as e:
                raise FormatError(f"not a regular file ({e.kind})") from None
        sha = sha256_of(path)
        result.format = fmt or detect_format(path)
    except FormatError as e:
        result.message = str(e)
        return result
    except OSError as e:
        result.message = f"cannot read: {e.strerror or e}"
        return result

    lock = {"wait": wait, "on_wait": on_wait}
    try:
        runs.recover(db, **lock)
        with runs.write_lock(db, **lock):
            earlier = None if force else store.previous_run(db, sha, "ingest")
            twin = runs.running_twin(db, sha)
            if not earlier and not twin:
                result.run_id = runs.start(db, file=str(path), sha256=sha, fmt=result.format)
    except runs.StoreBusy as e:
        result.status, result.message = "busy", str(e)
        return result
    except sqlite3.DatabaseError as e:
        # A full disk, a read-only store ...: the store's one sentence.
        result.message = str(store.explain(e, store.store_file(db)))
        return result
    if earlier:
        result.status, result.run_id = "skipped", earlier["id"]
        result.message = f"same content already ingested as run {earlier['id']} ({earlier['file']})"
        return result
    if twin:
        result.status, result.run_id = "skipped", twin["id"]
        result.message = (
            f"the same content is being ingested right now by process {twin['pid']} (run {twin['id']})"
        )
        return result

    with _interrupt_once():
        try:
            # Rows are short-lived and acyclic: the cyclic GC would only rescan them (a third of the time).
            gc_was_enabled = gc.isenabled()
            gc.disable()
            try:
                with tuned(db.conn):
                    _load(
                        db,
                        path,
                        result,
                        strict=strict,
                        naive_zone=naive_zone,
                        on_progress=on_progress,
                        lock=lock,
                    )
            finally:
                if gc_was_enabled:
                    gc.enable()
            usable = result.accepted + result.duplicate
            if result.read == 0:
                raise FormatError("no records in the file")
            result.status = "ok" if usable else "failed"
            if not usable:
                # Keep the run and its rejects (nothing is lost), but say the file gave nothing.
                result.message = f"no usable row: all {result.rejected} rejected (see `incidents rejects --run {result.run_id}`)"
            with runs.write_lock(db, **lock):
                store.finish_run(
                    db,
                    result.run_id,
                    read=result.read,
                    accepted=result.accepted,
                    duplicate=result.duplicate,
                    rejected=result.rejected,
                    status=result.status,
                )
            return result
        except StrictRefusal as e:
            result.status, result.message = "refused", f"{e}; --strict: nothing ingested from this file"
        except FormatError as e:
            result.status, result.message = "failed", str(e)
        except UnicodeDecodeError as e:
            result.status, result.message = "failed", f"cannot decode: {e.reason}"
        except runs.StoreBusy as e:
            result.status, result.message = "busy", f"{e}; nothing of this file was kept"
        except sqlite3.DatabaseError as e:
            # A full disk, a read-only or damaged store: say so; the run is undone if the store allows it.
            result.status, result.message = (
                "failed",
                f"{store.explain(e, store.store_file(db))}; nothing of this file was kept",
            )
        except OSError as e:
            result.status, result.message = (
                "failed",
                f"cannot read: {e.strerror or e}; nothing of this file was kept",
            )
        except BaseException as e:
            undone = _discard(db, result.run_id, lock)  # a second Ctrl-C cannot cut it (_interrupt_once)
            if isinstance(e, KeyboardInterrupt):
                e.undone = (
                    undone  # the CLI says whether the file was rolled back or is left to the next ingest
                )
            raise
        _discard(db, result.run_id, lock)
        result.run_id, result.accepted, result.duplicate, result.corrected = None, 0, 0, 0
        return result


def _discard(db, run_id: int, lock: dict) -> bool:
    """Undo a run that did not finish and forget it; False if the store stayed busy or failed, and the
    run is left `running` (readers hide it) for the next ingest to undo once this process is gone."""
    try:
        if db.conn.in_transaction:
            db.conn.rollback()
        with runs.write_lock(db, **lock):
            runs.undo(db, run_id)
            db.conn.execute("DELETE FROM ingest_runs WHERE id = ?", (run_id,))
        return True
    except (runs.StoreBusy, sqlite3.DatabaseError):
        return False


@contextmanager
def _interrupt_once() -> Iterator[None]:
    """While a file is read and, if it stops, undone: the first Ctrl-C raises KeyboardInterrupt and turns
    SIGINT off, so pressing it again cannot cut the undo short (that left the run's committed batches
    while the command said the file was rolled back). The previous handler is back afterwards. Only the
    main thread can set a signal handler; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def once(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, once)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _load(
    db, path: Path, result: FileResult, *, strict: bool, naive_zone: ZoneInfo, on_progress, lock
) -> None:
    zone = store.reporting_zone(db)
    latest = latest_allowed()
    plans: dict[tuple, Plan] = {}
    batch: list[tuple] = []
    rejects: list[tuple[int, str, str]] = []
    default_feed = path.stem
    since_commit = 0

    def flush(final: bool = False) -> None:
        nonlocal since_commit
        if batch or rejects:
            if not db.conn.in_transaction:
                runs.begin(db, **lock)
            if batch:
                accepted, corrected = write_batch(db.conn, batch, result.run_id)
                result.accepted += accepted
                result.corrected += corrected
                result.duplicate += len(batch) - accepted
                since_commit += len(batch)
                batch.clear()
            if rejects:
                store.add_rejects(db, result.run_id, rejects)
                since_commit += len(rejects)
                rejects.clear()
        if db.conn.in_transaction and (since_commit >= COMMIT_ROWS or final):
            db.conn.commit()
            since_commit = 0
        if on_progress:
            on_progress(result.read)

    def reject(number: int, raw: str, reason: str) -> None:
        result.rejected += 1
        # Group reasons without their particulars: "impossible date '2021-02-30'" -> "impossible date".
        result.reasons[reason.split(":")[0].split(" '")[0].split(" (")[0]] += 1
        if strict:
            raise StrictRefusal(f"line {number}: {_printable(reason)}")
        rejects.append((number, _printable(raw), _printable(reason)))

    items = read_items(path, result.format)
    last_number = 0
    while True:
        try:
            item = next(items)
        except StopIteration:
            break
        except FormatError as e:
            if result.read == 0:
                raise
            # The file broke off after good records (a truncated JSON array): keep what was read.
            result.read += 1
            reject(last_number + 1, "", str(e))
            break
        result.read += 1
        last_number = item.number
        if item.error:
            reject(item.number, item.raw, item.error)
            continue
        record = item.record
        if "extra" in record:
            record = expand_extra(record)
        keys = tuple(record)
        plan = plans.get(keys)
        if plan is None:
            plan = Plan.for_names(keys)
            if len(plans) < 1024:
                plans[keys] = plan
        try:
            batch.append(
                to_row(
                    record,
                    plan,
                    naive_zone=naive_zone,
                    zone=zone,
                    default_feed=default_feed,
                    run_id=result.run_id,
                    latest=latest,
                )
            )
        except BadRecord as e:
            reject(item.number, item.raw, str(e))
            continue
        if len(batch) >= BATCH:
            flush()
    flush(final=True)


def _printable(text: str | None) -> str | None:
    """Text as stored: bytes that were not UTF-8 (kept as surrogates while reading) become U+FFFD."""
    if text is None or text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape such as "\ud800"
        return text.encode("utf-8", "replace").decode("utf-8")


def rejects_of(db: sqlite_utils.Database, run_id: int | None = None, limit: int | None = None) -> list[dict]:
    """Quarantined rows, newest run first: run, file, line, reason, raw."""
    sql = (
        "SELECT r.run_id, i.file, r.line, r.reason, r.raw FROM rejects r JOIN ingest_runs i ON i.id = r.run_id"
        + (" WHERE r.run_id = ?" if run_id is not None else "")
        + " ORDER BY r.run_id DESC, r.line"
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    return list(db.query(sql, [run_id] if run_id is not None else []))
