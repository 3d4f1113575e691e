"""Spike-detection benchmark: runs ../shared/bench/spikes/run.py on `incidents spikes` and prints our
figures beside the reference rows of that benchmark's README.

    uv run python bench/spikes.py                 # seeds 0-299 (tuning range)
    uv run python bench/spikes.py --seeds 1000-1299   # the seeds the README's references were measured on

The reference detectors' code is not shipped with the benchmark, so their rows are quoted from its
README (measured there on seeds 1000-1299); the issue's targets are printed too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "bench" / "spikes"
TARGETS = {
    "false alerts / series-year": "<= 0.5",
    "recall, peak >= 5 sd": ">= 0.95",
    "recall, peak 3-5 sd": ">= 0.60",
    "F1": ">= 0.65",
    "time": "< 30 s",
}


def reference_rows() -> list[list[str]]:
    rows = []
    for line in (BENCH / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] not in ("detector",) and not set(cells[0]) <= {"-"}:
            rows.append(cells)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0-299")
    ap.add_argument("--cmd", default="uv run incidents spikes")
    args = ap.parse_args()
    if not BENCH.is_dir():
        print(f"Error: {BENCH} is absent (the shared benchmark is read in place)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "summary.json")
        proc = subprocess.run(
            [
                sys.executable,
                str(BENCH / "run.py"),
                "--cmd",
                args.cmd,
                "--seeds",
                args.seeds,
                "--json",
                str(out),
            ],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or not out.exists():
            print(proc.stdout + proc.stderr, file=sys.stderr)
            return 1
        s = json.loads(out.read_text())
    size = s["recall_by_peak_size"]
    ours = [
        "incidents spikes (this run, seeds " + args.seeds + ")",
        f"{s['recall']:.2f}",
        f"{s['f1']:.2f}",
        f"{s['false_alerts_per_series_year']:.2f}",
        f"{size.get('3-5sd', float('nan')):.2f}",
        f"{size.get('>=5sd', float('nan')):.2f}",
        f"{s['detector_seconds']:.1f} s end to end",
    ]
    head = [
        "detector",
        "recall",
        "F1",
        "false alerts / series-year",
        "recall, peak 3-5 sd",
        "recall, peak >= 5 sd",
        "time",
    ]
    rows = [ours] + [[r[0] + " (README, seeds 1000-1299)", *r[1:]] for r in reference_rows()]
    rows.append(
        [
            "issue 3 targets",
            "",
            TARGETS["F1"],
            TARGETS["false alerts / series-year"],
            TARGETS["recall, peak 3-5 sd"],
            TARGETS["recall, peak >= 5 sd"],
            TARGETS["time"],
        ]
    )
    widths = [max(len(str(r[k])) for r in [head, *rows]) for k in range(len(head))]
    for r in [head, ["-" * w for w in widths], *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print(
        f"\n{s['events']} events in {s['series']} series; precision (alert episodes) {s['precision_ep']:.2f}, "
        f"median delay {s['median_delay']:.0f} days, recall 1.5-3 sd {size.get('1.5-3sd', float('nan')):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
