"""Page's (1954) cumulative sum for excesses spread over days: bursts and campaigns.

Every period adds the log-likelihood ratio of its count between the baseline's negative binomial
(mean mu, variance disp * mu) and the same distribution shifted up by `delta` standard deviations;
the sum restarts from zero whenever it would go negative, and signals while it is above h. For a sum
of true likelihood ratios the in-control average run length is at least e^h (Wald's identity; Lorden
1971), so h = log(ARL0) makes a signal start at most once every ARL0 periods on average when the
baseline is right: h is set from the false-alert budget, not fitted.

Counts enter at most up to the single-period bound: a day above it alarms on its own, and one huge
day must not keep the sum above h for a fortnight after it (the cumulative sum is for what no single
day shows).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln


def llr(y: np.ndarray, mu: np.ndarray, disp: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood ratio of y for mean mu + delta sd against mu, and its slope in y."""
    mu = np.maximum(mu, 1e-9)
    dsp = np.maximum(disp, 1.0)
    mu1 = mu + delta * np.sqrt(dsp * mu)
    pois = dsp < 1 + 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):
        # NB with size mu / (disp - 1) and probability 1 / disp: shifting the mean scales the size
        s0 = mu / np.where(pois, 1.0, dsp - 1)
        s1 = mu1 / np.where(pois, 1.0, dsp - 1)
        nb = gammaln(y + s1) - gammaln(s1) - gammaln(y + s0) + gammaln(s0) - (s1 - s0) * np.log(dsp)
        nb_slope = np.log((y + s1) / (y + s0))
    ratio = np.log(mu1 / mu)
    value = np.where(pois, y * ratio - (mu1 - mu), nb)
    slope = np.where(pois, ratio, nb_slope)
    return value, slope


def run(
    y: np.ndarray,
    mu: np.ndarray,
    disp: np.ndarray,
    cap: np.ndarray,
    restart: np.ndarray,
    delta: float,
    h: float,
    *,
    begin: int = 0,
    state: tuple | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cumulative sum over the periods (columns) of each series (rows).

    NaN mu (no verdict, or a gap) adds nothing; where `restart` is set the sum starts from zero (a
    level shift was accepted: the rise it summed is now the baseline). Returns the sum, the first
    period of its current run (since it last left zero), the slope of the last period's contribution
    (for the bound), and the run's total count and total expectation (mu, NaN counted as 0).
    The sum starts at period `begin`, from `state` (sum, run start, total count, total expectation,
    as returned for period begin - 1) or from zero.
    """
    has = ~np.isnan(mu)
    yc = np.where(has, np.minimum(y, np.where(np.isnan(cap), y, cap)), 0.0)
    inc, slope = llr(yc, np.where(has, mu, 1.0), np.where(has, disp, 1.0), delta)
    inc = np.where(has, inc, 0.0)
    m = np.where(has, mu, 0.0)
    S, T = y.shape
    cs = np.zeros((S, T))
    start = np.zeros((S, T), dtype=int)
    ty = np.zeros((S, T))
    tm = np.zeros((S, T))
    if state is None:
        c, s0, sy, sm = np.zeros(S), np.zeros(S, dtype=int), np.zeros(S), np.zeros(S)
    else:
        c, s0, sy, sm = (np.array(a, copy=True) for a in state)
    for t in range(begin, T):
        c = np.where(restart[:, t], 0.0, c)
        nxt = c + inc[:, t]
        fresh = c <= 0
        s0 = np.where(fresh, t, s0)
        # running totals of the run: restarted with it, so a resumed run adds up the same way
        sy = np.where(fresh, 0.0, sy) + y[:, t]
        sm = np.where(fresh, 0.0, sm) + m[:, t]
        c = np.maximum(nxt, 0.0)
        cs[:, t] = c
        start[:, t] = s0
        ty[:, t] = sy
        tm[:, t] = sm
    return cs, start, slope, ty, tm
