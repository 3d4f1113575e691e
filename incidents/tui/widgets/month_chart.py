"""Thirteen months per category as one-line bar charts (sparklines), with the last month's count."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from incidents.tui.fmt import Words

BLOCKS = " ▁▂▃▄▅▆▇█"


def spark(values: list[int], top: int | None = None) -> str:
    """One character per value, scaled to `top` (default: the largest value); zero is a blank."""
    top = top or max(values, default=0)
    if top <= 0:
        return "·" * len(values)
    out = []
    for v in values:
        if v <= 0:
            out.append("·")
        else:
            out.append(BLOCKS[max(1, round(v / top * (len(BLOCKS) - 1)))])
    return "".join(out)


def chart_text(
    months: list[str], table: dict[str, dict[str, int]], series: list[str], words: Words, room: int = 80
) -> Text:
    """Rows 'label  ▂▃▅▇█…  last' for 'total' and each category, each scaled to its own maximum.
    Labels get what `room` (columns) leaves beside the bars and figures: whole in a wide terminal,
    cut with '…' (never silently) in a narrow one."""
    labels = {s: words.category(s) for s in series}
    rest = 1 + len(months) + 1 + 7 + 2 + len(words("max")) + 1 + 7  # bars and figures after the label
    width = min(max((len(v) for v in labels.values()), default=5), max(8, room - rest))
    text = Text()
    for s in series:
        values = [sum(table[m].values()) if s == "total" else table[m].get(s, 0) for m in months]
        name = labels[s]
        label = (name if len(name) <= width else name[: width - 1] + "…").ljust(width)
        text.append(label + " ", style="bold" if s == "total" else "")
        text.append(spark(values), style="green")
        text.append(
            f" {words.num(values[-1]):>7}  {words('max')} {words.num(max(values, default=0))}\n", style="dim"
        )
    text.rstrip()
    return text


class MonthChart(Static):
    """13-month sparklines: total and one row per category, the current month at the right."""

    DEFAULT_CSS = "MonthChart { height: auto; }"
    _shown: tuple | None = None

    def show(
        self, months: list[str], table: dict[str, dict[str, int]], series: list[str], words: Words
    ) -> None:
        self._shown = (months, table, series, words)
        room = self.size.width or self.app.size.width - 2  # before the first layout: the terminal's
        self.update(chart_text(months, table, series, words, room))

    def on_resize(self) -> None:
        if self._shown is not None and self.size.width:
            self.update(chart_text(*self._shown, self.size.width))
