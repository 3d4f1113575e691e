#!/usr/bin/env python3
"""Write the sample incident exports in sample_logs/, calibrated to the published Vietnamese figures.

    uv run python scripts/make_samples.py            # rewrites sample_logs/*.csv|json|jsonl
    uv run python scripts/make_samples.py --out DIR  # somewhere else (the tests do this)

Every incident of 2019 and 2020 exists exactly once as a distinct incident (category, normalised target,
local day in Asia/Ho_Chi_Minh) across the files; duplicate reports and broken rows come on top.
sample_logs/README.md explains the calibration. Deterministic: the only source of randomness is
random.Random(SEED).random(), the one stream Python promises to keep identical across versions
(docs.python.org/3/library/random.html#notes-on-reproducibility), and no transcendental maths is used,
so the files are byte-identical on any machine. Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import calendar
import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from sample_records import TARGETS, Incident, Sampler, describe, host_of, other_target

SEED = 20201031
# Asia/Ho_Chi_Minh has been UTC+7 without daylight saving since 1975, so a fixed offset is exact here.
LOCAL = timezone(timedelta(hours=7))
FIRST_DAY, LAST_DAY = date(2019, 1, 1), date(2020, 12, 31)
MONTHS = [(y, m) for y in (2019, 2020) for m in range(1, 13)]
CATS = ("phishing", "deface", "malware", "intrusion", "ddos", "scanning", "other")
PDM = CATS[:3]
# fmt: off
HEADER = ["id", "time", "category", "target", "sector", "feed", "severity", "status", "source_ip",
          "description"]
# fmt: on

# --- calibration -----------------------------------------------------------------------------------
# Monthly totals from ../shared/data/published-vn-2019-2020.csv (notes followed: H1 2019 = 3159).
KNOWN_TOTALS = {
    (2019, 4): 638,
    (2019, 5): 492,
    (2019, 6): 494,
    (2019, 10): 580,
    (2019, 11): 344,
    (2019, 12): 318,
} | dict(zip([(2020, m) for m in range(1, 13)], [283, 288, 282, 203, 439, 522, 521, 517, 524, 582, 692, 315]))
# Periods published only as a sum: spread at an equal daily rate (proportional to days in the month).
PERIOD_TOTALS = {((2019, 1), (2019, 2), (2019, 3)): 2173 - 638, ((2019, 7), (2019, 8), (2019, 9)): 775}
# Published category splits (phishing, deface, malware) and the table each constrains.
H1_2019_SPLIT = (1556, 968, 635)  # Jan-Jun 2019, sums to the H1 total 3159
Q1_2020_SPLIT = (553 - 43, 280 - 89, 223 - 71)  # Jan-Apr 2020 published split minus April's
FIXED_SPLITS = {
    (2020, 4): {"phishing": 43, "deface": 89, "malware": 71},
    # May+June 2020 = H1 2020 split (805/788/296) minus Jan-Apr (553/280/223) = 252/508/73, and the
    # 128 incidents the published H1 split leaves out (1889 of 2017) filed as `other`.
    (2020, 5): {"phishing": 135, "deface": 185, "malware": 37, "other": 82},
    (2020, 6): {"phishing": 117, "deface": 323, "malware": 36, "other": 46},
    (2020, 8): {"phishing": 199, "deface": 160, "malware": 158},
    (2020, 11): {
        "phishing": 380,
        "deface": 150,
        "malware": 130,
        "intrusion": 12,
        "ddos": 6,
        "scanning": 8,
        "other": 6,
    },
}
# Months without a published split: phishing, deface, malware shares drifting month to month (so that
# categories do not move in lockstep), 5% left for the rest in REST_SHARES proportions.
FREE_SHARES = {
    (2019, 7): (0.49, 0.29, 0.17),
    (2019, 8): (0.48, 0.28, 0.19),
    (2019, 9): (0.47, 0.27, 0.21),
    (2019, 10): (0.45, 0.27, 0.23),
    (2019, 11): (0.47, 0.26, 0.22),
    (2019, 12): (0.50, 0.25, 0.20),
    (2020, 7): (0.36, 0.33, 0.26),
    (2020, 9): (0.37, 0.29, 0.29),
    (2020, 10): (0.39, 0.30, 0.26),
    (2020, 12): (0.35, 0.31, 0.29),
}
REST_SHARES = {"intrusion": 0.4, "scanning": 0.3, "ddos": 0.16, "other": 0.14}
# Spikes for the detectors: a phishing campaign (inside November's 692) and a deface wave (inside June's).
EXTRA = {("phishing", date(2020, 11, d)): n for d, n in ((10, 38), (11, 61), (12, 44), (13, 22))} | {
    ("deface", date(2020, 6, d)): n for d, n in ((15, 22), (16, 47), (17, 33), (18, 18))
}

# Local hour weights: Vietnamese office hours with a lunch dip; automated feeds and weekends are flatter.
# fmt: off
HOUR_W = [1.0, .7, .5, .4, .4, .5, .8, 1.5, 3.2, 4.2, 4.4, 4.0, 2.4, 3.0, 4.2, 4.3, 3.9, 2.8, 1.9, 1.6, 1.6,
          1.5, 1.3, 1.1]
# fmt: on
WEEKDAY_W = {"human": [1.08, 1.1, 1.06, 1.05, 1.0, 0.62, 0.52], "auto": [1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.88]}
AUTOMATED = ("malware", "scanning")


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    quotas = [total * w / sum(weights) for w in weights]
    out = [int(q) for q in quotas]
    by_rest = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - out[i]), i))
    for i in by_rest[: total - sum(out)]:
        out[i] += 1
    return out


def fit_table(rows: list[int], cols: list[int]) -> list[list[int]]:
    """Integer table with the given row and column sums, cells proportional to row x column."""
    grand = sum(rows)
    exact = [[r * c / grand for c in cols] for r in rows]
    out = [[int(x) for x in row] for row in exact]
    row_left = [r - sum(o) for r, o in zip(rows, out)]
    col_left = [c - sum(o[j] for o in out) for j, c in enumerate(cols)]
    cells = sorted(
        ((exact[i][j] - out[i][j], i, j) for i in range(len(rows)) for j in range(len(cols))),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    for _ in range(2):  # largest fractions first, then wherever a row and a column still miss a unit
        for _, i, j in cells:
            if row_left[i] > 0 and col_left[j] > 0:
                out[i][j] += 1
                row_left[i] -= 1
                col_left[j] -= 1
    assert not any(row_left) and not any(col_left)
    return out


def month_table() -> dict[tuple[int, int], dict[str, int]]:
    totals = dict(KNOWN_TOTALS)
    for months, total in PERIOD_TOTALS.items():
        totals |= dict(zip(months, largest_remainder(total, [calendar.monthrange(*m)[1] for m in months])))
    table: dict[tuple[int, int], dict[str, int]] = {}
    for months, split in (
        ([(2019, m) for m in range(1, 7)], H1_2019_SPLIT),
        ([(2020, m) for m in range(1, 4)], Q1_2020_SPLIT),
    ):
        for m, row in zip(months, fit_table([totals[m] for m in months], list(split))):
            table[m] = dict(zip(PDM, row))
    for m in MONTHS:
        if m in FIXED_SPLITS:
            table[m] = dict(FIXED_SPLITS[m])
        elif m not in table:
            rest = 1 - sum(FREE_SHARES[m])
            shares = list(FREE_SHARES[m]) + [rest * w for w in REST_SHARES.values()]
            table[m] = dict(zip(PDM + tuple(REST_SHARES), largest_remainder(totals[m], shares)))
        assert sum(table[m].values()) == totals[m], m
    return {m: {c: table[m].get(c, 0) for c in CATS} for m in MONTHS}


FEEDS = {
    "phishing": [("ncsc-monitoring", 62), ("phishtank-vn", 38)],
    "deface": [("ncsc-monitoring", 58), ("zone-h-watch", 42)],
    "malware": [("ncsc-monitoring", 35), ("shadowserver", 65)],
    "scanning": [("ncsc-monitoring", 30), ("shadowserver", 70)],
}
DUP_FEED = {"phishing": "phishtank-vn", "deface": "zone-h-watch", "malware": "shadowserver"}
SELF_DUP_FEED = {"phishing": "openphish", "malware": "ncsc-sinkhole"}
EXTERNAL = ("phishtank-vn", "zone-h-watch", "shadowserver")
PROVIDER = {
    "phishtank-vn": "PhishTank",
    "openphish": "OpenPhish",
    "zone-h-watch": "Zone-H",
    "shadowserver": "Shadowserver",
    "ncsc-sinkhole": "NCSC",
}
VI_LABEL = {"phishing": "Lừa đảo", "deface": "Thay đổi giao diện", "malware": "Mã độc"}
RSIT = {
    "phishing": ("fraud", "phishing"),
    "deface": ("information-content-security", "unauthorised-information-modification"),
    "malware": ("malicious-code", "infected-system"),
    "scanning": ("information-gathering", "scanner"),
}


# --- when --------------------------------------------------------------------------------------------
def all_days() -> list[date]:
    return [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]


def daily_rate(baseline: dict[tuple[int, int], int]) -> dict[date, float]:
    """Rate per day, linear between mid-month anchors, so months join smoothly (calm days)."""
    anchors = []
    for y, m in MONTHS:
        days = calendar.monthrange(y, m)[1]
        anchors.append((date(y, m, 1).toordinal() + (days - 1) / 2, baseline[(y, m)] / days))
    xs = [a[0] for a in anchors]
    rates = {}
    for d in all_days():
        x = d.toordinal()
        i = bisect.bisect_right(xs, x)
        if i == 0 or i == len(xs):
            rates[d] = anchors[0 if i == 0 else -1][1]
        else:
            (x0, r0), (x1, r1) = anchors[i - 1], anchors[i]
            rates[d] = r0 + (r1 - r0) * (x - x0) / (x1 - x0)
    return rates


def draw_times(s: Sampler, table) -> list[Incident]:
    out = []
    for cat in CATS:
        extras = {d: n for (c, d), n in EXTRA.items() if c == cat}
        baseline = {
            m: table[m][cat] - sum(n for d, n in extras.items() if (d.year, d.month) == m) for m in MONTHS
        }
        rates = daily_rate(baseline)
        weekday_w = WEEKDAY_W["auto" if cat in AUTOMATED else "human"]
        for y, m in MONTHS:
            days = [date(y, m, d) for d in range(1, calendar.monthrange(y, m)[1] + 1)]
            pairs = [(d, rates[d] * weekday_w[d.weekday()]) for d in days]
            chosen = [s.weighted(pairs) for _ in range(baseline[(y, m)])]
            chosen += [d for d in days for _ in range(extras.get(d, 0))]
            for d in chosen:
                flat = 0.6 if cat in AUTOMATED else (0.5 if d.weekday() >= 5 else 0.1)
                hour = s.weighted([(h, (1 - flat) * w + flat * 2.3) for h, w in enumerate(HOUR_W)])
                t = datetime(d.year, d.month, d.day, hour, s.int(60), s.int(60), tzinfo=LOCAL)
                out.append(Incident(cat, t))
    out.sort(key=lambda i: (i.local, CATS.index(i.category)))
    return out


# --- which file, which feed ----------------------------------------------------------------------------
NCSC_2019, NCSC_2020 = "ncsc-2019.csv", "ncsc-2020.csv"
PARTNER, INTELMQ, EXPORT, BROKEN = (
    "partner-2020-q3.csv",
    "intelmq-2020-h2.jsonl",
    "export-2020-12.json",
    "broken-2020-11.csv",
)
N_HOTLINE = 45
N_DUPS = {NCSC_2020: 260, PARTNER: 40, EXPORT: 20, INTELMQ: 10}  # copies in the IntelMQ file, by origin
N_STRADDLE = 6  # duplicates whose two reports fall on different UTC days but the same local day


def assign_files(s: Sampler, incidents: list[Incident]) -> None:
    """The story: NCSC's own exports hold everything until June 2020; from July external feeds arrive
    through IntelMQ, a partner sends a quarter, December comes from the new JSON API."""
    for inc in incidents:
        d, c = inc.local.date(), inc.category
        inc.feed = s.weighted(FEEDS[c]) if c in FEEDS else "ncsc-monitoring"
        inc.utc_out = inc.feed == "shadowserver"  # Shadowserver reports in UTC
        if d.year == 2019:
            inc.file = NCSC_2019
        elif d.month <= 6:
            inc.file = NCSC_2020
        elif inc.feed in EXTERNAL:
            inc.file = INTELMQ
        elif d.month == 12:
            inc.file = EXPORT
        elif d.month <= 9 and c in PDM and s.chance(0.25):
            inc.file, inc.feed = PARTNER, "vncert-partner"
        else:
            inc.file = NCSC_2020
    # Citizens call the hotline about phishing and defaced sites, not about infected IP addresses.
    november = [
        i
        for i in incidents
        if i.file == NCSC_2020 and i.local.month == 11 and i.category in ("phishing", "deface")
    ]
    for inc in s.sample(november, N_HOTLINE):
        inc.file, inc.feed = BROKEN, "ncsc-hotline"


def give_target(s: Sampler, inc: Incident, used: dict) -> None:
    # Distinct incidents never share (category, host, local day): stricter than the ingest's key, so the
    # totals hold even if a URL were reduced to its host.
    for _ in range(200):
        inc.source_ip, inc.extra = "", {}
        TARGETS.get(inc.category, other_target)(s, inc)
        key = (inc.category, host_of(inc.target, inc.kind), inc.local.date())
        if key not in used:
            used[key] = inc
            return
    raise RuntimeError(f"no free target for {inc.category} on {inc.local.date()}")


def at(d: date, hour: int, s: Sampler) -> datetime:
    return datetime(d.year, d.month, d.day, hour, s.int(60), s.int(60), tzinfo=LOCAL)


def month_edges(s: Sampler, incidents: list[Incident], used: dict, pinned: set) -> None:
    """Put incidents near local midnight at month ends, written in UTC, so that month logic is exercised:
    00:00-06:59 local on the 1st is the previous month in UTC."""
    own = (NCSC_2019, NCSC_2020, EXPORT)
    by_day: dict[date, list[Incident]] = {}
    for inc in incidents:
        by_day.setdefault(inc.local.date(), []).append(inc)

    def free(d: date, files=own, cats=CATS) -> list[Incident]:
        return [i for i in by_day[d] if i.file in files and id(i) not in pinned and i.category in cats]

    def pin(inc: Incident, t: datetime) -> None:
        inc.local = t
        inc.utc_out = inc.epoch_out = True  # epoch_out only matters in the JSON export
        pinned.add(id(inc))

    # The example of issue 2: 2020-10-31T20:00Z belongs to November.
    pin(free(date(2020, 11, 1), (NCSC_2020,))[0], datetime(2020, 11, 1, 3, 0, 0, tzinfo=LOCAL))
    for first in [date(y, m, 1) for y, m in MONTHS if m in (1, 3, 4, 7, 10, 11, 12)]:
        for inc in s.sample(free(first), 2):
            pin(inc, at(first, s.int(7), s))
        if first > FIRST_DAY:
            last = first - timedelta(days=1)
            for inc in s.sample(free(last), 1):
                pin(inc, at(last, 23, s))
    for first in (date(2020, 8, 1), date(2020, 10, 1), date(2020, 12, 1)):
        for inc in s.sample(free(first, (INTELMQ,)), 2):
            pin(inc, at(first, s.int(7), s))
    # Same target, same UTC day, different local days: two incidents (a UTC-day key would merge them).
    for first in (date(2020, 1, 1), date(2020, 4, 1), date(2020, 10, 1)):
        last = first - timedelta(days=1)
        a = s.pick(free(last, cats=("phishing", "deface")))
        for b in free(first, cats=(a.category,)):
            key = (a.category, host_of(a.target, a.kind), first)
            if key not in used:
                del used[(b.category, host_of(b.target, b.kind), first)]
                used[key] = b
                b.target, b.kind, b.sector, b.extra = a.target, a.kind, a.sector, dict(a.extra)
                pin(a, at(last, 23, s))
                pin(b, at(first, 0, s))
                break


def variant(s: Sampler, inc: Incident) -> str:
    """The same target as another feed may spell it (the ingest normalises these away)."""
    if inc.kind == "ip":
        return inc.target
    if inc.kind == "url":
        scheme, rest = inc.target.split("://", 1)
        host, path = rest.split("/", 1)
        return s.pick(
            [inc.target, f"{scheme}://{host.upper()}/{path}", f"{scheme.upper()}://{host.upper()}/{path}"]
        )
    base = host_of(inc.target, "domain")
    return s.pick([base, f"www.{base}", base.upper(), f"{base}.", f"WWW.{base.upper()}."])


def make_dups(s: Sampler, incidents: list[Incident], pinned: set) -> list[Incident]:
    pools = {
        NCSC_2020: [
            i
            for i in incidents
            if i.file == NCSC_2020 and i.local.month >= 7 and i.category in PDM and i.local.year == 2020
        ],
        PARTNER: [i for i in incidents if i.file == PARTNER],
        EXPORT: [i for i in incidents if i.file == EXPORT and i.category in PDM],
        INTELMQ: [
            i
            for i in incidents
            if i.file == INTELMQ and i.category in SELF_DUP_FEED and i.feed == DUP_FEED[i.category]
        ],
    }
    dups, straddles = [], 0
    for origin, n in N_DUPS.items():
        for orig in s.sample(pools[origin], n):
            feed = SELF_DUP_FEED[orig.category] if origin == INTELMQ else DUP_FEED[orig.category]
            dup = replace(
                orig, feed=feed, file=INTELMQ, extra=dict(orig.extra), target=variant(s, orig), utc_out=True
            )
            d = orig.local.date()
            if origin == NCSC_2020 and straddles < N_STRADDLE and id(orig) not in pinned:
                straddles += 1
                orig.local = at(d, 6, s)  # 23:xx UTC the day before
                dup.local = at(d, 7, s)  # 00:xx UTC the same day
            else:
                # Another feed saw it a little earlier or later; under 151 minutes, so one direction stays
                # on the same local day.
                step = timedelta(minutes=5 + s.int(146), seconds=s.int(60))
                later = orig.local + step
                dup.local = later if later.date() == d else orig.local - step
            assert dup.local.date() == d
            dups.append(dup)
    return dups


def finish(s: Sampler, incidents: list[Incident], dups: list[Incident]) -> None:
    """Record ids in each feed's own style, status by age, descriptions in the feed's language."""
    every = sorted(incidents + dups, key=lambda i: (i.local, CATS.index(i.category), i.target, i.feed))
    counters: dict[str, int] = {"phishtank-vn": 5_900_000, "zone-h-watch": 31_800_000}
    for inc in every:
        d, f = inc.local.date(), inc.feed
        if f == "ncsc-monitoring":
            counters[f"ncsc{d.year}"] = counters.get(f"ncsc{d.year}", 0) + 1
            inc.id = f"NCSC-{d.year}-{counters[f'ncsc{d.year}']:06d}"
        elif f in ("phishtank-vn", "zone-h-watch", "openphish"):
            counters[f] = counters.get(f, 7_000_000) + 1 + s.int(40 if f != "zone-h-watch" else 300)
            inc.id = str(counters[f])
        elif f in ("shadowserver", "ncsc-sinkhole"):
            key = f"{f}{inc.local.astimezone(UTC):%Y%m%d}"
            counters[key] = counters.get(key, 0) + 1
            inc.id = f"SHD-{inc.local.astimezone(UTC):%Y%m%d}-{counters[key]:04d}"
        else:
            counters[f] = counters.get(f, 0) + 1
            inc.id = (
                f"VNCERT-2020-{counters[f]:05d}"
                if f == "vncert-partner"
                else f"HOTLINE-2020-11-{counters[f]:03d}"
            )
        if d < date(2020, 10, 1):
            inc.status = "closed"
        elif d < date(2020, 11, 15):
            inc.status = s.weighted([("closed", 95), ("in-progress", 5)])
        elif d < date(2020, 12, 1):
            inc.status = s.weighted([("closed", 80), ("in-progress", 15), ("open", 5)])
        else:
            inc.status = s.weighted([("closed", 50), ("in-progress", 30), ("open", 20)])
        inc.description = describe(s, inc, english=f in EXTERNAL or f in SELF_DUP_FEED.values())
        if f == "ncsc-hotline":
            inc.description = (
                "Người dân báo qua đường dây nóng: " + inc.description[0].lower() + inc.description[1:]
            )
    for inc in incidents:  # the JSON export writes about half its times as epoch seconds
        if inc.file == EXPORT and not inc.epoch_out:
            inc.epoch_out = s.chance(0.5)


# --- writing -------------------------------------------------------------------------------------------
def own_time(inc: Incident) -> str:
    if inc.utc_out:
        return inc.local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return inc.local.isoformat()


def own_row(inc: Incident) -> list[str]:
    return [
        inc.id,
        own_time(inc),
        inc.category,
        inc.target,
        inc.sector,
        inc.feed,
        inc.severity,
        inc.status,
        inc.source_ip,
        inc.description,
    ]


def write_csv(rows: list[list[str]], *, delimiter: str = ",", newline: str = "\n") -> io.StringIO:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf


# Rows a hand-edited spreadsheet export really gets wrong; ingest must quarantine each with its reason.
BROKEN_ROWS = [
    (
        5,
        "too few fields",
        "HOTLINE-2020-11-901,2020-11-06T09:41:00+07:00,phishing,https://vcb-xacthuc.online/dang-nhap",
    ),
    (
        12,
        "too many fields",
        (
            "HOTLINE-2020-11-902,2020-11-09T10:05:00+07:00,phishing,https://momo-nhanqua.top/m/k3x9pq,"
            "finance,ncsc-hotline,medium,open,,Tin nhắn giả mạo MoMo, kèm đường link lạ"
        ),
    ),
    (
        20,
        "missing time",
        (
            "HOTLINE-2020-11-903,,deface,thcs-kimdong.namdinh.edu.vn,education,ncsc-hotline,medium,open,,"
            "Trang chủ bị thay đổi giao diện"
        ),
    ),
    (
        27,
        "unparsable time",
        (
            "HOTLINE-2020-11-904,2020-11-19T14:3O:00+07:00,phishing,https://shopee-uudai.site/nhan-qua/"
            "r7mw2a,commerce,ncsc-hotline,medium,open,,Giả mạo chương trình khuyến mãi của Shopee"
        ),
    ),
    (
        33,
        "impossible date",
        (
            "HOTLINE-2020-11-905,2021-02-30T08:00:00+07:00,malware,14.177.23.81,other,ncsc-hotline,"
            "low,open,,Máy nhiễm mã độc mirai"
        ),
    ),
    (
        40,
        "unknown category",
        (
            "HOTLINE-2020-11-906,2020-11-26T16:20:00+07:00,cryptojacking,sotttt.laichau.gov.vn,"
            "government,ncsc-hotline,high,open,,Máy chủ bị cài phần mềm đào tiền ảo"
        ),
    ),
]


def intelmq_record(inc: Incident) -> dict:
    taxonomy, type_ = RSIT[inc.category]
    e, utc = inc.extra, inc.local.astimezone(UTC)
    if e.get("distribution"):
        type_ = "malware-distribution"
    rec = {
        "feed.name": inc.feed,
        "feed.provider": PROVIDER[inc.feed],
        "time.source": utc.isoformat(),
        "classification.taxonomy": taxonomy,
        "classification.type": type_,
    }
    if inc.category == "malware":
        rec["classification.identifier"] = e["family"]
    rec[{"domain": "source.fqdn", "url": "source.url", "ip": "source.ip"}[inc.kind]] = inc.target
    rec["extra.sector"] = inc.sector
    rec["event_description.text"] = inc.description
    ts = f"{utc:%Y-%m-%d %H:%M:%S}"
    raw = {
        "phishing": f"{inc.id},{inc.target},{ts},{e.get('brand')}",
        "deface": f"{ts},{e.get('notifier')},{inc.target},{inc.source_ip}",
        "malware": f'"{ts}","{inc.target}",{e.get("port", "")},"{e.get("family")}","VN"',
        "scanning": f'"{ts}","{inc.target}",{e.get("port")},"scan","VN"',
    }[inc.category]
    rec["raw"] = base64.b64encode(raw.encode()).decode()
    return rec


def export_record(inc: Incident) -> dict:
    row = dict(zip(HEADER, own_row(inc)))
    if inc.epoch_out:
        row["time"] = int(inc.local.timestamp())
    row["source_ip"] = inc.source_ip or None
    return row


def render(incidents: list[Incident], dups: list[Incident]) -> dict[str, bytes]:
    def of(name: str) -> list[Incident]:
        rows = [i for i in incidents + dups if i.file == name]
        return sorted(rows, key=lambda i: (i.local, i.id))

    files = {
        name: write_csv([own_row(i) for i in of(name)]).getvalue().encode() for name in (NCSC_2019, NCSC_2020)
    }
    partner = [
        [i.id, f"{i.local:%Y-%m-%d %H:%M:%S}", VI_LABEL[i.category], *own_row(i)[3:]] for i in of(PARTNER)
    ]
    files[PARTNER] = write_csv(partner, delimiter=";", newline="\r\n").getvalue().encode("utf-8-sig")
    files[INTELMQ] = "".join(
        json.dumps(intelmq_record(i), ensure_ascii=False) + "\n" for i in of(INTELMQ)
    ).encode()
    files[EXPORT] = (
        json.dumps([export_record(i) for i in of(EXPORT)], ensure_ascii=False, indent=1) + "\n"
    ).encode()
    lines = write_csv([own_row(i) for i in of(BROKEN)]).getvalue().splitlines()
    for position, _, raw in BROKEN_ROWS:  # position = the broken row's line number in the file
        lines.insert(position - 1, raw)
    files[BROKEN] = ("\n".join(lines) + "\n").encode()
    return dict(sorted(files.items()))


def build(seed: int = SEED) -> tuple[dict[str, bytes], list[Incident], list[Incident]]:
    s = Sampler(seed)
    incidents = draw_times(s, month_table())
    assign_files(s, incidents)
    used: dict = {}
    for inc in incidents:
        give_target(s, inc, used)
    pinned: set = set()
    month_edges(s, incidents, used, pinned)
    dups = make_dups(s, incidents, pinned)
    finish(s, incidents, dups)
    return render(incidents, dups), incidents, dups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "sample_logs")
    args = parser.parse_args()
    files, incidents, dups = build()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
    print(
        f"{len(incidents)} distinct incidents, {len(dups)} duplicate reports, {len(BROKEN_ROWS)} broken rows"
    )
    for name in files:
        n = sum(1 for i in incidents + dups if i.file == name)
        print(f"  {args.out / name}: {n + (len(BROKEN_ROWS) if name == BROKEN else 0)} records")


if __name__ == "__main__":
    main()
