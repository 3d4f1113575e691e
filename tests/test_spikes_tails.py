"""tails.py calls scipy.special instead of importing scipy.stats (a second of CPU at every start):
every number must be scipy.stats' own, at the ends of the support and for bad parameters too."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from incidents.spikes import tails


def _same(a, b) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=True), np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.fixture(scope="module")
def grid():
    rng = np.random.default_rng(14)
    k = np.concatenate([[-np.inf, -3, -1, -0.5, 0, 0.5, 1, 2.7, np.inf, np.nan], rng.integers(0, 400, 300)])
    mu = np.concatenate([[0, 1e-12, 0.3, 1, 5, 40, 1e3, 1e9, -1, np.nan], np.exp(rng.uniform(-5, 8, 300))])
    disp = np.concatenate(
        [[1, 1 + 1e-7, 1.01, 1.5, 3, 10, 1e3, 1e6, 0.5, np.nan], np.exp(rng.uniform(0, 4, 300))]
    )
    k, mu, disp = np.meshgrid(k[:40], mu[:40], disp[:40], indexing="ij")
    return k.ravel(), mu.ravel(), disp.ravel()


def test_poisson_functions_are_scipy_stats_own(grid):
    k, mu, _ = grid
    with np.errstate(all="ignore"):
        _same(tails.poisson_sf(k, mu), stats.poisson.sf(k, mu))
        _same(tails.poisson_cdf(k, mu), stats.poisson.cdf(k, mu))
        _same(tails.poisson_logcdf(k, mu), stats.poisson.logcdf(k, mu))
        q = np.concatenate([[0, 1, -0.1, 1.1, np.nan, 1e-300, 1 - 1e-16], np.linspace(0.001, 0.999, 33)])
        qq, mm = np.meshgrid(q, mu[::37])
        _same(tails.poisson_ppf(qq, mm), stats.poisson.ppf(qq, mm))


def test_negative_binomial_functions_are_scipy_stats_own(grid):
    k, mu, disp = grid
    with np.errstate(all="ignore"):
        n, p = mu / (disp - 1), 1 / disp
        _same(tails.nbinom_sf(k, n, p), stats.nbinom.sf(k, n, p))
        _same(tails.nbinom_cdf(k, n, p), stats.nbinom.cdf(k, n, p))
        _same(tails.nbinom_logcdf(k, n, p), stats.nbinom.logcdf(k, n, p))
        q = np.concatenate([[0, 1, -0.1, np.nan, 1e-12, 1 - 1e-12], np.linspace(0.001, 0.999, 23)])
        qq, nn = np.meshgrid(q, n[::53])
        _, pp = np.meshgrid(q, p[::53])
        _same(tails.nbinom_ppf(qq, nn, pp), stats.nbinom.ppf(qq, nn, pp))


def test_chi2_isf_is_scipy_stats_own():
    for q in (0.5, 0.01, 0.001 / 25, 1e-9):
        assert tails.chi2_isf(q, 1) == stats.chi2.isf(q, 1)
    with pytest.raises(ValueError):
        tails.chi2_isf(0, 1)


def test_the_detector_does_not_import_scipy_stats():
    import subprocess
    import sys

    code = (
        "import sys; import numpy as np; from incidents.spikes import detector, tails; "
        "tails.upper_bound(np.array([3.0]), np.array([2.0]), 0.001); "
        "print('scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
