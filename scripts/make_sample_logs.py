"""Write the raw sample logs of `incidents demo` into sample_logs/raw/ (deterministic: seeded).

    uv run python scripts/make_sample_logs.py [--out sample_logs/raw]

January 2021, right after the sample incident exports end (so a scan adds to January 2021 and
leaves the calibrated 2019-2020 figures as published), on the servers of a fictitious provincial
portal (Asia/Ho_Chi_Minh, UTC+7). Attackers use documentation addresses (RFC 5737) and the malicious
domains are reserved names (RFC 2606) or long-sinkholed public indicators, as in rules/lists/.
The same generator makes the million-line auth.log of bench/scan.py (`auth_lines`).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

ICT = timezone(timedelta(hours=7))
START = datetime(2021, 1, 4, tzinfo=ICT)
USERS = [
    "root",
    "admin",
    "oracle",
    "test",
    "ubuntu",
    "postgres",
    "git",
    "user",
    "ftp",
    "support",
    "guest",
    "pi",
]
STAFF = ["deploy", "hoang.nv", "lan.tt", "backup"]
ATTACKERS = ["203.0.113.5", "203.0.113.77", "198.51.100.23", "198.51.100.140", "192.0.2.66"]
OFFICE = ["10.10.1.12", "10.10.1.15", "10.10.2.40"]
HOSTS = ["portal-web01", "portal-db01", "mail01"]


def _bsd(t: datetime) -> str:
    return t.strftime("%b ") + f"{t.day:2d}" + t.strftime(" %H:%M:%S")


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="microseconds")


def auth_lines(n: int, *, seed: int = 1, stamp=_bsd, start: datetime = START, pace: int = 1) -> Iterator[str]:
    """n lines of a busy sshd/cron auth.log: brute-force bursts, password spraying, and normal work.

    `pace` stretches the quiet time between ordinary lines (attack bursts keep their seconds-apart rhythm).
    """
    rng = random.Random(seed)
    t = start
    pid = 20000
    burst: list[str] = []  # pending lines of the attack in progress
    while n > 0:
        t += timedelta(seconds=rng.choice((0, 0, 1, 1, 2, 3)) * (1 if burst else pace))
        pid += 1
        host = rng.choice(HOSTS)
        if burst:
            line = burst.pop()
        elif rng.random() < 0.004:
            source = (
                rng.choice(ATTACKERS)
                if rng.random() < 0.5
                else f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            )
            spray = rng.random() < 0.3
            for i in range(rng.randint(12, 60)):
                user = rng.choice(USERS) if spray else "root"
                port = rng.randint(30000, 65000)
                if spray:
                    burst.append(f"sshd[{pid}]: Invalid user {user} from {source} port {port}")
                    burst.append(
                        f"sshd[{pid}]: Failed password for invalid user {user} from {source} port {port} ssh2"
                    )
                else:
                    burst.append(f"sshd[{pid}]: Failed password for {user} from {source} port {port} ssh2")
                    burst.append(
                        f"sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                        f"ruser= rhost={source}  user={user}"
                    )
            burst.reverse()
            continue
        else:
            r = rng.random()
            if r < 0.45:
                line = f"CRON[{pid}]: pam_unix(cron:session): session opened for user root by (uid=0)"
            elif r < 0.85:
                line = f"CRON[{pid}]: pam_unix(cron:session): session closed for user root"
            elif r < 0.92:
                who, ip = rng.choice(STAFF), rng.choice(OFFICE)
                line = f"sshd[{pid}]: Accepted publickey for {who} from {ip} port {rng.randint(40000, 60000)} ssh2: ED25519 SHA256:q1w2e3"
            elif r < 0.97:
                line = f"sshd[{pid}]: Received disconnect from {rng.choice(OFFICE)} port {rng.randint(40000, 60000)}:11: disconnected by user"
            else:
                line = f"systemd-logind[612]: New session {pid} of user {rng.choice(STAFF)}."
        yield f"{stamp(t)} {host} {line}\n"
        n -= 1


def web_lines(seed: int = 2) -> Iterator[str]:
    rng = random.Random(seed)
    pages = ["/", "/tin-tuc/", "/tin-tuc/chi-tiet?id={}", "/thu-tuc-hanh-chinh/", "/lien-he", "/assets/app.js?v=3",
             "/assets/style.css", "/images/logo.png", "/tim-kiem?q=giay+phep+xay+dung"]  # fmt: skip
    agents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0 Safari/537.36",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
              "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]  # fmt: skip
    attacks = {
        (5, 2): ("203.0.113.9", "sqlmap/1.4.9#stable (http://sqlmap.org)",
                 ["/tin-tuc/chi-tiet?id=1%27%20UNION%20ALL%20SELECT%20NULL,NULL--", "/tin-tuc/chi-tiet?id=1%20AND%20SLEEP(5)"]),
        (9, 14): ("198.51.100.31", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)",
                  ["/cgi-bin/../../../../etc/passwd", "/index.php?page=..%2f..%2f..%2fetc%2fpasswd",
                   "/tim-kiem?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E"]),
        (17, 3): ("192.0.2.88", agents[0],
                  ["POST /uploads/2021/01/anh.php", "/uploads/2021/01/anh.php?cmd=id", "/uploads/2021/01/anh.php?cmd=uname+-a"]),
        (17, 4): ("192.0.2.88", agents[0], ["PUT /index.html", "/hacked.html"]),
    }  # fmt: skip
    for day in range(1, 32):
        for _ in range(rng.randint(120, 180)):
            t = START + timedelta(days=day - 1, seconds=rng.randint(6 * 3600, 23 * 3600))
            page = rng.choice(pages).format(rng.randint(1, 900))
            yield _combined(f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", t, "GET", page,
                            200, rng.choice(agents))  # fmt: skip
        for (d, hour), (ip, agent, paths) in attacks.items():
            if d != day:
                continue
            t = START + timedelta(days=d - 1, hours=hour)
            for i in range(40):
                path = paths[i % len(paths)]
                method, _, path = path.rpartition(" ") if " " in path else ("GET", "", path)
                status = 201 if method == "PUT" else rng.choice((200, 404, 500))
                yield _combined(ip, t + timedelta(seconds=7 * i), method, path, status, agent)


def _combined(ip: str, t: datetime, method: str, path: str, status: int, agent: str) -> str:
    return f'{ip} - - [{t.strftime("%d/%b/%Y:%H:%M:%S %z")}] "{method} {path} HTTP/1.1" {status} {len(path) * 37} "-" "{agent}"\n'


def eve_lines(seed: int = 3) -> Iterator[str]:
    rng = random.Random(seed)
    kinds = [("ET SCAN Potential SSH Scan", "Attempted Information Leak", 22, 2),
             ("ET SCAN Suspicious inbound to mySQL port 3306", "Potentially Bad Traffic", 3306, 2),
             ("ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT", "Web Application Attack", 80, 1),
             ("ET MALWARE Win32/Emotet CnC Activity (POST) M6", "A Network Trojan was detected", 8080, 1),
             ("ET DOS Possible NTP DDoS Inbound Frequent Un-Authed MON_LIST Requests IMPL 0x03", "Attempted Denial of Service", 123, 2),
             ("ET CINS Active Threat Intelligence Poor Reputation IP TCP group 52", "Misc Attack", 443, 2)]  # fmt: skip
    for day in range(1, 32, 2):
        for _ in range(rng.randint(3, 9)):
            sig, cat, port, sev = rng.choice(kinds)
            t = START + timedelta(days=day - 1, seconds=rng.randint(0, 86399))
            inbound = "Trojan" not in cat
            src = f"198.51.100.{rng.randint(1, 24)}" if inbound else f"10.20.0.{rng.randint(2, 60)}"
            dst = "10.20.0.10" if inbound else f"203.0.113.{rng.randint(1, 254)}"
            record = {"timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%f%z"), "flow_id": rng.randint(10**14, 10**15),
                      "in_iface": "eth0", "event_type": "alert", "src_ip": src, "src_port": rng.randint(1024, 65535),
                      "dest_ip": dst, "dest_port": port, "proto": "TCP",
                      "alert": {"action": "allowed", "gid": 1, "signature_id": 2000000 + port, "rev": 3,
                                "signature": sig, "category": cat, "severity": sev}}  # fmt: skip
            yield json.dumps(record) + "\n"


def dns_lines(seed: int = 4) -> Iterator[str]:
    rng = random.Random(seed)
    normal = [
        "vnexpress.net",
        "www.google.com",
        "dichvucong.gov.vn",
        "zalo.me",
        "www.facebook.com",
        "tuoitre.vn",
    ]
    bad = {(6, "10.30.1.44"): "update-checker.example", (12, "10.30.2.17"): "vietcombank-secure-login.example",
           (21, "10.30.1.80"): "api.avsvmcloud.com", (27, "10.30.3.9"): "dichvucong-gov-vn.example"}  # fmt: skip
    for day in range(1, 32):
        lines = []
        for _ in range(rng.randint(60, 90)):
            t = START + timedelta(days=day - 1, seconds=rng.randint(0, 86399))
            lines.append((t, f"10.30.{rng.randint(1, 3)}.{rng.randint(2, 120)}", rng.choice(normal)))
        for (d, client), name in bad.items():
            if d == day:
                for k in range(3):
                    lines.append((START + timedelta(days=d - 1, hours=9, minutes=17 * k), client, name))
        for t, client, name in sorted(lines):
            yield (f"{t.strftime('%d-%b-%Y %H:%M:%S')}.{rng.randint(0, 999):03d} queries: info: client @0x7f3a2c0e1f50 "
                   f"{client}#{rng.randint(1024, 65535)} ({name}): query: {name} IN A +E(0)K (10.30.0.1)\n")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "sample_logs" / "raw"
    )
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    # ISO timestamps (rsyslog's RSYSLOG_FileFormat) so the year is in the log, not guessed from the mtime.
    files = {
        "auth.log": auth_lines(20_000, stamp=_iso, pace=150),
        "access.log": web_lines(),
        "eve.json": eve_lines(),
        "dns-query.log": dns_lines(),
    }
    for name, lines in files.items():
        with (out / name).open("w", encoding="utf-8") as fh:
            fh.writelines(lines)
        print(f"{out / name}")


if __name__ == "__main__":
    main()
