"""Spikes: the alarms with expected count, upper bound, level and explanation; the highlighted one's
series around its day against the bound; Enter opens that series' incidents of that day."""

from __future__ import annotations

import contextlib
import threading
from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from incidents import stats
from incidents.tui.data import IncidentFilter
from incidents.tui.fmt import literal, spikes_source
from incidents.tui.screens.base import StoreScreen
from incidents.tui.widgets.bound_chart import BoundChart, bound_text
from incidents.tui.widgets.spike_progress import SpikeProgress

COLUMNS = ("day", "series", "count", "expected", "upper", "level", "explanation")


class SpikesScreen(StoreScreen):
    BINDINGS: ClassVar[list[Binding]] = [Binding("escape", "back", "back", show=False)]
    PARTS = ("alarms", "window")

    def __init__(self) -> None:
        super().__init__()
        self.alarms = []
        self._timer = None
        self._window_for: tuple[str, str] | None = None

    def screen_title(self) -> str:
        return self.words("spikes")

    def compose(self):
        yield Header()
        yield Static(id="spikes-source", classes="status")
        yield SpikeProgress(id="spikes-progress")
        yield DataTable(id="alarms", cursor_type="row", zebra_stripes=True)
        yield Static(id="explanation", classes="explanation")
        yield BoundChart(id="window")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#alarms", DataTable)
        w = self.words
        for key in COLUMNS:
            table.add_column(w(key), key=key)
        super().on_mount()
        table.focus()

    def reload(self) -> None:
        self.spikes_ready()
        self.app.want_spikes()

    def spikes_ready(self) -> None:
        if not self.query("#alarms"):
            return
        app, w = self.app, self.words
        source = self.query_one("#spikes-source", Static)
        if not self.query_one("#spikes-progress", SpikeProgress).follow(source):
            if app.spikes_current:  # the error is what there is to show
                self.shown("alarms")
                self.shown("window")
            return
        spikes = app.spikes
        source.update(
            Text(
                spikes_source(spikes, w),
                style="dim",
            )
        )
        self.alarms = sorted(
            spikes.alarms, key=lambda a: (a.day, a.series != "total", a.series), reverse=True
        )
        table = self.query_one("#alarms", DataTable)
        table.clear()
        for i, a in enumerate(self.alarms):
            table.add_row(
                Text(a.day),
                Text(w.category(a.series)),
                Text(w.num(a.count), justify="right"),
                Text(w.dec(a.expected, 1), justify="right"),
                Text(w.num(round(a.upper)), justify="right"),
                Text(w.level(a.level), justify="right"),
                literal(a.explanation),
                key=str(i),
            )
        if self.alarms:
            # The cursor starts on the latest alarm of the app's month (or the latest before it).
            end = stats.month_days(app.month)[1]
            start = next((i for i, a in enumerate(self.alarms) if a.day <= end), 0)
            table.move_cursor(row=start)
            self.reading("window")
            self.highlight(start)
        else:
            self.shown("window")
        if app.spikes_current:
            self.shown("alarms")

    def month_changed(self) -> None:
        self.spikes_ready()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.highlight(int(event.row_key.value))

    def highlight(self, index: int) -> None:
        if not 0 <= index < len(self.alarms):
            return
        a = self.alarms[index]
        self.query_one("#explanation", Static).update(literal(a.explanation))
        if self._timer is not None:
            self._timer.stop()
        # The window is read (or judged) when the cursor rests, not on every row it passes.
        self.reading("window")
        self._window_for = (a.series, a.day)
        self._timer = self.set_timer(0.2, lambda: self.load_window(a.series, a.day))

    def load_window(self, series: str, day: str) -> None:
        """Ask the spike lane for the window without a thread waiting for it: while the lane judges
        new days the chart says so, and only the last highlighted alarm's window is ever read (a window
        still queued is cancelled by the next one), so highlights never tie up the UI's workers."""
        app = self.app
        if not app.spikes_current:  # a judgement is on its way; spikes_ready() asks again after it
            self.query_one("#window", BoundChart).update(Text(self.words("computing_spikes"), style="dim"))
            return
        future = self.store.series_window_later(series, day)

        def done(f) -> None:
            if f.cancelled():
                return  # a newer highlight replaced it
            try:
                points = f.result()
            except Exception:  # noqa: BLE001 - a window that cannot be computed is left blank
                points = []
            if app._thread_id == threading.get_ident():  # already done when the callback was added
                self.show_window(series, day, points)
            else:
                with contextlib.suppress(RuntimeError):  # the app has quit meanwhile
                    app.call_from_thread(self.show_window, series, day, points)

        future.add_done_callback(done)

    def show_window(self, series: str, day: str, points) -> None:
        w = self.words
        if (series, day) != self._window_for or not self.query("#window"):
            return  # the cursor has moved on since, or the screen is gone
        chart = self.query_one("#window", BoundChart)
        self.shown("window")
        if not points:
            chart.update(Text(w("no_verdicts_window", day=day), style="dim"))
            return
        text = Text(w("window", series=w.category(series), day=day) + "\n", style="bold")
        text.append_text(bound_text(points, day, w))
        chart.update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        a = self.alarms[int(event.row_key.value)]
        from incidents.tui.screens.incidents import IncidentsScreen

        # An alarm on the total of the last n days stands for the incidents of those n days.
        since = (date.fromisoformat(a.day) - timedelta(days=a.span - 1)).isoformat()
        flt = IncidentFilter(category=None if a.series == "total" else a.series, since=since, until=a.day)
        self.app.push_screen(IncidentsScreen(flt))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
