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
import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

SEED = 20201031
# Asia/Ho_Chi_Minh has been UTC+7 without daylight saving since 1975, so a fixed offset is exact here.
LOCAL = timezone(timedelta(hours=7))
UTC = timezone.utc
FIRST_DAY, LAST_DAY = date(2019, 1, 1), date(2020, 12, 31)
MONTHS = [(y, m) for y in (2019, 2020) for m in range(1, 13)]
CATS = ("phishing", "deface", "malware", "intrusion", "ddos", "scanning", "other")
PDM = CATS[:3]
HEADER = ["id", "time", "category", "target", "sector", "feed", "severity", "status", "source_ip", "description"]

# --- calibration -----------------------------------------------------------------------------------
# Monthly totals from ../shared/data/published-vn-2019-2020.csv (notes followed: H1 2019 = 3159).
KNOWN_TOTALS = {(2019, 4): 638, (2019, 5): 492, (2019, 6): 494, (2019, 10): 580, (2019, 11): 344,
                (2019, 12): 318} | dict(zip([(2020, m) for m in range(1, 13)],
                                            [283, 288, 282, 203, 439, 522, 521, 517, 524, 582, 692, 315]))
# Periods published only as a sum: spread at an equal daily rate (proportional to days in the month).
PERIOD_TOTALS = {((2019, 1), (2019, 2), (2019, 3)): 2173 - 638, ((2019, 7), (2019, 8), (2019, 9)): 775}
# Published category splits (phishing, deface, malware) and the table each constrains.
H1_2019_SPLIT = (1556, 968, 635)  # Jan-Jun 2019, sums to the H1 total 3159
Q1_2020_SPLIT = (553 - 43, 280 - 89, 223 - 71)  # Jan-Apr 2020 published split minus April's
FIXED_SPLITS = {
    (2020, 4): dict(phishing=43, deface=89, malware=71),
    # May+June 2020 = H1 2020 split (805/788/296) minus Jan-Apr (553/280/223) = 252/508/73, and the
    # 128 incidents the published H1 split leaves out (1889 of 2017) filed as `other`.
    (2020, 5): dict(phishing=135, deface=185, malware=37, other=82),
    (2020, 6): dict(phishing=117, deface=323, malware=36, other=46),
    (2020, 8): dict(phishing=199, deface=160, malware=158),
    (2020, 11): dict(phishing=380, deface=150, malware=130, intrusion=12, ddos=6, scanning=8, other=6),
}
SHARES_2019H2 = dict(phishing=.47, deface=.27, malware=.21, intrusion=.02, scanning=.015, ddos=.008, other=.007)
SHARES_2020H2 = dict(phishing=.385, deface=.30, malware=.265, intrusion=.02, scanning=.015, ddos=.008, other=.007)
# Spikes for the detectors: a phishing campaign (inside November's 692) and a deface wave (inside June's).
EXTRA = {("phishing", date(2020, 11, d)): n for d, n in ((10, 38), (11, 61), (12, 44), (13, 22))} | {
    ("deface", date(2020, 6, d)): n for d, n in ((15, 22), (16, 47), (17, 33), (18, 18))}

# Local hour weights: Vietnamese office hours with a lunch dip; automated feeds and weekends are flatter.
HOUR_W = [1.0, .7, .5, .4, .4, .5, .8, 1.5, 3.2, 4.2, 4.4, 4.0, 2.4, 3.0, 4.2, 4.3, 3.9, 2.8, 1.9, 1.6, 1.6,
          1.5, 1.3, 1.1]
WEEKDAY_W = {"human": [1.08, 1.1, 1.06, 1.05, 1.0, .62, .52], "auto": [1.0, 1.0, 1.0, 1.0, 1.0, .9, .88]}
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
    cells = sorted(((exact[i][j] - out[i][j], i, j) for i in range(len(rows)) for j in range(len(cols))),
                   key=lambda t: (-t[0], t[1], t[2]))
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
    for months, split in (([(2019, m) for m in range(1, 7)], H1_2019_SPLIT),
                          ([(2020, m) for m in range(1, 4)], Q1_2020_SPLIT)):
        for m, row in zip(months, fit_table([totals[m] for m in months], list(split))):
            table[m] = dict(zip(PDM, row))
    for m in MONTHS:
        if m in FIXED_SPLITS:
            table[m] = dict(FIXED_SPLITS[m])
        elif m not in table:
            shares = SHARES_2019H2 if m[0] == 2019 else SHARES_2020H2
            table[m] = dict(zip(shares, largest_remainder(totals[m], list(shares.values()))))
        assert sum(table[m].values()) == totals[m], m
    return {m: {c: table[m].get(c, 0) for c in CATS} for m in MONTHS}


# --- vocabulary --------------------------------------------------------------------------------------
PROVINCES = ("hanoi hochiminhcity haiphong danang cantho quangninh thanhhoa nghean hatinh quangbinh quangtri "
             "thuathienhue quangnam quangngai binhdinh phuyen khanhhoa ninhthuan binhthuan kontum gialai daklak "
             "daknong lamdong binhphuoc tayninh binhduong dongnai baria-vungtau longan tiengiang bentre travinh "
             "vinhlong dongthap angiang kiengiang haugiang soctrang baclieu camau hagiang caobang backan "
             "tuyenquang laocai yenbai thainguyen langson bacgiang phutho vinhphuc bacninh haiduong hungyen "
             "thaibinh hanam namdinh ninhbinh hoabinh sonla dienbien laichau").split()
GOV_UNITS = ("sotttt sogddt soyte sotnmt sokhdt sonnptnt sotc stp sovhttdl soxd sogtvt sokhcn soldtbxh sonv "
             "ubnd vpubnd hdnd thanhtra bqlkcn dichvucong congbao motcua").split()
NAMES = ("nguyenhue lequydon tranphu leloi quangtrung chuvanan nguyendu phanboichau hungvuong lythuongkiet "
         "tranhungdao nguyentrai nguyendinhchieu phandinhphung vothisau kimdong lehongphong minhkhai "
         "nguyenvancu hoanghoatham ngoquyen phanchutrinh huynhthuckhang dinhtienhoang nguyenkhuyen "
         "haibatrung lytutrong luongthevinh").split()
SHOP_WORDS = ("noithat dienmay thoitrang mypham giadung xaydung dulich nhakhoa diaoc otoxe mevabe nhasach "
              "caphe thucpham vatlieu inan quangcao dienthoai maytinh").split()
SHOP_SUFFIX = ["", "24h", "pro", "viet", "sg", "hn", "xanh", "online", "365", "plus", "vn", "store"]
# (token in lookalike hosts, name as written in reports, sector of the impersonated organisation)
BRANDS = [("vietcombank", "Vietcombank", "finance"), ("vcb", "Vietcombank", "finance"),
          ("techcombank", "Techcombank", "finance"), ("bidv", "BIDV", "finance"),
          ("agribank", "Agribank", "finance"), ("vietinbank", "VietinBank", "finance"),
          ("mbbank", "MB Bank", "finance"), ("tpbank", "TPBank", "finance"), ("acb", "ACB", "finance"),
          ("sacombank", "Sacombank", "finance"), ("vpbank", "VPBank", "finance"), ("momo", "MoMo", "finance"),
          ("zalopay", "ZaloPay", "finance"), ("shopee", "Shopee", "commerce"), ("lazada", "Lazada", "commerce"),
          ("tiki", "Tiki", "commerce"), ("sendo", "Sendo", "commerce"),
          ("dichvucong", "Cổng Dịch vụ công quốc gia", "government"), ("bhxh", "BHXH Việt Nam", "government"),
          ("thuedientu", "Thuế điện tử", "government"), ("evn", "EVN", "energy"), ("viettel", "Viettel", "telecom"),
          ("vnpt", "VNPT", "telecom"), ("mobifone", "MobiFone", "telecom"), ("facebook", "Facebook", "other"),
          ("zalo", "Zalo", "other"), ("vnpost", "Vietnam Post", "other")]
PHISH_WORDS = ("xacthuc xacminh dangnhap login secure online hotro khuyenmai nhanqua uudai taikhoan the otp verify "
               "app 24h canhan quatang").split()
PHISH_TLDS = "com net online xyz top site vip cc info club icu live me shop".split()
FREE_HOSTS = ["web.app", "firebaseapp.com", "000webhostapp.com", "weebly.com", "wixsite.com", "glitch.me"]
PHISH_PATHS = ["/dang-nhap", "/login.php", "/xac-thuc/{t}", "/{b}/index.html", "/khuyen-mai/{t}", "/m/{t}",
               "/otp.php", "/verify/{t}", "/{b}/{t}/login", "/nhan-qua/{t}"]
DEFACE_PAGES = ["/index.html", "/images/index.htm", "/upload/{t}.html", "/tin-tuc/{t}.html", "/hacked.html"]
MALWARE_FAMILIES = ["mirai", "gamut", "conficker", "necurs", "emotet", "trickbot", "qsnatch", "ramnit", "sality",
                    "andromeda", "zeroaccess", "wannacry", "xmrig", "gafgyt"]
NOTIFIERS = ["r00t_h4nd", "xShad0w", "k3y_m4ster", "N0_N4me", "d4rk_l0rd", "m1ssing_byte", "z3r0_s0ul"]
# Vietnamese access-network and hosting ranges (first address, prefix length) for affected systems.
VN_NETS = [((14, 160, 0, 0), 11), ((113, 160, 0, 0), 11), ((27, 64, 0, 0), 12), ((171, 224, 0, 0), 11),
           ((123, 16, 0, 0), 12), ((42, 112, 0, 0), 13), ((118, 68, 0, 0), 14), ((115, 72, 0, 0), 13),
           ((116, 96, 0, 0), 12), ((1, 52, 0, 0), 14), ((183, 80, 0, 0), 13), ((125, 212, 128, 0), 17)]
ATTACKER_FIRST_OCTET = [45, 61, 89, 92, 103, 112, 122, 141, 159, 167, 185, 193, 194, 195, 218, 220, 221, 222]
SECTORS_BY_IP = [("other", 40), ("telecom", 15), ("education", 15), ("government", 12), ("commerce", 10),
                 ("healthcare", 4), ("finance", 2), ("energy", 2)]
FEEDS = {"phishing": [("ncsc-monitoring", 62), ("phishtank-vn", 38)],
         "deface": [("ncsc-monitoring", 58), ("zone-h-watch", 42)],
         "malware": [("ncsc-monitoring", 35), ("shadowserver", 65)],
         "scanning": [("ncsc-monitoring", 30), ("shadowserver", 70)]}
DUP_FEED = {"phishing": "phishtank-vn", "deface": "zone-h-watch", "malware": "shadowserver"}
SELF_DUP_FEED = {"phishing": "openphish", "malware": "ncsc-sinkhole"}
EXTERNAL = ("phishtank-vn", "zone-h-watch", "shadowserver")
PROVIDER = {"phishtank-vn": "PhishTank", "openphish": "OpenPhish", "zone-h-watch": "Zone-H",
            "shadowserver": "Shadowserver", "ncsc-sinkhole": "NCSC"}
VI_LABEL = {"phishing": "Lừa đảo", "deface": "Thay đổi giao diện", "malware": "Mã độc"}
RSIT = {"phishing": ("fraud", "phishing"),
        "deface": ("information-content-security", "unauthorised-information-modification"),
        "malware": ("malicious-code", "infected-system"), "scanning": ("information-gathering", "scanner")}


@dataclass
class Incident:
    category: str
    local: datetime
    feed: str = ""
    file: str = ""
    target: str = ""
    kind: str = ""  # domain | url | ip
    sector: str = ""
    severity: str = ""
    status: str = ""
    source_ip: str = ""
    description: str = ""
    id: str = ""
    utc_out: bool = False  # write the time in UTC (Z) in an own-schema file
    epoch_out: bool = False
    extra: dict = field(default_factory=dict)


class Sampler:
    """Draws everything from random.Random(seed).random() only (see the module docstring)."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def uniform(self) -> float:
        return self.r.random()

    def int(self, n: int) -> int:
        return int(self.r.random() * n)

    def pick(self, items):
        return items[self.int(len(items))]

    def weighted(self, pairs):
        cum, total = [], 0
        for _, w in pairs:
            total += w
            cum.append(total)
        return pairs[bisect.bisect_right(cum, self.r.random() * total)][0]

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def sample(self, items: list, k: int) -> list:
        items = list(items)
        for i in range(k):
            j = i + self.int(len(items) - i)
            items[i], items[j] = items[j], items[i]
        return items[:k]

    def token(self, n: int = 6) -> str:
        return "".join(self.pick("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(n))


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
        baseline = {m: table[m][cat] - sum(n for d, n in extras.items() if (d.year, d.month) == m) for m in MONTHS}
        rates = daily_rate(baseline)
        weekday_w = WEEKDAY_W["auto" if cat in AUTOMATED else "human"]
        for y, m in MONTHS:
            days = [date(y, m, d) for d in range(1, calendar.monthrange(y, m)[1] + 1)]
            pairs = [(d, rates[d] * weekday_w[d.weekday()]) for d in days]
            chosen = [s.weighted(pairs) for _ in range(baseline[(y, m)])]
            chosen += [d for d in days for _ in range(extras.get(d, 0))]
            for d in chosen:
                flat = .6 if cat in AUTOMATED else (.5 if d.weekday() >= 5 else .1)
                hour = s.weighted([(h, (1 - flat) * w + flat * 2.3) for h, w in enumerate(HOUR_W)])
                t = datetime(d.year, d.month, d.day, hour, s.int(60), s.int(60), tzinfo=LOCAL)
                out.append(Incident(cat, t))
    out.sort(key=lambda i: (i.local, CATS.index(i.category)))
    return out


# --- who and what ------------------------------------------------------------------------------------
def vn_ip(s: Sampler) -> str:
    (a, b, c, d), bits = s.pick(VN_NETS)
    n = (a << 24 | b << 16 | c << 8 | d) + s.int(2 ** (32 - bits))
    octets = [n >> 24 & 255, n >> 16 & 255, n >> 8 & 255, 1 + s.int(254)]
    return ".".join(map(str, octets))


def attacker_ip(s: Sampler) -> str:
    return f"{s.pick(ATTACKER_FIRST_OCTET)}.{s.int(256)}.{s.int(256)}.{1 + s.int(254)}"


def host_of(target: str, kind: str) -> str:
    """The key part of a target used for uniqueness: normalised domain, URL host, or IP."""
    if kind == "url":
        return target.split("://", 1)[1].split("/", 1)[0].lower()
    t = target.lower().rstrip(".")
    return t[4:] if kind == "domain" and t.startswith("www.") else t


def gov_domain(s: Sampler) -> str:
    return f"{s.pick(GOV_UNITS)}.{s.pick(PROVINCES)}.gov.vn"


def edu_domain(s: Sampler) -> str:
    u = s.uniform()
    if u < .6:
        return f"{s.pick(['thpt', 'thcs', 'th', 'mn'])}-{s.pick(NAMES)}.{s.pick(PROVINCES)}.edu.vn"
    if u < .85:
        return f"{s.pick(['thpt', 'thcs'])}{s.pick(NAMES)}.edu.vn"
    return f"{s.pick(['cdyt', 'cdsp', 'cdkt', 'dhkt', 'cdnghe'])}{s.pick(PROVINCES).replace('-', '')}.edu.vn"


def shop_domain(s: Sampler) -> str:
    return f"{s.pick(SHOP_WORDS)}{s.pick(SHOP_SUFFIX)}{s.pick(['', '', str(s.int(99))])}.{s.pick(['com.vn', 'vn'])}"


def sector_domain(s: Sampler, sector: str) -> str:
    p = s.pick(PROVINCES).replace("-", "")
    return {"government": gov_domain, "education": edu_domain, "commerce": shop_domain}.get(sector, lambda _: {
        "healthcare": s.pick([f"bvdk{p}.vn", f"benhvien{s.pick(NAMES)}.vn", f"ttyt{p}.vn"]),
        "finance": f"{s.pick([p, s.pick(NAMES)])}{s.pick(['finance', 'credit', 'invest', 'securities'])}.com.vn",
        "energy": s.pick([f"dienluc{p}.vn", f"thuydien{s.pick(NAMES)}.com.vn", f"pc{p}.com.vn"]),
        "telecom": f"{s.pick(['portal', 'mail', 'cskh', 'dns'])}.{s.pick(['vnnet', 'saigonnet', 'hanoinet'])}.vn",
        "other": f"{s.pick(NAMES)}{s.pick(['media', 'news', 'org', 'group'])}.{s.pick(['org.vn', 'vn', 'net.vn'])}",
    }[sector])(s)


def phishing_target(s: Sampler, inc: Incident) -> None:
    token, name, sector = s.pick(BRANDS)
    word = s.pick(PHISH_WORDS)
    host = s.pick([f"{token}-{word}.{s.pick(PHISH_TLDS)}", f"{word}-{token}.{s.pick(PHISH_TLDS)}",
                   f"{token}{word}{s.int(100)}.{s.pick(PHISH_TLDS)}", f"{token}-{word}{s.int(10)}.{s.pick(FREE_HOSTS)}",
                   f"{token}.{word}-{s.token(4)}.{s.pick(PHISH_TLDS)}"])
    inc.sector, inc.extra["brand"] = sector, name
    if s.chance(.25):
        inc.target, inc.kind = host, "domain"
    else:
        path = s.pick(PHISH_PATHS).format(t=s.token(), b=token)
        inc.target, inc.kind = f"{s.pick(['https', 'https', 'http'])}://{host}{path}", "url"
    inc.severity = s.weighted([("high", 5), ("medium", 4), ("critical", 1)] if sector == "finance"
                              else [("medium", 6), ("low", 2), ("high", 2)])


def deface_target(s: Sampler, inc: Incident) -> None:
    inc.sector = s.weighted([("government", 45), ("education", 35), ("commerce", 10), ("healthcare", 5),
                             ("other", 5)])
    host = sector_domain(s, inc.sector)
    if s.chance(.1) and inc.sector in ("commerce", "other"):
        host = "www." + host
    if s.chance(.2):
        inc.target, inc.kind = f"http://{host}{s.pick(DEFACE_PAGES).format(t=s.token(5))}", "url"
    else:
        inc.target, inc.kind = host, "domain"
    inc.extra["notifier"] = s.pick(NOTIFIERS)
    if s.chance(.3):
        inc.source_ip = attacker_ip(s)
    inc.severity = s.weighted([("high", 5), ("medium", 4), ("critical", 1)] if inc.sector == "government"
                              else [("medium", 6), ("low", 3), ("high", 1)])


def malware_target(s: Sampler, inc: Incident) -> None:
    inc.extra["family"] = s.pick(MALWARE_FAMILIES)
    if s.chance(.8):
        inc.target, inc.kind, inc.sector = vn_ip(s), "ip", s.weighted(SECTORS_BY_IP)
        inc.extra["port"] = s.pick([23, 80, 443, 445, 8080, 7547, 37215, 5555])
    else:
        inc.sector = s.weighted([("education", 4), ("commerce", 3), ("government", 2), ("other", 1)])
        host = sector_domain(s, inc.sector)
        inc.target, inc.kind = f"http://{host}/wp-content/uploads/{s.token(5)}/{s.pick(['setup', 'update', 'invoice', 'hoadon', 'tailieu'])}.{s.pick(['exe', 'apk', 'zip', 'doc'])}", "url"
        inc.extra["distribution"] = True
    inc.severity = s.weighted([("low", 30), ("medium", 50), ("high", 17), ("critical", 3)])


def other_target(s: Sampler, inc: Incident) -> None:
    inc.sector = s.weighted([("government", 35), ("finance", 15), ("commerce", 15), ("education", 10),
                             ("telecom", 10), ("energy", 5), ("healthcare", 5), ("other", 5)])
    if inc.category in ("intrusion", "scanning") and s.chance(.6 if inc.category == "intrusion" else .9):
        inc.target, inc.kind = vn_ip(s), "ip"
    else:
        inc.target, inc.kind = sector_domain(s, inc.sector), "domain"
        if inc.category == "intrusion":
            inc.target = "mail." + inc.target.removeprefix("www.")
    if inc.category != "other" and (inc.category != "ddos" or s.chance(.5)):
        inc.source_ip = attacker_ip(s)
    inc.extra["port"] = s.pick([22, 3389, 21, 25, 445])
    inc.severity = {"intrusion": lambda: s.weighted([("medium", 5), ("high", 4), ("critical", 1)]),
                    "ddos": lambda: s.weighted([("high", 5), ("medium", 3), ("critical", 2)]),
                    "scanning": lambda: s.weighted([("low", 8), ("medium", 2)]),
                    "other": lambda: s.weighted([("low", 5), ("medium", 5)])}[inc.category]()


TARGETS = {"phishing": phishing_target, "deface": deface_target, "malware": malware_target}


def describe(s: Sampler, inc: Incident, feed: str) -> str:
    e, c = inc.extra, inc.category
    english = feed in EXTERNAL or feed in SELF_DUP_FEED.values()
    if c == "phishing":
        return s.pick([f"Phishing page impersonating {e['brand']} login", f"Credential harvesting kit mimicking {e['brand']}",
                       f"Fake {e['brand']} page asking for OTP codes"] if english else
                      [f"Trang giả mạo {e['brand']} thu thập thông tin đăng nhập",
                       f"Website lừa đảo giả mạo {e['brand']}, yêu cầu nhập mã OTP",
                       f"Giả mạo chương trình khuyến mãi của {e['brand']}"])
    if c == "deface":
        return s.pick([f"Site defaced, notifier {e['notifier']}", f"Defacement mirrored, notifier {e['notifier']}"]
                      if english else ["Trang chủ bị thay đổi giao diện, để lại thông điệp của nhóm tin tặc",
                                       "Trang con bị chèn nội dung thay đổi giao diện",
                                       f"Giao diện bị thay đổi, ký tên {e['notifier']}"])
    if c == "malware":
        if e.get("distribution"):
            return "Malware distribution URL on a compromised site" if english else \
                "Website bị lợi dụng phát tán tệp mã độc"
        return f"Infected system, {e['family']} sinkhole connection" if english else \
            f"Máy nhiễm mã độc {e['family']}, kết nối tới máy chủ điều khiển"
    return {"intrusion": f"Dò mật khẩu dịch vụ cổng {e['port']} từ {inc.source_ip}",
            "ddos": "Tấn công từ chối dịch vụ vào cổng thông tin điện tử",
            "scanning": f"Scan of open port {e['port']} ({feed})" if english else f"Dò quét cổng {e['port']}",
            "other": s.pick(["Lộ lọt tệp cấu hình trên máy chủ web", "Máy chủ thư bị lợi dụng gửi thư rác",
                             "Rò rỉ dữ liệu trên kho mã công khai"])}[c]


# --- which file, which feed ----------------------------------------------------------------------------
NCSC_2019, NCSC_2020 = "ncsc-2019.csv", "ncsc-2020.csv"
PARTNER, INTELMQ, EXPORT, BROKEN = "partner-2020-q3.csv", "intelmq-2020-h2.jsonl", "export-2020-12.json", \
    "broken-2020-11.csv"
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
        elif d.month <= 9 and c in PDM and s.chance(.25):
            inc.file, inc.feed = PARTNER, "vncert-partner"
        else:
            inc.file = NCSC_2020
    # Citizens call the hotline about phishing and defaced sites, not about infected IP addresses.
    november = [i for i in incidents if i.file == NCSC_2020 and i.local.month == 11
                and i.category in ("phishing", "deface")]
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
        return s.pick([inc.target, f"{scheme}://{host.upper()}/{path}", f"{scheme.upper()}://{host.upper()}/{path}"])
    base = host_of(inc.target, "domain")
    return s.pick([base, f"www.{base}", base.upper(), f"{base}.", f"WWW.{base.upper()}."])


def make_dups(s: Sampler, incidents: list[Incident], pinned: set) -> list[Incident]:
    pools = {
        NCSC_2020: [i for i in incidents if i.file == NCSC_2020 and i.local.month >= 7 and i.category in PDM
                    and i.local.year == 2020],
        PARTNER: [i for i in incidents if i.file == PARTNER],
        EXPORT: [i for i in incidents if i.file == EXPORT and i.category in PDM],
        INTELMQ: [i for i in incidents if i.file == INTELMQ and i.category in SELF_DUP_FEED
                  and i.feed == DUP_FEED[i.category]],
    }
    dups, straddles = [], 0
    for origin, n in N_DUPS.items():
        for orig in s.sample(pools[origin], n):
            feed = SELF_DUP_FEED[orig.category] if origin == INTELMQ else DUP_FEED[orig.category]
            dup = replace(orig, feed=feed, file=INTELMQ, extra=dict(orig.extra), target=variant(s, orig),
                          utc_out=True)
            d = orig.local.date()
            if origin == NCSC_2020 and straddles < N_STRADDLE and id(orig) not in pinned:
                straddles += 1
                orig.local = at(d, 6, s)  # 23:xx UTC the day before
                dup.local = at(d, 7, s)   # 00:xx UTC the same day
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
            inc.id = (f"VNCERT-2020-{counters[f]:05d}" if f == "vncert-partner"
                      else f"HOTLINE-2020-11-{counters[f]:03d}")
        if d < date(2020, 10, 1):
            inc.status = "closed"
        elif d < date(2020, 11, 15):
            inc.status = s.weighted([("closed", 95), ("in-progress", 5)])
        elif d < date(2020, 12, 1):
            inc.status = s.weighted([("closed", 80), ("in-progress", 15), ("open", 5)])
        else:
            inc.status = s.weighted([("closed", 50), ("in-progress", 30), ("open", 20)])
        inc.description = describe(s, inc, f)
        if f == "ncsc-hotline":
            inc.description = "Người dân báo qua đường dây nóng: " + inc.description[0].lower() + inc.description[1:]
    for inc in incidents:  # the JSON export writes about half its times as epoch seconds
        if inc.file == EXPORT and not inc.epoch_out:
            inc.epoch_out = s.chance(.5)


# --- writing -------------------------------------------------------------------------------------------
def own_time(inc: Incident) -> str:
    if inc.utc_out:
        return inc.local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return inc.local.isoformat()


def own_row(inc: Incident) -> list[str]:
    return [inc.id, own_time(inc), inc.category, inc.target, inc.sector, inc.feed, inc.severity, inc.status,
            inc.source_ip, inc.description]


def write_csv(rows: list[list[str]], *, delimiter: str = ",", newline: str = "\n") -> io.StringIO:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf


# Rows a hand-edited spreadsheet export really gets wrong; ingest must quarantine each with its reason.
BROKEN_ROWS = [
    (5, "too few fields", "HOTLINE-2020-11-901,2020-11-06T09:41:00+07:00,phishing,https://vcb-xacthuc.online/dang-nhap"),
    (12, "too many fields", "HOTLINE-2020-11-902,2020-11-09T10:05:00+07:00,phishing,https://momo-nhanqua.top/m/k3x9pq,"
         "finance,ncsc-hotline,medium,open,,Tin nhắn giả mạo MoMo, kèm đường link lạ"),
    (20, "missing time", "HOTLINE-2020-11-903,,deface,thcs-kimdong.namdinh.edu.vn,education,ncsc-hotline,medium,open,,"
         "Trang chủ bị thay đổi giao diện"),
    (27, "unparsable time", "HOTLINE-2020-11-904,2020-11-19T14:3O:00+07:00,phishing,https://shopee-uudai.site/nhan-qua/"
         "r7mw2a,commerce,ncsc-hotline,medium,open,,Giả mạo chương trình khuyến mãi của Shopee"),
    (33, "impossible date", "HOTLINE-2020-11-905,2021-02-30T08:00:00+07:00,malware,14.177.23.81,other,ncsc-hotline,"
         "low,open,,Máy nhiễm mã độc mirai"),
    (40, "unknown category", "HOTLINE-2020-11-906,2020-11-26T16:20:00+07:00,cryptojacking,sotttt.laichau.gov.vn,"
         "government,ncsc-hotline,high,open,,Máy chủ bị cài phần mềm đào tiền ảo"),
]


def intelmq_record(inc: Incident) -> dict:
    taxonomy, type_ = RSIT[inc.category]
    e, utc = inc.extra, inc.local.astimezone(UTC)
    if e.get("distribution"):
        type_ = "malware-distribution"
    rec = {"feed.name": inc.feed, "feed.provider": PROVIDER[inc.feed], "time.source": utc.isoformat(),
           "classification.taxonomy": taxonomy, "classification.type": type_}
    if inc.category == "malware":
        rec["classification.identifier"] = e["family"]
    rec[{"domain": "source.fqdn", "url": "source.url", "ip": "source.ip"}[inc.kind]] = inc.target
    rec["extra.sector"] = inc.sector
    rec["event_description.text"] = inc.description
    ts = f"{utc:%Y-%m-%d %H:%M:%S}"
    raw = {"phishing": f"{inc.id},{inc.target},{ts},{e.get('brand')}",
           "deface": f"{ts},{e.get('notifier')},{inc.target},{inc.source_ip}",
           "malware": f'"{ts}","{inc.target}",{e.get("port", "")},"{e.get("family")}","VN"',
           "scanning": f'"{ts}","{inc.target}",{e.get("port")},"scan","VN"'}[inc.category]
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

    files = {name: write_csv([own_row(i) for i in of(name)]).getvalue().encode() for name in (NCSC_2019, NCSC_2020)}
    partner = [[i.id, f"{i.local:%Y-%m-%d %H:%M:%S}", VI_LABEL[i.category], *own_row(i)[3:]] for i in of(PARTNER)]
    files[PARTNER] = write_csv(partner, delimiter=";", newline="\r\n").getvalue().encode("utf-8-sig")
    files[INTELMQ] = "".join(json.dumps(intelmq_record(i), ensure_ascii=False) + "\n" for i in of(INTELMQ)).encode()
    files[EXPORT] = (json.dumps([export_record(i) for i in of(EXPORT)], ensure_ascii=False, indent=1) + "\n").encode()
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
    print(f"{len(incidents)} distinct incidents, {len(dups)} duplicate reports, {len(BROKEN_ROWS)} broken rows")
    for name in files:
        n = sum(1 for i in incidents + dups if i.file == name)
        print(f"  {args.out / name}: {n + (len(BROKEN_ROWS) if name == BROKEN else 0)} records")


if __name__ == "__main__":
    main()
