"""NAB scoring of the spike detector on the 12 count series of the Numenta Anomaly Benchmark.

    uv run python bench/nab.py            # score the detector (all three profiles)
    uv run python bench/nab.py --check    # the scorer's own checks: null 0, perfect 100, random ~17

Settings were fixed before scoring: the library's hourly detector (incidents.spikes.detector.SETTINGS
["hour"]: daily cycle, weekday, trend, level shifts, 99.9% mid-p bound, totals over 3 and 6 hours) on
the 5- and 30-minute counts summed per clock hour; NAB's probation period is the history it learns
from; an alarm is reported on the last row of its hour (the first moment the hour's count is known, so
nothing looks ahead), and at most once a day (see `hourly_alarms`).
Scoring follows NAB's sweeper (numenta/NAB nab/sweeper.py, summarised in ../shared/bench/nab-counts/
README.md): probation of min(15%, 750) rows, scaled-sigmoid rewards, every false positive counted,
normalised 100 * (raw - null) / (perfect - null) over the corpus, for each profile.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NAB = ROOT.parent / "shared" / "bench" / "nab-counts"
REFRACTORY_HOURS = 24  # one detection a day per series at most

from incidents.spikes.detector import SETTINGS, detect

PUBLISHED = {  # standard profile on these 12 series, from ../shared/bench/nab-counts/README.md
    "ARTime": 82.7,
    "CAD OSE": 70.7,
    "Numenta HTM": 69.9,
    "KNN CAD": 64.4,
    "Relative Entropy": 62.7,
    "earthgecko Skyline": 61.4,
    "Twitter ADVec": 53.6,
    "Random Cut Forest": 46.5,
    "Windowed Gaussian": 44.7,
    "Etsy Skyline": 28.7,
    "random": 17.9,
    "null": 0.0,
}


def scaled_sigmoid(x: float) -> float:
    """NAB's S(x) = 2 / (1 + e^(5x)) - 1, and -1 beyond three window widths."""
    return -1.0 if x >= 3.0 else 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def score_file(detected: np.ndarray, windows: list[tuple[int, int]], costs: dict) -> tuple[float, int]:
    """Raw NAB score of one file and the number of its scored windows (windows are row-index pairs)."""
    n = len(detected)
    probation = min(math.floor(0.15 * n), 0.15 * 5000)
    tp_w, fp_w, fn_w = costs["tpWeight"], costs["fpWeight"], costs["fnWeight"]
    max_tp = scaled_sigmoid(-1.0)
    window_of = np.full(n, -1)
    for k, (a, b) in enumerate(windows):
        window_of[a : b + 1] = k
    best = {k: -fn_w for k, (a, b) in enumerate(windows) if b >= probation}
    fp = 0.0
    prev_right = prev_width = None
    for i in range(n):
        k = window_of[i]
        if k >= 0:
            a, b = windows[k]
            width = b - a + 1
            weighted = scaled_sigmoid(-(b - i + 1) / width) * tp_w / max_tp
        else:
            pos = 3.0 if prev_right is None else abs(prev_right - i) / (prev_width - 1)
            weighted = scaled_sigmoid(pos) * fp_w
        if detected[i] and i >= probation:
            if k >= 0:
                best[k] = max(best[k], weighted)
            else:
                fp += weighted
        if k >= 0 and i == windows[k][1]:
            prev_right, prev_width = i, windows[k][1] - windows[k][0] + 1
    return sum(best.values()) + fp, len(best)


def hourly_alarms(frames: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Run the hourly detector on each file; return a per-row detection array per file.

    Settings decided before scoring (run once, see the module docstring):
    - NAB's probation (the first 15% of the rows, at most 750) is the history the detector may learn
      from before it judges, so its first verdicts come at the first refit (midnight) after probation,
      not a week in (several windows start within the first week).
    - One detection per alert: an alarm hour is reported (on its last row, when its count is known)
      only if no detection was reported in the 24 hours before; NAB charges every detection row
      outside a window, and an analyst wants one e-mail a day per series, not one per 5 minutes.
    """
    out = {}
    for name, f in frames.items():
        hours = f["timestamp"].dt.floor("h").to_numpy().astype("datetime64[h]")
        first = hours.min()
        starts = np.arange(first, hours.max() + 1, dtype="datetime64[h]")
        col = (hours - first).astype(int)
        counts = np.zeros((1, len(starts)))
        observed = np.zeros_like(counts, dtype=bool)
        np.add.at(counts[0], col, f["value"].to_numpy(dtype=float))
        observed[0, col] = True
        probation = min(math.floor(0.15 * len(f)), 750)
        settings = replace(SETTINGS["hour"], min_history=int(col[probation]))
        alarm = detect(counts, observed, starts, settings).alarm[0]
        reported = np.zeros(len(starts), dtype=bool)
        last = -(10**9)
        for h in np.flatnonzero(alarm):
            if h - last >= REFRACTORY_HOURS:
                reported[h] = True
                last = h
        last_row_of_hour = np.r_[col[1:] != col[:-1], True]
        out[name] = reported[col] & last_row_of_hour
    return out


def window_rows(frames: dict[str, pd.DataFrame], windows: dict) -> dict[str, list[tuple[int, int]]]:
    out = {}
    for name, f in frames.items():
        ts = f["timestamp"].to_numpy()
        out[name] = [
            (
                int(np.searchsorted(ts, np.datetime64(pd.Timestamp(a)))),
                int(np.searchsorted(ts, np.datetime64(pd.Timestamp(b)))),
            )
            for a, b in windows[name]
        ]
    return out


def normalised(detected: dict[str, np.ndarray], rows: dict, profiles: dict) -> dict[str, float]:
    """100 * (raw - null) / (perfect - null) over the files, for each profile."""
    scores = {}
    for profile, spec in profiles.items():
        costs = spec["CostMatrix"]
        raw = null = perfect = 0.0
        for name, idx in rows.items():
            got, n_windows = score_file(detected[name], idx, costs)
            raw += got
            null -= costs["fnWeight"] * n_windows
            perfect += costs["tpWeight"] * n_windows
        scores[profile] = 100 * (raw - null) / (perfect - null)
    return scores


def check_scorer(frames: dict[str, pd.DataFrame], rows: dict, profiles: dict) -> None:
    """The scorer's sanity checks: no detection scores 0, one detection on the first row of every
    window scores 100, and random detections (NAB's "random" detector flags rows at random; NAB then
    picks its threshold, i.e. the rate) land in the tens, as NAB's published random score (17.9) does."""
    none = {n: np.zeros(len(f), dtype=bool) for n, f in frames.items()}
    perfect = {n: np.zeros(len(f), dtype=bool) for n, f in frames.items()}
    for n, idx in rows.items():
        for a, _ in idx:
            perfect[n][a] = True
    print("scorer check: null", {k: round(v, 1) for k, v in normalised(none, rows, profiles).items()})
    print("scorer check: perfect", {k: round(v, 1) for k, v in normalised(perfect, rows, profiles).items()})
    rng = np.random.default_rng(0)
    for rate in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2):
        rand = {n: rng.random(len(f)) < rate for n, f in frames.items()}
        got = normalised(rand, rows, profiles)
        print(
            f"scorer check: random, a detection every {1 / rate:.0f} rows",
            {k: round(v, 1) for k, v in got.items()},
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="the scorer's own checks (null 0, perfect 100, random ~17) instead",
    )
    check = parser.parse_args().check
    if not NAB.is_dir():
        print(f"Error: {NAB} is absent (the shared benchmark is read in place)", file=sys.stderr)
        return 1
    windows = json.loads((NAB / "windows.json").read_text())
    profiles = json.loads((NAB / "profiles.json").read_text())
    frames = {name: pd.read_csv(NAB / "data" / name, parse_dates=["timestamp"]) for name in sorted(windows)}
    idx = window_rows(frames, windows)
    if check:
        check_scorer(frames, idx, profiles)
        return 0
    t0 = time.perf_counter()
    detected = hourly_alarms(frames)
    seconds = time.perf_counter() - t0
    rows = normalised(detected, idx, profiles)
    n_alarms = sum(int(d.sum()) for d in detected.values())
    print(
        f"incidents spikes, hourly, on the 12 NAB count series ({sum(len(f) for f in frames.values())} rows, "
        f"{n_alarms} alarm rows, detector {seconds:.1f} s); settings fixed before scoring\n"
    )
    print("profile              score")
    for profile, value in rows.items():
        print(f"{profile:<20} {value:6.1f}")
    print("\nPublished, standard profile, NAB's shipped thresholds (README there):")
    for name, value in sorted(
        {**PUBLISHED, "incidents spikes (this run)": rows["standard"]}.items(), key=lambda kv: -kv[1]
    ):
        print(f"  {name:<28} {value:5.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
