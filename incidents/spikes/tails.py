"""Tails of the negative binomial with mean mu and variance disp * mu (Noufaily et al. 2013's
parametrisation: size mu / (disp - 1), probability 1 / disp; Poisson at disp 1), and the mid-p rule.

Why mid-p (Lancaster 1961): counts are discrete, so "P(Y >= y) <= alpha" spends far less than alpha at
low means (at a Poisson mean of 0.5, P(Y >= 4) = 0.0018 but P(Y >= 5) = 0.00017: a 0.1% test really
runs at 0.017%). The mid-p value P(Y > y) + P(Y = y) / 2 has expectation 1/2 under the null whatever
the mean, so the rate at which it falls under alpha is alpha on average over the days of a series rather
than a small fraction of it; on any one day it spends at most 2 alpha. That is what a false-alert budget
(alerts per series-year) asks for: the rate, not a per-day worst case.

The distribution functions are scipy.stats' own (`poisson`, `nbinom`, `chi2`: the same special functions
and the same handling of the ends of the support and of invalid parameters, so every number is
identical; tests/test_spikes_tails.py compares them), called through `scipy.special` because importing
`scipy.stats` costs about a second of CPU at every `incidents spikes` start and `scipy.special` a third
of that.
"""

from __future__ import annotations

import numpy as np
from scipy import special
from scipy.special import _ufuncs as _boost  # scipy.stats.nbinom's own Boost functions

_NAN = np.nan


def _prepared(k, *params):
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (k, *params)))
    return arrays[0], arrays[1:]


def _poisson_ok(mu):
    return mu >= 0


def _nbinom_ok(n, p):
    return (n > 0) & (p > 0) & (p <= 1)


def _sf(k, params, ok, inner):
    """rv_discrete.sf on the support [0, inf): 1 below it, 0 at +inf, NaN for bad parameters."""
    out = np.zeros(k.shape)
    out[~ok | np.isnan(k)] = _NAN
    out[(k < 0) & ok] = 1.0
    cond = ok & (k >= 0) & np.isfinite(k)
    if cond.any():
        out[cond] = np.clip(inner(np.floor(k[cond]), *(a[cond] for a in params)), 0, 1)
    return out


def _cdf(k, params, ok, inner):
    """rv_discrete.cdf on the support [0, inf): 0 below it, 1 at +inf, NaN for bad parameters."""
    out = np.zeros(k.shape)
    out[(k == np.inf)] = 1.0
    out[~ok | np.isnan(k)] = _NAN
    cond = ok & (k >= 0) & np.isfinite(k)
    if cond.any():
        out[cond] = np.clip(inner(np.floor(k[cond]), *(a[cond] for a in params)), 0, 1)
    return out


def _logcdf(k, params, ok, inner):
    """rv_discrete.logcdf on the support [0, inf): -inf below it, 0 at +inf, NaN for bad parameters."""
    out = np.full(k.shape, -np.inf)
    out[~ok | np.isnan(k)] = _NAN
    out[k == np.inf] = 0.0
    cond = ok & (k >= 0) & (k < np.inf)
    if cond.any():
        out[cond] = inner(k[cond], *(a[cond] for a in params))
    return out


def _ppf(q, params, ok, inner):
    """rv_discrete.ppf on the support [0, inf): -1 at q = 0, inf at q = 1, NaN outside (0, 1)."""
    out = np.full(q.shape, _NAN)
    out[(q == 0) & ok] = -1.0
    out[(q == 1) & ok] = np.inf
    cond = ok & (q > 0) & (q < 1)
    if cond.any():
        out[cond] = inner(q[cond], *(a[cond] for a in params))
    return out


def _poisson_ppf(q, mu):
    vals = np.ceil(special.pdtrik(q, mu))
    vals1 = np.maximum(vals - 1, 0)
    return np.where(special.pdtr(vals1, mu) >= q, vals1, vals)


def _poisson_logcdf(k, mu):
    with np.errstate(divide="ignore"):
        return np.log(special.pdtr(np.floor(k), mu))


def _nbinom_ppf(q, n, p):
    with np.errstate(over="ignore"):  # scipy gh-17432
        return _boost._nbinom_ppf(q, n, p)


def _nbinom_logcdf(x, n, p):
    k = np.floor(x)
    cdf = _boost._nbinom_cdf(k, n, p)
    high = cdf > 0.5
    out = cdf
    with np.errstate(divide="ignore"):
        out[high] = np.log1p(-special.betainc(k[high] + 1, n[high], 1 - p[high]))
        out[~high] = np.log(cdf[~high])
    return out


def poisson_sf(k, mu) -> np.ndarray:
    """scipy.stats.poisson.sf: P(Y > k)."""
    k, (mu,) = _prepared(k, mu)
    return _sf(k, (mu,), _poisson_ok(mu), special.pdtrc)


def poisson_cdf(k, mu) -> np.ndarray:
    """scipy.stats.poisson.cdf: P(Y <= k)."""
    k, (mu,) = _prepared(k, mu)
    return _cdf(k, (mu,), _poisson_ok(mu), special.pdtr)


def poisson_logcdf(k, mu) -> np.ndarray:
    """scipy.stats.poisson.logcdf: log P(Y <= k)."""
    k, (mu,) = _prepared(k, mu)
    return _logcdf(k, (mu,), _poisson_ok(mu), _poisson_logcdf)


def poisson_ppf(q, mu) -> np.ndarray:
    """scipy.stats.poisson.ppf: the least k with P(Y <= k) >= q."""
    q, (mu,) = _prepared(q, mu)
    return _ppf(q, (mu,), _poisson_ok(mu), _poisson_ppf)


def nbinom_sf(k, n, p) -> np.ndarray:
    """scipy.stats.nbinom.sf (size n, success probability p): P(Y > k)."""
    k, (n, p) = _prepared(k, n, p)
    return _sf(k, (n, p), _nbinom_ok(n, p), _boost._nbinom_sf)


def nbinom_cdf(k, n, p) -> np.ndarray:
    """scipy.stats.nbinom.cdf: P(Y <= k)."""
    k, (n, p) = _prepared(k, n, p)
    return _cdf(k, (n, p), _nbinom_ok(n, p), _boost._nbinom_cdf)


def nbinom_logcdf(k, n, p) -> np.ndarray:
    """scipy.stats.nbinom.logcdf: log P(Y <= k), accurate where P(Y <= k) is near 1."""
    k, (n, p) = _prepared(k, n, p)
    return _logcdf(k, (n, p), _nbinom_ok(n, p), _nbinom_logcdf)


def nbinom_ppf(q, n, p) -> np.ndarray:
    """scipy.stats.nbinom.ppf: the least k with P(Y <= k) >= q."""
    q, (n, p) = _prepared(q, n, p)
    return _ppf(q, (n, p), _nbinom_ok(n, p), _nbinom_ppf)


def chi2_isf(q: float, df: float) -> float:
    """scipy.stats.chi2.isf for 0 < q < 1: the x with P(X > x) = q."""
    if not 0 < q < 1 or not df > 0:
        raise ValueError(f"chi2_isf needs 0 < q < 1 and df > 0, got q={q}, df={df}")
    return float(special.chdtri(df, q))


def _dist(mu: np.ndarray, disp: np.ndarray):
    m, dsp = np.minimum(mu, 1e9), np.minimum(np.maximum(disp, 1.0), 1e6)
    return m, dsp


_FAMILY = {
    "sf": (poisson_sf, nbinom_sf),
    "ppf": (poisson_ppf, nbinom_ppf),
    "logcdf": (poisson_logcdf, nbinom_logcdf),
}


def _by_family(method: str, x: np.ndarray, m: np.ndarray, dsp: np.ndarray) -> np.ndarray:
    """The `method` (sf, ppf, logcdf) at x, element by element (x, m, dsp of one shape): Poisson where
    the dispersion is 1, else the negative binomial of size m / (dsp - 1), probability 1 / dsp."""
    poisson, nbinom = _FAMILY[method]
    out = np.empty(np.shape(m))
    pois = dsp < 1 + 1e-6
    out[pois] = poisson(x[pois], m[pois])
    nb = ~pois
    out[nb] = nbinom(x[nb], m[nb] / (dsp[nb] - 1), 1 / dsp[nb])
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
