"""What every screen of the TUI shares: the store, the words, the footer, reloading on new data."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from incidents.tui.labels import EN


def localise_bindings(node, words) -> None:
    """Binding descriptions are label keys; write them in the app's language for the footer."""
    groups = {}

    def local(b):
        if b.description in EN:
            b = replace(b, description=words(b.description))
        if b.group is not None and b.group.description in EN:
            if b.group.description not in groups:
                groups[b.group.description] = Binding.Group(words(b.group.description), b.group.compact)
            b = replace(b, group=groups[b.group.description])
        return b

    bindings = node._bindings
    bindings.key_to_bindings = {
        key: [local(b) for b in group] for key, group in bindings.key_to_bindings.items()
    }


class StoreScreen(Screen):
    """A screen that shows store data: `reload()` fetches it (in a worker), again when the store changes.

    `PARTS` name what the screen shows from the store; each part is marked `shown()` once its data is
    on screen, and `reading()` again when a reload is under way: `ready` is True when every part shows
    the store as it is now (tests and the benchmark wait on it, never on a delay)."""

    BINDINGS: ClassVar[list[Binding]] = [Binding("ctrl+r", "reload", "refresh", show=False)]
    PARTS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loaded_version = -1
        self._shown: set[str] = set()
        localise_bindings(self, self.app.words)

    def reading(self, *parts: str) -> None:
        """These parts are being read again (all of them when none is named)."""
        self._shown.difference_update(parts or self.PARTS)

    def shown(self, part: str) -> None:
        """This part's data is on screen."""
        self._shown.add(part)

    @property
    def ready(self) -> bool:
        """Every part shows the data of the store's current version."""
        return self._loaded_version == self.app.data_version and self._shown.issuperset(self.PARTS)

    @property
    def waiting_for(self) -> list[str]:
        """The parts not on screen yet (for a test's message)."""
        return [p for p in self.PARTS if p not in self._shown]

    @property
    def store(self):
        return self.app.store

    @property
    def words(self):
        return self.app.words

    def on_mount(self) -> None:
        self.sub_title = self.screen_title()
        self.check_reload()

    def on_screen_resume(self) -> None:
        self.check_reload()

    def check_reload(self) -> None:
        if self._loaded_version != self.app.data_version:
            self.action_reload()

    def action_reload(self) -> None:
        self._loaded_version = self.app.data_version
        self.reading()
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A store that cannot be read (deleted, not a store any more, disk error) is said, never a crash.
        if event.state == WorkerState.ERROR:
            self.notify(self.words("store_error", error=str(event.worker.error)), severity="error", timeout=8)

    def screen_title(self) -> str:
        return ""

    def reload(self) -> None:
        """Fetch this screen's data again; overridden by each screen."""

    def month_changed(self) -> None:
        """The app's month moved (`[` / `]`)."""

    def spikes_ready(self) -> None:
        """The app's spike alarms were computed or read."""
