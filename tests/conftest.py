"""Shared fixtures: a real SQLite file per test, the sample data folder, and ../shared where present."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from incidents import store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


_FIGURES = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def figures(request):
    """`figures(text)`: a figure the closing notes quote (kills survived, seconds held, inputs tried per
    reader), printed at once (`pytest -s`) and again in the run's summary, under "figures"."""
    lines = request.config.stash.setdefault(_FIGURES, [])

    def add(text: str) -> None:
        lines.append(text)
        print(f"\n{text}")

    return add


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    lines = config.stash.get(_FIGURES, [])
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "test.db"


@pytest.fixture
def db(db_path: Path):
    database = store.open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def sample_dir() -> Path:
    return ROOT / "sample_logs"


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared reference data is read in place, not copied")
    return SHARED


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for one test (tests/smtpd.py: its port, what it received)."""
    from tests.smtpd import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tui_store(tmp_path_factory) -> Path:
    """The TUI tests' store (tests.tui_helpers.build_store: months, spikes, runs), one per module."""
    from tests.tui_helpers import shared_store  # textual: imported by the TUI tests only

    return shared_store(tmp_path_factory)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    """A store file with five incidents (3 deface on 2020-10-05, 2 phishing on 2020-09-05), per module."""
    path = tmp_path_factory.mktemp("small") / "s.db"
    db = store.open_db(path)
    add_counts(db, {("2020-10-05", "deface"): 3, ("2020-09-05", "phishing"): 2})
    db.close()
    return path


def add_counts(database, counts: dict[tuple[str, str], int]) -> None:
    """Store `n` distinct incidents for each (local day 'YYYY-MM-DD', category)."""
    from incidents.taxonomy import rsit

    rows = []
    for (day, category), n in counts.items():
        taxonomy, type_ = rsit(category)
        for i in range(n):
            rows.append(
                (
                    f"{day}-{category}-{i}",
                    f"{day}T05:00:00Z",
                    day,
                    category,
                    taxonomy,
                    type_,
                    f"host{i}.example.vn",
                    "domain",
                    None,
                    "government",
                    "test",
                    None,
                    "new",
                    None,
                    None,
                    "{}",
                )
            )
    with database.atomic():
        store.add_incidents(database, rows)


@pytest.fixture
def small_mount(tmp_path):
    """A 3 MB tmpfs under tmp_path (skipped where this user may not mount file systems)."""
    point = tmp_path / "mnt"
    point.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(point)], check=False, capture_output=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.decode().strip() or 'not permitted'})")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False, capture_output=True)


def minimal_alert_config(folder: Path) -> Path:
    """An incidents.toml in `folder` with one recipient of spike alerts and a mail server that is not
    there (port 1): enough for `incidents alert` to get past its configuration."""
    config = folder / "incidents.toml"
    config.write_text(
        '[smtp]\nhost = "127.0.0.1"\nport = 1\nsender = "incidents@example.org"\n\n'
        '[[recipients]]\nemail = "soc@example.org"\nspikes = true\n'
    )
    return config
