"""The TUI's read lanes: one read-only sqlite3 connection in a thread of its own, handed one request
at a time by the UI's workers (sqlite3 connections stay in their thread); superseded requests are
interrupted or never started, and a lane that has stopped answers at once. Nothing here imports textual."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from incidents import completed, store
from incidents.search import SearchError


class TuiDataError(Exception):
    """The store cannot be read by the TUI."""


def open_read(path: str | Path | None) -> sqlite3.Connection:
    """A read-only connection to an incidents store (store.open_read); raises TuiDataError."""
    try:
        return store.open_read(path)
    except store.StoreError as e:
        raise TuiDataError(str(e)) from None


class _Thread:
    """A daemon thread that runs what it is given in order: the home of one sqlite3 connection (which
    stays in its thread). Daemon, so that quitting the TUI never waits for a long judgement."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, future = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as e:  # noqa: BLE001 - handed to the caller
                    future.set_exception(e)

    def submit(self, fn: Callable, *args) -> Future:
        """Queue `fn(*args)`; once the thread is stopped, the future fails at once with Superseded (a
        worker asking while the TUI quits must not wait for ever: nothing would run its request)."""
        future: Future = Future()
        with self._lock:
            if self._stopped:
                future.set_exception(Superseded())
            else:
                self._jobs.put((fn, args, future))
        return future

    def stop(self) -> None:
        """Run what is queued, then end; nothing can be queued after this."""
        with self._lock:
            self._stopped = True
            self._jobs.put(None)


class _Lane:
    """One read-only connection in a thread of its own (sqlite3 connections stay in their thread);
    the UI's workers hand it one statement at a time. A lane whose requests supersede each other (the
    page of a filter being typed) interrupts an older statement still running when a newer one arrives;
    the newest request always completes: interrupted by a race (the interrupt meant for an older one),
    it runs again, and only a request older than the newest ever raises Superseded."""

    def __init__(self, path: Path) -> None:
        self._thread = _Thread("incidents-tui-read")
        self.conn = self._thread.submit(open_read, path).result()
        self._lock = threading.Lock()
        self._seq = 0  # requests handed to the lane so far
        self._newest = 0  # the newest superseding request
        self._running: int | None = None  # the request whose statements run now
        self._closed = False
        self.generation = 0  # connections opened again (store.reopened): a change a new one cannot tell

    @property
    def busy(self) -> bool:
        return self._running is not None

    def run(self, fn: Callable, *args, supersede: bool = False, **kwargs):
        with self._lock:
            self._seq += 1
            seq = self._seq
            if supersede:
                self._newest = seq
                if self._running is not None and self._running < seq:
                    self.conn.interrupt()  # thread-safe by design (sqlite.org/c3ref/interrupt.html)
        return self._thread.submit(self._call, seq, supersede, fn, args, kwargs).result()

    def _stale(self, seq: int, supersede: bool) -> bool:
        return self._closed or (supersede and seq < self._newest)

    def _call(self, seq: int, supersede: bool, fn: Callable, args: tuple, kwargs: dict):
        while True:
            with self._lock:
                if self._stale(seq, supersede):
                    raise Superseded()  # a newer request of the kind is queued: never started
                self._running = seq
            try:
                fresh = store.reopened(self.conn)  # a store read as an immutable file that changed
                if fresh is not self.conn:
                    self.conn, self.generation = fresh, self.generation + 1
                completed.refresh(self.conn)  # a new snapshot; runs not completed stay hidden
                return fn(self.conn, *args, **kwargs)
            except sqlite3.OperationalError as e:
                if "interrupt" not in str(e):
                    raise TuiDataError(str(store.explain(e, self.conn.path))) from None
                with self._lock:
                    if self._stale(seq, supersede):
                        raise Superseded() from None
                # interrupted although no newer request came after it: run it again
            except sqlite3.DatabaseError as e:
                raise TuiDataError(str(store.explain(e, self.conn.path))) from None
            except (SearchError, store.StoreError) as e:
                raise TuiDataError(str(e)) from None
            finally:
                self._running = None

    def close(self) -> None:
        """Close without waiting: a running statement is interrupted, the connection closed after it."""
        with self._lock:
            self._closed = True
            if self._running is not None:
                self.conn.interrupt()
        self._thread.submit(self.conn.close)
        self._thread.stop()


class Superseded(TuiDataError):
    """A query was interrupted because a newer one of the same kind replaced it."""
