"""Words and numbers of the TUI: labels in English or Vietnamese, figures in the bulletin's formats, and
record fields as literal text (issue 15 point 5: a field is data, never markup or terminal control)."""

from __future__ import annotations

import unicodedata

from rich.text import Text

from incidents.bulletin import numfmt
from incidents.taxonomy import CATEGORIES
from incidents.tui.labels import LABELS

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def escape_controls(value: str) -> str:
    """Control and format characters (C0/C1, ESC, bidi overrides) written as escapes: '\\x1b[31m'."""
    out = []
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf"):
            out.append(_NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"))
        else:
            out.append(ch)
    return "".join(out)


def literal(value: object, style: str = "", *, empty: str = "-") -> Text:
    """A record field as rich Text: printed as it is ('[/red]' stays '[/red]'), controls escaped."""
    if value is None or value == "":
        return Text(empty, style="dim")
    return Text(escape_controls(str(value)), style=style)


class Words:
    """The labels, number and month formats of one language ('en' or 'vi')."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = numfmt.check_lang(lang)
        self._labels = LABELS[lang]

    def __call__(self, key: str, **params: object) -> str:
        text = self._labels.get(key) or LABELS["en"][key]
        return text.format(**params) if params else text

    def num(self, n: int | None) -> str:
        return numfmt.integer(n, self.lang)

    def dec(self, x: float | None, places: int = 1) -> str:
        return numfmt.decimal(x, self.lang, places)

    def pct(self, x: float | None) -> str:
        return numfmt.percent(x, self.lang, signed=True)

    def month(self, month: str) -> str:
        return numfmt.month_label(month, self.lang)

    def short_month(self, month: str) -> str:
        return numfmt.short_month(month, self.lang)

    def category(self, name: str | None) -> str:
        if name in (None, "total"):
            return self("total")
        c = CATEGORIES.get(name)
        if c is None:
            return escape_controls(name)
        return c.label_vi if self.lang == "vi" else c.label_en

    def level(self, level: float | None) -> str:
        """A bound's tail probability as the bound's level: 0.001 -> '99.9%' ('99,9%')."""
        if level is None:
            return numfmt.NOT_AVAILABLE[self.lang]
        text = f"{(1 - level) * 100:.3f}".rstrip("0").rstrip(".")
        return (text.replace(".", ",") if self.lang == "vi" else text) + "%"


def spikes_source(spikes, words: Words) -> str:
    """Where the alarms shown come from: kept verdicts (and when judged), or judged now in memory."""
    if spikes.source == "kept":
        return words("kept_verdicts", when=(spikes.judged_at or "?")[:16].replace("T", " "))
    if spikes.source == "kept+memory":
        return words("kept_and_memory")
    return words("computed_verdicts")
