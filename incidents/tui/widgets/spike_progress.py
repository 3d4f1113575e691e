"""The progress of judging the daily counts for spikes, shared by the overview and the spikes screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import ProgressBar, Static


class SpikeProgress(ProgressBar):
    """A bar shown only while the app judges spike alarms (days judged of how many)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(total=None, show_eta=False, **kwargs)

    def follow(self, note: Static) -> bool:
        """Show where the app's judging stands, and in `note` what stands for the alarms meanwhile
        (the judging message, or the error that stopped it). True when the alarms are there to show."""
        app = self.app
        w = app.words
        if app.spikes is None and not app.spikes_error:
            self.display = True
            if app.spikes_judging:
                self.update(progress=app.spikes_judging[0], total=app.spikes_judging[1])
            note.update(Text(w("computing_spikes"), style="dim"))
            return False
        self.display = False
        if app.spikes_error:
            note.update(Text(w("store_error", error=app.spikes_error), style="red"))
            return False
        return True
