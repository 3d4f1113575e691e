"""`incidents demo`: build a store from the shipped sample data and show what the tool does with it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from rich.console import Console

from incidents import ingest, stats, store
from incidents.views import ingest_table, month_table, pct

DEFAULT_DEMO_DB = Path("incidents-demo.db")
# Files in sample_logs/ that are incident exports (raw logs for `scan` live in sample_logs/raw/).
EXPORT_SUFFIXES = (".csv", ".json", ".jsonl")


class DemoError(Exception):
    """The demo cannot run (no sample data, or the target path holds a store that is not a demo)."""


def samples_dir() -> Path:
    """sample_logs/ of a source checkout, else the copy packed into the wheel; DemoError when neither is there."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sample_logs", here / "_data" / "sample_logs"):
        if candidate.is_dir():
            return candidate
    raise DemoError("no sample_logs/ folder found beside the package")


def export_files(folder: Path) -> list[Path]:
    """The feed exports in `folder` (by suffix: EXPORT_SUFFIXES), sorted by path."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES)


def fresh_store(path: Path):
    """A new, empty demo store at `path`; an existing file is replaced only if it is a demo store itself
    (DemoError otherwise)."""
    if path.exists():
        try:
            conn = sqlite3.connect(path)
            is_demo = conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone() is not None
            conn.close()
        except sqlite3.DatabaseError:
            is_demo = False
        if not is_demo:
            raise DemoError(f"{path} exists and is not a demo store; choose another --db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = store.open_db(path)
    store.set_meta(db, "demo", "1")
    return db


def run_demo(console: Console, db_path: Path | None = None, month: str = "2020-10") -> Path:
    """Build the demo store at `db_path` (default ./incidents-demo.db) from sample_logs/, printing each step
    on `console`: ingest, the month's statistics (`month` 'YYYY-MM'), the raw-log scan, the spikes.
    Returns the store's path. Raises DemoError (one line) when there are no exports, the store cannot be
    made (never over a store that is not a demo store) or the scan fails; stats.parse_month's error for
    a bad month (stats.BadMonth)."""
    started = time.perf_counter()
    stats.parse_month(month)
    path = Path(db_path or DEFAULT_DEMO_DB)
    folder = samples_dir()
    files = export_files(folder)
    if not files:
        raise DemoError(f"no incident exports in {folder}")
    try:
        db = fresh_store(path)
    except store.StoreError as e:
        raise DemoError(str(e)) from None

    console.rule("1. Ingest the feed exports in sample_logs/")
    results = [ingest.ingest_file(db, _shown(f)) for f in files]
    console.print(ingest_table(results))

    console.rule(f"2. Monthly statistics for {month}")
    report = stats.month_report(db, month)
    console.print(month_table(report))
    console.print(summary_sentence(report), soft_wrap=True)

    raw = folder / "raw"
    if raw.is_dir():
        from incidents.scan import ScanError, scan_paths
        from incidents.scan.tables import scan_table

        console.rule("3. Scan the raw logs of January 2021 in sample_logs/raw/ with rules/")
        try:
            scanned = scan_paths(db, [_shown(raw)])
        except ScanError as e:
            raise DemoError(f"scan failed: {e}") from None
        console.print(scan_table(scanned))

    from incidents.spikes.episodes import sentence
    from incidents.spikes.report import daily_spikes

    console.rule("4. Spikes in November 2020, each day judged on the days before it")
    db.conn.commit()
    # The verdicts are kept in the store, as `incidents spikes` and the alerts keep them: the commands
    # suggested below then read them instead of judging two years again.
    found = daily_spikes(path, since="2020-11-01", until="2020-11-30")
    for episode in found.episodes:
        text = sentence(episode, "en")
        console.print(f"  {text[:1].upper()}{text[1:]}", soft_wrap=True)
    console.print(
        f"  ({len(found.alarms)} alarms in all; `incidents spikes --days` lists each with its bound)",
        soft_wrap=True,
    )

    console.rule("Done")
    console.print(
        f"Demo store: {path.resolve()}  (built in {time.perf_counter() - started:.1f} s)", soft_wrap=True
    )
    console.print("Explore it next:")
    for command in next_commands(path, month):
        console.print(f"  {command}", soft_wrap=True)
    return path


def _shown(path: Path) -> Path:
    """The path as a user in the current folder would type it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def summary_sentence(report: stats.MonthReport) -> str:
    """The bulletin's headline figures in one English sentence (the bulletin command words it fully)."""
    t = report.total
    p = report.periods
    parts = [
        f"{t.count:,} incidents in {report.month}",
        f"{pct(t.month_over_month)} vs {p['previous_month']}",
        f"{pct(t.year_over_year)} vs {p['same_month_last_year']}",
        f"{t.year_to_date:,} year to date, {pct(t.year_to_date_change)} vs the same period a year earlier",
    ]
    split = ", ".join(f"{name} {f.count:,}" for name, f in report.categories.items() if f.seen)
    return "; ".join(parts) + (f" ({split})." if split else ".")


def next_commands(path: Path, month: str) -> list[str]:
    """Commands to try next, as the user can paste them: `uv run incidents ...` from a source checkout
    (a fresh clone has no `incidents` on its PATH), the store's path quoted for the shell."""
    import shlex

    checkout = (Path(__file__).resolve().parent.parent / "pyproject.toml").is_file()
    run = "uv run incidents" if checkout else "incidents"
    db = shlex.quote(str(path))
    return [
        f"{run} stats --db {db} --month {month}",
        f"{run} list --db {db} --month {month} --category deface",
        f"{run} spikes --db {db} --since 2020-01-01",
        f"{run} bulletin --db {db} --month {month} --lang vi",
        f"{run} rejects --db {db}",
        f"{run} tui --db {db}",
        f"{run} rules list",
    ]
