"""Realistic feed-export rows for the ingest benchmark, from a fixed seed (no real data).

What a national centre's feeds send: URLs with paths and queries (some defanged), domains, IPv4 and IPv6
targets and sources, Vietnamese descriptions, category labels in English and Vietnamese or an RSIT
taxonomy/type instead, several feeds, times in four spellings, about 2% records re-sent as they were,
about 1% reports of an incident another feed already sent (same category, target and day), and a few
bad rows (an impossible date, an unknown category) that ingest must quarantine.

Two orders of time (`order`): "time", as a feed sends them (a pipeline's output or an export sorted by
time: row k of n falls near start + k/n of the two years, give or take an hour; re-sent records keep
their first time); "random", every record's time drawn over the two years on its own (an unsorted archive
loaded at once: the worst case for every index that starts with the day).

Generated in chunks of CHUNK rows with numpy's random generator (every choice of a chunk drawn as one
array, descriptions from a pool of POOL sentences): about 4 us a row, so 10^7 rows take minutes, not the
45 minutes of a row-by-row `random` loop.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from incidents.ingest.records import OWN_COLUMNS

HEADER = [*OWN_COLUMNS, "classification.taxonomy", "classification.type"]
LABELS = (
    ["phishing"] * 6
    + ["Lừa đảo"] * 3
    + ["deface"] * 4
    + ["Thay đổi giao diện"] * 2
    + ["malware"] * 4
    + ["Mã độc"] * 2
    + ["fraud/phishing", "intrusion", "Xâm nhập", "scanning", "Dò quét", "ddos"]
)
RSIT = [
    ("malicious-code", "infected-system"),
    ("malicious-code", "c2-server"),
    ("fraud", "phishing"),
    ("information-content-security", "unauthorised-information-modification"),
    ("intrusion-attempts", "brute-force"),
    ("information-gathering", "scanner"),
    ("vulnerable", "vulnerable-system"),
]
SECTORS = ["government", "education", "finance", "healthcare", "energy", "telecom", "commerce", ""]
FEEDS = ["shadowserver", "vncert-phish", "openphish", "zone-h", "abusech-urlhaus", "internal-soc"]
SEVERITIES = ["low", "medium", "high", "critical", "thấp", "trung bình", "cao", ""]
STATUSES = ["open", "new", "closed", "đang xử lý", ""]
WORDS = (  # noqa: SIM905
    "trang web giả mạo ngân hàng đăng nhập tài khoản khách hàng bị tấn công thay đổi giao diện "
    "mã độc phát tán máy chủ điều khiển cảnh báo người dùng cơ quan nhà nước cổng thông tin điện tử "
    "phát hiện lỗ hổng nghiêm trọng chiến dịch lừa đảo trực tuyến"
).split()
TLDS = ["vn", "com.vn", "gov.vn", "edu.vn", "org.vn", "net", "com"]
PREFIXES = ["www.", "", "", "mail.", "portal."]
PATHS = ["login", "wp-admin", "index.php", "dang-nhap", "account/verify", "images/x.jpg", "secure/update"]
CHUNK = 100_000
POOL = 65_536  # distinct descriptions
RECENT = 2_000  # a re-sent record repeats one of the last RECENT rows


def _pick(rng: np.random.Generator, options: list[str], n: int) -> list[str]:
    return np.array(options, dtype=object)[rng.integers(0, len(options), n)].tolist()


def _ipv4(rng: np.random.Generator, n: int) -> list[str]:
    a, b, c, d = (
        rng.integers(1, 224, n).tolist(),
        rng.integers(0, 256, n).tolist(),
        rng.integers(0, 256, n).tolist(),
        rng.integers(1, 255, n).tolist(),
    )
    return [f"{w}.{x}.{y}.{z}" for w, x, y, z in zip(a, b, c, d)]


def _stamps(
    rng: np.random.Generator, n: int, first: int = 0, count: int = 0, order: str = "random"
) -> list[str]:
    start = 1546300800  # 2019-01-01T00:00:00Z
    span = 2 * 365 * 86400
    if order == "time":
        base = start + (np.arange(first, first + n) * (span / max(count, 1))).astype(np.int64)
        t = np.clip(base + rng.integers(-3600, 3601, n), start, start + span - 1)
    else:
        t = start + rng.integers(0, span, n)
    spelling = rng.random(n)
    shifted = np.where(spelling < 0.7, t, t + 7 * 3600)  # +07:00 and naive times are local
    iso = np.datetime_as_string(shifted.astype("datetime64[s]"), unit="s").tolist()
    out = []
    for s, r, epoch in zip(iso, spelling.tolist(), t.tolist()):
        if r < 0.7:
            out.append(s + "Z")
        elif r < 0.82:
            out.append(s + "+07:00")
        elif r < 0.95:
            out.append(s.replace("T", " "))  # naive: the input zone
        else:
            out.append(str(epoch))
    bad = np.flatnonzero(rng.random(n) < 0.001)
    for i in bad.tolist():
        out[i] = "2021-02-30T10:00:00Z"  # impossible date: quarantined
    return out


def _targets(rng: np.random.Generator, n: int, hosts: int) -> list[str]:
    host = [
        f"{p}site{k}.{tld}"
        for p, k, tld in zip(_pick(rng, PREFIXES, n), rng.integers(0, hosts, n).tolist(), _pick(rng, TLDS, n))
    ]
    kind = rng.random(n).tolist()
    r1, r2 = rng.random(n).tolist(), rng.random(n).tolist()
    schemes, paths = _pick(rng, ["http", "https"], n), _pick(rng, PATHS, n)
    ids, refs = rng.integers(0, 10**6, n).tolist(), _pick(rng, ["mail", "sms", "zalo"], n)
    v4 = _ipv4(rng, n)
    v6a, v6b = rng.integers(0, 65536, n).tolist(), rng.integers(0, 65536, n).tolist()
    out = []
    for i in range(n):
        r = kind[i]
        if r < 0.45:
            url = f"{schemes[i]}://{host[i]}/{paths[i]}"
            if r1[i] < 0.6:
                url += f"?id={ids[i]}&ref={refs[i]}"
            if r2[i] < 0.08:  # defanged, as analysts paste them
                url = url.replace("http", "hxxp", 1).replace(".", "[.]", 1)
            out.append(url)
        elif r < 0.75:
            out.append(host[i] if r1[i] > 0.05 else host[i].replace(".", "[.]"))
        elif r < 0.92:
            out.append(v4[i])
        else:
            out.append(f"2001:db8:{v6a[i]:x}::{v6b[i]:x}")
    return out


def _descriptions(rng: np.random.Generator) -> list[str]:
    lengths = rng.integers(4, 14, POOL).tolist()
    words = rng.integers(0, len(WORDS), (POOL, 13)).tolist()
    return [" ".join(WORDS[w] for w in ws[:k]) for ws, k in zip(words, lengths)]


ORDERS = ("time", "random")


def rows(count: int, seed: int = 7, order: str = "random") -> Iterator[list[str]]:
    """`count` rows in HEADER order, the same for the same seed and order (ORDERS: see the module)."""
    rng = np.random.default_rng(seed)
    hosts = max(1000, count // 3)
    pool = np.array(_descriptions(rng), dtype=object)
    previous: list[list[str]] = []
    for first in range(0, count, CHUNK):
        n = min(CHUNK, count - first)
        labels = _pick(rng, LABELS, n)
        rsit = rng.integers(0, len(RSIT), n).tolist()
        taxonomies, types = [""] * n, [""] * n
        for i in np.flatnonzero(rng.random(n) < 0.2).tolist():
            labels[i] = ""
            taxonomies[i], types[i] = RSIT[rsit[i]]
        sources = _ipv4(rng, n)
        v6 = rng.integers(0, 65536, n).tolist()
        for i in np.flatnonzero(rng.random(n) >= 0.8).tolist():
            sources[i] = f"2001:db8::{v6[i]:x}"
        chunk = [
            list(row)
            for row in zip(
                [f"r{first + i}" for i in range(n)],
                _stamps(rng, n, first, count, order),
                labels,
                _targets(rng, n, hosts),
                _pick(rng, SECTORS, n),
                _pick(rng, FEEDS, n),
                _pick(rng, SEVERITIES, n),
                _pick(rng, STATUSES, n),
                sources,
                pool[rng.integers(0, POOL, n)].tolist(),
                taxonomies,
                types,
            )
        ]
        # Re-sent records (2%) and other feeds' reports of the same incident (1%), in file order, so a
        # repeat of a repeat is what it repeats.
        kind = rng.random(n).tolist()
        back = rng.integers(1, RECENT + 1, n).tolist()
        feeds = _pick(rng, FEEDS, n)
        for i in np.flatnonzero(np.array(kind) < 0.03).tolist():
            j = i - back[i]
            if first + j < 0:
                continue
            row = list(chunk[j] if j >= 0 else previous[j])
            if kind[i] >= 0.02:
                row[0] = f"x{first + i}"
                row[5] = feeds[i]
            chunk[i] = row
        yield from chunk
        previous = chunk


def write_csv(path: Path, count: int, seed: int = 7, order: str = "random") -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows(count, seed, order))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description="Write N realistic feed rows (fixed seed) as CSV: uv run python bench/feedgen.py OUT.csv N [random|time]"
    )
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("count", type=int, help="number of rows")
    parser.add_argument(
        "order", nargs="?", default="random", choices=("random", "time"), help="order of the times"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write_csv(args.out, args.count, seed=args.seed, order=args.order)
