"""The monthly bulletin: numbers with provenance, lead paragraph, Markdown/HTML/JSON output, charts.

The test store is built directly with store.add_incidents from monthly totals that equal the published
and derived figures of ../shared/data/published-vn-2019-2020.csv, so these tests do not depend on the
sample exports; test_bulletin_sample.py checks the same sentences on the sample data.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from pathlib import Path

import pytest

from incidents import store
from incidents.taxonomy import rsit

GOLDEN = Path(__file__).parent / "golden"

# Monthly totals of the published/derived figures; where the file gives only a span (2019-01..03,
# 2019-07..09) it is split by hand, keeping the span's total.
MONTH_TOTALS = {
    "2019-01": 520, "2019-02": 480, "2019-03": 535, "2019-04": 638, "2019-05": 492, "2019-06": 494,
    "2019-07": 260, "2019-08": 255, "2019-09": 260, "2019-10": 580, "2019-11": 344, "2019-12": 318,
    "2020-01": 283, "2020-02": 288, "2020-03": 282, "2020-04": 203, "2020-05": 439, "2020-06": 522,
    "2020-07": 521, "2020-08": 517, "2020-09": 524, "2020-10": 582, "2020-11": 692, "2020-12": 315,
}  # fmt: skip
# Published splits where a month has one (April and August 2020); others split 40/35/25.
MONTH_SPLITS = {"2020-04": {"phishing": 43, "deface": 89, "malware": 71},
                "2020-08": {"phishing": 199, "deface": 160, "malware": 158}}  # fmt: skip
SECTORS = ("government", "education", "finance", "healthcare", "telecom", "energy", "retail")
CUTOFF = "2021-01-05T02:00:00Z"


def split(month: str, total: int) -> dict[str, int]:
    if month in MONTH_SPLITS:
        return MONTH_SPLITS[month]
    phishing, deface = total * 40 // 100, total * 35 // 100
    return {"phishing": phishing, "deface": deface, "malware": total - phishing - deface}


def incident_rows(counts: dict[tuple[str, str], int], run_id: int | None = None, salt: str = "") -> list[tuple]:
    """Incident tuples for {(day 'YYYY-MM-DD', category): n}, with deterministic targets and sectors."""
    rows = []
    for (day, category), n in counts.items():
        taxonomy, type_ = rsit(category)
        for i in range(n):
            key = hashlib.sha1(f"{salt}|{day}|{category}|{i}".encode()).hexdigest()
            k = int(key[:8], 16)
            # Skewed so that the top sectors and targets are stable: low indices are far more frequent.
            sector = SECTORS[min(k % 16, k % 7, len(SECTORS) - 1) % len(SECTORS)]
            target = f"site{min(k % 53, k % 17)}.example.vn"
            rows.append((key, f"{day}T03:00:00Z", day, category, taxonomy, type_, target, "domain", None, sector,
                         "test-feed", "medium", "closed", f"{category} on {target}", run_id, "{}"))  # fmt: skip
    return rows


def month_day_counts(month: str, per_category: dict[str, int]) -> dict[tuple[str, str], int]:
    """Spread each category's monthly count evenly over the month's days."""
    year, mon = int(month[:4]), int(month[5:])
    days = calendar.monthrange(year, mon)[1]
    out: dict[tuple[str, str], int] = {}
    for category, n in per_category.items():
        for i in range(n):
            day = f"{month}-{i % days + 1:02d}"
            out[(day, category)] = out.get((day, category), 0) + 1
    return out


def seed(db, totals: dict[str, int] = MONTH_TOTALS, *, cutoff: str | None = CUTOFF) -> None:
    """Fill a store with the given monthly totals, recorded as one ingest run finishing at `cutoff`."""
    with db.atomic():
        run_id = store.start_run(db, file="fixture", sha256="0" * 64, kind="ingest", fmt="test")
        counts: dict[tuple[str, str], int] = {}
        for month, total in totals.items():
            counts.update(month_day_counts(month, split(month, total)))
        store.add_incidents(db, incident_rows(counts, run_id))
        store.finish_run(db, run_id, read=0, accepted=0, duplicate=0, rejected=0, status="ok")
        if cutoff:
            db.execute("UPDATE ingest_runs SET finished_at = ? WHERE id = ?", [cutoff, run_id])


@pytest.fixture(scope="module")
def seeded_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bulletin") / "seeded.db"
    db = store.open_db(path)
    seed(db)
    db.close()
    return path


@pytest.fixture
def seeded(seeded_path):
    db = store.open_db(seeded_path)
    yield db
    db.close()
