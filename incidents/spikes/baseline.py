"""The regression baseline: a log-linear quasi-Poisson model with trend, weekly and annual seasonality,
holidays and a level step, fitted by robustly reweighted IRLS for many series at once.

The model is the one of Farrington et al. (1996, JRSS A 159:547) as improved by Noufaily et al. (2013,
Stat Med 32:1206): log E[y_t] = trend + season + holidays (+ a level step after a detected shift),
Var[y_t] = phi * E[y_t], and past outbreaks down-weighted by their Anscombe residuals (weight s^-2 when
the standardised residual s exceeds 2.58, Noufaily's choice instead of Farrington's 1). The dispersion
leaves outbreaks out altogether and is made consistent for what that cuts from the negative binomial's
own tail (`trimmed_dispersion`). Daily data get a day-of-week factor. statsmodels would fit one series per call; here every series of a batch is fitted in
the same numpy operations, which is what keeps 300 three-year series well under the 30 s budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from incidents.spikes.calendar import holiday_indicators

FREQS = ("hour", "day", "week", "month")
# Trend is measured in years from a fixed epoch, so a series' coefficients never depend on where
# another series (or the file) starts.
_EPOCH = np.datetime64("2020-01-01T00", "h")
_HOURS_PER_YEAR = 365.25 * 24
# Noufaily et al. 2013: only residuals beyond the 99% normal quantile are down-weighted in the fit of
# the mean. The dispersion leaves out periods beyond the 99.9% cut-off: at low counts with phi up to 5
# the 99% one would cut a fifth of the negative binomial's own tail variance, so the estimate would
# lean on the consistency correction far more.
ROBUST_Z = 2.58
DISPERSION_Z = 3.09
_ETA_RANGE = (-9.0, 20.0)  # exp(-9) ~ 1e-4: "nothing expected"; keeps IRLS finite on all-zero windows
_DISABLED = 1e8  # ridge on a column the window cannot estimate (no holiday in it, under a year of data)


@dataclass
class Design:
    """Covariates of every period of the calendar, and which columns need what to be estimable."""

    X: np.ndarray  # (T, p0)
    names: list[str]
    seasonal: list[int] = field(default_factory=list)  # annual terms: need `season_periods` of data
    season_periods: int = 0
    holiday: list[int] = field(default_factory=list)  # need `holiday_rows` periods with the holiday
    holiday_rows: int = 3

    @property
    def Z(self) -> np.ndarray:
        """Row outer products x_t x_t' (upper triangle, flattened): X'WX for many weight vectors is
        then one matrix product W @ Z."""
        r, c = np.triu_indices(self.X.shape[1])
        return self.X[:, r] * self.X[:, c]


def _fourier(cycles: np.ndarray, harmonics: int, prefix: str) -> tuple[list[np.ndarray], list[str]]:
    cols, names = [], []
    for j in range(1, harmonics + 1):
        cols += [np.sin(2 * np.pi * j * cycles), np.cos(2 * np.pi * j * cycles)]
        names += [f"{prefix}_sin{j}", f"{prefix}_cos{j}"]
    return cols, names


def design(starts: np.ndarray, freq: str) -> Design:
    """Design matrix for periods starting at `starts` (datetime64) of frequency `freq`."""
    hours = (starts.astype("datetime64[h]") - _EPOCH).astype(float)
    years = hours / _HOURS_PER_YEAR
    cols: list[np.ndarray] = [np.ones(len(starts)), years]
    names = ["intercept", "trend"]
    seasonal: list[int] = []
    holiday: list[int] = []
    if freq == "hour":
        # Sub-daily counts: a smooth daily cycle and a day-of-week factor; no annual terms (such
        # series are short) and no holidays (they are what an analyst of such data wants to see).
        f, n = _fourier((hours % 24) / 24.0, 4, "hour")
        cols += f
        names += n
        dow = (starts.astype("datetime64[D]").view("int64") + 3) % 7  # 1970-01-01 was a Thursday
        for d in range(1, 7):
            cols.append((dow == d).astype(float))
            names.append(f"dow{d}")
        return Design(np.column_stack(cols), names)
    days = starts.astype("datetime64[D]")
    if freq == "day":
        dow = (days.view("int64") + 3) % 7  # 0 = Monday
        for d in range(1, 7):
            cols.append((dow == d).astype(float))
            names.append(f"dow{d}")
    f, n = _fourier(years, 2, "annual")
    seasonal = list(range(len(cols), len(cols) + len(f)))
    cols += f
    names += n
    hol = _holiday_share(days, freq)
    holiday = list(range(len(cols), len(cols) + hol.shape[1]))
    cols += list(hol.T)
    names += ["tet", "public_holiday", "year_end"]
    per_year = {"day": 365, "week": 52, "month": 12}[freq]
    return Design(np.column_stack(cols), names, seasonal, per_year, holiday, 3 if freq == "day" else 2)


def _holiday_share(days: np.ndarray, freq: str) -> np.ndarray:
    """Share of each period's days that are holidays of each kind (0/1 for daily periods)."""
    if len(days) == 0:
        return np.zeros((0, 3))
    if freq == "day":
        return holiday_indicators([d.item() for d in days])
    ends = np.append(days[1:], _next_start(days[-1], freq))
    every = np.arange(days[0], ends[-1], dtype="datetime64[D]")
    ind = holiday_indicators([d.item() for d in every])
    idx = np.searchsorted(days, every, side="right") - 1
    out = np.zeros((len(days), ind.shape[1]))
    np.add.at(out, idx, ind)
    return out / (ends - days).astype(float)[:, None]


def _next_start(start: np.datetime64, freq: str) -> np.datetime64:
    if freq == "week":
        return start + np.timedelta64(7, "D")
    d: date = start.item()
    return np.datetime64(date(d.year + (d.month == 12), d.month % 12 + 1, 1))


@dataclass
class Fit:
    """Result of fitting a batch of series: coefficients (intercept..., step), covariance, dispersion."""

    beta: np.ndarray  # (a, p0 + 1); the last coefficient is the level step
    cov: np.ndarray  # (a, p, p) = phi * (X'WX)^-1
    phi: np.ndarray  # (a,)


def fit(
    d: Design,
    Z: np.ndarray,
    rows: slice,
    y: np.ndarray,
    obs: np.ndarray,
    step: np.ndarray,
    beta0: np.ndarray,
    iterations: np.ndarray,
    plain: np.ndarray,
    phi0: np.ndarray | None = None,
) -> Fit:
    """Fit a batch of `a` series on the calendar rows `rows`.

    y, obs, step: (a, n) counts (any value where not observed), 0/1 observed, 0/1 after the level step.
    beta0: (a, p0 + 1) starting values. iterations: (a,) IRLS steps for each series; the first
    `plain` of them are unweighted (a cold start must find the seasonal shape before judging outliers).
    phi0: (a,) the dispersion of the series' last fit, where there was one.
    Each series' result depends on its own data only.
    """
    X = d.X[rows]
    Zr = Z[rows]
    a = y.shape[0]
    p0 = X.shape[1]
    p = p0 + 1
    y = np.where(obs > 0, y, 0.0)
    ridge = _ridge(d, X, obs, step, rows)
    beta = beta0.copy()
    # Start from the last fit's dispersion: the outlier cut-off depends on phi, and phi 1 would cut a
    # phi-5 series' ordinary tail days and understate phi for the few iterations a refit gets.
    phi = np.ones(a) if phi0 is None else np.maximum(phi0, 1.0)
    Minv = np.zeros((a, p, p))
    rw = np.ones_like(y)
    tri_r, tri_c = np.triu_indices(p0)
    for it in range(int(iterations.max(initial=0))):
        eta = np.clip(beta[:, :p0] @ X.T + beta[:, p0:] * step, *_ETA_RANGE)
        mu = np.exp(eta)
        if it > 0:
            robust = it >= plain
            phi = np.where(robust, trimmed_dispersion(y, mu, obs, phi, p), _dispersion(y, mu, obs, p))
            rw = np.where(robust[:, None], robust_weights(y, mu, phi), 1.0)
        W = obs * rw * mu
        z = eta + (y - mu) / mu
        Ws = W * step
        M = np.empty((a, p, p))
        half = W @ Zr
        M[:, tri_r, tri_c] = half
        M[:, tri_c, tri_r] = half
        M[:, :p0, p0] = M[:, p0, :p0] = Ws @ X
        M[:, p0, p0] = Ws.sum(1)
        M[:, np.arange(p), np.arange(p)] += ridge
        rhs = np.empty((a, p))
        rhs[:, :p0] = (W * z) @ X
        rhs[:, p0] = (Ws * z).sum(1)
        Minv = np.linalg.inv(M)
        # A damped Newton step: no fitted value may move by more than a factor e^2 in one step, so a
        # poor start (a new level step) cannot throw IRLS off course. Scaling the whole step keeps
        # its direction, which matters with nearly collinear columns (intercept and a short trend).
        delta = np.einsum("apq,aq->ap", Minv, rhs) - beta
        move = np.abs(delta[:, :p0] @ X.T + delta[:, p0:] * step).max(axis=1, initial=0.0)
        new = beta + delta * np.minimum(1.0, 2.0 / np.maximum(move, 1e-12))[:, None]
        live = (it < iterations)[:, None]
        beta = np.where(live, new, beta)
    eta = np.clip(beta[:, :p0] @ X.T + beta[:, p0:] * step, *_ETA_RANGE)
    mu = np.exp(eta)
    phi = trimmed_dispersion(y, mu, obs, phi, p)
    return Fit(beta, phi[:, None, None] * Minv, phi)


def _ridge(d: Design, X: np.ndarray, obs: np.ndarray, step: np.ndarray, rows: slice) -> np.ndarray:
    """Per-series ridge: a tiny one for stability, a huge one on columns the window cannot estimate."""
    a = obs.shape[0]
    p0 = X.shape[1]
    ridge = np.full((a, p0 + 1), 1e-6)
    if d.seasonal:
        span = obs.shape[1] - np.argmax(obs > 0, axis=1)  # periods from the first observed row
        short = span < d.season_periods
        ridge[np.ix_(short, d.seasonal)] = _DISABLED
    for col in d.holiday:
        # a N(0, 1) prior on the log holiday effect: a few quiet holidays at low counts must not
        # drive the effect to minus infinity
        ridge[:, col] = 1.0
        seen = (obs * (X[:, col] > 0)).sum(1)
        ridge[seen < d.holiday_rows, col] = _DISABLED
    ridge[:, p0] = 1.0  # the same N(0, 1) prior on the log level step
    no_step = (step * obs).sum(1) == 0
    ridge[no_step, p0] = _DISABLED
    return ridge


def _dispersion(y, mu, obs, p) -> np.ndarray:
    """The Pearson dispersion of every observed period (a cold start, before outliers are judged); >= 1."""
    n = obs.sum(1)
    pearson = (obs * (y - mu) ** 2 / mu).sum(1)
    return np.maximum(1.0, pearson / np.maximum(n - p, 1.0))


def trimmed_dispersion(y, mu, obs, phi, p) -> np.ndarray:
    """The dispersion from the periods at or under the outlier cut-off, made consistent; >= 1.

    Farrington's weights let an outbreak period still add c^2 (about 9.5) to the Pearson sum where an
    ordinary period adds about 1, so a fortnight's campaign in the history inflates phi by a tenth or
    more, and the bound stays wide for as long as the campaign is in the fit window. Here outliers are
    left out, and the kept periods' squared residuals are divided by what they would be on average
    below the cut-off if the negative binomial held (`_kept_variance`), so phi is unbiased on clean
    counts and unmoved by past outbreaks (tests/test_spikes.py).
    `phi` is the current estimate, which places the cut-off; the IRLS iterations bring both together.
    """
    n = obs.sum(1)
    kept = obs * (y <= outlier_cap(mu, phi[:, None], DISPERSION_Z))
    ratio = (kept * (y - mu) ** 2 / mu).sum(1) / np.maximum((kept * _kept_variance(mu, phi)).sum(1), 1e-12)
    return np.maximum(1.0, ratio * n / np.maximum(n - p, 1.0))


_LOG_MU = np.arange(np.log(1e-3), np.log(1e5) + 0.02, 0.02)  # nearest neighbour: within 1% of mu
_LOG_PHI = np.log(np.concatenate([[1.0], np.geomspace(1.01, 100.0, 47)]))
_KEPT: list[np.ndarray] = []


def _kept_variance(mu: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """E[(Y - mu)^2 / mu | Y <= cut-off] / phi for Y negative binomial with mean mu and variance phi mu;
    mu is series x periods, phi one per series. Read from a table on a fine grid of log mu and log phi
    (built once, in about 0.1 s): the exact sums at every period of every refit would take minutes."""
    if not _KEPT:
        _KEPT.append(_kept_variance_table())
    table = _KEPT[0]
    lp = np.clip(np.log(np.maximum(phi, 1.0)), _LOG_PHI[0], _LOG_PHI[-1])
    j = np.clip(np.searchsorted(_LOG_PHI, lp) - 1, 0, len(_LOG_PHI) - 2)
    f = ((lp - _LOG_PHI[j]) / (_LOG_PHI[j + 1] - _LOG_PHI[j]))[:, None]
    rows = (1 - f) * table[:, j].T + f * table[:, j + 1].T  # series x grid of mu
    k = np.rint((np.log(np.maximum(mu, 1e-300)) - _LOG_MU[0]) / 0.02)
    return np.take_along_axis(rows, np.clip(k, 0, len(_LOG_MU) - 1).astype(np.int64), axis=1)


def _kept_variance_table() -> np.ndarray:
    from incidents.spikes.tails import nbinom_cdf, poisson_cdf

    m, ph = np.broadcast_arrays(np.exp(_LOG_MU)[:, None], np.exp(_LOG_PHI)[None, :])
    cap = np.floor(outlier_cap(m, ph, DISPERSION_Z))
    pois = ph < 1 + 1e-9
    r = m / np.where(pois, 1.0, ph - 1)
    q = 1 / ph

    def cdf(c, extra):  # P(Y' <= c) for Y' the size-biased variable: NB(r + extra, q), or Y for Poisson
        return np.where(pois, poisson_cdf(c, m), nbinom_cdf(c, r + extra, q))

    # Partial moments by size-biasing: E[Y 1(Y <= c)] = mu P(Y' <= c - 1) with Y' ~ NB(r + 1, q), and
    # E[Y(Y - 1) 1(Y <= c)] = E[Y(Y - 1)] P(Y'' <= c - 2) with Y'' ~ NB(r + 2, q).
    below = cdf(cap, 0)
    m1 = m * cdf(cap - 1, 1)
    m2 = np.where(pois, m**2, r * (r + 1) * (1 - q) ** 2 / q**2) * cdf(cap - 2, 2)
    central = m2 + m1 - 2 * m * m1 + m**2 * below
    return central / np.maximum(below, 1e-12) / (ph * m)


def outlier_cap(mu, phi, z: float) -> np.ndarray:
    """The count above which a period is an outlier: mean + c sd, with c the normal quantile z moved
    out by the Cornish-Fisher term for the skewness (2 phi - 1) / sqrt(phi mu) of the negative binomial.

    Farrington's Anscombe residual assumes a near-symmetric distribution; at a mean of 0.3 with phi 5
    it flags 2% of ordinary days. The skewness-corrected cut-off flags about the nominal share.
    """
    sd = np.sqrt(phi * mu)
    skew = (2 * phi - 1) / sd
    return mu + (z + (z * z - 1) * skew / 6) * sd


def robust_weights(y, mu, phi) -> np.ndarray:
    """Farrington's down-weighting of past outbreaks in the fit of the mean: weight (c/s)^2 for a
    standardised residual s beyond the cut-off c (so an outbreak counts as if it sat at the cut-off),
    1 otherwise; the cut-off is `outlier_cap` at ROBUST_Z."""
    cap = outlier_cap(mu, phi[:, None], ROBUST_Z)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > cap, ((cap - mu) / (y - mu)) ** 2, 1.0)
