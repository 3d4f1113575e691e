"""forest.py: isolation forests kept as arrays score exactly as scikit-learn's, and a new day within a
four-week block is scored from the kept forests without fitting (nor importing scikit-learn)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from incidents.spikes import forest
from incidents.spikes.mix import unusual_days


@pytest.mark.parametrize("shape", [(180, 10), (60, 3), (365, 10)])
def test_scores_are_scikit_learns_bit_for_bit(shape):
    rng = np.random.default_rng(shape[0])
    x = rng.normal(size=shape)
    x[:, 0] = np.round(x[:, 0])  # ties, as daily counts have
    x[::7, 1] = 0.0
    fitted = forest.fit_forest(x, seed=0)
    model = IsolationForest(n_estimators=forest.N_ESTIMATORS, random_state=0).fit(x)
    probe = np.vstack([x, rng.normal(scale=3, size=(50, shape[1])), x[:5] + 1e-9])
    assert np.array_equal(forest.score(fitted, probe), model.score_samples(probe))


def test_kept_forests_survive_the_round_trip_and_a_bad_blob_is_refitted():
    rng = np.random.default_rng(1)
    halves = [rng.normal(size=(90, 4)), rng.normal(size=(90, 4))]
    cache = forest.ForestCache()
    pair = cache.pair(halves, 0)
    again = forest.ForestCache.from_bytes(cache.to_bytes())
    assert again.pair(halves, 0) is not None and again.fitted == 0
    probe = rng.normal(size=(20, 4))
    assert np.array_equal(forest.score(again.pairs[cache.last][1], probe), forest.score(pair[1], probe))
    assert forest.ForestCache.from_bytes(b"not an npz").pairs == {}
    assert forest.ForestCache().to_bytes() == b""


def _features(days: int, seed: int = 5):
    rng = np.random.default_rng(seed)
    names = [f"c{k} incidents" for k in range(4)] + [
        "distinct targets",
        "distinct sources",
        "share of new targets",
    ]
    values = np.column_stack(
        [rng.poisson(lam, days) for lam in (30, 12, 5, 1)]
        + [rng.poisson(30, days), rng.poisson(20, days), rng.uniform(0, 0.3, days)]
    ).astype(float)
    values[-20:-17, 0] = 200  # a burst of one category from few sources
    values[-20:-17, 5] = 3
    days_ = np.arange(np.datetime64("2020-01-06"), np.datetime64("2020-01-06") + days)
    return days_, names, values


def test_a_new_day_reuses_its_blocks_forests_and_flags_the_same_days():
    days, names, values = _features(500)
    full = unusual_days(days, names, values)
    assert full, "the burst should be flagged"
    cache = forest.ForestCache()
    before = unusual_days(days[:-1], names, values[:-1], since=str(days[-30]), forests=cache)
    kept = forest.ForestCache.from_bytes(cache.to_bytes())
    last = unusual_days(days, names, values, since=str(days[-1]), forests=kept)
    assert kept.fitted == 0  # the last day's block was fitted by the run before
    expected = [f.as_dict() for f in full if f.date >= str(days[-30])]
    assert [f.as_dict() for f in before + last] == expected


def test_scoring_kept_forests_does_not_import_scikit_learn():
    days, names, values = _features(300)
    cache = forest.ForestCache()
    unusual_days(days[:-1], names, values[:-1], since=str(days[-5]), forests=cache)
    code = (
        "import sys, numpy as np\n"
        "from incidents.spikes import forest\n"
        "from incidents.spikes.mix import unusual_days\n"
        "d = np.load(sys.argv[1])\n"
        "cache = forest.ForestCache.from_bytes(open(sys.argv[2], 'rb').read())\n"
        "names = [f'c{k} incidents' for k in range(4)] + ['distinct targets', 'distinct sources', 'share of new targets']\n"
        "unusual_days(d['days'], names, d['values'], since=str(d['days'][-1]), forests=cache)\n"
        "print(cache.fitted, 'sklearn' in sys.modules)\n"
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        arrays, blob = Path(tmp) / "x.npz", Path(tmp) / "forests.npz"
        np.savez(arrays, days=days, values=values)
        blob.write_bytes(cache.to_bytes())
        out = subprocess.run(
            [sys.executable, "-c", code, str(arrays), str(blob)], check=False, capture_output=True, text=True
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "False"]
