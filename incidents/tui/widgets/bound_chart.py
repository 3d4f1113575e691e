"""A series around one day: a column per day, the upper bound drawn across, alarms and the day marked."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

from incidents.tui.fmt import Words

ROWS = 6


def bound_text(points, day: str, words: Words, rows: int = ROWS) -> Text:
    """`points` are DayPoint-like (day, count, expected, upper, alarm). Columns of '█', the bound as '─',
    the chosen day's column bold with '▲' under an alarm and '^' under the day."""
    if not points:
        return Text("")
    top = max(max(p.count for p in points), max((p.upper or 0) for p in points), 1)
    scale = rows / top
    text = Text()
    for r in range(rows, 0, -1):
        label = words.num(math.ceil(top)) if r == rows else ("0" if r == 1 else "")
        text.append(f"{label:>6} ", style="dim")
        for p in points:
            height = p.count * scale
            bound = (p.upper or 0) * scale if p.upper is not None else None
            if height >= r - 0.5:
                ch, style = "█", ("bold red" if p.alarm else "green")
            elif bound is not None and r - 1 < bound <= r:
                ch, style = "─", "yellow"
            else:
                ch, style = " ", ""
            if p.day == day and ch == " ":
                ch, style = "·", "dim"
            text.append(ch, style=style)
        text.append("\n")
    text.append(" " * 7)
    for p in points:
        text.append("▲" if p.alarm else ("^" if p.day == day else " "), style="bold red" if p.alarm else "")
    text.append("\n" + " " * 7)
    first, last = points[0].day, points[-1].day
    gap = max(1, len(points) - len(first) - len(last))
    text.append(first + " " * gap + last, style="dim")
    return text


class BoundChart(Static):
    """The series window of a spike: counts against the upper bound, day by day."""

    DEFAULT_CSS = "BoundChart { height: auto; }"

    def show(self, points, day: str, words: Words) -> None:
        self.update(bound_text(points, day, words))
