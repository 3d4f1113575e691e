"""A DataTable that keeps its cursor in view when its height changes.

Textual scrolls a DataTable to its cursor when the cursor moves, not when the table itself is resized:
a pane that appears under it (the quarantine's reject pane) or a smaller terminal can leave the
highlighted row scrolled out of sight while the rest of the screen describes it."""

from __future__ import annotations

from textual import events
from textual.widgets import DataTable


class CursorTable(DataTable):
    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._keep_cursor_in_view)

    def _keep_cursor_in_view(self) -> None:
        if self.row_count and self.show_cursor:
            # Moving the cursor to where it is scrolls it into view and highlights nothing anew.
            self.move_cursor(row=self.cursor_row, column=self.cursor_column)
