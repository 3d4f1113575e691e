"""One incident: every stored field and its original record, each printed literally."""

from __future__ import annotations

import json
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from incidents.controls import clipped
from incidents.tui.fmt import FULL_VALUE_HINT, escape_controls, literal
from incidents.tui.screens.base import StoreScreen

# (stored field, label key): every label through the label files.
FIELDS = (
    ("id", "id"),
    ("occurred_at", "time"),
    ("day", "day"),
    ("category", "category"),
    ("taxonomy", "rsit"),
    ("type", "rsit_type"),
    ("target", "target"),
    ("target_kind", "target_kind"),
    ("source_ip", "source_ip"),
    ("sector", "sector"),
    ("feed", "feed"),
    ("severity", "severity"),
    ("status", "status"),
    ("description", "description"),
    ("run_id", "run"),
)


class DetailScreen(StoreScreen):
    BINDINGS: ClassVar[list[Binding]] = [Binding("escape", "app.pop_screen", "back")]
    PARTS = ("incident",)

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id

    def screen_title(self) -> str:
        return self.words("detail")

    def compose(self):
        yield Header()
        with VerticalScroll(id="detail-body"):
            yield Static(id="fields")
            yield Static(self.words("original_record"), classes="heading")
            yield Static(id="raw")
            yield Static(id="history")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#detail-body").focus()

    def reload(self) -> None:
        self.load(self.incident_id)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load(self, incident_id: str) -> None:
        row = self.store.get_incident(incident_id)
        self.app.call_from_thread(self.show, row)

    def show(self, row: dict | None) -> None:
        self.shown("incident")
        w = self.words
        if row is None:
            self.query_one("#fields", Static).update(
                Text(w("not_found", id=escape_controls(self.incident_id)), style="red")
            )
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for key, label in FIELDS:
            value = row.get(key)
            if key == "category":
                shown = literal(w.category(value))
            elif key == "severity" and value:
                shown = literal(w.severity(value))
            elif key == "sector" and value:
                shown = literal(w.sector(value))
            else:
                shown = literal(value)
            table.add_row(w(label), shown)
        self.query_one("#fields", Static).update(table)
        self.query_one("#raw", Static).update(record_text(row.get("raw")))
        history = row.get("history")
        if history:
            text = Text(w("history") + "\n", style="bold")
            for entry in history:
                text.append_text(
                    literal(entry if isinstance(entry, str) else json.dumps(entry, ensure_ascii=False))
                )
                text.append("\n")
            self.query_one("#history", Static).update(text)


def record_text(raw: str | None) -> Text:
    """The original record as indented JSON when it parses, else as stored; literal either way, each line
    cut after incidents.controls.DISPLAY_CHARS characters."""
    if raw is None or raw == "":
        return Text("-", style="dim")
    try:
        shown = json.dumps(json.loads(raw), ensure_ascii=False, indent=2)
    except (TypeError, ValueError):
        shown = str(raw)
    return Text("\n".join(escape_controls(clipped(line, hint=FULL_VALUE_HINT)) for line in shown.split("\n")))
