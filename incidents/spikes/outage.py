"""Outages: runs of periods whose counts collapsed, kept out of what the detector learns.

A feed that stops sending (or a collector that breaks) leaves zeros, or a small fraction of the usual
count, for days or weeks, and then the counts come back. Those periods say nothing about the level of
incidents: fitted as data they pull the baseline down (or become a new, lower level once a fall has
lasted `fall_min` periods), and the return to the usual counts then raises a week of false alarms.

A period is *collapsed* when its count is at most `collapse` times the expectation it was judged by
(at low means that is a zero). A run of consecutive collapsed periods is an *outage* once its joint
probability under the baseline, the product of P(Y <= y) (negative binomial, tails.log_cdf), is at
most `alpha`: a run that the baseline's own noise would produce once in 1/alpha runs. From then on its
periods (from the run's first) count as not observed for every later fit, level-shift test and running
total. The check runs on periods already judged, at each refit: prospective, like everything else.
A partial fall (to 60% of the level, say) is not a collapse; it becomes the new level as before.
A collapse that lasts longer than `longest` periods is no outage but the new level (a feed that
reports less for good, a source that stopped for good): its periods count again from then on, so the
level-shift test takes the fall as the new normal instead of judging later periods by the old level.
"""

from __future__ import annotations

import math

import numpy as np

from incidents.spikes import tails

ACCEPTED = -2  # Runs.start of a collapse that lasted too long to be an outage


class Runs:
    """The collapsed run each series is in, carried from one refit block to the next."""

    def __init__(self, series: int, collapse: float, alpha: float, longest: int | None = None):
        # first period of the current collapsed run; -1: none; ACCEPTED: a run that lasted too long to
        # be an outage, the new level until it ends
        self.start = np.full(series, -1)
        self.logp = np.zeros(series)  # its log probability under the baseline
        self.collapse = collapse
        self.log_alpha = math.log(alpha)
        self.longest = longest

    def scan(
        self,
        y: np.ndarray,
        seen: np.ndarray,
        mu: np.ndarray,
        disp: np.ndarray,
        lo: int,
        hi: int,
        use: np.ndarray,
    ) -> None:
        """Go through the judged periods lo..hi-1 in order; set `use` to 0 on outage periods.

        A gap (a period not observed) neither ends nor extends a run; a period without a verdict ends it.
        """
        m = mu[:, lo:hi]
        judged = ~np.isnan(m) & (seen[:, lo:hi] > 0)
        low = judged & (y[:, lo:hi] <= self.collapse * np.nan_to_num(m))
        logp = np.zeros(m.shape)
        if low.any():
            logp[low] = tails.log_cdf(y[:, lo:hi][low], m[low], disp[:, lo:hi][low])
        gap = seen[:, lo:hi] == 0
        for k in range(hi - lo):
            t = lo + k
            ends = ~low[:, k] & ~gap[:, k]
            self.start[ends] = -1
            self.logp[ends] = 0.0
            grow = low[:, k] & (self.start != ACCEPTED)
            fresh = grow & (self.start < 0)
            self.start[fresh] = t
            self.logp[fresh] = 0.0
            self.logp[grow] += logp[grow, k]
            for s in np.flatnonzero(grow & (self.logp <= self.log_alpha)):
                first = self.start[s]
                if self.longest is not None and t - first + 1 > self.longest:
                    use[s, first : t + 1] = seen[s, first : t + 1] > 0  # the new level: data again
                    self.start[s] = ACCEPTED
                else:
                    use[s, first : t + 1] = 0.0
