"""The prospective spike detector: for every period, expected count, upper bound, exceedance score, alarm.

Prospective means the verdict for period t uses counts up to t only and is never revised: the baseline
is refitted on a fixed calendar (every Monday for daily counts, every period otherwise) on the data
before the refit, and every other step (the level-shift test, the bound) looks only backwards. So a
verdict is the same whether the series ends at t or goes on for years (tests/test_spikes.py checks it).

Level shifts: a robust baseline treats a lasting jump as an outbreak and would alarm for ever. When the
counts since some period c in the last `shift_max` periods have exceeded the baseline for at least
`shift_min` periods (likelihood-ratio test of one multiplicative level, Bonferroni-corrected over the
candidate starts, and each half of the span high on its own), the level after c becomes the new
normal: the next refit (at most a week later for daily counts) adds a step term for it. An outbreak
that lasts longer than `shift_min` is thereby absorbed once it has alarmed. A fall (a feed losing
coverage) becomes the new level the same way once it has lasted `fall_min` periods; otherwise the
baseline would stay too high to see the next outbreak for months.

Outages: a feed that stops sending leaves a run of zeros (or a collapse to a fraction of the usual
count). Taken as data, the zeros drag the refitted level down, or become a new level after `fall_min`
periods, and the return to the usual counts then looks like a rise: a week of false alarms. So once a
run of periods each at most `collapse` times its expectation has become improbable under the baseline
(joint probability at most `outage_alpha`), its periods count as missing for every later fit,
level-shift test and running total (outage.py). The periods themselves were judged on their day as
usual (a low count never alarms); only what the detector learns from them changes.

Besides each period on its own, the totals of the last few periods (`spans`) are judged against the
same baseline: a burst or campaign whose excess is spread over days shows there first. A count exceeds
its bound when its mid-p value is at most alpha (tails.py: discrete counts would otherwise spend a
fraction of the false-alert budget at low means). For daily and hourly counts alpha is not one figure
for all: each period's is set where a false alert buys most detection (allocation.py). For daily
counts, Page's CUSUM (cusum.py) sums the evidence of a sustained rise of 2 sd a day, with its
threshold from the budget the single-day bound leaves (0.5 false alerts a series-year in all).
"""

from __future__ import annotations

import numpy as np

from incidents.spikes import baseline, outage, tails
from incidents.spikes.level_shift import _level_shift
from incidents.spikes.resume import Checkpoint
from incidents.spikes.settings import SETTINGS, Settings
from incidents.spikes.verdicts import Forecast, Verdicts, decide

# Settings, verdicts and the level-shift test live in their own modules; these names stay importable
# from here, where the callers (judging, series, the benchmarks) have always found them.
__all__ = [
    "SETTINGS",
    "Forecast",
    "Settings",
    "Verdicts",
    "decide",
    "detect",
    "last_refit",
    "refit_periods",
    "span_totals",
]


def refit_periods(starts: np.ndarray, freq: str) -> np.ndarray:
    """Calendar periods on which the baseline is refitted: Mondays, midnights, or every period."""
    if freq == "day":
        return (starts.astype("datetime64[D]").view("int64") + 3) % 7 == 0
    if freq == "hour":
        return (starts.astype("datetime64[h]").view("int64") % 24) == 0
    return np.ones(len(starts), dtype=bool)


def detect(
    counts: np.ndarray,
    observed: np.ndarray,
    starts: np.ndarray,
    settings: Settings,
    *,
    resume: Checkpoint | None = None,
    checkpoint_at: int | None = None,
) -> Verdicts:
    """Run the detector over `counts` (series x periods of the regular calendar `starts`).

    `observed` is 0/1: a gap (not observed) is neither used for fitting nor judged.
    `resume`: start at that checkpoint's block (made by an earlier run on the same series and
    calendar start, with the same counts before it); periods before it get no verdict (NaN).
    `checkpoint_at`: a refit period; the verdicts then carry the checkpoint of that block's start.
    """
    # The matrices are small (series x 15 x 15): a multi-threaded BLAS spends more time waking
    # threads than multiplying, six times slower on a busy two-core machine (measured).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _detect(counts, observed, starts, settings, resume, checkpoint_at)


def last_refit(starts: np.ndarray, freq: str) -> int | None:
    """The last refit period of the calendar (the start of its last block), None if none."""
    idx = np.flatnonzero(refit_periods(starts, freq))
    return int(idx[-1]) if idx.size else None


def _detect(counts, observed, starts, settings: Settings, resume=None, checkpoint_at=None) -> Verdicts:
    s = settings
    S, T = counts.shape
    y = np.where(observed > 0, counts, 0.0).astype(float)
    seen_obs = (observed > 0).astype(float)
    obs = seen_obs.copy()  # observed and not in an outage: what fits and running totals use
    d = baseline.design(starts, s.freq)
    Z = d.Z
    p0 = d.X.shape[1]
    first = np.where(obs.any(1), np.argmax(obs > 0, axis=1), T)
    refit_idx = np.flatnonzero(refit_periods(starts, s.freq))
    state = _State(S, T, p0)
    spans = [w for w in s.spans if w > 1]
    reach = max([s.shift_max, *spans])  # how far back each refit re-expresses the past
    mu_out = np.full((S, T), np.nan)
    disp_out = np.full((S, T), np.nan)  # variance / mean of the predictive distribution
    lift_out = np.zeros((S, T))  # how much a holiday lowered the expectation (log scale)
    restart = np.zeros((S, T), dtype=bool)  # the CUSUM starts afresh here (a new level is in force)
    span_y = np.zeros((len(spans), S, T))
    span_m = np.full((len(spans), S, T), np.nan)
    span_d = np.full((len(spans), S, T), np.nan)
    g_shift = tails.chi2_isf(s.shift_alpha / (s.shift_max - s.shift_min + 1), 1)
    g_half = tails.chi2_isf(0.01, 1)
    runs = outage.Runs(S, s.collapse or 0.0, s.outage_alpha, s.outage_max)
    done = 0  # periods before this one have been through the outage check
    begin = 0
    if resume is not None:
        begin = done = resume.t0
        _restore(resume, state, runs, obs)
    taken = None
    for t0, t1 in zip(refit_idx, np.append(refit_idx[1:], T)):
        if t0 < begin:
            continue
        if t0 > done and s.collapse is not None:
            runs.scan(y, seen_obs, mu_out, disp_out, done, t0, obs)
            done = t0
        if t0 == checkpoint_at:
            taken = _take(t0, max(0, t0 - reach), state, runs, obs)
        if state.fitted.any() and t0 >= s.shift_min:
            _level_shift(t0 - 1, s, y, obs, first, state, g_shift, g_half, p0)
        due = (t0 - first >= s.min_history) & (first < T)
        if not due.any():
            continue
        a = max(0, t0 - reach)
        # a level accepted as the new normal explains the rise the CUSUM has been summing
        restart[:, t0] = state.changed & due
        _refit(t0, t1, a, due, s, d, Z, y, obs, state)
        i = np.flatnonzero(state.fitted)
        seen = seen_obs[i, t0:t1] > 0
        mu = state.cur[i, t0:t1]
        x = np.empty((len(i), t1 - t0, p0 + 1))
        x[:, :, :p0] = d.X[t0:t1]
        x[:, :, p0] = state.step_on[i, None] & (np.arange(t0, t1)[None, :] >= state.cp[i, None])
        # Var(log expected), at most 1: beyond that the bound says nothing anyway
        v = np.minimum(np.einsum("abp,apq,abq->ab", x, state.cov[i], x), 1.0)
        mu_out[i, t0:t1] = np.where(seen, mu, np.nan)
        # Predictive variance phi*mu + mu^2 Var(eta_hat): the estimate's own uncertainty widens the
        # bound where the baseline is extrapolated or thin (Farrington et al. 1996, section 3.4).
        disp_out[i, t0:t1] = state.phi[i, None] + mu * v
        lift_out[i, t0:t1] = state.lift[i, t0:t1]
        if spans:
            # Past periods measured against the current baseline, with a holiday counting as an
            # ordinary day (see the holiday rule in `decide`).
            m = np.nan_to_num(state.cur[i, a:t1] * np.exp(state.lift[i, a:t1])) * obs[i, a:t1]
            got = span_totals(y[i, a:t1], obs[i, a:t1], m, state.phi[i, None], v, spans, t0 - a)
            for n, (total_y, total_m, total_d) in enumerate(got):
                span_y[n, i, t0:t1] = total_y
                span_m[n, i, t0:t1] = np.where(seen, total_m, np.nan)
                span_d[n, i, t0:t1] = total_d
    forecast = Forecast(mu_out, disp_out, lift_out, restart, span_y, span_m, span_d)
    verdicts = decide(y, forecast, s, state.shifts, begin=begin, cusum0=resume.cusum if resume else None)
    if taken is not None:
        k = taken.t0 - 1
        if k >= begin and verdicts.cusum is not None:
            taken.cusum = tuple(a[:, k].copy() for a in verdicts.cusum)
        elif resume is not None:
            taken.cusum = resume.cusum
        else:
            taken.cusum = (np.zeros(S), np.zeros(S, dtype=int), np.zeros(S), np.zeros(S))
        verdicts.checkpoint = taken
    return verdicts


def _take(t0: int, tail_from: int, st: _State, runs: outage.Runs, obs: np.ndarray) -> Checkpoint:
    return Checkpoint(
        t0,
        st.beta.copy(),
        st.cov.copy(),
        st.phi.copy(),
        st.fitted.copy(),
        st.changed.copy(),
        st.cp.copy(),
        st.step_on.copy(),
        [list(x) for x in st.shifts],
        tail_from,
        st.cur[:, tail_from:t0].copy(),
        st.lift[:, tail_from:t0].copy(),
        obs[:, :t0].copy(),
        runs.start.copy(),
        runs.logp.copy(),
        (),
    )


def _restore(ck: Checkpoint, st: _State, runs: outage.Runs, obs: np.ndarray) -> None:
    st.beta[:], st.cov[:], st.phi[:] = ck.beta, ck.cov, ck.phi
    st.fitted[:], st.changed[:], st.cp[:], st.step_on[:] = ck.fitted, ck.changed, ck.cp, ck.step_on
    st.shifts = [list(x) for x in ck.shifts]
    st.cur[:, ck.tail_from : ck.t0] = ck.cur_tail
    st.lift[:, ck.tail_from : ck.t0] = ck.lift_tail
    obs[:, : ck.t0] = ck.use
    runs.start[:], runs.logp[:] = ck.runs_start, ck.runs_logp


def span_totals(
    y: np.ndarray, obs: np.ndarray, m: np.ndarray, phi: np.ndarray, v: np.ndarray, spans: list[int], j0: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Totals of the last w periods ending at each period from column j0 on: (count, expected, dispersion).

    Bursts and campaigns spread their excess over days. Past periods count at most up to their
    outlier cut-off, so yesterday's spike alone cannot make today's total high; the period itself
    counts in full. `v` is Var(log expected) of the periods judged (columns j0 on): the baseline's
    error is shared by the w periods, so Var(total) = phi M + M^2 v.
    """
    cap = baseline.outlier_cap(np.maximum(m, 1e-9), phi, baseline.DISPERSION_Z)
    yc = np.minimum(y, cap) * obs
    zero = np.zeros((len(y), 1))
    cy = np.concatenate([zero, np.cumsum(yc, axis=1)], axis=1)
    cm = np.concatenate([zero, np.cumsum(m, axis=1)], axis=1)
    j = np.arange(j0, y.shape[1])
    out = []
    for w in spans:
        back = np.maximum(j - w + 1, 0)
        total_m = cm[:, j] - cm[:, back] + m[:, j]
        out.append((cy[:, j] - cy[:, back] + y[:, j0:], total_m, phi + total_m * v))
    return out


class _State:
    """What the detector knows at the start of a refit block, per series."""

    def __init__(self, S: int, T: int, p0: int):
        self.beta = np.zeros((S, p0 + 1))
        self.cov = np.zeros((S, p0 + 1, p0 + 1))
        self.phi = np.ones(S)
        self.fitted = np.zeros(S, dtype=bool)
        self.changed = np.zeros(S, dtype=bool)  # a level shift was declared since the last fit
        self.cp = np.full(S, -1)  # start of the current level step, -1 for none
        self.step_on = np.zeros(S, dtype=bool)  # the step lies inside the fit window
        self.cur = np.full((S, T), np.nan)  # expectation under the model in force (recent past, block)
        self.lift = np.zeros((S, T))
        self.shifts: list[list[tuple[int, float]]] = [[] for _ in range(S)]


def _refit(t0, t1, a, due, s, d, Z, y, obs, st: _State) -> None:
    """Refit the due series on the periods before t0; express the model over [a, t1)."""
    lo = max(0, t0 - s.window)
    i = np.flatnonzero(due)
    st.step_on[i] = st.cp[i] > lo
    rows = np.arange(lo, t0)
    step = (st.step_on[i, None] & (rows[None, :] >= st.cp[i, None])).astype(float)
    yw, ow = y[i, lo:t0], obs[i, lo:t0]
    beta0 = st.beta[i].copy()
    new = ~st.fitted[i]
    if new.any():
        mean = (yw[new] * ow[new]).sum(1) / np.maximum(ow[new].sum(1), 1)
        beta0[new] = 0.0
        beta0[new, 0] = np.log(np.maximum(mean, 1e-3))  # cold start: the mean, nothing else
    beta0[~st.step_on[i], -1] = 0.0
    changed = st.changed[i]
    iterations = np.where(new, 12, np.where(changed, 6, 3))
    plain = np.where(new, 6, np.where(changed, 2, 0))
    phi0 = np.where(new, 1.0, st.phi[i])
    f = baseline.fit(d, Z, slice(lo, t0), yw, ow, step, beta0, iterations, plain, phi0)
    st.beta[i], st.cov[i], st.phi[i] = f.beta, f.cov, f.phi
    st.fitted[i] = True
    st.changed[i] = False
    span = np.arange(a, t1)
    on = (st.step_on[i, None] & (span[None, :] >= st.cp[i, None])).astype(float)
    # Products summed term by term, not a matrix product: BLAS may add in another order when the block
    # is shorter (the series ends mid-week), and a verdict must not move by a rounding when it grows.
    eta = _dot(st.beta[i, :-1], d.X[a:t1]) + st.beta[i, -1:] * on
    st.cur[i, a:t1] = np.exp(np.clip(eta, *baseline._ETA_RANGE))
    if d.holiday:
        st.lift[i, a:t1] = np.maximum(0.0, -_dot(st.beta[i][:, d.holiday], d.X[a:t1, d.holiday]))


def _dot(beta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """beta @ X.T (series x periods), each element summed in the same order whatever the shapes."""
    return (beta[:, None, :] * X[None, :, :]).sum(axis=2)
