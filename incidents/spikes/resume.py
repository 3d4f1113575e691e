"""A detector checkpoint: everything `detector.detect` knows at the start of one refit block, so that a
later run over the same series, grown by some days, starts there instead of at the first day.

The detector is prospective: what it knows at the start of a block (the baseline's coefficients and
covariance, its dispersion, the level step in force and the shifts accepted, the expectation of the
last few weeks as the current fit expresses it, which past periods are outages, the CUSUM's sum, run
start and running totals) depends on the periods before that block only. Restored, it gives the same
verdicts from the block on, bit for bit (tests/test_spikes_kept.py compares with a full run).
Serialised with numpy's npz (no pickle), to be kept in the store.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np


@dataclass
class Checkpoint:
    t0: int  # the block's first period (column of the calendar that made it)
    beta: np.ndarray
    cov: np.ndarray
    phi: np.ndarray
    fitted: np.ndarray
    changed: np.ndarray
    cp: np.ndarray
    step_on: np.ndarray
    shifts: list[list[tuple[int, float]]]
    tail_from: int  # first column of cur_tail / lift_tail
    cur_tail: np.ndarray
    lift_tail: np.ndarray
    use: np.ndarray  # (series x t0) 1 where a period is observed and not an outage
    runs_start: np.ndarray
    runs_logp: np.ndarray
    cusum: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # sum, run start, total y, total expected

    def to_bytes(self) -> bytes:
        """The checkpoint as bytes (numpy .npz, no pickle) to keep in the store; see from_bytes."""
        flat = [(s, c, r) for s, items in enumerate(self.shifts) for c, r in items]
        arrays = {
            "t0": np.array(self.t0),
            "tail_from": np.array(self.tail_from),
            "beta": self.beta,
            "cov": self.cov,
            "phi": self.phi,
            "fitted": self.fitted,
            "changed": self.changed,
            "cp": self.cp,
            "step_on": self.step_on,
            "shift_series": np.array([f[0] for f in flat], dtype=np.int64),
            "shift_start": np.array([f[1] for f in flat], dtype=np.int64),
            "shift_ratio": np.array([f[2] for f in flat], dtype=float),
            "cur_tail": self.cur_tail,
            "lift_tail": self.lift_tail,
            "use": self.use.astype(np.uint8),
            "runs_start": self.runs_start,
            "runs_logp": self.runs_logp,
            "cusum_c": self.cusum[0],
            "cusum_start": self.cusum[1],
            "cusum_y": self.cusum[2],
            "cusum_m": self.cusum[3],
        }
        out = io.BytesIO()
        np.savez_compressed(out, **arrays)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        """The checkpoint that to_bytes wrote; numpy's errors for bytes that are not one."""
        z = np.load(io.BytesIO(data), allow_pickle=False)
        series = len(z["phi"])
        shifts: list[list[tuple[int, float]]] = [[] for _ in range(series)]
        for s, c, r in zip(z["shift_series"], z["shift_start"], z["shift_ratio"]):
            shifts[int(s)].append((int(c), float(r)))
        return cls(
            int(z["t0"]),
            z["beta"],
            z["cov"],
            z["phi"],
            z["fitted"],
            z["changed"],
            z["cp"],
            z["step_on"],
            shifts,
            int(z["tail_from"]),
            z["cur_tail"],
            z["lift_tail"],
            z["use"].astype(float),
            z["runs_start"],
            z["runs_logp"],
            (z["cusum_c"], z["cusum_start"], z["cusum_y"], z["cusum_m"]),
        )
