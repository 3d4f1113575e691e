"""The sample exports in sample_logs/: reproducible, and calibrated to the published monthly figures.

The files are read here with a small reader of their own (not the project's ingest), applying the same
dedup key: one incident per (category, normalised target, local day in Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from incidents.ingest.records import OWN_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_samples.py"
SAMPLES = ROOT / "sample_logs"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
HEADER = list(OWN_COLUMNS)
EXPORTS = [
    "broken-2020-11.csv",
    "export-2020-12.json",
    "intelmq-2020-h2.jsonl",
    "ncsc-2019.csv",
    "ncsc-2020.csv",
    "partner-2020-q3.csv",
]

# Distinct incidents per local month. 2020 and Apr-Jun, Oct-Dec 2019 are the published/derived figures;
# Jan-Mar 2019 (1535 together) and Jul-Sep 2019 (775 together) are spread at an equal daily rate.
MONTHLY = {
    "2019-01": 529,
    "2019-02": 477,
    "2019-03": 529,
    "2019-04": 638,
    "2019-05": 492,
    "2019-06": 494,
    "2019-07": 261,
    "2019-08": 261,
    "2019-09": 253,
    "2019-10": 580,
    "2019-11": 344,
    "2019-12": 318,
    "2020-01": 283,
    "2020-02": 288,
    "2020-03": 282,
    "2020-04": 203,
    "2020-05": 439,
    "2020-06": 522,
    "2020-07": 521,
    "2020-08": 517,
    "2020-09": 524,
    "2020-10": 582,
    "2020-11": 692,
    "2020-12": 315,
}
# (first month, last month) -> phishing, deface, malware as published (H1 2020 adds 128 `other`).
SPLITS = {
    ("2019-01", "2019-06"): (1556, 968, 635),
    ("2020-01", "2020-04"): (553, 280, 223),
    ("2020-04", "2020-04"): (43, 89, 71),
    ("2020-01", "2020-06"): (805, 788, 296),
    ("2020-08", "2020-08"): (199, 160, 158),
}
# What ingesting the files in alphabetical order reports: read, accepted, duplicate, rejected.
EXPECTED_INGEST = {
    "broken-2020-11.csv": (51, 45, 0, 6),
    "export-2020-12.json": (183, 183, 0, 0),
    "intelmq-2020-h2.jsonl": (1703, 1673, 30, 0),
    "ncsc-2019.csv": (5176, 5176, 0, 0),
    "ncsc-2020.csv": (3363, 3103, 260, 0),
    "partner-2020-q3.csv": (204, 164, 40, 0),
}
BROKEN = {
    5: "wrong field count",
    12: "wrong field count",
    20: "missing time",
    27: "unparsable time",
    33: "impossible date",
    40: "unknown category",
}

CATEGORIES = ("phishing", "deface", "malware", "intrusion", "ddos", "scanning", "other")
LABELS = {c: c for c in CATEGORIES} | {
    "lừa đảo": "phishing",
    "thay đổi giao diện": "deface",
    "mã độc": "malware",
}
RSIT_TYPES = {
    "phishing": "phishing",
    "unauthorised-information-modification": "deface",
    "infected-system": "malware",
    "malware-distribution": "malware",
    "scanner": "scanning",
}


@dataclass(frozen=True)
class Report:
    file: str
    number: int  # line in a CSV, record in JSON
    category: str
    target: str
    when: datetime  # aware
    feed: str
    raw_time: object

    @property
    def local(self) -> datetime:
        return self.when.astimezone(ZONE)

    @property
    def key(self) -> tuple[str, str, date]:
        return self.category, normalise(self.target), self.local.date()


class Broken(ValueError):
    pass


def normalise(target: str) -> str:
    target = target.strip()
    if "://" in target:
        scheme, rest = target.split("://", 1)
        host, slash, path = rest.partition("/")
        return f"{scheme.lower()}://{host.lower()}{slash}{path}"
    return target.lower().rstrip(".").removeprefix("www.")


def parse_time(value) -> datetime:
    if value in (None, ""):
        raise Broken("missing time")
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    try:
        t = datetime.fromisoformat(value)
    except ValueError as e:
        raise Broken("impossible date" if "day is out of range" in str(e) else "unparsable time") from None
    return t if t.tzinfo else t.replace(tzinfo=ZONE)


def category_of(label: str) -> str:
    try:
        return LABELS[label.strip().lower()]
    except KeyError:
        raise Broken("unknown category") from None


def read_reports(path: Path) -> tuple[list[Report], dict[int, str]]:
    """The usable reports of one export and the broken ones (number -> reason)."""
    good, broken = [], {}

    def add(number: int, make) -> None:
        try:
            good.append(make())
        except Broken as e:
            broken[number] = str(e)

    if path.suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        delimiter = ";" if ";" in text.splitlines()[0] else ","
        reader = csv.reader(text.splitlines(), delimiter=delimiter)
        assert next(reader) == HEADER
        for row in reader:
            number = reader.line_num
            if len(row) != len(HEADER):
                broken[number] = "wrong field count"
                continue
            r = dict(zip(HEADER, row))
            add(
                number,
                lambda r=r, n=number: Report(
                    path.name,
                    n,
                    category_of(r["category"]),
                    r["target"],
                    parse_time(r["time"]),
                    r["feed"],
                    r["time"],
                ),
            )
    elif path.suffix == ".jsonl":
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            r = json.loads(line)
            target = r.get("source.url") or r.get("source.fqdn") or r.get("source.ip")
            assert sum(k in r for k in ("source.url", "source.fqdn", "source.ip")) == 1
            good.append(
                Report(
                    path.name,
                    number,
                    RSIT_TYPES[r["classification.type"]],
                    target,
                    parse_time(r["time.source"]),
                    r["feed.name"],
                    r["time.source"],
                )
            )
    else:
        for number, r in enumerate(json.loads(path.read_text(encoding="utf-8")), 1):
            assert list(r) == HEADER
            good.append(
                Report(
                    path.name,
                    number,
                    category_of(r["category"]),
                    r["target"],
                    parse_time(r["time"]),
                    r["feed"],
                    r["time"],
                )
            )
    return good, broken


@pytest.fixture(scope="module")
def exports() -> dict[str, tuple[list[Report], dict[int, str]]]:
    return {name: read_reports(SAMPLES / name) for name in EXPORTS}


@pytest.fixture(scope="module")
def incidents(exports) -> dict[tuple, Report]:
    """Distinct incidents, each the first report of it in alphabetical file order."""
    first: dict[tuple, Report] = {}
    for name in EXPORTS:
        for report in exports[name][0]:
            first.setdefault(report.key, report)
    return first


def month_of(report: Report) -> str:
    return f"{report.local:%Y-%m}"


def test_regenerating_gives_byte_identical_files(tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == EXPORTS
    for name in EXPORTS:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), (
            f"{name} differs from a fresh run"
        )


def test_sample_logs_holds_only_these_exports():
    # The demo ingests every *.csv|json|jsonl here: another file would change the calibrated totals.
    exports = sorted(
        p.name for p in SAMPLES.iterdir() if p.is_file() and p.suffix in (".csv", ".json", ".jsonl")
    )
    assert exports == EXPORTS


def test_distinct_incidents_per_local_month_equal_the_calibration(incidents):
    assert dict(sorted(Counter(month_of(r) for r in incidents.values()).items())) == MONTHLY
    assert len(incidents) == 10_344
    by_month = Counter(month_of(r) for r in incidents.values())
    assert sum(by_month[f"2019-{m:02d}"] for m in (1, 2, 3)) == 2173 - 638
    assert sum(by_month[f"2019-{m:02d}"] for m in (7, 8, 9)) == 775
    assert sum(v for k, v in by_month.items() if k.startswith("2019")) == 5176
    assert sum(v for k, v in by_month.items() if "2019-01" <= k <= "2019-10") == 4514
    assert sum(v for k, v in by_month.items() if k.startswith("2020")) == 5168
    assert sum(v for k, v in by_month.items() if "2020-01" <= k <= "2020-10") == 4161


def test_published_category_splits(incidents):
    for (first, last), (phishing, deface, malware) in SPLITS.items():
        counts = Counter(r.category for r in incidents.values() if first <= month_of(r) <= last)
        assert (counts["phishing"], counts["deface"], counts["malware"]) == (phishing, deface, malware), first
    h1_2020 = Counter(r.category for r in incidents.values() if "2020-01" <= month_of(r) <= "2020-06")
    assert h1_2020 == {"phishing": 805, "deface": 788, "malware": 296, "other": 128}
    # Elsewhere the bulletin's three categories dominate every month.
    for month, total in MONTHLY.items():
        counts = Counter(r.category for r in incidents.values() if month_of(r) == month)
        assert counts["phishing"] + counts["deface"] + counts["malware"] >= 0.75 * total, month


def test_every_published_figure_is_reproduced(shared_dir, incidents):
    by_month = Counter(month_of(r) for r in incidents.values())
    by_month_category = Counter((month_of(r), r.category) for r in incidents.values())
    with open(shared_dir / "data" / "published-vn-2019-2020.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 25
    for row in rows:
        first, _, last = row["period"].partition("..")
        if len(first) == 4:
            first, last = f"{first}-01", f"{first}-12"
        last = last or first
        assert sum(v for m, v in by_month.items() if first <= m <= last) == int(row["total"]), row["period"]
        for category in ("phishing", "deface", "malware"):
            if row[category]:
                got = sum(
                    v for (m, c), v in by_month_category.items() if c == category and first <= m <= last
                )
                assert got == int(row[category]), (row["period"], category)


def test_ingest_summary_in_alphabetical_order(exports):
    seen: set[tuple] = set()
    for name in EXPORTS:
        good, broken = exports[name]
        before = len(seen)
        seen.update(r.key for r in good)
        accepted = len(seen) - before
        summary = (len(good) + len(broken), accepted, len(good) - accepted, len(broken))
        assert summary == EXPECTED_INGEST[name], name


def test_broken_rows_are_the_documented_ones(exports):
    for name in EXPORTS:
        assert exports[name][1] == (BROKEN if name == "broken-2020-11.csv" else {}), name


def test_duplicates_are_other_feeds_reporting_the_same_incident(exports, incidents):
    reports = [r for name in EXPORTS for r in exports[name][0]]
    by_key: dict[tuple, list[Report]] = {}
    for r in reports:
        by_key.setdefault(r.key, []).append(r)
    groups = [g for g in by_key.values() if len(g) > 1]
    assert len(groups) == 330
    for group in groups:
        assert len(group) == 2
        a, b = group
        assert a.feed != b.feed
        assert "intelmq-2020-h2.jsonl" in (a.file, b.file)
        assert a.when != b.when
    # Some duplicates are spelt differently (www., case, trailing dot) and some fall on different UTC days.
    assert sum(1 for a, b in groups if a.target != b.target) > 100
    assert sum(1 for a, b in groups if a.when.astimezone(UTC).date() != b.when.astimezone(UTC).date()) >= 6


def test_month_boundaries_are_exercised_in_utc(exports, incidents):
    reports = [r for name in EXPORTS for r in exports[name][0]]
    crossing = [r for r in reports if f"{r.when.astimezone(UTC):%Y-%m}" != month_of(r)]
    assert len(crossing) >= 20
    utc_written = [r for r in crossing if isinstance(r.raw_time, str) and r.raw_time.endswith("Z")]
    assert len(utc_written) >= 10
    example = [r for r in reports if r.raw_time == "2020-10-31T20:00:00Z"]
    assert len(example) == 1 and month_of(example[0]) == "2020-11"
    assert any(r.raw_time.startswith("2018-12-31T") and month_of(r) == "2019-01" for r in utc_written)
    # Same category and target on the same UTC day but different local days: two incidents, not one.
    by_utc_day = Counter(
        (r.category, normalise(r.target), r.when.astimezone(UTC).date()) for r in incidents.values()
    )
    assert sum(1 for n in by_utc_day.values() if n > 1) >= 3


def test_daily_and_weekly_rhythm_and_the_spikes(incidents):
    values = list(incidents.values())
    hours = Counter(r.local.hour for r in values)
    assert sum(hours[h] for h in (9, 10, 11)) > 3 * sum(hours[h] for h in (2, 3, 4))
    days = Counter(r.local.date() for r in values)
    weekday = statistics.mean(n for d, n in days.items() if d.weekday() < 5)
    weekend = statistics.mean(n for d, n in days.items() if d.weekday() >= 5)
    assert weekend < 0.8 * weekday

    def daily(category: str, first: date, last: date) -> dict[date, int]:
        counts = Counter(r.local.date() for r in values if r.category == category)
        return {
            date.fromordinal(o): counts[date.fromordinal(o)]
            for o in range(first.toordinal(), last.toordinal() + 1)
        }

    phishing = daily("phishing", date(2020, 10, 1), date(2020, 11, 30))
    calm = statistics.median(phishing.values())
    burst = sorted(phishing, key=phishing.get)[-4:]
    assert sorted(burst) == [date(2020, 11, d) for d in (10, 11, 12, 13)]
    assert max(phishing.values()) > 6 * calm
    deface = daily("deface", date(2020, 5, 1), date(2020, 7, 31))
    assert set(sorted(deface, key=deface.get)[-3:]) <= {date(2020, 6, d) for d in (15, 16, 17, 18)}
    assert max(deface.values()) > 5 * statistics.median(deface.values())
