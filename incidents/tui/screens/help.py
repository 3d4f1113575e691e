"""Help: the keys of every screen, in the app's language."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("1 2 3 4 5", ("overview", "incidents", "spikes", "quarantine", "alerts")),
    ("[ ]", ("prev_month", "next_month")),
    ("enter", ("open",)),
    ("escape", ("back",)),
    ("n p", ("next_page", "prev_page")),
    ("s r", ("sort", "reverse")),
    ("f x", ("filters", "clear")),
    ("tab", None),
    ("ctrl+p", None),
    ("ctrl+r", ("refresh",)),
    ("?", ("help",)),
    ("q", ("quit",)),
)
EXTRA = {
    "en": {"tab": "next field / table", "ctrl+p": "command palette"},
    "vi": {"tab": "ô kế tiếp / bảng", "ctrl+p": "bảng lệnh"},
}


class HelpScreen(ModalScreen):
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("question_mark", "app.pop_screen", "Close"),
        Binding("q", "app.pop_screen", "Close"),
    ]

    def compose(self):
        w = self.app.words
        table = Table.grid(padding=(0, 3))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for keys, labels in KEYS:
            text = EXTRA[w.lang][keys] if labels is None else " / ".join(w(k) for k in labels)
            table.add_row(keys, text)
        with VerticalScroll(id="help-body"):
            yield Static(f"{w('help')} — incidents tui", classes="heading")
            yield Static(table)
