"""Benchmark: `incidents scan` over a generated 1,000,000-line auth.log with the shipped rules.

    uv run python bench/scan.py [--lines 1000000]

Promise (issue 4): >= 150,000 lines/s end to end (read, parse, match, store), single process, peak
memory < 500 MB. Printed beside `grep -c` over the same file in the same run: the physical reference
for touching every byte once.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from incidents import store
from incidents.scan import scan_paths


def generator():
    spec = importlib.util.spec_from_file_location(
        "make_sample_logs", ROOT / "scripts" / "make_sample_logs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    n = parser.parse_args().lines
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "auth.log"
        started = time.perf_counter()
        with log.open("w") as fh:
            fh.writelines(generator().auth_lines(n))
        size = log.stat().st_size
        print(f"generated {n:,} lines, {size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        grep = subprocess.run(
            ["grep", "-c", "Failed password", str(log)], check=True, capture_output=True, text=True
        )
        grep_s = time.perf_counter() - started
        print(f"reference: grep -c 'Failed password' -> {grep.stdout.strip()} in {grep_s:.3f} s "
              f"({n / grep_s:,.0f} lines/s)")  # fmt: skip

        db = store.open_db(Path(tmp) / "bench.db")
        started = time.perf_counter()
        report = scan_paths(db, [log], year=2020)
        scan_s = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
        f = report.files[0]
        rate = f.lines / scan_s
        print(f"incidents scan: {f.lines:,} lines, {f.events:,} events, {f.found:,} incidents "
              f"({f.new:,} new) in {scan_s:.2f} s -> {rate:,.0f} lines/s, {scan_s / grep_s:.0f}x grep")  # fmt: skip
        for row in report.per_rule():
            if row["incidents"]:
                print(f"  {row['rule']}: {row['incidents']:,}")
        print(f"peak memory (max RSS of this process): {peak_mb:.0f} MB")
        ok = rate >= 150_000 and peak_mb < 500 and report.complete
        print("PASS" if ok else "FAIL", "(>= 150,000 lines/s, < 500 MB)")
        db.close()


if __name__ == "__main__":
    main()
