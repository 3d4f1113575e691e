"""One sentence per alarm, the text alert e-mails and the bulletin quote:
"phishing: 47 incidents on 2020-11-12, expected 14, upper bound 27 (99.9%), highest since 2020-03-02"."""

from __future__ import annotations

import numpy as np


def when(start: np.datetime64, freq: str) -> str:
    """'on 2020-11-12', 'in the week of 2020-11-09', 'in 2020-11'."""
    day = str(np.datetime64(start, "D"))
    if freq == "week":
        return f"in the week of {day}"
    if freq == "month":
        return f"in {day[:7]}"
    if freq == "hour":
        return f"at {np.datetime64(start, 'h')}:00"
    return f"on {day}"


def number(x: float) -> str:
    """Expected counts: whole numbers from 10 up, one decimal below (an expected 0.4 is not 0)."""
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}".rstrip("0").rstrip(".") if x >= 0.05 else "0"


def level_text(alpha: float) -> str:
    """'99.9%', '99.96%', '99.995%': the bound's confidence, to the first digit that is not a 9."""
    digits = int(np.clip(np.ceil(-np.log10(max(alpha, 1e-12))) - 1, 1, 6))
    return f"{100 * (1 - alpha):.{digits}f}".rstrip("0").rstrip(".") + "%"


def since_label(history: np.ndarray, value: float, starts: np.ndarray, freq: str) -> str | None:
    """The last earlier period at least as high ('2020-03-02', '2020-03' for months), or None."""
    higher = np.flatnonzero(history >= value)
    return period_label(starts[higher[-1]], freq) if higher.size else None


def period_label(start: np.datetime64, freq: str) -> str:
    """'2020-11-12' (the period's first day), or '2020-11' for a month."""
    day = str(np.datetime64(start, "D"))
    return day[:7] if freq == "month" else day


def sentence(
    series: str,
    start: np.datetime64,
    freq: str,
    count: int,
    expected: float,
    upper: float,
    confidence: str,
    *,
    span: int = 1,
    total: float | None = None,
    since: str | None,
    records_from: str,
) -> str:
    """The explanation of one alarm. `since` is the last earlier period whose value (the period's count,
    or the running total over `span` periods) was as high (`since_label`), None if none was."""
    noun = "incident" if count == 1 else "incidents"
    head = f"{series}: {count} {noun} {when(start, freq)}"
    highest = "highest"
    if span > 1:
        unit = {"day": "days", "week": "weeks", "month": "months", "hour": "hours"}[freq]
        head += f", {total:.0f} over the last {span} {unit}"
        highest = f"highest {span}-{unit[:-1]} total"
    tail = f"{highest} since {since}" if since else f"{highest} since records began ({records_from})"
    return f"{head}, expected {number(expected)}, upper bound {upper:.0f} ({confidence}), {tail}"
