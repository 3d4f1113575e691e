"""Records of the sample exports: the Incident, the deterministic sampler, and who/what each incident is
(Vietnamese-looking targets, sectors, severities, descriptions). Used by make_samples.py.

All names below are synthetic patterns: a domain here was made up by combining words and says nothing
about any real site.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import datetime

# --- vocabulary --------------------------------------------------------------------------------------
# fmt: off
PROVINCES = ["hanoi", "hochiminhcity", "haiphong", "danang", "cantho", "quangninh", "thanhhoa", "nghean",
             "hatinh", "quangbinh", "quangtri", "thuathienhue", "quangnam", "quangngai", "binhdinh", "phuyen",
             "khanhhoa", "ninhthuan", "binhthuan", "kontum", "gialai", "daklak", "daknong", "lamdong",
             "binhphuoc", "tayninh", "binhduong", "dongnai", "baria-vungtau", "longan", "tiengiang", "bentre",
             "travinh", "vinhlong", "dongthap", "angiang", "kiengiang", "haugiang", "soctrang", "baclieu",
             "camau", "hagiang", "caobang", "backan", "tuyenquang", "laocai", "yenbai", "thainguyen",
             "langson", "bacgiang", "phutho", "vinhphuc", "bacninh", "haiduong", "hungyen", "thaibinh",
             "hanam", "namdinh", "ninhbinh", "hoabinh", "sonla", "dienbien", "laichau"]
GOV_UNITS = ["sotttt", "sogddt", "soyte", "sotnmt", "sokhdt", "sonnptnt", "sotc", "stp", "sovhttdl", "soxd",
             "sogtvt", "sokhcn", "soldtbxh", "sonv", "ubnd", "vpubnd", "hdnd", "thanhtra", "bqlkcn",
             "dichvucong", "congbao", "motcua"]
NAMES = ["nguyenhue", "lequydon", "tranphu", "leloi", "quangtrung", "chuvanan", "nguyendu", "phanboichau",
         "hungvuong", "lythuongkiet", "tranhungdao", "nguyentrai", "nguyendinhchieu", "phandinhphung",
         "vothisau", "kimdong", "lehongphong", "minhkhai", "nguyenvancu", "hoanghoatham", "ngoquyen",
         "phanchutrinh", "huynhthuckhang", "dinhtienhoang", "nguyenkhuyen", "haibatrung", "lytutrong",
         "luongthevinh"]
SHOP_WORDS = ["noithat", "dienmay", "thoitrang", "mypham", "giadung", "xaydung", "dulich", "nhakhoa", "diaoc",
              "otoxe", "mevabe", "nhasach", "caphe", "thucpham", "vatlieu", "inan", "quangcao", "dienthoai",
              "maytinh"]
SHOP_SUFFIX = ["", "24h", "pro", "viet", "sg", "hn", "xanh", "online", "365", "plus", "vn", "store"]
# (token in lookalike hosts, name as written in reports, sector of the impersonated organisation)
BRANDS = [("vietcombank", "Vietcombank", "finance"), ("vcb", "Vietcombank", "finance"),
          ("techcombank", "Techcombank", "finance"), ("bidv", "BIDV", "finance"),
          ("agribank", "Agribank", "finance"), ("vietinbank", "VietinBank", "finance"),
          ("mbbank", "MB Bank", "finance"), ("tpbank", "TPBank", "finance"), ("acb", "ACB", "finance"),
          ("sacombank", "Sacombank", "finance"), ("vpbank", "VPBank", "finance"), ("momo", "MoMo", "finance"),
          ("zalopay", "ZaloPay", "finance"), ("shopee", "Shopee", "commerce"),
          ("lazada", "Lazada", "commerce"), ("tiki", "Tiki", "commerce"), ("sendo", "Sendo", "commerce"),
          ("dichvucong", "Cổng Dịch vụ công quốc gia", "government"), ("bhxh", "BHXH Việt Nam", "government"),
          ("thuedientu", "Thuế điện tử", "government"), ("evn", "EVN", "energy"),
          ("viettel", "Viettel", "telecom"), ("vnpt", "VNPT", "telecom"), ("mobifone", "MobiFone", "telecom"),
          ("facebook", "Facebook", "other"), ("zalo", "Zalo", "other"), ("vnpost", "Vietnam Post", "other")]
PHISH_WORDS = ["xacthuc", "xacminh", "dangnhap", "login", "secure", "online", "hotro", "khuyenmai", "nhanqua",
               "uudai", "taikhoan", "the", "otp", "verify", "app", "24h", "canhan", "quatang"]
PHISH_TLDS = ["com", "net", "online", "xyz", "top", "site", "vip", "cc", "info", "club", "icu", "live", "me",
              "shop"]
FREE_HOSTS = ["web.app", "firebaseapp.com", "000webhostapp.com", "weebly.com", "wixsite.com", "glitch.me"]
PHISH_PATHS = ["/dang-nhap", "/login.php", "/xac-thuc/{t}", "/{b}/index.html", "/khuyen-mai/{t}", "/m/{t}",
               "/otp.php", "/verify/{t}", "/{b}/{t}/login", "/nhan-qua/{t}"]
DEFACE_PAGES = ["/index.html", "/images/index.htm", "/upload/{t}.html", "/tin-tuc/{t}.html", "/hacked.html"]
MALWARE_FAMILIES = ["mirai", "gamut", "conficker", "necurs", "emotet", "trickbot", "qsnatch", "ramnit",
                    "sality", "andromeda", "zeroaccess", "wannacry", "xmrig", "gafgyt"]
NOTIFIERS = ["r00t_h4nd", "xShad0w", "k3y_m4ster", "N0_N4me", "d4rk_l0rd", "m1ssing_byte", "z3r0_s0ul"]
# Vietnamese access-network and hosting ranges (first address, prefix length) for affected systems.
VN_NETS = [((14, 160, 0, 0), 11), ((113, 160, 0, 0), 11), ((27, 64, 0, 0), 12), ((171, 224, 0, 0), 11),
           ((123, 16, 0, 0), 12), ((42, 112, 0, 0), 13), ((118, 68, 0, 0), 14), ((115, 72, 0, 0), 13),
           ((116, 96, 0, 0), 12), ((1, 52, 0, 0), 14), ((183, 80, 0, 0), 13), ((125, 212, 128, 0), 17)]
ATTACKER_FIRST_OCTET = [45, 61, 89, 92, 103, 112, 122, 141, 159, 167, 185, 193, 194, 195, 218, 220, 221, 222]
SECTORS_BY_IP = [("other", 40), ("telecom", 15), ("education", 15), ("government", 12), ("commerce", 10),
                 ("healthcare", 4), ("finance", 2), ("energy", 2)]
# fmt: on


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
    if u < 0.6:
        return f"{s.pick(['thpt', 'thcs', 'th', 'mn'])}-{s.pick(NAMES)}.{s.pick(PROVINCES)}.edu.vn"
    if u < 0.85:
        return f"{s.pick(['thpt', 'thcs'])}{s.pick(NAMES)}.edu.vn"
    return f"{s.pick(['cdyt', 'cdsp', 'cdkt', 'dhkt', 'cdnghe'])}{s.pick(PROVINCES).replace('-', '')}.edu.vn"


def shop_domain(s: Sampler) -> str:
    number = s.pick(["", "", str(s.int(99))])
    return f"{s.pick(SHOP_WORDS)}{s.pick(SHOP_SUFFIX)}{number}.{s.pick(['com.vn', 'vn'])}"


def sector_domain(s: Sampler, sector: str) -> str:
    p = s.pick(PROVINCES).replace("-", "")
    return {"government": gov_domain, "education": edu_domain, "commerce": shop_domain}.get(
        sector,
        lambda _: {
            "healthcare": s.pick([f"bvdk{p}.vn", f"benhvien{s.pick(NAMES)}.vn", f"ttyt{p}.vn"]),
            "finance": f"{s.pick([p, s.pick(NAMES)])}{s.pick(['finance', 'credit', 'invest'])}.com.vn",
            "energy": s.pick([f"dienluc{p}.vn", f"thuydien{s.pick(NAMES)}.com.vn", f"pc{p}.com.vn"]),
            "telecom": f"{s.pick(['portal', 'mail', 'cskh'])}.{s.pick(['vnnet', 'saigonnet', 'hanoinet'])}.vn",
            "other": f"{s.pick(NAMES)}{s.pick(['media', 'news', 'group'])}.{s.pick(['org.vn', 'vn', 'net.vn'])}",
        }[sector],
    )(s)


def phishing_target(s: Sampler, inc: Incident) -> None:
    token, name, sector = s.pick(BRANDS)
    word = s.pick(PHISH_WORDS)
    host = s.pick(
        [
            f"{token}-{word}.{s.pick(PHISH_TLDS)}",
            f"{word}-{token}.{s.pick(PHISH_TLDS)}",
            f"{token}{word}{s.int(100)}.{s.pick(PHISH_TLDS)}",
            f"{token}-{word}{s.int(10)}.{s.pick(FREE_HOSTS)}",
            f"{token}.{word}-{s.token(4)}.{s.pick(PHISH_TLDS)}",
        ]
    )
    inc.sector, inc.extra["brand"] = sector, name
    if s.chance(0.25):
        inc.target, inc.kind = host, "domain"
    else:
        path = s.pick(PHISH_PATHS).format(t=s.token(), b=token)
        inc.target, inc.kind = f"{s.pick(['https', 'https', 'http'])}://{host}{path}", "url"
    inc.severity = s.weighted(
        [("high", 5), ("medium", 4), ("critical", 1)]
        if sector == "finance"
        else [("medium", 6), ("low", 2), ("high", 2)]
    )


def deface_target(s: Sampler, inc: Incident) -> None:
    inc.sector = s.weighted(
        [("government", 45), ("education", 35), ("commerce", 10), ("healthcare", 5), ("other", 5)]
    )
    host = sector_domain(s, inc.sector)
    if s.chance(0.1) and inc.sector in ("commerce", "other"):
        host = "www." + host
    if s.chance(0.2):
        inc.target, inc.kind = f"http://{host}{s.pick(DEFACE_PAGES).format(t=s.token(5))}", "url"
    else:
        inc.target, inc.kind = host, "domain"
    inc.extra["notifier"] = s.pick(NOTIFIERS)
    if s.chance(0.3):
        inc.source_ip = attacker_ip(s)
    inc.severity = s.weighted(
        [("high", 5), ("medium", 4), ("critical", 1)]
        if inc.sector == "government"
        else [("medium", 6), ("low", 3), ("high", 1)]
    )


def malware_target(s: Sampler, inc: Incident) -> None:
    inc.extra["family"] = s.pick(MALWARE_FAMILIES)
    if s.chance(0.8):
        inc.target, inc.kind, inc.sector = vn_ip(s), "ip", s.weighted(SECTORS_BY_IP)
        inc.extra["port"] = s.pick([23, 80, 443, 445, 8080, 7547, 37215, 5555])
    else:
        inc.sector = s.weighted([("education", 4), ("commerce", 3), ("government", 2), ("other", 1)])
        host = sector_domain(s, inc.sector)
        folder, name = s.token(5), s.pick(["setup", "update", "invoice", "hoadon", "tailieu"])
        inc.target = (
            f"http://{host}/wp-content/uploads/{folder}/{name}.{s.pick(['exe', 'apk', 'zip', 'doc'])}"
        )
        inc.kind = "url"
        inc.extra["distribution"] = True
    inc.severity = s.weighted([("low", 30), ("medium", 50), ("high", 17), ("critical", 3)])


def other_target(s: Sampler, inc: Incident) -> None:
    inc.sector = s.weighted(
        [
            ("government", 35),
            ("finance", 15),
            ("commerce", 15),
            ("education", 10),
            ("telecom", 10),
            ("energy", 5),
            ("healthcare", 5),
            ("other", 5),
        ]
    )
    if inc.category in ("intrusion", "scanning") and s.chance(0.6 if inc.category == "intrusion" else 0.9):
        inc.target, inc.kind = vn_ip(s), "ip"
    else:
        inc.target, inc.kind = sector_domain(s, inc.sector), "domain"
        if inc.category == "intrusion":
            inc.target = "mail." + inc.target.removeprefix("www.")
    if inc.category != "other" and (inc.category != "ddos" or s.chance(0.5)):
        inc.source_ip = attacker_ip(s)
    inc.extra["port"] = s.pick([22, 3389, 21, 25, 445])
    inc.severity = {
        "intrusion": lambda: s.weighted([("medium", 5), ("high", 4), ("critical", 1)]),
        "ddos": lambda: s.weighted([("high", 5), ("medium", 3), ("critical", 2)]),
        "scanning": lambda: s.weighted([("low", 8), ("medium", 2)]),
        "other": lambda: s.weighted([("low", 5), ("medium", 5)]),
    }[inc.category]()


TARGETS = {"phishing": phishing_target, "deface": deface_target, "malware": malware_target}


def describe(s: Sampler, inc: Incident, english: bool) -> str:
    """One line as the feed writes it: NCSC and partners in Vietnamese, external feeds in English."""
    e, c = inc.extra, inc.category
    if c == "phishing":
        return s.pick(
            [
                f"Phishing page impersonating {e['brand']} login",
                f"Credential harvesting kit mimicking {e['brand']}",
                f"Fake {e['brand']} page asking for OTP codes",
            ]
            if english
            else [
                f"Trang giả mạo {e['brand']} thu thập thông tin đăng nhập",
                f"Website lừa đảo giả mạo {e['brand']}, yêu cầu nhập mã OTP",
                f"Giả mạo chương trình khuyến mãi của {e['brand']}",
            ]
        )
    if c == "deface":
        return s.pick(
            [f"Site defaced, notifier {e['notifier']}", f"Defacement mirrored, notifier {e['notifier']}"]
            if english
            else [
                "Trang chủ bị thay đổi giao diện, để lại thông điệp của nhóm tin tặc",
                "Trang con bị chèn nội dung thay đổi giao diện",
                f"Giao diện bị thay đổi, ký tên {e['notifier']}",
            ]
        )
    if c == "malware":
        if e.get("distribution"):
            return (
                "Malware distribution URL on a compromised site"
                if english
                else "Website bị lợi dụng phát tán tệp mã độc"
            )
        return (
            f"Infected system, {e['family']} sinkhole connection"
            if english
            else f"Máy nhiễm mã độc {e['family']}, kết nối tới máy chủ điều khiển"
        )
    return {
        "intrusion": f"Dò mật khẩu dịch vụ cổng {e['port']} từ {inc.source_ip}",
        "ddos": "Tấn công từ chối dịch vụ vào cổng thông tin điện tử",
        "scanning": f"Scan of open port {e['port']}" if english else f"Dò quét cổng {e['port']}",
        "other": s.pick(
            [
                "Lộ lọt tệp cấu hình trên máy chủ web",
                "Máy chủ thư bị lợi dụng gửi thư rác",
                "Rò rỉ dữ liệu trên kho mã công khai",
            ]
        ),
    }[c]
