"""`incidents spikes` on a large store: kept verdicts against the full recomputation, in one run.

    uv run python bench/spikes_store.py                    # 1,000,000 incidents (store cached in --dir)
    uv run python bench/spikes_store.py --incidents 100000

The store is made by this script with a fixed seed (`make_store`): four years of daily incidents in
the seven categories, weekly and annual rhythm, a few campaigns, targets and sources drawn from pools
with a long tail, five feeds. It is cached under --dir and remade when the size or seed differ.
Printed, each as the whole `incidents spikes` process (CPU seconds of the child, user + system):

- full recomputation: every day judged from the whole history and the unusual-mix features re-read
  from the whole table (what `incidents spikes` did before verdicts were kept; `store_spikes` +
  `store_mix` in one process);
- first run on the store: every day judged and kept;
- nothing new: kept verdicts read;
- after a day's ingest: one more day of incidents stored, then `incidents spikes` (the day is scored
  by the kept unusual-mix forests of its four-week block);
- after the next day's ingest, which starts a new four-week block: the forests are refitted (once in
  28 days: scikit-learn imported and two forests fitted);
- each as CPU microseconds per stored incident, for the growth from 10^5 to 10^7 (README).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from incidents import store
from incidents.spikes.mix import REFIT_DAYS
from incidents.taxonomy import rsit

FIRST = date(2019, 1, 1)
DAYS = 4 * 365
SHARE = {"phishing": 0.35, "deface": 0.15, "malware": 0.25, "intrusion": 0.1, "ddos": 0.03, "scanning": 0.1}
FEEDS = ("shadowserver", "ncsc-vn", "phishtank", "abuse-ch", "partner-cert")


def rows_for_day(rng: np.random.Generator, day: date, n: int, serial: int) -> list[tuple]:
    cats = list(SHARE) + ["other"]
    p = np.array([*SHARE.values(), 1 - sum(SHARE.values())])
    picks = rng.choice(len(cats), size=n, p=p)
    # long-tailed pools: many repeat offenders, a steady flow of new targets
    targets = rng.zipf(1.3, size=n) % 400_000
    sources = rng.zipf(1.5, size=n) % 60_000
    feeds = rng.choice(len(FEEDS), size=n, p=[0.4, 0.25, 0.15, 0.15, 0.05])
    seconds = rng.integers(0, 86400, size=n)
    out = []
    for k in range(n):
        cat = cats[picks[k]]
        taxonomy, kind = rsit(cat)
        t = int(seconds[k])
        out.append(
            (
                f"b{serial + k}",
                f"{day}T{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}Z",
                str(day),
                cat,
                taxonomy,
                kind,
                f"host{targets[k]}.example.vn",
                "domain",
                f"203.0.{sources[k] // 256 % 256}.{sources[k] % 256}",
                "government",
                FEEDS[feeds[k]],
                "medium",
                "new",
                None,
                None,
                "{}",
            )
        )
    return out


def daily_means(incidents: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(DAYS)
    weekday = np.where((t + FIRST.weekday()) % 7 >= 5, 0.6, 1.1)
    season = 1 + 0.2 * np.sin(2 * np.pi * t / 365.25)
    trend = 1 + 0.3 * t / DAYS
    mu = weekday * season * trend
    for start in rng.choice(DAYS - 10, size=8, replace=False):  # campaigns of 2-6 days
        mu[start : start + rng.integers(2, 7)] *= 3
    return mu * incidents / mu.sum()


def make_store(path: Path, incidents: int, seed: int) -> None:
    from bulk import bulk_load

    rng = np.random.default_rng(seed)
    mu = daily_means(incidents, rng)
    counts = rng.poisson(mu)

    def batches():
        serial, rows = 0, []
        for k, n in enumerate(counts):
            rows += rows_for_day(rng, FIRST + timedelta(days=k), int(n), serial)
            serial += int(n)
            if len(rows) >= 200_000:
                yield rows
                rows = []
        yield rows

    bulk_load(path, batches())
    db = store.open_db(path)
    store.set_meta(db, "bench", f"{incidents}:{seed}")
    db.close()


def child_cpu(args: list[str], env: dict | None = None) -> tuple[float, float]:
    """(CPU seconds of the child process, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


FULL = """
import sys
from incidents import store
from incidents.spikes import store_spikes
from incidents.spikes.mix import store_mix
conn = store.open_read(sys.argv[1])
last = store.data_span(conn)[1]
alarms, notes = store_spikes(conn, freq="day")
mix = store_mix(conn)
print(len(alarms), len(mix))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "incidents-bench"))
    ap.add_argument("--repeat", type=int, default=3, help="runs of each quick measurement (best is printed)")
    args = ap.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"spikes-{args.incidents}-{args.seed}.db"
    if not base.exists():
        print(f"making {base} ({args.incidents:,} incidents, seed {args.seed}) ...", file=sys.stderr)
        make_store(base, args.incidents, args.seed)
    store.open_db(base).close()  # a store cached by an older release: migrated once, here
    for old in folder.glob(f"{base.name}.*backup*"):
        old.unlink()
    work = folder / "work.db"
    cli = [sys.executable, "-m", "incidents.cli", "spikes", "--json", "--db", str(work)]
    shutil.copy(base, work)
    full_cpu, full_wall = child_cpu([sys.executable, "-c", FULL, str(work)])
    first_cpu, first_wall = child_cpu(cli)
    kept = work.with_name("kept.db")
    shutil.copy(work, kept)
    quiet = [child_cpu(cli) for _ in range(args.repeat)]
    after = []
    rng = np.random.default_rng(args.seed + 1)
    day = FIRST + timedelta(days=DAYS)
    n = round(args.incidents / DAYS * 1.2)
    extra = rows_for_day(rng, day, n, 10**9)
    for _ in range(args.repeat):
        shutil.copy(kept, work)
        db = store.open_db(work)
        with db.atomic():
            store.add_incidents(db, extra)
        db.close()
        after.append(child_cpu(cli))
    # The first day of the next four-week block of the unusual-mix forests (mix.REFIT_DAYS), which
    # refits them (once every 28 days); the days before it are stored and judged first.
    kept2 = work.with_name("kept2.db")
    refit_day = day + timedelta(days=1)
    while (refit_day - date(2000, 1, 3)).days % REFIT_DAYS:
        refit_day += timedelta(days=1)
    db = store.open_db(work)
    with db.atomic():
        for k in range(1, (refit_day - day).days):
            store.add_incidents(db, rows_for_day(rng, day + timedelta(days=k), n, (2 + k) * 10**9))
    db.close()
    child_cpu(cli)
    shutil.copy(work, kept2)
    extra2 = rows_for_day(rng, refit_day, n, 2 * 10**9)
    refit = []
    for _ in range(args.repeat):
        shutil.copy(kept2, work)
        db = store.open_db(work)
        with db.atomic():
            store.add_incidents(db, extra2)
        db.close()
        refit.append(child_cpu(cli))
    print(
        f"incidents spikes on {args.incidents:,} incidents ({DAYS} days, seed {args.seed}), CPU s of the process:"
    )
    print(f"  full recomputation (store_spikes + store_mix) : {full_cpu:6.2f} s CPU ({full_wall:.2f} s wall)")
    print(
        f"  first run, every day judged and kept          : {first_cpu:6.2f} s CPU ({first_wall:.2f} s wall)"
    )
    q = min(quiet)
    print(
        f"  nothing new (kept verdicts read)              : {q[0]:6.2f} s CPU ({q[1]:.2f} s wall)   target < 1 s"
    )
    a = min(after)
    print(
        f"  after a day's ingest ({n:,} incidents)         : {a[0]:6.2f} s CPU ({a[1]:.2f} s wall)   target < 3 s"
    )
    r = min(refit)
    print(f"  after {refit_day}'s ingest, forests refitted: {r[0]:6.2f} s CPU ({r[1]:.2f} s wall)   "
          "(the first day of a 4-week block: once in 28 days)")  # fmt: skip
    print(f"  ratio full / after a day: {full_cpu / a[0]:.1f}x")
    per = 1e6 / args.incidents
    print(f"  per stored incident: full {full_cpu * per:.2f} µs, first run {first_cpu * per:.2f} µs, "
          f"nothing new {q[0] * per:.3f} µs, after a day {a[0] * per:.3f} µs CPU")  # fmt: skip
    print(f"  load average at the end: {os.getloadavg()[0]:.2f} (2 cores shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
