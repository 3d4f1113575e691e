"""The analysts' terminal UI (`incidents tui`): Textual screens over a read-only store.

Only this package imports textual. `run(db, month=None, lang="en")` starts the app; the data it shows
comes through incidents.tui.data, the only module here that touches the store.
"""

from __future__ import annotations

from pathlib import Path


def run(db: str | Path | None = None, *, month: str | None = None, lang: str = "en") -> None:
    """Run the TUI on the store at `db` until the user quits. Raises data.TuiDataError if unreadable."""
    from incidents.tui.app import IncidentsApp
    from incidents.tui.data import StoreReader

    IncidentsApp(StoreReader(db), month=month, lang=lang).run()
