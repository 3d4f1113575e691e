"""Help: the keys of every screen, in the app's language."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# Every key of the app and its screens (tests/test_tui.py checks this list against their bindings).
KEYS = (
    ("1 2 3 4 5", ("overview", "incidents", "spikes", "quarantine", "alerts")),
    ("[ ]", ("prev_month", "next_month")),
    ("enter", ("open",)),
    ("escape", ("back",)),
    ("↑ ↓ ← →", None),
    ("n p", ("next_page", "prev_page")),
    ("s r", ("sort", "reverse")),
    ("f x", ("filters", "clear")),
    ("tab shift+tab", None),
    ("ctrl+p", None),
    ("ctrl+r", ("refresh",)),
    ("ctrl+c", None),
    ("?", ("help",)),
    ("q ctrl+q", ("quit",)),
)
EXTRA = {
    "en": {
        "↑ ↓ ← →": "move in a table (a count, a row, a column)",
        "tab shift+tab": "next / previous field or table",
        "ctrl+p": "command palette (screens, months, refresh)",
        "ctrl+c": "copy the selected text",
    },
    "vi": {
        "↑ ↓ ← →": "di chuyển trong bảng (số liệu, dòng, cột)",
        "tab shift+tab": "ô kế tiếp / ô trước",
        "ctrl+p": "bảng lệnh (màn hình, tháng, làm mới)",
        "ctrl+c": "sao chép phần đã chọn",
    },
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
