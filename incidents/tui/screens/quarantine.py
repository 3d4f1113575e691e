"""Quarantine: ingest and scan runs with read / accepted / duplicate / rejected, the highlighted
run's rejected rows with their line and reason, and the highlighted row's raw text whole."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from incidents.controls import clipped
from incidents.tui.fmt import escape_controls, literal
from incidents.tui.screens.base import StoreScreen
from incidents.tui.widgets.cursor_table import CursorTable

# What an analyst looks for first (did it fail, how many rows were rejected) before what scrolls off at 80.
RUN_COLUMNS = ("run_id", "status", "rejected", "read", "accepted", "duplicate", "started", "file", "kind")
REJECT_COLUMNS = ("line", "reason", "raw")
REJECTS_SHOWN = 500
# The table's raw cell is a preview; the pane under it shows the highlighted row's raw text whole, folded
# to the screen's width (an analyst at 80 columns over SSH must read the line that was refused).
RAW_PREVIEW = 200


class QuarantineScreen(StoreScreen):
    PARTS = ("runs", "rejects")

    def __init__(self) -> None:
        super().__init__()
        self.runs = []
        self.rejects = []
        self._timer = None
        self._rejects_of: int | None = None

    def screen_title(self) -> str:
        return self.words("quarantine")

    def compose(self):
        yield Header()
        yield CursorTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(id="rejects-title", classes="heading")
        yield CursorTable(id="rejects", cursor_type="row")
        with VerticalScroll(id="reject-pane"):
            yield Static(id="reject-text")
        yield Footer()

    def on_mount(self) -> None:
        w = self.words
        runs = self.query_one("#runs", DataTable)
        for key in RUN_COLUMNS:
            runs.add_column(w(key), key=key)
        rejects = self.query_one("#rejects", DataTable)
        for key in REJECT_COLUMNS:
            rejects.add_column(w(key), key=key)
        super().on_mount()
        runs.focus()

    def reload(self) -> None:
        self.load_runs()

    @work(thread=True, exclusive=True, group="runs", exit_on_error=False)
    def load_runs(self) -> None:
        runs = self.store.runs()
        self.app.call_from_thread(self.show_runs, runs)

    def show_runs(self, runs) -> None:
        w = self.words
        self.runs = runs
        table = self.query_one("#runs", DataTable)
        row = table.cursor_row
        table.clear()
        for r in runs:
            table.add_row(
                Text(str(r.id), justify="right"),
                Text(w.status(r.status), style="green" if r.status == "ok" else "red"),
                Text(w.num(r.rejected), justify="right", style="bold" if r.rejected else ""),
                *(Text(w.num(n), justify="right") for n in (r.read, r.accepted, r.duplicate)),
                Text((r.started_at or "")[:16].replace("T", " ")),
                literal(r.file),
                Text(w("run_" + r.kind) if r.kind in ("ingest", "scan") else r.kind),
                key=str(r.id),
            )
        self.shown("runs")
        if not runs:
            self.query_one("#rejects-title", Static).update(Text(w("no_runs"), style="dim"))
            self.show_reject(None)
            self.shown("rejects")
            return
        table.move_cursor(row=min(row, len(runs) - 1))
        self.show_rejects_of(table.cursor_row)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "runs":
            self.show_rejects_of(event.cursor_row)
        elif event.data_table.id == "rejects" and 0 <= event.cursor_row < len(self.rejects):
            self.show_reject(self.rejects[event.cursor_row])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "runs":
            self.query_one("#rejects", DataTable).focus()

    def show_rejects_of(self, index: int) -> None:
        if not 0 <= index < len(self.runs):
            return
        if self._timer is not None:
            self._timer.stop()
        run_id = self.runs[index].id
        self.reading("rejects")
        self._rejects_of = run_id
        self._timer = self.set_timer(0.1, lambda: self.load_rejects(run_id))

    @work(thread=True, exclusive=True, group="rejects", exit_on_error=False)
    def load_rejects(self, run_id: int) -> None:
        rows = self.store.rejects(run_id, limit=REJECTS_SHOWN)
        self.app.call_from_thread(self.show_rejects, run_id, rows)

    def show_rejects(self, run_id: int, rows) -> None:
        if run_id != self._rejects_of:
            return  # the cursor has moved on since
        self.shown("rejects")
        w = self.words
        title = Text(w("rejects_of", run=run_id), style="bold")
        if not rows:
            title.append("  " + w("no_rejects"), style="dim")
        self.query_one("#rejects-title", Static).update(title)
        self.rejects = rows
        table = self.query_one("#rejects", DataTable)
        table.clear()
        for r in rows:
            raw = r.raw or ""
            table.add_row(
                Text(w.num(r.line), justify="right"),
                literal(r.reason),
                literal(raw[:RAW_PREVIEW] + ("…" if len(raw) > RAW_PREVIEW else "")),
                key=str(r.id),
            )
        self.show_reject(rows[0] if rows else None)

    def show_reject(self, reject) -> None:
        """The reject's line, reason and whole raw text (controls escaped, folded) in the pane."""
        pane = self.query_one("#reject-pane", VerticalScroll)
        pane.display = reject is not None
        if reject is None:
            return
        w = self.words
        text = Text(f"{w('line')} {w.num(reject.line)}: ", style="bold")
        text.append_text(literal(reject.reason, "bold"))
        text.append("\n")
        raw = reject.raw or ""
        hint = f"`incidents rejects --run {reject.run_id} --json` prints all"
        text.append_text(Text(escape_controls(clipped(raw, hint=hint))) if raw else literal(raw))
        self.query_one("#reject-text", Static).update(text)
        pane.scroll_home(animate=False)

    def key_escape(self) -> None:
        self.query_one("#runs", DataTable).focus()
