"""From what the baseline expects to verdicts: the single-period bound, the totals of the last few
periods and Page's CUSUM (see detector.py for the whole method)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from incidents.spikes import cusum, tails
from incidents.spikes.resume import Checkpoint
from incidents.spikes.settings import Settings


@dataclass
class Verdicts:
    """Per series (rows) and period (columns) of the calendar; NaN / False where there is no verdict."""

    expected: np.ndarray
    upper: np.ndarray
    score: np.ndarray
    alarm: np.ndarray
    shifts: list[list[tuple[int, float]]] = field(default_factory=list)  # (period index, ratio)
    # For an alarm raised by the total of several periods: how many, their total, its expectation
    # and bound (span 1 = the period alone).
    span: np.ndarray | None = None
    span_count: np.ndarray | None = None
    span_expected: np.ndarray | None = None
    span_upper: np.ndarray | None = None
    dispersion: np.ndarray | None = None  # variance / mean of the predictive distribution
    # The tail probability of the bound each period was judged by: the single period's, a total's
    # (for span alarms), or the CUSUM's 1 / ARL.
    level: np.ndarray | None = None
    # What the detector knew at the start of the block asked for (detect's `checkpoint_at`)
    checkpoint: Checkpoint | None = None
    # The CUSUM per period: its sum, the start of its run, and the run's total count and expectation
    cusum: tuple | None = None


@dataclass
class Forecast:
    """What the baseline expects of every period (series x periods; NaN where there is no verdict)."""

    expected: np.ndarray
    dispersion: np.ndarray  # variance / mean of the predictive distribution
    lift: np.ndarray  # how much a holiday lowered the expectation (log scale, >= 0)
    restart: np.ndarray  # the CUSUM starts afresh here (a new level is in force)
    span_count: np.ndarray  # (spans > 1) x series x periods: totals of the last w periods
    span_expected: np.ndarray
    span_dispersion: np.ndarray


def decide(
    y: np.ndarray, f: Forecast, s: Settings, shifts: list | None = None, *, begin: int = 0, cusum0=None
) -> Verdicts:
    """The verdicts on counts `y` given what the baseline expects: the single-period bound, the totals
    of the last few periods, and the CUSUM. bench/spikes_oracle.py feeds it the true baseline.
    `begin`, `cusum0`: the CUSUM starts at period `begin` in that state (a resumed run)."""
    S, T = y.shape
    spans = [w for w in s.spans if w > 1]
    mu_out, disp_out, lift_out, restart = f.expected, f.dispersion, f.lift, f.restart
    span_y, span_m, span_d = f.span_count, f.span_expected, f.span_dispersion
    alpha = s.levels(mu_out, disp_out)
    span_alpha = alpha * (s.span_alpha / s.alpha)
    upper = tails.upper_bound(mu_out, disp_out, alpha)
    # A holiday may make a day quieter than usual, never more suspicious: reporting on holidays is
    # irregular (a centre closed one year, on duty the next), so on a holiday a count must also exceed
    # the bound of an ordinary day before it alarms.
    lifted = lift_out > 0
    if lifted.any():
        ordinary = np.where(lifted, np.exp(np.log(mu_out) + np.minimum(lift_out, 10.0)), np.nan)
        upper = np.where(lifted, np.fmax(upper, tails.upper_bound(ordinary, disp_out, alpha)), upper)
    has = ~np.isnan(mu_out)
    alarm = has & (y > upper) & (y >= s.min_count)
    with np.errstate(invalid="ignore"):
        score = np.where(has, (y - mu_out) / np.maximum(upper - mu_out, 1.0), np.nan)
    span = np.where(alarm, 1, 0)
    span_count, span_expected, span_upper = y.copy(), mu_out.copy(), upper.copy()
    level = alpha.copy()
    for n, w in enumerate(spans):
        # a total alarms only when the period itself is above its expectation: the run is going on
        test = has & ~alarm & (y > mu_out) & (span_y[n] >= s.min_count)
        hit = np.zeros_like(alarm)
        hit[test] = tails.exceeds(span_y[n][test], span_m[n][test], span_d[n][test], span_alpha[test])
        up_w = tails.upper_bound(np.where(hit, span_m[n], np.nan), span_d[n], span_alpha)
        with np.errstate(invalid="ignore"):
            sc = (span_y[n] - span_m[n]) / np.maximum(up_w - span_m[n], 1.0)
        score = np.where(hit, sc, score)
        span = np.where(hit, w, span)
        span_count = np.where(hit, span_y[n], span_count)
        span_expected = np.where(hit, span_m[n], span_expected)
        span_upper = np.where(hit, up_w, span_upper)
        level = np.where(hit, span_alpha, level)
        alarm = alarm | hit
    if s.cusum_delta:
        ordinary = mu_out * np.exp(np.minimum(lift_out, 10.0))
        h = np.log(s.cusum_arl)
        cs, run_start, slope, total, expect = cusum.run(
            y, ordinary, disp_out, upper, restart, s.cusum_delta, h, begin=begin, state=cusum0
        )
        cusum_cols = (cs, run_start, total, expect)
        cols = np.arange(T)[None, :]
        hit = has & ~alarm & (cs > h) & (total >= s.min_count)
        with np.errstate(divide="ignore", invalid="ignore"):
            up_c = np.maximum(total - (cs - h) / np.maximum(slope, 1e-9), expect)
            sc = (total - expect) / np.maximum(up_c - expect, 1.0)
        score = np.where(hit, sc, score)
        span = np.where(hit, cols - run_start + 1, span)
        span_count = np.where(hit, total, span_count)
        span_expected = np.where(hit, expect, span_expected)
        span_upper = np.where(hit, np.floor(up_c), span_upper)
        level = np.where(hit, 1.0 / s.cusum_arl, level)
        alarm = alarm | hit
    return Verdicts(
        mu_out,
        upper,
        score,
        alarm,
        shifts or [[] for _ in range(S)],
        span,
        span_count,
        span_expected,
        span_upper,
        disp_out,
        level,
        cusum=cusum_cols if s.cusum_delta else None,
    )
