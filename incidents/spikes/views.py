"""Rich tables of alarms and unusual-mix days for `incidents spikes`."""

from __future__ import annotations

from rich.table import Table

# Below this width the numbers live only in the one-sentence explanation, which carries them all.
_WIDE = 120


def alarms_table(alarms, since: str, last: str, width: int) -> Table:
    table = Table(title=f"Spikes from {since} to {last}", title_justify="left")
    numbers = ("count", "expected", "upper", "score") if width >= _WIDE else ("score",)
    table.add_column("date", no_wrap=True)
    table.add_column("series", no_wrap=True)
    for col in numbers:
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("why", overflow="fold")
    for a in alarms:
        values = {
            "count": str(a.count),
            "expected": f"{a.expected:.1f}",
            "upper": f"{a.upper:.0f}",
            "score": f"{a.score:.2f}",
        }
        table.add_row(a.date, a.series, *(values[c] for c in numbers), a.explanation)
    return table


def mix_table(mix) -> Table:
    table = Table(title="Days with an unusual mix (IsolationForest)", title_justify="left")
    table.add_column("date", no_wrap=True)
    table.add_column("why", overflow="fold")
    for m in mix:
        table.add_row(m.date, m.explanation)
    return table
