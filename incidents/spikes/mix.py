"""Days whose mix of incidents is unusual even when no single count is: an IsolationForest (Liu, Ting
and Zhou 2008; scikit-learn) over daily feature vectors, refitted on the past only, every four weeks
(a day between refits is scored by its block's forests, kept in the store: forest.py).

Features per day: incidents per category, distinct targets, distinct source addresses, and the share
of targets never seen before. Counts enter as log(1 + n) so a busy category does not drown the rest;
distinct targets and sources enter per incident, so a quiet Sunday is not "unusual" for being quiet
(the count detector judges volume; this one judges make-up: 60 incidents from 2 addresses).
A day is unusual when the forests isolate it more easily than all but 1% of the days of the year they
were trained on, each training day scored by the forest that did not see it: a cross-fitted conformal
p-value (Vovk et al. 2005) of at most 0.01, three or four days a year when nothing changes. That is a
calibrated rate on past data, not scikit-learn's fixed "contamination" share of the scored days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from incidents.spikes.forest import ForestCache

TRAIN_DAYS = 365
MIN_TRAIN_DAYS = 56  # the same eight weeks the count detector needs
REFIT_DAYS = 28  # refitted every four weeks, on Mondays fixed by the calendar (so prefix-invariant)
SEED = 0
MIX_ALPHA = 0.01


@dataclass
class MixFlag:
    """A day with an unusual mix of incidents, and the features that made it unusual."""

    date: str
    score: float  # IsolationForest score_samples: lower is more unusual
    threshold: float  # the highest score that is still unusual (from the cross-fitted training scores)
    features: list[tuple[str, float, float, float]]  # (feature, value, usual low, usual high)
    explanation: str

    def as_dict(self) -> dict:
        return asdict(self)


def day_features(db, *, until: str | None = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(days, feature names, values) for every day from the store's first day to `until`."""
    from incidents import store
    from incidents.spikes.series import calendar
    from incidents.taxonomy import CATEGORIES

    first, last = store.data_span(db)
    until = until or last
    if first is None or until < first:
        return np.array([], dtype="datetime64[D]"), [], np.zeros((0, 0))
    days = calendar(np.datetime64(first), np.datetime64(until), "day")
    cats = list(CATEGORIES)
    names = [f"{c} incidents" for c in cats] + [
        "distinct targets",
        "distinct sources",
        "share of new targets",
    ]
    values = np.zeros((len(days), len(names)))
    for day, cat, count in store.day_counts(db, until=until, by_category=True):
        if cat in cats:
            values[(np.datetime64(day) - days[0]).astype(int), cats.index(cat)] = count
    n = len(cats)
    for day, targets, sources in store.day_spread(db, until=until):
        values[(np.datetime64(day) - days[0]).astype(int), n : n + 2] = (targets, sources)
    fresh = np.zeros(len(days))
    for day, count in store.new_targets(db, until=until):
        fresh[(np.datetime64(day) - days[0]).astype(int)] = count
    with np.errstate(invalid="ignore", divide="ignore"):
        values[:, n + 2] = np.where(values[:, n] > 0, fresh / values[:, n], 0.0)
    return days, names, values


def unusual_days(
    days: np.ndarray,
    names: list[str],
    values: np.ndarray,
    *,
    since: str | None = None,
    forests: ForestCache | None = None,
) -> list[MixFlag]:
    """Flag days from `since` on whose feature vector the forest isolates more easily than any
    training day; each flag names the features furthest from their usual range.

    `forests`: fitted forests by what they were trained on (forest.py), reused and filled; a block
    whose training rows are in it is scored without fitting (nor importing scikit-learn)."""
    from incidents.spikes.forest import ForestCache, score

    forests = forests if forests is not None else ForestCache()
    if len(days) == 0:
        return []
    x = _transform(values, names)
    first = np.datetime64(since) if since else days[0]
    flags = []
    epoch = np.datetime64("2000-01-03")  # a Monday: refit days are fixed by the calendar
    t = 0
    while t < len(days):
        if (days[t] - epoch).astype(int) % REFIT_DAYS != 0 or t < MIN_TRAIN_DAYS:
            t += 1
            continue
        end = min(len(days), t + REFIT_DAYS)
        if days[end - 1] < first:
            t = end
            continue
        train = x[max(0, t - TRAIN_DAYS) : t]
        # Two forests on alternate days: each scores the days it did not see (a day a forest was
        # trained on looks less unusual to it), and the new days get the mean of the two scores.
        halves = [train[0::2], train[1::2]]
        pair = forests.pair(halves, SEED)
        calibration = np.sort(np.concatenate([score(pair[1], halves[0]), score(pair[0], halves[1])]))
        scores = (score(pair[0], x[t:end]) + score(pair[1], x[t:end])) / 2
        # p = (1 + #calibration scores <= s) / (n + 1) <= MIX_ALPHA
        allowed = int(np.floor(MIX_ALPHA * (len(calibration) + 1))) - 1
        if allowed < 0:
            t = end
            continue
        threshold = float(calibration[allowed])
        lo, hi = np.percentile(values[max(0, t - TRAIN_DAYS) : t], [5, 95], axis=0)
        med = np.median(train, axis=0)
        mad = 1.4826 * np.median(np.abs(train - med), axis=0)
        spread = np.where(mad > 0, mad, np.maximum(train.std(axis=0), 1e-9))
        for j in np.flatnonzero(scores < threshold):
            if days[t + j] < first:
                continue
            z = np.abs(x[t + j] - med) / spread
            top = [k for k in np.argsort(-z)[:3] if z[k] >= 2]
            feats = [(names[k], float(values[t + j, k]), float(lo[k]), float(hi[k])) for k in top]
            flags.append(
                MixFlag(
                    str(days[t + j]),
                    round(float(scores[j]), 4),
                    round(threshold, 4),
                    feats,
                    _sentence(str(days[t + j]), feats),
                )
            )
        t = end
    return flags


def _transform(values: np.ndarray, names: list[str]) -> np.ndarray:
    x = values.copy()
    counts = [k for k, n in enumerate(names) if n.endswith(" incidents")]
    per_incident = [k for k, n in enumerate(names) if n.startswith("distinct")]
    total = values[:, counts].sum(1, keepdims=True)
    x[:, per_incident] = np.where(total > 0, values[:, per_incident] / np.maximum(total, 1), 0.0)
    x[:, counts] = np.log1p(x[:, counts])
    return x


def _sentence(day: str, feats: list[tuple[str, float, float, float]]) -> str:
    def show(v: float, name: str) -> str:
        return f"{v:.2f}" if name.startswith("share") else f"{v:.0f}"

    parts = [f"{n} {show(v, n)} (usual {show(lo, n)}-{show(hi, n)})" for n, v, lo, hi in feats]
    return f"unusual mix on {day}: " + ("; ".join(parts) if parts else "no single feature stands out")


def store_mix(db, *, since: str | None = None, until: str | None = None) -> list[MixFlag]:
    """Unusual-mix days of the stored incidents from `since` to `until`."""
    days, names, values = day_features(db, until=until)
    return unusual_days(days, names, values, since=since)
