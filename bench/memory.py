"""Bounded resources (issue 15 point 4): peak memory and extra disk of `incidents ingest` and `incidents
scan` on a 2 GB input, beside the same on a 200 MB input.

    uv run python bench/memory.py [--big-mb 2048] [--small-mb 200] [--only ingest|scan] [--dir DIR]
                                  [--seed 15] [--every 60]

For each size, in a temporary folder (under --dir, default the system's temp folder; check `df -h` first:
a 2 GB run needs the inputs plus the stores, about 20 GB in all), the script writes:
- a seeded CSV in the project's own layout (unique targets over two years, so every row is an incident);
- a seeded auth.log (scripts/make_sample_logs.py's busy sshd host, brute force and spraying included);
then runs `incidents ingest` on the CSV and `incidents scan --year 2020` on the log, each in a child
process of its own, and prints:
- peak RSS: ru_maxrss of the child (os.wait4), in MB;
- peak extra disk: the largest total size of the store's folder (store, -wal, -shm, SQLite's temp files,
  which TMPDIR/SQLITE_TMPDIR send there) sampled every 0.2 s while the command runs, in MB, beside the
  final store size and the peak WAL size;
- CPU seconds of the child (user + system) and rows or lines per CPU second.
The reference is the 200 MB run of the same script: memory that does not grow with the input (the
big/small ratio near 1) is the bound; disk grows with the store, the WAL stays bounded by one batch.
While a command runs, a line every --every seconds gives how far it has read its input (the file offset
of the child's open input, /proc/PID/fdinfo), its peak RSS so far (VmHWM) and its CPU seconds: a run cut
short still shows whether memory grows with the part of the input read.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description\n"
CATEGORIES = ("phishing", "deface", "malware", "intrusion", "scanning", "ddos", "other")
SECTORS = ("government", "education", "finance", "healthcare", "energy", "telecom", "commerce")
MB = 1024 * 1024


def write_csv(path: Path, size: int, seed: int) -> int:
    """A CSV of at least `size` bytes; returns its data rows."""
    rng = random.Random(seed)
    start = 1546300800  # 2019-01-01T00:00:00Z
    span = 2 * 365 * 86400
    written = 0
    rows = 0
    with open(path, "w", newline="") as fh:
        fh.write(HEADER)
        while written < size:
            chunk = []
            for _ in range(10_000):
                t = start + rng.randrange(span)
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
                chunk.append(
                    f"r{rows},{stamp},{rng.choice(CATEGORIES)},host{rows}.example.vn,{rng.choice(SECTORS)},"
                    f"feed{rng.randrange(6)},{rng.choice(('low', 'medium', 'high', 'critical'))},new,"
                    f"203.0.113.{rows % 250},seeded record {rng.randrange(10**9)} for the memory benchmark\n"
                )
                rows += 1
            text = "".join(chunk)
            fh.write(text)
            written += len(text.encode())
    return rows


def write_log(path: Path, size: int, seed: int) -> int:
    """An auth.log of at least `size` bytes; returns its lines."""
    spec = importlib.util.spec_from_file_location(
        "make_sample_logs", ROOT / "scripts" / "make_sample_logs.py"
    )
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    written = 0
    lines = 0
    with open(path, "w") as fh:
        # One long seeded stream, written in pieces (auth_lines is a generator: constant memory).
        stream = gen.auth_lines(10**12, seed=seed)
        while written < size:
            chunk = [next(stream) for _ in range(20_000)]
            text = "".join(chunk)
            fh.write(text)
            written += len(text.encode())
            lines += len(chunk)
    return lines


def folder_size(folder: Path) -> tuple[int, int]:
    total = wal = 0
    for entry in os.scandir(folder):
        try:
            size = entry.stat().st_size
        except FileNotFoundError:
            continue
        total += size
        if entry.name.endswith("-wal"):
            wal = size
    return total, wal


def progress(pid: int, source: Path) -> tuple[int | None, float, float]:
    """(offset in `source` of the child's open input or None, VmHWM in MB, CPU seconds) from /proc."""
    offset = None
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(source):
                    with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                        offset = int(fh.readline().split()[1])
            except (OSError, ValueError, IndexError):
                continue
        with open(f"/proc/{pid}/status") as fh:
            hwm = next((int(x.split()[1]) for x in fh if x.startswith("VmHWM:")), 0) / 1024
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration):
        return offset, 0.0, 0.0
    return offset, hwm, cpu


def measure(args: list[str], store_dir: Path, source: Path, every: float = 60.0) -> dict:
    """Run `incidents ARGS` on input `source` in a child; peak RSS (MB), peak folder size and WAL (MB),
    CPU s, exit code; a progress line every `every` seconds."""
    env = {**os.environ, "TMPDIR": str(store_dir), "SQLITE_TMPDIR": str(store_dir)}
    peak = {"disk": 0, "wal": 0}
    done = threading.Event()
    size = source.stat().st_size

    def sample() -> None:
        last = time.monotonic()
        while not done.is_set():
            total, wal = folder_size(store_dir)
            peak["disk"] = max(peak["disk"], total)
            peak["wal"] = max(peak["wal"], wal)
            if time.monotonic() - last >= every:
                last = time.monotonic()
                offset, hwm, cpu = progress(proc.pid, source)
                where = (
                    "input closed" if offset is None else f"read {offset / MB:,.0f} of {size / MB:,.0f} MB"
                )
                print(
                    f"  {args[0]} {size / MB:,.0f} MB: {where}; peak RSS so far {hwm:.1f} MB; CPU {cpu:.0f} s; "
                    f"folder {total / MB:,.0f} MB, WAL {wal / MB:,.0f} MB; load {load()}",
                    flush=True,
                )
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidents.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sampler.start()
    # wait4 gives the child's own rusage (ru_maxrss in KB on Linux); stderr is read after (small).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    done.set()
    sampler.join()
    total, _ = folder_size(store_dir)
    return {
        "rc": proc.returncode,
        "stderr": err.strip().splitlines()[-3:],
        "rss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": time.monotonic() - started,
        "peak_disk_mb": max(peak["disk"], total) / MB,
        "peak_wal_mb": peak["wal"] / MB,
        "store_mb": total / MB,
    }


def one_size(base: Path, size_mb: int, seed: int, commands: tuple[str, ...], every: float) -> dict:
    work = base / f"{size_mb}mb"
    work.mkdir()
    out = {"size_mb": size_mb}
    if "ingest" in commands:
        csv_path = work / "feed.csv"
        out["rows"] = write_csv(csv_path, size_mb * MB, seed)
        print(f"  {size_mb} MB CSV: {out['rows']:,} rows (load {load()})", flush=True)
        ingest_dir = work / "ingest-store"
        ingest_dir.mkdir()
        out["ingest"] = measure(
            ["ingest", "--db", str(ingest_dir / "store.db"), str(csv_path)], ingest_dir, csv_path, every
        )
    if "scan" in commands:
        log_path = work / "auth.log"
        out["lines"] = write_log(log_path, size_mb * MB, seed)
        print(f"  {size_mb} MB auth.log: {out['lines']:,} lines (load {load()})", flush=True)
        scan_dir = work / "scan-store"
        scan_dir.mkdir()
        out["scan"] = measure(
            ["scan", "--year", "2020", "--db", str(scan_dir / "store.db"), str(log_path)],
            scan_dir,
            log_path,
            every,
        )
    shutil.rmtree(work)
    return out


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mb", type=int, default=2048)
    parser.add_argument("--small-mb", type=int, default=200)
    parser.add_argument("--dir", default=None, help="where the temporary inputs and stores go")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
    parser.add_argument(
        "--only", choices=("ingest", "scan"), default=None, help="measure one command (run two at once)"
    )
    a = parser.parse_args()
    commands = (a.only,) if a.only else ("ingest", "scan")
    base = Path(tempfile.mkdtemp(prefix="incidents-memory-", dir=a.dir))
    free = shutil.disk_usage(base).free / MB
    print(f"work folder {base}, {free:,.0f} MB free; load {load()}", flush=True)
    results = []
    try:
        for size in [s for s in (a.small_mb, a.big_mb) if s > 0]:  # 0 leaves a size out
            r = one_size(base, size, a.seed, commands, a.every)
            results.append(r)
            print(f"{size} MB done (load {load()}): {r}", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print()
    print(
        f"{'input':>9} {'command':>7} {'rows/lines':>12} {'peak RSS MB':>12} {'peak disk MB':>13} "
        f"{'peak WAL MB':>12} {'store MB':>9} {'CPU s':>8} {'per CPU s':>10} rc"
    )
    for r in results:
        for cmd, unit in (("ingest", "rows"), ("scan", "lines")):
            if cmd not in r:
                continue
            m, n = r[cmd], r[unit]
            print(
                f"{r['size_mb']:>6} MB {cmd:>7} {n:>12,} {m['rss_mb']:>12.1f} {m['peak_disk_mb']:>13.1f} "
                f"{m['peak_wal_mb']:>12.1f} {m['store_mb']:>9.1f} {m['cpu_s']:>8.1f} {n / max(m['cpu_s'], 1e-9):>10,.0f} "
                f"{m['rc']}"
            )
            if m["rc"]:
                print(f"          stderr: {m['stderr']}")
    if len(results) == 2:
        small, big = results
        for cmd in commands:
            print(
                f"{cmd}: peak RSS {big[cmd]['rss_mb']:.1f} MB on {big['size_mb']} MB vs "
                f"{small[cmd]['rss_mb']:.1f} MB on {small['size_mb']} MB: ratio "
                f"{big[cmd]['rss_mb'] / small[cmd]['rss_mb']:.2f} for {big['size_mb'] / small['size_mb']:.1f}x the input; "
                f"peak WAL {big[cmd]['peak_wal_mb']:.1f} vs {small[cmd]['peak_wal_mb']:.1f} MB"
            )
    print(f"load at the end: {load()}")


if __name__ == "__main__":
    main()
