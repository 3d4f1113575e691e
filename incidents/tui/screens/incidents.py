"""Incidents: a page of the store at a time (LIMIT/OFFSET by query, never the whole table in memory),
with filters on category, days, sector, feed, severity and target, and a sort order. Enter opens one."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from incidents.taxonomy import CATEGORIES, SEVERITIES
from incidents.tui.data import ORDERS, PAGE, IncidentFilter, Superseded, TuiDataError
from incidents.tui.fmt import literal
from incidents.tui.screens.base import StoreScreen

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TEXT_FILTERS = ("since", "until", "sector", "feed", "target")
# At 80 columns the table scrolls sideways: what an analyst reads first (when, what, how bad, whom) comes first.
COLUMNS = ("day", "category", "severity", "target", "sector", "feed")
_PAGE = Binding.Group("page", compact=True)
_SORT = Binding.Group("sort", compact=True)


def _is_day(value: str) -> bool:
    """YYYY-MM-DD and a day of the calendar (2020-13-45 and 2021-02-30 are not)."""
    if not _DAY.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class IncidentsScreen(StoreScreen):
    PARTS = ("page", "count")
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("n", "page(1)", "next_page", group=_PAGE),
        Binding("p", "page(-1)", "prev_page", group=_PAGE),
        Binding("s", "sort", "sort", group=_SORT),
        Binding("r", "reverse", "reverse", group=_SORT),
        Binding("f", "focus_filters", "filters"),
        Binding("x", "clear", "clear"),
        Binding("escape", "back", "back"),
    ]

    def __init__(self, flt: IncidentFilter | None = None) -> None:
        super().__init__()
        self.flt = flt or IncidentFilter()
        self.order = "day"
        self.descending = True
        self.page_offset = 0
        self.total: int | None = None
        self.rows: list[dict] = []
        self._debounce = None

    def screen_title(self) -> str:
        return self.words("incidents")

    @property
    def ready(self) -> bool:
        # A filter being typed is not applied yet: the rows on screen are not those it asks for.
        return self._debounce is None and super().ready

    def compose(self):
        w = self.words
        yield Header()
        with Horizontal(classes="filters"):
            yield Select(
                [(w.category(c), c) for c in CATEGORIES],
                prompt=f"{w('category')}: {w('any')}",
                id="f-category",
                compact=True,
                value=self.flt.category if self.flt.category else Select.NULL,
            )
            yield Select(
                [(w.severity(s), s) for s in SEVERITIES],
                prompt=f"{w('severity')}: {w('any')}",
                id="f-severity",
                compact=True,
                value=self.flt.severity if self.flt.severity in SEVERITIES else Select.NULL,
            )
            yield Input(self.flt.since or "", placeholder=w("since"), id="f-since", compact=True)
            yield Input(self.flt.until or "", placeholder=w("until"), id="f-until", compact=True)
        with Horizontal(classes="filters"):
            yield Input(self.flt.sector or "", placeholder=w("sector"), id="f-sector", compact=True)
            yield Input(self.flt.feed or "", placeholder=w("feed"), id="f-feed", compact=True)
            yield Input(self.flt.target or "", placeholder=w("target_search"), id="f-target", compact=True)
        yield Static(id="status", classes="status")
        yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#incidents", DataTable)
        for key in COLUMNS:
            table.add_column(self.words(key), key=key)
        super().on_mount()
        table.focus()

    # --- filters ---------------------------------------------------------------------------------------

    def read_filter(self) -> IncidentFilter | str:
        """The filter the inputs describe, or the message saying which input is wrong."""
        values = {}
        for name in TEXT_FILTERS:
            value = self.query_one(f"#f-{name}", Input).value.strip()
            if name in ("since", "until") and value and not _is_day(value):
                return self.words("bad_day", value=value)
            values[name] = value or None
        if values["since"] and values["until"] and values["since"] > values["until"]:
            # as `incidents list`: a range that ends before it starts is a mistake, not "no incident"
            return self.words("days_reversed", since=values["since"], until=values["until"])
        for name in ("category", "severity"):
            value = self.query_one(f"#f-{name}", Select).value
            values[name] = None if value is Select.NULL else value
        return replace(self.flt, **values)

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.25, self.apply_filters)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.apply_filters()
        self.query_one("#incidents", DataTable).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.apply_filters()

    def apply_filters(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        flt = self.read_filter()
        if isinstance(flt, str):
            self.query_one("#status", Static).update(Text(flt, style="red"))
            return
        if flt != self.flt:
            self.flt = flt
            self.page_offset = 0
            self.reload()

    def action_clear(self) -> None:
        for name in TEXT_FILTERS:
            self.query_one(f"#f-{name}", Input).value = ""
        for name in ("category", "severity"):
            self.query_one(f"#f-{name}", Select).clear()
        self.flt = IncidentFilter()
        self.page_offset = 0
        self.reload()

    def action_focus_filters(self) -> None:
        self.query_one("#f-category", Select).focus()

    def action_back(self) -> None:
        if not self.query_one("#incidents", DataTable).has_focus:
            self.query_one("#incidents", DataTable).focus()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    # --- paging and sorting ----------------------------------------------------------------------------

    def action_page(self, by: int) -> None:
        offset = max(0, self.page_offset + by * PAGE)
        if by > 0 and (len(self.rows) < PAGE or (self.total is not None and offset >= self.total)):
            return
        if offset != self.page_offset:
            self.page_offset = offset
            self.reload(count=False)

    def action_sort(self) -> None:
        self.order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        self.page_offset = 0
        self.reload(count=False)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.page_offset = 0
        self.reload(count=False)

    # --- loading -----------------------------------------------------------------------------------------

    def reload(self, count: bool = True) -> None:
        self.reading("page")
        if count:
            self.reading("count")
            self.total = None
        self.load_page(self.flt, self.order, self.descending, self.page_offset)
        if count:
            self.load_count(self.flt)

    @work(thread=True, exclusive=True, group="page", exit_on_error=False)
    def load_page(self, flt: IncidentFilter, order: str, descending: bool, offset: int) -> None:
        try:
            rows = self.store.find_incidents(
                flt, order=order, descending=descending, limit=PAGE, offset=offset
            )
        except Superseded:
            return
        except TuiDataError as e:
            self.app.call_from_thread(self.show_error, str(e))
            return
        self.app.call_from_thread(self.show_page, flt, offset, rows)

    @work(thread=True, exclusive=True, group="count", exit_on_error=False)
    def load_count(self, flt: IncidentFilter) -> None:
        try:
            total = self.store.count_incidents(flt)
        except Superseded:  # a newer filter's count is on its way
            return
        except TuiDataError as e:
            self.app.call_from_thread(self.show_error, str(e))
            return
        self.app.call_from_thread(self.show_count, flt, total)

    def show_error(self, message: str) -> None:
        self.shown("page")
        self.shown("count")
        # The rows of the previous filter are not what this one asks for: never leave them under the error.
        self.rows = []
        self.total = None
        self.query_one("#incidents", DataTable).clear()
        self.query_one("#status", Static).update(Text(self.words("store_error", error=message), style="red"))

    def show_page(self, flt: IncidentFilter, offset: int, rows: list[dict]) -> None:
        if flt != self.flt or offset != self.page_offset:
            return
        self.rows = rows
        self.shown("page")
        table = self.query_one("#incidents", DataTable)
        table.clear()
        w = self.words
        for r in rows:
            table.add_row(
                Text(r["day"]),
                Text(w.category(r["category"])),
                literal(w.severity(r["severity"])),
                literal(r["target"]),
                literal(w.sector(r["sector"])),
                literal(r["feed"]),
                key=r["id"],
            )
        self.show_status()

    def show_count(self, flt: IncidentFilter, total: int) -> None:
        if flt == self.flt:
            self.total = total
            self.shown("count")
            self.show_status()

    def show_status(self) -> None:
        w = self.words
        n = len(self.rows)
        arrow = "↓" if self.descending else "↑"
        if n == 0 and self.total in (0, None) and self.page_offset == 0:
            text = Text(w("no_rows"), style="yellow") if self.total == 0 else Text("…", style="dim")
        else:
            first, last = self.page_offset + (1 if n else 0), self.page_offset + n
            key = "rows_counting" if self.total is None else "rows_of"
            total = w.num(self.total) if self.total is not None else ""
            text = Text(w(key, first=w.num(first), last=w.num(last), total=total))
        text.append(f"   {w('sort')}: {w(self.order)} {arrow}", style="dim")
        self.query_one("#status", Static).update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        from incidents.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(event.row_key.value))
