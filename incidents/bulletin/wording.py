"""The bulletin's words for a record's values, stats notes, spike alarms and episodes (Jinja2 filters)."""

from __future__ import annotations

import re

from incidents.bulletin import numfmt
from incidents.taxonomy import CATEGORIES

_MONTH = re.compile(r"^\d{4}-\d{2}$")
# Characters that Markdown (CommonMark, GitHub tables) would read as syntax in a value from a record:
# `|` ends a table cell, `<` `>` open HTML, `[` `]` make links and images, `*` `_` `~` `` ` `` emphasis
# and code, `\` escapes. (A value never starts a line, so `#`, `-` and `+` need no escape.)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(value: object) -> str:
    """A record's value made safe inside Markdown text and table cells: syntax characters backslash-
    escaped, `&`, `<`, `>` as entities, line breaks as `<br>` (the one tag a cell may hold)."""
    if value is None:
        return ""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def note_text(note, labels: dict, lang: str) -> str:
    """A stats note (code, params) in the bulletin's words: labels.note_texts[code], months localised.

    A code the labels do not know (a centre's older labels file) falls back to the English text.
    """
    wording = labels.get("note_texts", {}).get(note.code)
    if not wording:
        return note.text
    params = {
        k: numfmt.month_label(v, lang)
        if isinstance(v, str) and _MONTH.match(v)
        else numfmt.day_label(v, lang)
        for k, v in note.params.items()
    }
    return wording.format(**params)


def episode_text(item, labels: dict, lang: str) -> str:
    """An episode (spikes.episodes.Episode) as the bulletin's sentence in `lang`, capitalised:
    "A phishing campaign from 10 to 13 November 2020: 248 incidents, 5.1 times the expected 48.6".
    An alarm (where no episode could be formed) is worded by spike_text."""
    if not hasattr(item, "first_day"):
        return spike_text(item, labels, lang)
    from incidents.spikes.episodes import sentence

    text = sentence(item, lang)
    return text[:1].upper() + text[1:]


def spike_text(alarm, labels: dict, lang: str) -> str:
    """An alarm's sentence in the bulletin's words: labels.spike_texts, numbers and dates localised.

    The detector's own sentence (English) where the labels have no spike_texts (English, or a centre's
    older labels file) or the alarm does not carry its parts (an alarm from elsewhere).
    """
    words = labels.get("spike_texts")
    if not words or getattr(alarm, "period_count", None) is None:
        return alarm.explanation
    from incidents.spikes.explain import level_text, number

    def day(label: str) -> str:  # '2020-10-14' -> '14/10/2020', '2020-10' -> 'tháng 10/2020'
        return numfmt.month_label(label, lang) if len(label) == 7 else "/".join(reversed(label.split("-")))

    point = "," if lang == "vi" else "."

    def expected(x: float) -> str:  # the English sentence's figure (explain.number), localised
        text = number(x)
        return numfmt.integer(int(text), lang) if x >= 10 else text.replace(".", point)

    series = (
        labels.get("total", alarm.series) if alarm.series == "total" else _category_label(alarm.series, lang)
    )
    unit = words["units"][alarm.freq]
    span = alarm.span or 1
    since_key = ("since" if alarm.since else "since_start") + ("_span" if span > 1 else "")
    level = level_text(alarm.level).rstrip("%")
    run = ""
    first, last = getattr(alarm, "run_from", None), getattr(alarm, "run_to", None)
    if first and "in_run" in words:  # the run of days an alarm belongs to (spikes.episodes.annotate)
        run = words["in_run" if first != last else "in_run_one"].format(
            first=day(first), last=day(last or first)
        )
    text = words["span" if span > 1 else "one"].format(
        series=series,
        count=numfmt.integer(alarm.period_count, lang),
        total=numfmt.integer(alarm.count, lang),
        when=words[alarm.freq].format(date=day(alarm.date[:7] if alarm.freq == "month" else alarm.date)),
        span=span,
        unit=unit,
        expected=expected(alarm.expected),
        upper=numfmt.integer(int(alarm.upper), lang),
        level=level.replace(".", point),
        since=words[since_key].format(date=day(alarm.since or alarm.records_from), span=span, unit=unit),
    )
    return text + run


def _category_label(name: str, lang: str) -> str:
    category = CATEGORIES.get(name)
    if category is None:
        return name
    return category.label_vi if lang == "vi" else category.label_en
