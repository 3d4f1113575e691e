"""Shared fixtures: a real SQLite file per test, the sample data folder, and ../shared where present."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidents import store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


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
