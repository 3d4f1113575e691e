"""Level shifts: the likelihood-ratio test that a series' counts rose or fell to a lasting new level."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from incidents.spikes import baseline

if TYPE_CHECKING:
    from incidents.spikes.detector import _State


def _level_shift(t, s, y, obs, first, st: _State, g_shift, g_half, p0) -> None:
    """Declare a level shift for series whose counts rose or fell to a new level before period t."""
    lo = max(0, t - s.shift_max + 1)
    i = np.flatnonzero(st.fitted)
    mm = np.nan_to_num(st.cur[i, lo : t + 1]) * obs[i, lo : t + 1]
    # A level is what most days show: a day beyond the outlier cut-off (an outbreak) counts only up
    # to the cut-off, so one spike cannot pass for a level shift.
    cap = baseline.outlier_cap(np.maximum(mm, 1e-9), st.phi[i, None], baseline.DISPERSION_Z)
    yy = np.minimum(y[i, lo : t + 1], cap) * obs[i, lo : t + 1]
    A = np.cumsum(yy[:, ::-1], axis=1)[:, ::-1]  # counts from candidate start c to t
    B = np.cumsum(mm[:, ::-1], axis=1)[:, ::-1]
    starts = np.arange(lo, t + 1)
    ok = (
        (t - starts + 1 >= s.shift_min)[None, :]
        & (starts[None, :] > st.cp[i, None])
        & (starts[None, :] >= first[i, None])
        & (B > 0)
    )
    phi = st.phi[i, None]
    G = np.where(ok, _lr(A, B) / phi, 0.0)
    # ... and a lasting one: each half of the span must be high (or low) on its own, so a burst at
    # the start of the span (an outbreak that is over) is not taken for a new level. A fall matters
    # too: a feed that loses half its coverage leaves a baseline too high to see the next outbreak
    # for months (measured on seeds 0-999: recall on series with a fall 0.46 without, 0.52 with).
    cols = np.arange(A.shape[1])
    mid = np.minimum(cols + (t - starts + 1) // 2, A.shape[1] - 1)
    A2, B2 = A[:, mid], B[:, mid]
    A1, B1 = A - A2, B - B2
    both = (_lr(A1, B1) / phi > g_half) & (_lr(A2, B2) / phi > g_half)
    lasting = both & (A1 > B1) & (A2 > B2)
    # A fall must last twice as long: a quiet fortnight (holidays the calendar does not know, a
    # feed that was late) is commoner than a lasting rise, and a fall missed costs sensitivity only.
    lasting |= both & (A1 < B1) & (A2 < B2) & (t - starts + 1 >= s.fall_min)[None, :]
    G = np.where(lasting, G, 0.0)
    c = np.argmax(G, axis=1)
    best = G[np.arange(len(i)), c]
    for n in np.flatnonzero(best > g_shift):
        series, start = i[n], lo + c[n]
        ratio = max(A[n, c[n]], 0.5) / B[n, c[n]]
        old = st.beta[series, p0] if st.cp[series] >= 0 else 0.0
        st.beta[series, p0] = old + np.log(ratio)  # the refit starts from the observed level
        st.cp[series] = start
        st.changed[series] = True
        st.shifts[series].append((int(start), float(ratio)))


def _lr(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Poisson likelihood-ratio statistic of rate ratio A/B against 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2.0 * np.where(A > 0, A * np.log(A / B) - (A - B), B)
