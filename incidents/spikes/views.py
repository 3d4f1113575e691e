"""Rich tables of episodes, alarm days and unusual-mix days for `incidents spikes`.

Every value goes in as rich Text, never as markup: a category or explanation is printed as it is.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

# Below this width the numbers live only in the one-sentence explanation, which carries them all.
_WIDE = 120


def _table(title: str, plain: bool) -> Table:
    if plain:
        return Table(title=title, title_justify="left", box=None, show_edge=False, pad_edge=False)
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)


def _columns(table: Table, keys: tuple[str, ...], numbers: tuple[str, ...], text: str) -> None:
    """The spike tables' layout: key columns that never wrap, right-aligned numbers, then a text that folds."""
    for col in keys:
        table.add_column(col, no_wrap=True)
    for col in numbers:
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column(text, overflow="fold")


def episodes_table(episodes, since: str, last: str, width: int, *, plain: bool = False) -> Table:
    """Spike episodes (episodes.Episode) from `since` to `last` ('YYYY-MM-DD') as a table, one row each;
    narrower than 100 columns (`width`) it keeps only the ratio among the numbers."""
    from incidents.spikes.episodes import sentence

    table = _table(f"Spike episodes from {since} to {last}", plain)
    numbers = ("incidents", "expected", "ratio", "alarm days") if width >= _WIDE else ("ratio",)
    _columns(table, ("from", "to", "series"), numbers, "what")
    for e in episodes:
        values = {
            "incidents": str(e.incidents),
            "expected": f"{e.expected:.1f}",
            "ratio": f"{e.ratio:.1f}",
            "alarm days": str(len(e.days) + sum(len(f.days) for f in e.folded)),
        }
        what = sentence(e, "en")
        if e.folded:
            what += " (the total's alarms too)"
        table.add_row(e.first_day, e.last_day, Text(e.series), *(values[c] for c in numbers), Text(what))
    return table


def alarms_table(alarms, since: str, last: str, width: int, *, plain: bool = False) -> Table:
    """Alarm days (spikes.Alarm) from `since` to `last` as a table: count, expected, upper bound and score
    (only the score when `width` < 100), and the detector's explanation."""
    table = _table(f"Spikes from {since} to {last}", plain)
    numbers = ("count", "expected", "upper", "score") if width >= _WIDE else ("score",)
    _columns(table, ("date", "series"), numbers, "why")
    for a in alarms:
        values = {
            "count": str(a.count),
            "expected": f"{a.expected:.1f}",
            "upper": f"{a.upper:.0f}",
            "score": f"{a.score:.2f}",
        }
        why = a.explanation + ("" if getattr(a, "final", True) else " (today, so far)")
        table.add_row(a.date, Text(a.series), *(values[c] for c in numbers), Text(why))
    return table


def mix_table(mix, *, plain: bool = False) -> Table:
    """Days with an unusual category mix (mix.MixFlag) and why, one row each."""
    table = _table("Days with an unusual mix (IsolationForest)", plain)
    _columns(table, ("date",), (), "why")
    for m in mix:
        table.add_row(m.date, Text(m.explanation))
    return table
