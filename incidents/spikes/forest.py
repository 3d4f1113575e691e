"""Isolation forests as plain arrays: fitted by scikit-learn, kept in the store, scored with numpy.

The unusual-mix detector (mix.py) refits its forests every four weeks on the year before; a day in
between is scored by the forests of its block. Fitting needs scikit-learn (about 2 s of CPU to
import), scoring does not: a fitted forest is a few arrays per tree (split feature, threshold,
children, and at each node the path-length term of Liu, Ting and Zhou 2008), and walking them with
numpy gives scikit-learn's `IsolationForest.score_samples` bit for bit (tests/test_spikes_forest.py
compares them): the sample is compared in float32 as scikit-learn's trees do, and the per-tree terms
are added in the same order. So the forests of the current block are kept in the store
(`spike_state`, key `mix_forests`) and a new day is scored without importing scikit-learn.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

N_ESTIMATORS = 100


@dataclass(frozen=True)
class Forest:
    """One fitted isolation forest: arrays of shape (trees, nodes), padded with leaves."""

    feature: np.ndarray  # int64, the split feature (0 at leaves)
    threshold: np.ndarray  # float64, go left when x[feature] <= threshold
    left: np.ndarray  # int64, the left child (-1 at leaves)
    right: np.ndarray  # int64, the right child
    term: np.ndarray  # float64, node depth + average path length of its samples - 1
    denominator: float  # trees x average path length of the training sample size


def fit_forest(x: np.ndarray, seed: int) -> Forest:
    """`IsolationForest(n_estimators=100, random_state=seed).fit(x)` as arrays (imports scikit-learn)."""
    from sklearn.ensemble import IsolationForest
    from sklearn.ensemble._iforest import _average_path_length

    model = IsolationForest(n_estimators=N_ESTIMATORS, random_state=seed).fit(x)
    if model._max_features != x.shape[1]:  # all features, as with the default max_features=1.0
        raise ValueError("forest.py scores forests that see every feature")
    trees = [e.tree_ for e in model.estimators_]
    width = max(t.node_count for t in trees)
    shape = (len(trees), width)
    feature, left, right = (
        np.zeros(shape, np.int64),
        np.full(shape, -1, np.int64),
        np.full(shape, -1, np.int64),
    )
    threshold, term = np.zeros(shape), np.zeros(shape)
    for k, (tree, depth, apl) in enumerate(
        zip(trees, model._decision_path_lengths, model._average_path_length_per_tree)
    ):
        n = tree.node_count
        leaf = tree.children_left == -1
        feature[k, :n] = np.where(leaf, 0, tree.feature)
        threshold[k, :n] = tree.threshold
        left[k, :n] = tree.children_left
        right[k, :n] = tree.children_right
        term[k, :n] = depth + apl - 1.0
    denominator = float(len(trees) * _average_path_length([model._max_samples])[0])
    return Forest(feature, threshold, left, right, term, denominator)


def score(forest: Forest, x: np.ndarray) -> np.ndarray:
    """scikit-learn's `score_samples` of the forest: lower is more unusual; shape (len(x),)."""
    xf = np.asarray(x, dtype=np.float32).astype(np.float64)  # the trees compare float32 samples
    trees, _ = forest.feature.shape
    rows = np.arange(trees)[:, None]
    samples = np.arange(len(xf))[None, :]
    node = np.zeros((trees, len(xf)), np.int64)
    while True:
        left = forest.left[rows, node]
        inner = left != -1
        if not inner.any():
            break
        go_left = xf[samples, forest.feature[rows, node]] <= forest.threshold[rows, node]
        node = np.where(inner, np.where(go_left, left, forest.right[rows, node]), node)
    depths = np.zeros(len(xf))
    for k in range(trees):  # one tree after another, as scikit-learn adds them
        depths += forest.term[k, node[k]]
    if forest.denominator == 0:  # one training sample: scikit-learn sets the path ratio to 1
        return -(2 ** -np.ones(len(xf)))
    return -(2 ** (-(depths / forest.denominator)))


def forests_key(halves: list[np.ndarray], seed: int) -> str:
    """What a pair of forests was fitted on: the training rows, the seed, scikit-learn's version."""
    from importlib.metadata import version

    h = hashlib.sha256(f"{seed}:{N_ESTIMATORS}:{version('scikit-learn')}".encode())
    for part in halves:
        h.update(str(part.shape).encode())
        h.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
    return h.hexdigest()


class ForestCache:
    """The newest fitted forest pair by its `forests_key`; `last` is the key used last."""

    def __init__(self) -> None:
        self.pairs: dict[str, tuple[Forest, Forest]] = {}
        self.last: str | None = None
        self.fitted = 0  # pairs fitted by this process

    def pair(self, halves: list[np.ndarray], seed: int) -> tuple[Forest, Forest]:
        key = forests_key(halves, seed)
        if key not in self.pairs:
            # Blocks come in calendar order and each is scored once: only the newest pair is kept
            # (a full recomputation would otherwise hold ~50 pairs, 1.5 MB each).
            self.pairs = {key: (fit_forest(halves[0], seed), fit_forest(halves[1], seed))}
            self.fitted += 1
        self.last = key
        return self.pairs[key]

    def to_bytes(self) -> bytes:
        """The last pair used, as an .npz (no pickle); b'' when none."""
        if self.last is None:
            return b""
        buf = io.BytesIO()
        arrays = {"key": np.frombuffer(self.last.encode(), np.uint8)}
        for k, forest in enumerate(self.pairs[self.last]):
            for name in ("feature", "threshold", "left", "right", "term"):
                arrays[f"{name}{k}"] = getattr(forest, name)
            arrays[f"denominator{k}"] = np.array(forest.denominator)
        np.savez(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes | None) -> ForestCache:
        """The cache `to_bytes` wrote; empty when `blob` is empty or unreadable."""
        cache = cls()
        if not blob:
            return cache
        try:
            with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as z:
                pair = tuple(
                    Forest(
                        z[f"feature{k}"],
                        z[f"threshold{k}"],
                        z[f"left{k}"],
                        z[f"right{k}"],
                        z[f"term{k}"],
                        float(z[f"denominator{k}"]),
                    )
                    for k in (0, 1)
                )
                cache.pairs[bytes(z["key"]).decode()] = pair
        except (ValueError, KeyError, OSError):
            return cls()  # unreadable: the forests are fitted again
        return cache
