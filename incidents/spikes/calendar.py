"""Holidays that change how many incidents get reported: Tết, Vietnam's other public holidays, year end.

Reporting dips on holidays are not "quiet days": if the baseline ignored them, the days around them
would look high and the holiday itself would drag the expected level down. Each kind of holiday gets
its own indicator in the regression baseline (as Farrington-type systems do for bank holidays).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

HOLIDAY_LANGUAGE = "en_US"
# Column names of `holiday_indicators`, in order.
HOLIDAY_COLUMNS = ("tet", "public_holiday", "year_end")


def holiday_days(first: date, last: date) -> dict[str, set[date]]:
    """Days of each holiday kind between `first` and `last` (inclusive).

    tet: the Lunar New Year break as Vietnam's labour code fixes it (the `holidays` package computes
    the lunar dates, so the break moves with the moon: 2020-01-23..29, 2024-02-08..14).
    public_holiday: Vietnam's other public holidays (Hung Kings, 30 April, 1 May, National Day and the
    days off substituted for them).
    year_end: 24 December to 2 January, when partner CERTs and international feeds report little.
    """
    # The Vietnam module alone: `holidays.country_holidays` imports every country (1.3 s of CPU).
    from holidays.countries.vietnam import Vietnam

    years = range(first.year, last.year + 1)
    # Names in one fixed language: without `language` the package names Vietnam's holidays in the
    # process's locale (Vietnamese under vi_VN and C alike, English under en_US), and a verdict must
    # not depend on the machine's LANG.
    vn = Vietnam(years=years, language=HOLIDAY_LANGUAGE)
    kinds: dict[str, set[date]] = {name: set() for name in HOLIDAY_COLUMNS}
    for day, name in vn.items():
        if not first <= day <= last:
            continue
        if "Lunar New Year" in name:
            kinds["tet"].add(day)
        elif not (day.month == 1 and day.day == 1):  # New Year's Day belongs to the year-end break
            kinds["public_holiday"].add(day)
    day = first
    while day <= last:
        if (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day <= 2):
            kinds["year_end"].add(day)
        day += timedelta(days=1)
    return kinds


def holiday_indicators(days: list[date]) -> np.ndarray:
    """A (len(days), 3) array of 0/1: is each day a Tết, public-holiday or year-end day."""
    if not days:
        return np.zeros((0, len(HOLIDAY_COLUMNS)))
    kinds = holiday_days(min(days), max(days))
    return np.array([[day in kinds[k] for k in HOLIDAY_COLUMNS] for day in days], dtype=float)
