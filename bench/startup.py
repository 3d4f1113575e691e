"""Start-up benchmark: CPU seconds of `incidents --help`, `stats` and `list`, beside `python -c pass`.

    uv run python bench/startup.py [--repeat 7]

Targets (issue 14 point 5): `incidents --help` under 0.25 s CPU; `stats` and `list` within 0.15 s CPU
of `--help`. Each command runs as a whole process (user + system CPU of the child, median of the
repeats) on a small store built here with a fixed seed, after one warm-up run that writes the .pyc
files (PYTHONDONTWRITEBYTECODE is removed from the children's environment: without bytecode caches
every start-up compiles the sources again, which is measured separately on the last line).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child_cpu(args: list[str], env: dict) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu(args: list[str], env: dict, repeat: int) -> float:
    child_cpu(args, env)  # warm-up: page cache and .pyc files
    return statistics.median(child_cpu(args, env) for _ in range(repeat))


def small_store(path: Path) -> None:
    from incidents import store
    from incidents.taxonomy import rsit

    rng = random.Random(14)
    db = store.open_db(path)
    rows = []
    for i in range(5000):
        day = f"2020-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        category = rng.choice(("phishing", "deface", "malware", "intrusion"))
        taxonomy, type_ = rsit(category)
        rows.append((f"id{i}", f"{day}T01:00:00Z", day, category, taxonomy, type_, f"host{i}.example.vn",
                     "domain", None, "government", "bench", "high", "new", None, None, "{}"))  # fmt: skip
    with db.atomic():
        store.add_incidents(db, rows)
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    incidents = [sys.executable, "-m", "incidents.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "startup.db"
        small_store(db)
        python = median_cpu([sys.executable, "-c", "pass"], env, repeat)
        help_ = median_cpu([*incidents, "--help"], env, repeat)
        stats = median_cpu([*incidents, "stats", "--month", "2020-10", "--db", str(db)], env, repeat)
        listing = median_cpu([*incidents, "list", "--db", str(db)], env, repeat)
        cold = median_cpu([*incidents, "--help"], {**env, "PYTHONDONTWRITEBYTECODE": "1",
                                                   "PYTHONPYCACHEPREFIX": str(Path(tmp) / "nopyc")}, 3)  # fmt: skip
    print(f"reference: python -c pass                 {python:6.3f} s CPU")
    print(f"incidents --help                          {help_:6.3f} s CPU   target < 0.250  "
          f"{'ok' if help_ < 0.25 else 'OVER'}")  # fmt: skip
    for name, cpu in (("incidents stats --month 2020-10", stats), ("incidents list", listing)):
        extra = cpu - help_
        print(f"{name:40s}  {cpu:6.3f} s CPU   {extra:+.3f} s vs --help, target < +0.150  "
              f"{'ok' if extra < 0.15 else 'OVER'}")  # fmt: skip
    print(f"incidents --help without .pyc files       {cold:6.3f} s CPU   (sources compiled at every start)")
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
