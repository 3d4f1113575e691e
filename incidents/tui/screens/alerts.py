"""Alerts: what the alert job sent, holds pending or failed, from its outbox (when the store has one)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import DataTable, Footer, Header, Static

from incidents.tui.fmt import literal
from incidents.tui.screens.base import StoreScreen

# What was sent, held or failed and why first; the rest scrolls sideways at 80 columns.
COLUMNS = ("created", "status", "subject", "recipient", "error", "kind", "sent")
STATUS_STYLE = {"sent": "green", "pending": "yellow", "held": "yellow", "failed": "red", "dismissed": "dim"}


class AlertsScreen(StoreScreen):
    PARTS = ("alerts",)

    def screen_title(self) -> str:
        return self.words("alerts")

    def compose(self):
        yield Header()
        yield Static(id="alert-summary", classes="status")
        yield DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        w = self.words
        table = self.query_one("#alerts", DataTable)
        for key in COLUMNS:
            table.add_column(w(key), key=key)
        super().on_mount()
        table.focus()

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="alerts", exit_on_error=False)
    def load(self) -> None:
        try:
            result = self.store.alerts()
            error = None
        except Exception as e:  # noqa: BLE001 - shown on the screen
            result, error = None, str(e)
        self.app.call_from_thread(self.show, result, error)

    def show(self, result, error: str | None) -> None:
        w = self.words
        summary = self.query_one("#alert-summary", Static)
        table = self.query_one("#alerts", DataTable)
        table.clear()
        self.shown("alerts")
        if error:
            summary.update(Text(w("store_error", error=error), style="red"))
            return
        if result is None:
            summary.update(Text(w("alerts_unavailable"), style="dim"))
            return
        counts, rows, last = result
        if not rows and not any(counts.values()):
            summary.update(Text(w("alerts_absent"), style="dim"))
            return
        text = Text()
        # Dismissed (failed, then acknowledged) only once there are some: the usual line stays as it was.
        shown = ("sent", "pending", "held", "failed") + (("dismissed",) if counts.get("dismissed") else ())
        for status in shown:
            text.append(f"{w.status(status)} {w.num(counts.get(status, 0))}   ", style=STATUS_STYLE[status])
        if last is not None:
            # A line of its own: after the counts, the outcome was cut off at 80 columns (more in Vietnamese).
            when = _minute(getattr(last, "finished_at", None) or getattr(last, "started_at", ""))
            text.append(f"\n{w('run_alert')}: {when} ")
            outcome = getattr(last, "outcome", "")
            text.append(w.status(outcome), style="green" if outcome in ("ok", "nothing") else "red")
        summary.update(text)
        for i, r in enumerate(rows):
            status = r.get("status", "")
            table.add_row(
                Text(_minute(r.get("created_at"))),
                Text(w.status(status), style=STATUS_STYLE.get(status, "")),
                literal(r.get("subject") or r.get("headline")),
                literal(r.get("recipient")),
                literal(r.get("error")),
                Text(w.alert_kind(r.get("kind"))),
                Text(_minute(r.get("sent_at"))),
                key=str(r.get("id", i)),
            )


def _minute(stamp: str | None) -> str:
    """'2020-10-02T03:00:05Z' -> '2020-10-02 03:00' (the columns say UTC)."""
    return (stamp or "")[:16].replace("T", " ")
