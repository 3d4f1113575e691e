"""Overview: the month's figures (as `incidents stats` computes them), 13 months per category, the
latest spike alarms and the last runs. Enter on any count opens the incidents behind it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from incidents import stats
from incidents.tui.data import IncidentFilter
from incidents.tui.fmt import literal, spikes_source
from incidents.tui.screens.base import StoreScreen
from incidents.tui.widgets.month_chart import MonthChart
from incidents.tui.widgets.spike_progress import SpikeProgress

SPIKE_DAYS = 90
SPIKES_SHOWN = 6
# Columns of the figures table: which incidents a count in that column stands for.
# The share comes last: at 80 columns the table scrolls sideways, and the changes matter more.
COLUMNS = ("category", "count", "mom", "yoy", "ytd", "ytd_change", "share")


class OverviewScreen(StoreScreen):
    BINDINGS: ClassVar[list[Binding]] = [Binding("enter", "open_count", "open", show=True)]
    PARTS = ("figures", "months", "runs", "spikes")

    def compose(self):
        yield Header()
        yield Static(id="month-title", classes="heading")
        with VerticalScroll(id="overview-body"):
            yield DataTable(id="figures", cursor_type="cell", zebra_stripes=False)
            yield Static(id="notes", classes="notes")
            yield Static(id="chart-title", classes="heading")
            yield MonthChart(id="chart")
            yield Static(id="spikes-title", classes="heading")
            yield SpikeProgress(id="spikes-progress")
            yield Static(id="spikes")
            yield Static(id="runs-title", classes="heading")
            yield Static(id="runs")
        yield Footer()

    def screen_title(self) -> str:
        return self.words("overview")

    def on_mount(self) -> None:
        table = self.query_one("#figures", DataTable)
        for key in COLUMNS:
            table.add_column(self.words(key), key=key)
        self.query_one("#spikes-title", Static).update(self.words("latest_spikes"))
        self.query_one("#runs-title", Static).update(self.words("last_runs"))
        super().on_mount()
        self.spikes_ready()
        table.focus()

    def month_changed(self) -> None:
        self.reading()
        self.reload()
        self.spikes_ready()

    def reload(self) -> None:
        self.load(self.app.month)

    @work(thread=True, exclusive=True, group="overview", exit_on_error=False)
    def load(self, month: str) -> None:
        # The figures first, then the chart and the runs: the month's numbers are what the eye looks for.
        store, first = self.store, self.app.first_report
        if first is not None and first[:2] == (month, self.app.data_version):
            self.app.first_report = None
            report = first[2].result()
        else:
            report = store.month_report(month)
        self.app.call_from_thread(self.show, month, report)
        months = store.monthly_counts(stats.shift_month(month, -12), month)
        runs = {"ingest": store.last_run("ingest"), "scan": store.last_run("scan")}
        self.app.call_from_thread(self.show_rest, month, months, runs, store.last_alert_run())

    def show(self, month, report: stats.MonthReport) -> None:
        if month != self.app.month:
            return
        w = self.words
        self.report = report
        self.query_one("#month-title", Static).update(
            Text(_capital(w.count("month_heading", report.total.count, month=w.month(month))), style="bold")
        )
        table = self.query_one("#figures", DataTable)
        cursor = table.cursor_coordinate
        table.clear()

        def row(key: str, label: str, f: stats.Figures, style: str = "") -> None:
            cells = [
                Text(label, style=style),
                Text(w.num(f.count), style=style, justify="right"),
                Text(w.pct(f.month_over_month), justify="right"),
                Text(w.pct(f.year_over_year), justify="right"),
                Text(w.num(f.year_to_date), style=style, justify="right"),
                Text(w.pct(f.year_to_date_change), justify="right"),
                Text("" if f.share is None else w.dec(f.share, 2) + "%", justify="right"),
            ]
            table.add_row(*cells, key=key)

        for name, f in report.categories.items():
            if f.seen:  # as `incidents stats`: no row of zeros and n/a for a category never seen
                row(name, w.category(name), f)
        row("total", w("total"), report.total, "bold")
        table.move_cursor(row=min(cursor.row, table.row_count - 1), column=cursor.column)
        notes = self.query_one("#notes", Static)
        notes.update(Text("\n".join(w.note(n) for n in report.notes), style="dim"))
        notes.display = bool(report.notes)
        self.shown("figures")

    def show_rest(self, month, months, runs, alert_run) -> None:
        if month != self.app.month:
            return
        w = self.words
        names = sorted({c for m in months.values() for c in m}, key=_category_order)
        order = list(months)
        self.query_one("#chart-title", Static).update(
            w("months_chart", first=w.short_month(order[0]), last=w.short_month(order[-1]))
        )
        self.query_one("#chart", MonthChart).show(order, months, ["total", *names], w)
        self.query_one("#runs", Static).update(self._runs_text(runs, alert_run))
        self.shown("months")
        self.shown("runs")
        # Spikes only once the figures are on screen (after the next refresh): reading them imports numpy
        # and may judge days, which must not delay the first view.
        self.call_after_refresh(self.app.want_spikes)

    def _runs_text(self, runs, alert_run) -> Text:
        w = self.words
        text = Text()
        for kind in ("ingest", "scan"):
            r = runs[kind]
            text.append(f"{w('run_' + kind):<14}", style="bold")
            if r is None:
                text.append(w("never"), style="dim")
            else:
                text.append(f"{r.finished_at or r.started_at}  ")
                text.append(w.status(r.status), style="green" if r.status == "ok" else "red")
                text.append(
                    f"  {w('read').lower()} {w.num(r.read)}, {w('accepted').lower()} {w.num(r.accepted)}, "
                )
                text.append(f"{w('rejected').lower()} {w.num(r.rejected)}  ")
                text.append_text(literal(r.file, "dim"))
            text.append("\n")
        text.append(f"{w('run_alert'):<14}", style="bold")
        if alert_run is None:
            text.append(w("never"), style="dim")
        else:
            when = getattr(alert_run, "finished_at", None) or getattr(alert_run, "started_at", "")
            outcome = getattr(alert_run, "outcome", "")
            text.append(f"{when}  ")
            text.append(w.status(outcome), style="green" if outcome == "ok" else "red")
            for key in ("sent", "pending", "failed"):
                n = getattr(alert_run, key, None)
                if n is not None:
                    text.append(f"  {w.status(key)} {w.num(n)}")
        return text

    # --- spikes --------------------------------------------------------------------------------------

    def spikes_ready(self) -> None:
        if not self.query("#spikes"):
            return
        app, w = self.app, self.words
        body = self.query_one("#spikes", Static)
        if app.spikes_current:
            self.shown("spikes")
        if not self.query_one("#spikes-progress", SpikeProgress).follow(body):
            return
        until = stats.month_days(app.month)[1]
        since = (date.fromisoformat(until) - timedelta(days=SPIKE_DAYS)).isoformat()
        alarms = [a for a in app.spikes.alarms if since <= a.day <= until]
        alarms.sort(key=lambda a: (a.day, a.series != "total"), reverse=True)
        text = Text()
        source = spikes_source(app.spikes, w)
        text.append(source + "\n", style="dim")
        if not alarms:
            text.append(w("no_spikes", days=SPIKE_DAYS, until=until), style="dim")
        for a in alarms[:SPIKES_SHOWN]:
            text.append(f"{a.day} ", style="bold red")
            text.append_text(literal(a.explanation))
            text.append("\n")
        text.rstrip()
        body.update(text)

    # --- drill down ------------------------------------------------------------------------------------

    def action_open_count(self) -> None:
        table = self.query_one("#figures", DataTable)
        if not self.query_one("#figures", DataTable).has_focus or table.row_count == 0:
            return
        coordinate = table.cursor_coordinate
        row_key, column_key = table.coordinate_to_cell_key(coordinate)
        flt = count_filter(self.app.month, row_key.value, column_key.value)
        from incidents.tui.screens.incidents import IncidentsScreen

        self.app.push_screen(IncidentsScreen(flt))

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_open_count()


def count_filter(month: str, row: str, column: str) -> IncidentFilter:
    """The incidents behind one count of the figures table: its category (none for the total) over the
    period of its column (the month, the month before, the same month last year, or a year to date)."""
    category = None if row == "total" else row
    year = int(month[:4])
    if column in ("mom",):
        first, last = stats.month_days(stats.shift_month(month, -1))
    elif column == "yoy":
        first, last = stats.month_days(stats.shift_month(month, -12))
    elif column == "ytd":
        first, last = f"{year}-01-01", stats.month_days(month)[1]
    elif column == "ytd_change":
        first, last = f"{year - 1}-01-01", stats.month_days(stats.shift_month(month, -12))[1]
    else:
        first, last = stats.month_days(month)
    return IncidentFilter(category=category, since=first, until=last)


def _category_order(name: str) -> int:
    from incidents.taxonomy import CATEGORIES

    names = list(CATEGORIES)
    return names.index(name) if name in names else len(names)


def _capital(text: str) -> str:
    """A heading starts with a capital in every language ('tháng 10/2020' -> 'Tháng 10/2020')."""
    return text[:1].upper() + text[1:]
