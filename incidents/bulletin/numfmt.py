"""Numbers, percentages and months written the way the Vietnamese and English releases write them.

Vietnamese uses a dot for thousands and a comma for decimals ("4.161 sự cố", "11,07%"), English the
reverse ("4,161 incidents", "11.07%"), as in the AIS/NCSC press releases and their English versions
(en.vietnamplus.vn). Percentages arrive already rounded by incidents.stats (half away from zero).
"""

from __future__ import annotations

from decimal import Decimal

LANGS = ("vi", "en")
NOT_AVAILABLE = {"vi": "không có số liệu", "en": "n/a"}

_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_EN_COUNT_WORDS = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


class UnknownLanguage(ValueError):
    """The bulletin is written in Vietnamese (vi) or English (en) only."""


def check_lang(lang: str) -> str:
    """`lang` when it is one of LANGS ('en', 'vi'); raises UnknownLanguage otherwise."""
    if lang not in LANGS:
        raise UnknownLanguage(f"language must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def _separators(lang: str) -> tuple[str, str]:
    return (".", ",") if check_lang(lang) == "vi" else (",", ".")


def integer(n: int | None, lang: str) -> str:
    """4161 -> '4.161' (vi) or '4,161' (en); None -> 'n/a'."""
    if n is None:
        return NOT_AVAILABLE[lang]
    thousands, _ = _separators(lang)
    return f"{n:,d}".replace(",", thousands)


def decimal(x: float | None, lang: str, places: int = 2) -> str:
    """11.07 -> '11,07' (vi) or '11.07' (en), with thousands grouped; None -> 'n/a'."""
    if x is None:
        return NOT_AVAILABLE[lang]
    thousands, point = _separators(lang)
    # Decimal(str(x)) keeps the figure stats rounded (11.07), where float formatting could drift.
    text = f"{Decimal(str(x)):,.{places}f}"
    return text.replace(",", "\0").replace(".", point).replace("\0", thousands)


def percent(x: float | None, lang: str, *, signed: bool = False) -> str:
    """11.07 -> '11,07%' / '11.07%'; with signed=True '+11,07%' / '-7,82%'. None -> 'n/a'."""
    if x is None:
        return NOT_AVAILABLE[lang]
    text = decimal(abs(x) if signed else x, lang) + "%"
    if signed:
        # ASCII signs, as the releases print them, so the figures copy into spreadsheets as they are.
        text = ("+" if x > 0 else "-" if x < 0 else "") + text
    return text


def change(x: float | None, lang: str) -> str:
    """A change in words: 'tăng 11,07%' / 'giảm 7,82%' / 'không đổi'; 'up 11.07%' / 'down 7.82%' / 'unchanged'."""
    if x is None:
        return NOT_AVAILABLE[lang]
    if x == 0:
        return "không đổi" if check_lang(lang) == "vi" else "unchanged"
    if check_lang(lang) == "vi":
        word = "tăng" if x > 0 else "giảm"
    else:
        word = "up" if x > 0 else "down"
    return f"{word} {percent(abs(x), lang)}"


def month_label(month: str, lang: str) -> str:
    """'2020-10' -> 'tháng 10/2020' (vi, as the releases write it) or 'October 2020' (en)."""
    year, mon = int(month[:4]), int(month[5:7])
    if check_lang(lang) == "vi":
        return f"tháng {mon}/{year}"
    return f"{_EN_MONTHS[mon - 1]} {year}"


def day_label(day: str, lang: str) -> str:
    """'2020-11-05' -> '05/11/2020' (vi, dd/mm/yyyy as the releases write dates) or '5 November 2020'
    (en); anything that is not a YYYY-MM-DD day is returned unchanged."""
    if not (
        isinstance(day, str) and len(day) == 10 and day[4] == day[7] == "-" and day.replace("-", "").isdigit()
    ):
        return day
    year, mon, d = int(day[:4]), int(day[5:7]), int(day[8:10])
    if check_lang(lang) == "vi":
        return f"{d:02d}/{mon:02d}/{year}"
    return f"{d} {_EN_MONTHS[mon - 1]} {year}"


def short_month(month: str, lang: str) -> str:
    """'2020-10' -> '10/2020' (vi) or 'Oct 2020' (en): chart axes and table headers."""
    year, mon = int(month[:4]), int(month[5:7])
    if check_lang(lang) == "vi":
        return f"{mon}/{year}"
    return f"{_EN_MONTHS[mon - 1][:3]} {year}"


def months_of_year(n: int, lang: str) -> str:
    """How the releases name a year-to-date span: '10 tháng đầu năm' / 'first ten months'."""
    if check_lang(lang) == "vi":
        return f"{n} tháng đầu năm"
    word = _EN_COUNT_WORDS[n - 1] if 1 <= n <= 12 else str(n)
    return "first month" if n == 1 else f"first {word} months"
