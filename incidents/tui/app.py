"""The Textual App of `incidents tui`: modes (one per top-level screen), global keys, live polling, and
the spike alarms shared by the overview and the spikes screen."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from incidents import stats
from incidents.tui.data import Spikes, StoreReader, Superseded, TuiDataError
from incidents.tui.fmt import Words, bulletin_labels
from incidents.tui.screens.alerts import AlertsScreen
from incidents.tui.screens.base import localise_bindings
from incidents.tui.screens.help import HelpScreen
from incidents.tui.screens.incidents import IncidentsScreen
from incidents.tui.screens.overview import OverviewScreen
from incidents.tui.screens.quarantine import QuarantineScreen
from incidents.tui.screens.spikes import SpikesScreen

POLL_SECONDS = 2.0
SCREENS = ("overview", "incidents", "spikes", "quarantine", "alerts")
_SCREENS = Binding.Group("screens", compact=True)
_MONTH = Binding.Group("month", compact=True)


class IncidentsApp(App):
    """`incidents tui`: keyboard first; 1-5 switch screens, `[`/`]` move the month, `?` helps."""

    CSS_PATH = "app.tcss"
    TITLE = "incidents"
    MODES: ClassVar[dict] = {
        "overview": OverviewScreen,
        "incidents": IncidentsScreen,
        "spikes": SpikesScreen,
        "quarantine": QuarantineScreen,
        "alerts": AlertsScreen,
    }
    DEFAULT_MODE = "overview"
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("1", "go('overview')", "overview", group=_SCREENS),
        Binding("2", "go('incidents')", "incidents", group=_SCREENS),
        Binding("3", "go('spikes')", "spikes", group=_SCREENS),
        Binding("4", "go('quarantine')", "quarantine", group=_SCREENS),
        Binding("5", "go('alerts')", "alerts", group=_SCREENS),
        Binding("left_square_bracket", "month(-1)", "prev_month", key_display="[", group=_MONTH),
        Binding("right_square_bracket", "month(1)", "next_month", key_display="]", group=_MONTH),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit", "quit", show=False),
    ]

    def __init__(
        self, store: StoreReader, *, month: str | None = None, lang: str = "en", poll: float = POLL_SECONDS
    ):
        self.store = store
        self.words = Words(lang)
        self.month = month or store.default_month() or stats.month_name(*_today())
        self.data_version = 0
        self.spikes: Spikes | None = None
        self.spikes_error: str | None = None
        self.spikes_judging: tuple[int, int] | None = None  # days judged so far, of how many
        self._judging_timer = None
        self._spikes_version = -1
        self._store_version = store.data_version()
        self._poll_seconds = poll
        # The month's figures are read while Textual starts (SQLite leaves the GIL while it reads).
        self.first_report = (self.month, self.data_version, _prefetch(store.month_report, self.month))
        if lang != "en":  # the bulletin's words (notes, sectors, spike sentences), read while Textual starts
            _prefetch(bulletin_labels, lang)
        super().__init__()
        localise_bindings(self, self.words)
        self.title = "incidents"

    def on_mount(self) -> None:
        self.sub_title = str(self.store.path)
        if self._poll_seconds:
            self.set_interval(self._poll_seconds, self.poll_store)

    # --- keys ------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # The month keys act on the overview and the spikes.
        return not (action == "month" and not isinstance(self.screen, (OverviewScreen, SpikesScreen)))

    def action_go(self, mode: str) -> None:
        self.switch_mode(mode)

    def action_month(self, by: int) -> None:
        self.month = stats.shift_month(self.month, by)
        for screen in self._all_screens():
            if hasattr(screen, "month_changed"):
                screen.month_changed()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        w = self.words
        # One line per command: its name, and under it the key that does the same (not the name again).
        for mode in SCREENS:
            yield SystemCommand(
                w(mode), w("palette_key", keys=SCREENS.index(mode) + 1), lambda m=mode: self.switch_mode(m)
            )
        yield SystemCommand(w("prev_month"), w("palette_key", keys="["), lambda: self.action_month(-1))
        yield SystemCommand(w("next_month"), w("palette_key", keys="]"), lambda: self.action_month(1))
        yield SystemCommand(w("refresh"), w("palette_key", keys="ctrl+r"), self.refresh_all)
        yield SystemCommand(w("help"), w("palette_key", keys="?"), self.action_help)
        yield from super().get_system_commands(screen)

    # --- live data ---------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll_store(self) -> None:
        """Ask the store (PRAGMA data_version) whether another connection committed since the last look."""
        try:
            version = self.store.data_version()
        except TuiDataError:
            return
        if version != self._store_version:
            self._store_version = version
            self.call_from_thread(self.refresh_all, True)

    def refresh_all(self, notify: bool = False) -> None:
        self.data_version += 1
        if notify:
            self.notify(self.words("updated"), timeout=3)
        if self.spikes is not None or self.spikes_error:
            self.want_spikes()
        screen = self.screen
        if hasattr(screen, "check_reload"):
            screen.check_reload()

    def _all_screens(self) -> list[Screen]:
        screens = list(self.screen_stack)
        for stack in self._screen_stacks.values():
            screens.extend(s for s in stack if s not in screens)
        return screens

    # --- spikes ------------------------------------------------------------------------------------------

    @property
    def spikes_current(self) -> bool:
        """The spike alarms (or the error that stopped them) are those of the store as it is now."""
        return self._spikes_version == self.data_version and (
            self.spikes is not None or bool(self.spikes_error)
        )

    def want_spikes(self) -> None:
        """Make sure `self.spikes` is for the current data; screens get `spikes_ready()` when it is."""
        if self._spikes_version == self.data_version and (self.spikes is not None or self.spikes_error):
            self._tell_spikes()
            return
        self._load_spikes(self.data_version)

    @work(thread=True, exclusive=True, group="spikes", exit_on_error=False)
    def _load_spikes(self, version: int) -> None:
        def progress(done: int, total: int) -> None:
            # Never call into the UI from here (the UI may be waiting for this thread as it quits): the
            # figures are left where a timer of the UI reads them.
            self.spikes_judging = (done, total)

        self.call_from_thread(self._watch_judging)
        try:
            spikes = self.store.spikes(progress=progress, lang=self.words.lang)
            error = None
        except Superseded:  # a newer judgement (for newer data) took its place in the queue
            return
        except Exception as e:  # noqa: BLE001 - any failure is shown on the screen, never a crash
            spikes, error = None, str(e) or type(e).__name__
        self.call_from_thread(self._spikes_loaded, version, spikes, error)

    def _watch_judging(self) -> None:
        if self._judging_timer is None:
            self._judging_timer = self.set_interval(0.25, self._tell_spikes)

    def _spikes_loaded(self, version: int, spikes: Spikes | None, error: str | None) -> None:
        self.spikes, self.spikes_error, self._spikes_version = spikes, error, version
        self.spikes_judging = None
        if self._judging_timer is not None:
            self._judging_timer.stop()
            self._judging_timer = None
        self._tell_spikes()

    def _tell_spikes(self) -> None:
        for screen in self._all_screens():
            if hasattr(screen, "spikes_ready"):
                screen.spikes_ready()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(self.words("store_error", error=str(event.worker.error)), severity="error", timeout=8)

    def on_unmount(self) -> None:
        self.store.close()


def _prefetch(fn, *args) -> Future:
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except Exception as e:  # noqa: BLE001 - handed to whoever waits for it
            future.set_exception(e)

    threading.Thread(target=run, daemon=True).start()
    return future


def _today() -> tuple[int, int]:
    from datetime import date

    d = date.today()
    return d.year, d.month
