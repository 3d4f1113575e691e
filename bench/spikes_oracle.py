"""The ceiling of the spike benchmark: a detector told the TRUE mean and dispersion of every series.

    uv run python bench/spikes_oracle.py [--seeds 0-299]

No real detector can know the generator's baseline mean and phi; this one does, and applies the same
kind of test `incidents spikes` applies (a mid-p negative-binomial bound on each day, optionally on
2/3/7-day totals too). Whatever it cannot reach at a given false-alert rate, no estimate of the baseline
will: it shows how far issue 3's targets (F1 >= 0.65, recall >= 0.60 at 3-5 sd and >= 0.95 at >= 5 sd,
at most 0.5 false alerts per series-year) are reachable at all on this benchmark.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from incidents.spikes import tails

BENCH = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "spikes"


def oracle_alarms(
    y: np.ndarray, mu: np.ndarray, phi: float, day_alpha: float, total_alpha: float
) -> np.ndarray:
    disp = np.full_like(mu, phi)
    alarm = tails.mid_p(y, mu, disp) <= day_alpha
    if total_alpha:
        cy, cm = np.concatenate([[0], np.cumsum(y)]), np.concatenate([[0], np.cumsum(mu)])
        for w in (2, 3, 7):
            hit = np.zeros_like(alarm)
            hit[w - 1 :] = tails.mid_p(cy[w:] - cy[:-w], cm[w:] - cm[:-w], disp[w - 1 :]) <= total_alpha
            alarm |= hit & (y > mu)
    return alarm


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0-299")
    args = ap.parse_args()
    if not BENCH.is_dir():
        print(f"{BENCH} is absent: the benchmark is read in place from ../shared", file=sys.stderr)
        return 1
    sys.path.insert(0, str(BENCH))
    from gen import generate
    from run import parse_seeds  # the benchmark's own seed syntax (0-299,1000-1010)
    from score import aggregate, score_series

    data = [generate(seed) for seed in parse_seeds(args.seeds)]
    print(f"{len(data)} series; targets: F1 >= 0.65, 3-5 sd >= 0.60, >= 5 sd >= 0.95, false alerts <= 0.5")
    print(f"{'oracle test (true mean and phi)':46}{'recall':>7}{'F1':>6}{'FA/yr':>7}{'3-5sd':>7}{'>=5sd':>7}")
    for day_alpha, total_alpha in (
        (0.001, 0.0),
        (0.00137, 0.0),
        (0.003, 0.0),
        (0.001, 0.0002),
        (0.002, 0.0005),
    ):
        rows = []
        for df, meta in data:
            y = df["count"].to_numpy().astype(float)
            alarm = oracle_alarms(
                y, df["baseline_mean"].to_numpy(), meta["params"]["phi"], day_alpha, total_alpha
            )
            rows.append(
                score_series(alarm, meta["events"], df["dont_care"].to_numpy(), meta["eval_start_idx"])
            )
        s = aggregate(rows)
        by_peak = s["recall_by_peak_size"]
        label = f"day mid-p <= {day_alpha}" + (f", 2/3/7-day totals <= {total_alpha}" if total_alpha else "")
        print(
            f"{label:46}{s['recall']:7.2f}{s['f1']:6.2f}{s['false_alerts_per_series_year']:7.2f}"
            f"{by_peak['3-5sd']:7.2f}{by_peak['>=5sd']:7.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
