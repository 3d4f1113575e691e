"""Alert job benchmark: `incidents alert` on a 1,000,000-incident store, beside a full recomputation.

    uv run python bench/alert.py [--rows 1000000] [--keep DIR] [--seed 11]

Builds a seeded store (two years of daily incidents in 7 categories from 6 feeds, a phishing campaign in
its last week), starts a real SMTP server on 127.0.0.1 (aiosmtpd), and times `incidents alert` as cron
runs it, each in its own process (start-up included), in CPU seconds (user + system of the child) and
wall seconds:

1. the first run on the store: every day judged once and kept (what a run costs without kept verdicts);
2. a run with nothing new (target: under 3 s);
3. a run after a day's ingest (the average day's incidents stored for the next day; target: under 10 s);
4. beside them, the reference: the full recomputation of every spike verdict (`incidents.spikes.
   store_alarms` over the whole history, what each run would cost if nothing were kept).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from incidents import store
from incidents.taxonomy import rsit
from tests.smtpd import SmtpServer

CATEGORY_WEIGHTS = {
    "phishing": 30,
    "deface": 25,
    "malware": 25,
    "intrusion": 8,
    "scanning": 6,
    "ddos": 3,
    "other": 3,
}
FEEDS = ["feed-a", "feed-b", "feed-c", "partner", "sensor-1", "sensor-2"]
SEVERITIES = (("low", 40), ("medium", 35), ("high", 20), ("critical", 5))
SECTORS = ["government", "education", "finance", "healthcare", "energy", "telecom"]
FIRST_DAY = date(2019, 1, 1)
DAYS = 730


def seed_store(path: Path, rows: int, seed: int) -> str:
    """Write `rows` incidents over DAYS days (plus a campaign in the last week); returns the last day."""
    rng = random.Random(seed)
    per_day = rows / DAYS
    cats = list(CATEGORY_WEIGHTS)
    cat_w = list(CATEGORY_WEIGHTS.values())
    sev = [s for s, _ in SEVERITIES]
    sev_w = [w for _, w in SEVERITIES]
    db = store.open_db(path)
    batch: list[tuple] = []
    n = 0
    for d in range(DAYS):
        day = FIRST_DAY + timedelta(days=d)
        weekday = 0.75 if day.weekday() >= 5 else 1.1
        count = max(int(rng.gauss(per_day * weekday, (per_day * weekday) ** 0.5)), 0)
        campaign = DAYS - 5 <= d < DAYS - 1
        if campaign:
            count += int(per_day * 0.6)
        for _ in range(count):
            if n >= rows:
                break
            category = "phishing" if campaign and rng.random() < 0.45 else rng.choices(cats, cat_w)[0]
            taxonomy, type_ = rsit(category)
            second = rng.randrange(86400)
            occurred = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                seconds=second - 7 * 3600
            )
            local_day = (occurred + timedelta(hours=7)).date().isoformat()
            target = f"site{rng.randrange(20000)}.example.vn"
            batch.append(
                (
                    f"i{n}",
                    occurred.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    local_day,
                    category,
                    taxonomy,
                    type_,
                    target,
                    "domain",
                    f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
                    rng.choice(SECTORS),
                    rng.choice(FEEDS),
                    rng.choices(sev, sev_w)[0],
                    "new",
                    "seeded incident",
                    None,
                    "{}",
                )
            )
            n += 1
        if len(batch) >= 50_000:
            with db.atomic():
                store.add_incidents(db, batch)
            batch = []
    if batch:
        with db.atomic():
            store.add_incidents(db, batch)
    last = db.execute("SELECT max(day) FROM incidents").fetchone()[0]
    db.close()
    return last


def add_day(path: Path, day: str, count: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    db = store.open_db(path)
    rows = []
    for k in range(count):
        category = rng.choice(list(CATEGORY_WEIGHTS))
        taxonomy, type_ = rsit(category)
        rows.append(
            (
                f"new-{day}-{k}",
                f"{day}T03:{k % 60:02d}:00Z",
                day,
                category,
                taxonomy,
                type_,
                f"fresh{k}.example.vn",
                "domain",
                None,
                "government",
                rng.choice(FEEDS),
                rng.choices([s for s, _ in SEVERITIES], [w for _, w in SEVERITIES])[0],
                "new",
                None,
                None,
                "{}",
            )
        )
    with db.atomic():
        store.add_incidents(db, rows)
    db.close()


# An installed program runs from compiled bytecode (pip compiles on install; Python caches it on first
# import). With PYTHONDONTWRITEBYTECODE set, as in some sandboxes, every run would compile scipy's
# source again (~1,400 modules, seconds of CPU): the children run without it, after one warm-up.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
WARM_UP = (
    "import incidents.cli, incidents.alerts.job, incidents.spikes.kept, incidents.spikes.series, scipy.stats"
)


def timed(args: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=CHILD_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done


CONFIG = """
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "soc@example.vn"

[[recipients]]
email = "duty@example.vn"
spikes = true
feeds = true
min_severity = "critical"
max_per_hour = 12

[[recipients]]
email = "phishing-desk@example.vn"
categories = ["phishing"]
spikes = true
min_severity = "high"
max_per_hour = 6
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="build the store in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-alert-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "alert-bench.db"
    if db_path.exists():
        db_path.unlink()
    for suffix in ("-wal", "-shm", ".alert-lock"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    server = SmtpServer().start()
    config = folder / "incidents.toml"
    config.write_text(CONFIG.format(port=server.port))
    t0 = time.perf_counter()
    last_day = seed_store(db_path, args.rows, args.seed)
    print(f"store: {args.rows:,} incidents over {DAYS} days up to {last_day}, seed {args.seed} "
          f"(built in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
    py = sys.executable
    warm_cpu, _, _ = timed([py, "-c", WARM_UP])
    print(f"warm-up (bytecode cache of the imports, not counted): {warm_cpu:.2f} CPU s")
    job = [py, "-m", "incidents.cli", "alert", "--db", str(db_path), "--config", str(config)]
    last = date.fromisoformat(last_day)
    evening = datetime(last.year, last.month, last.day, 20, 0) - timedelta(hours=7)  # 20:00 local
    rows = []

    def run(label: str, now: datetime) -> None:
        cpu, wall, done = timed([*job, "--now", now.replace(tzinfo=UTC).isoformat()])
        status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[:200]}"
        rows.append((label, cpu, wall, status, len(server.received)))

    run("1. first run (judges every day, keeps them)", evening)
    run("2. nothing new (15 minutes later)", evening + timedelta(minutes=15))
    next_day = (last + timedelta(days=1)).isoformat()
    add_day(db_path, next_day, round(args.rows / DAYS), args.seed)
    run(f"3. after a day's ingest ({round(args.rows / DAYS):,} incidents)", evening + timedelta(days=1))
    run("   nothing new again", evening + timedelta(days=1, minutes=15))
    code = (
        "import sqlite3; from incidents.spikes import store_alarms; "
        f"c = sqlite3.connect({str(db_path)!r}); print(len(store_alarms(c)))"
    )
    reference = [py, "-c", code]
    cpu, wall, done = timed(reference)
    ref_status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[-200:]}"
    server.stop()
    print(f"{'run':<52} {'CPU s':>7} {'wall s':>7}  {'mails so far':>12}  status")
    for label, cpu_s, wall_s, status, mails in rows:
        print(f"{label:<52} {cpu_s:7.2f} {wall_s:7.2f}  {mails:12d}  {status}")
    print(
        f"{'reference: full recomputation (store_alarms, all days)':<52} {cpu:7.2f} {wall:7.2f}  {'':12}  {ref_status}"
    )
    nothing = rows[1][1]
    print(f"nothing new: {nothing:.2f} CPU s, {cpu / nothing:.1f}x less than the full recomputation; "
          f"after a day's ingest: {rows[2][1]:.2f} CPU s (targets: < 3 s and < 10 s)")  # fmt: skip
    if not args.keep:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
