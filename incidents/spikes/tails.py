"""Tails of the negative binomial with mean mu and variance disp * mu (Noufaily et al. 2013's
parametrisation: size mu / (disp - 1), probability 1 / disp; Poisson at disp 1), and the mid-p rule.

Why mid-p (Lancaster 1961): counts are discrete, so "P(Y >= y) <= alpha" spends far less than alpha at
low means (at a Poisson mean of 0.5, P(Y >= 4) = 0.0018 but P(Y >= 5) = 0.00017: a 0.1% test really
runs at 0.017%). The mid-p value P(Y > y) + P(Y = y) / 2 has expectation 1/2 under the null whatever
the mean, so the rate at which it falls under alpha is alpha on average over the days of a series rather
than a small fraction of it; on any one day it spends at most 2 alpha. That is what a false-alert budget
(alerts per series-year) asks for: the rate, not a per-day worst case.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _dist(mu: np.ndarray, disp: np.ndarray):
    m, dsp = np.minimum(mu, 1e9), np.minimum(np.maximum(disp, 1.0), 1e6)
    return m, dsp


def _by_family(method: str, x: np.ndarray, m: np.ndarray, dsp: np.ndarray) -> np.ndarray:
    """scipy's `method` (sf, ppf, logcdf) at x, element by element (x, m, dsp of one shape): Poisson
    where the dispersion is 1, else the negative binomial of size m / (dsp - 1), probability 1 / dsp."""
    out = np.empty(np.shape(m))
    pois = dsp < 1 + 1e-6
    out[pois] = getattr(stats.poisson, method)(x[pois], m[pois])
    nb = ~pois
    out[nb] = getattr(stats.nbinom, method)(x[nb], m[nb] / (dsp[nb] - 1), 1 / dsp[nb])
    return out


def sf(y: np.ndarray, mu: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """P(Y > y)."""
    m, dsp = _dist(mu, disp)
    return _by_family("sf", *np.broadcast_arrays(y, m, dsp))


def mid_p(y: np.ndarray, mu: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """P(Y > y) + P(Y = y) / 2 = (P(Y > y) + P(Y >= y)) / 2."""
    return 0.5 * (sf(y, mu, disp) + sf(y - 1, mu, disp))


def exceeds(y: np.ndarray, mu: np.ndarray, disp: np.ndarray, alpha) -> np.ndarray:
    """The count is beyond the bound: its mid-p value is at most alpha."""
    return mid_p(y, mu, disp) <= alpha


def upper_bound(mu: np.ndarray, disp: np.ndarray, alpha) -> np.ndarray:
    """The highest count that does not exceed (NaN where mu is NaN): y exceeds iff y > upper.
    `alpha` is one tail probability or one per period.

    With q the (1 - alpha) quantile, P(Y > q) <= alpha < P(Y > q - 1), so the mid-p value of q + 1 is
    at most alpha and that of q - 1 is above it: the first exceeding count is q or q + 1.
    """
    out = np.full(np.shape(mu), np.nan)
    has = ~np.isnan(mu)
    m, dsp = _dist(mu[has], disp[has])
    a = np.broadcast_to(alpha, np.shape(mu))[has]
    q = _by_family("ppf", 1 - a, m, dsp)
    out[has] = np.where(mid_p(q, m, dsp) <= a, q - 1, q)
    return out


def log_cdf(y: np.ndarray, mu: np.ndarray, disp: np.ndarray) -> np.ndarray:
    """log P(Y <= y), accurate far into the lower tail (a run of zeros at a mean of 40)."""
    m, dsp = _dist(mu, disp)
    return _by_family("logcdf", *np.broadcast_arrays(y, m, dsp))
