"""Quarantine: ingest and scan runs with read / accepted / duplicate / rejected, and the highlighted
run's rejected rows with their line and reason."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import DataTable, Footer, Header, Static

from incidents.tui.fmt import literal
from incidents.tui.screens.base import StoreScreen

# What an analyst looks for first (did it fail, how many rows were rejected) before what scrolls off at 80.
RUN_COLUMNS = ("run_id", "status", "rejected", "read", "accepted", "duplicate", "started", "file", "kind")
REJECT_COLUMNS = ("line", "reason", "raw")
REJECTS_SHOWN = 500


class QuarantineScreen(StoreScreen):
    PARTS = ("runs", "rejects")

    def __init__(self) -> None:
        super().__init__()
        self.runs = []
        self._timer = None
        self._rejects_of: int | None = None

    def screen_title(self) -> str:
        return self.words("quarantine")

    def compose(self):
        yield Header()
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(id="rejects-title", classes="heading")
        yield DataTable(id="rejects", cursor_type="row")
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
            self.shown("rejects")
            return
        table.move_cursor(row=min(row, len(runs) - 1))
        self.show_rejects_of(table.cursor_row)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "runs":
            self.show_rejects_of(event.cursor_row)

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
        table = self.query_one("#rejects", DataTable)
        table.clear()
        for r in rows:
            raw = r.raw or ""
            table.add_row(
                Text(w.num(r.line), justify="right"),
                literal(r.reason),
                literal(raw[:200] + ("…" if len(raw) > 200 else "")),
                key=str(r.id),
            )

    def key_escape(self) -> None:
        self.query_one("#runs", DataTable).focus()
