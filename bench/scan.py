"""Benchmark: `incidents scan` over generated auth.log and access.log files, beside a plain regex loop.

    uv run python bench/scan.py [--lines 100000,1000000] [--formats auth,web]

For each format, the same file goes through:
- the reference: a plain Python loop that reads each line and matches one compiled regex that takes
  the line apart (what any hand-written log scanner does at least): the file opened as text, its lines
  iterated, one `match` of a compiled regex per line (each starts at the line's start, so `search`
  would do the same work); like the scan, it is timed from the open, without interpreter start-up;
- `incidents scan` end to end (detect, read, parse, store in the events table, run the 15 shipped rules,
  write the incidents), with the rules loaded from the cache (content hash) as on every run after the
  first; the cold conversion of the rules is timed apart.
Figures are CPU seconds (time.process_time), so the other jobs on a shared machine count only through
caches; each size and format runs in a fresh child process (reference and scan in the same one), whose
peak RSS is printed with the load average at the time, and where the scan's time went (read/parse/
events table, rule SQL/correlation/incident rows, store write). Target (issue 14): scan within 2x of the
reference for both formats; rules under 0.2 s warm.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The references: one compiled regex per line, taking out what a scanner needs.
AUTH_RE = re.compile(
    r"(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\S+) ([^\[:]+)(?:\[(\d+)\])?: "
    r"(?:Failed password for (?:invalid user )?(.*) from (\S+) port (\d+)|.*)"
)
WEB_RE = re.compile(r'(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) ([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"')


def generator():
    spec = importlib.util.spec_from_file_location(
        "make_sample_logs", ROOT / "scripts" / "make_sample_logs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_log(fmt: str, path: Path, n: int) -> None:
    gen = generator()
    with path.open("w") as fh:
        if fmt == "auth":
            fh.writelines(gen.auth_lines(n))
            return
        month = list(gen.web_lines())
        written = 0
        while written < n:
            chunk = month[: n - written]
            fh.writelines(chunk)
            written += len(chunk)


def reference(fmt: str, path: Path) -> tuple[float, int]:
    pattern = AUTH_RE if fmt == "auth" else WEB_RE
    started = time.process_time()
    matched = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        match = pattern.match
        for line in fh:
            if match(line) is not None:
                matched += 1
    return time.process_time() - started, matched


def _timed(module, name: str, spent: dict, key: str) -> None:
    """Wrap module.name so that its CPU seconds add up in spent[key] (where a scan's time goes)."""
    inner = getattr(module, name)

    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.process_time() - started

    setattr(module, name, timed)


def measure(fmt: str, log: Path, db_path: Path, queue) -> None:
    """In a child process: the reference and the scan of one file, and this process's peak RSS."""
    from incidents import store
    from incidents.scan import events, found, scan_paths

    spent: dict[str, float] = {}
    _timed(events, "load", spent, "read, parse, events table")
    _timed(found, "spill", spent, "rule SQL, correlation, incident rows")
    _timed(found, "write", spent, "store write")
    ref_s, matched = reference(fmt, log)
    db = store.open_db(db_path)
    started = time.process_time()
    report = scan_paths(db, [log], year=2020)
    scan_s = time.process_time() - started
    db.close()
    f = report.files[0]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    spent["the rest (rules from the cache, detection, run record)"] = scan_s - sum(spent.values())
    queue.put((ref_s, matched, scan_s, f.lines, f.found, report.complete, peak_mb, spent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--formats", default="auth,web")
    args = parser.parse_args()
    sizes = [int(x) for x in args.lines.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INCIDENTS_CACHE_DIR"] = str(Path(tmp) / "cache")
        from incidents.scan import load_ruleset

        started = time.process_time()
        load_ruleset(None)
        cold = time.process_time() - started
        started = time.process_time()
        load_ruleset(None)
        warm = time.process_time() - started
        print(
            f"rules: converted in {cold:.2f} s CPU (cold, pySigma), loaded from the cache in {warm:.3f} s CPU"
        )
        ok = warm < 0.2
        context = multiprocessing.get_context("fork")
        for n in sizes:
            for fmt in args.formats.split(","):
                log = Path(tmp) / f"{fmt}.log"
                write_log(fmt, log, n)
                size = log.stat().st_size
                queue = context.Queue()
                child = context.Process(
                    target=measure, args=(fmt, log, Path(tmp) / f"bench-{fmt}-{n}.db", queue)
                )
                load = os.getloadavg()[0]
                child.start()
                ref_s, matched, scan_s, lines, found, complete, peak_mb, spent = queue.get()
                child.join()
                log.unlink()
                ratio = scan_s / ref_s
                ok = ok and ratio <= 2 and complete
                print(
                    f"{fmt}: {lines:,} lines ({size / 1e6:.0f} MB): reference regex loop {ref_s:.2f} s "
                    f"({ref_s / lines * 1e6:.2f} us/line, {matched:,} matched); incidents scan {scan_s:.2f} s "
                    f"({scan_s / lines * 1e6:.2f} us/line, {found:,} incidents) -> {ratio:.2f}x the reference; "
                    f"peak RSS {peak_mb:.0f} MB; load {load:.1f}",
                    flush=True,
                )
                print("  of which " + "; ".join(f"{k} {v:.2f} s" for k, v in spent.items()), flush=True)
        print("PASS" if ok else "FAIL", "(scan <= 2x the regex loop for every format, warm rules < 0.2 s)")


if __name__ == "__main__":
    main()
