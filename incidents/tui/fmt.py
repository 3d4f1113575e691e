"""Words and numbers of the TUI: labels in English or Vietnamese, figures in the bulletin's formats, and
record fields as literal text (issue 15 point 5: a field is data, never markup or terminal control)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rich.text import Text

from incidents.bulletin import numfmt
from incidents.controls import clipped
from incidents.taxonomy import CATEGORIES, SEVERITIES
from incidents.tui.labels import LABELS

# A long value is cut (incidents.controls.clipped): laying out a 30 MB field would hang the screen.
FULL_VALUE_HINT = "`incidents show ID --json` prints all"
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
    """A record field as rich Text: printed as it is ('[/red]' stays '[/red]'), controls escaped, cut
    after incidents.controls.DISPLAY_CHARS characters."""
    if value is None or value == "":
        return Text(empty, style="dim")
    return Text(escape_controls(clipped(str(value), hint=FULL_VALUE_HINT)), style=style)


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
        # A change with nothing to compare is the table's short 'n/a' (the notes under it say why).
        if x is None:
            return self("n_a")
        text = numfmt.percent(x, self.lang, signed=True)
        return "+" + text if x == 0 else text  # as `incidents stats` prints no change: +0.00%

    def count(self, key: str, n: int, **params: object) -> str:
        """A label with a count in it, `key + '_one'` for exactly one where the language has it
        ('1 incident', '2 incidents'; Vietnamese has no plural)."""
        one = key + "_one"
        label = one if n == 1 and one in self._labels else key
        return self(label, total=self.num(n), **params)

    def month(self, month: str) -> str:
        return numfmt.month_label(month, self.lang)

    def short_month(self, month: str) -> str:
        return numfmt.short_month(month, self.lang)

    def severity(self, name: str | None) -> str:
        """'high' -> 'High' / 'Cao'; a value outside taxonomy.SEVERITIES as it is (controls escaped)."""
        return self("sev_" + name) if name in SEVERITIES else escape_controls(name or "")

    def sector(self, name: str | None) -> str:
        """A sector in the bulletin's words ('education' -> 'Giáo dục'); an unknown one as stored."""
        if self.lang == "en" or not name:
            return escape_controls(name or "")
        return bulletin_labels(self.lang).get("sectors", {}).get(name) or escape_controls(name)

    def status(self, name: str | None) -> str:
        """An outbox status ('sent', 'pending', 'held', 'failed') or a run's outcome, in the app's words."""
        key = "status_" + (name or "")
        return self(key) if key in LABELS["en"] else escape_controls(name or "")

    def alert_kind(self, name: str | None) -> str:
        key = "kind_" + (name or "")
        return self(key) if key in LABELS["en"] else escape_controls(name or "")

    def note(self, note) -> str:
        """A stats note (code, params, English text) in the bulletin's words for the app's language."""
        if self.lang == "en":
            return note.text
        from incidents.bulletin.render import note_text

        return note_text(note, bulletin_labels(self.lang), self.lang)

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
            return self("n_a")
        text = f"{(1 - level) * 100:.3f}".rstrip("0").rstrip(".")
        return (text.replace(".", ",") if self.lang == "vi" else text) + "%"


@lru_cache(maxsize=4)
def bulletin_labels(lang: str) -> dict:
    """The bulletin's label file for `lang` (Jinja2, ~0.1 s the first time: the app reads it early in
    a thread when the language is not English)."""
    from incidents.bulletin.render import labels

    return labels(lang)


def explanation(alarm, lang: str) -> str:
    """An alarm's sentence (incidents.spikes.Alarm) in `lang`, as the bulletin words it."""
    if lang == "en":
        return alarm.explanation
    from incidents.bulletin.render import spike_text

    return spike_text(alarm, bulletin_labels(lang), lang)


def spikes_source(spikes, words: Words) -> str:
    """Where the alarms shown come from: kept verdicts (and when judged), or judged now in memory."""
    if spikes.source == "kept":
        return words("kept_verdicts", when=(spikes.judged_at or "?")[:16].replace("T", " "))
    if spikes.source == "kept+memory":
        return words("kept_and_memory")
    return words("computed_verdicts")
