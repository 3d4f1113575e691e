"""The monthly bulletin: numbers with provenance, lead paragraph, Markdown/HTML/JSON output, charts.

The test store is built directly with store.add_incidents from monthly totals that equal the published
and derived figures of ../shared/data/published-vn-2019-2020.csv, so these tests do not depend on the
sample exports; test_bulletin_sample.py checks the same sentences on the sample data.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import json
import re
import struct
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    if month in MONTH_SPLITS and sum(MONTH_SPLITS[month].values()) == total:
        return MONTH_SPLITS[month]
    phishing, deface = total * 40 // 100, total * 35 // 100
    return {"phishing": phishing, "deface": deface, "malware": total - phishing - deface}


def incident_rows(
    counts: dict[tuple[str, str], int], run_id: int | None = None, salt: str = ""
) -> list[tuple]:
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


def seeded_store(path: Path) -> Path:
    """A store at `path` filled by `seed` (the monthly totals of 2019-2020), closed; returns `path`."""
    db = store.open_db(path)
    seed(db)
    db.close()
    return path


@pytest.fixture(scope="module")
def seeded_path(tmp_path_factory) -> Path:
    return seeded_store(tmp_path_factory.mktemp("bulletin") / "seeded.db")


@pytest.fixture
def seeded(seeded_path):
    db = store.open_db(seeded_path)
    yield db
    db.close()


# --- numbers and the lead paragraph ----------------------------------------------------------------

from dataclasses import replace

from incidents.bulletin import numbers, numfmt, render

LEAD_VI = (
    "582 sự cố",
    "tăng 11,07% so với tháng 9/2020",
    "tăng 0,34% so với cùng kỳ tháng 10/2019",
    "4.161 sự cố",
    "giảm 7,82% so với cùng kỳ 10 tháng đầu năm 2019",
)
LEAD_EN = (
    "582 cyber-attack incidents",
    "up 11.07% from September 2020",
    "up 0.34% from October 2019",
    "4,161 incidents",
    "down 7.82% from the same period of 2019",
)


@dataclass
class FixedAlarm:
    """An alarm shaped like incidents.spikes.Alarm, so the golden files do not move with the detector."""

    series: str
    date: str
    freq: str
    count: int
    expected: float
    upper: float
    score: float
    explanation: str
    span: int = 1
    level: float = 0.001
    period_count: int | None = None
    since: str | None = None
    records_from: str | None = None


ALARMS = [
    FixedAlarm("phishing", "2020-10-14", "day", 31, 7.8, 16.0, 5.2,
               "phishing: 31 incidents on 2020-10-14, expected 8, upper bound 16 (99.9%), highest since 2020-06-02",
               1, 0.001, 31, "2020-06-02", "2019-01-01"),
]  # fmt: skip


def test_figures_of_october_2020(seeded):
    b = numbers.build(seeded, "2020-10", alarms=[])
    t = b.report.total
    assert (t.count, t.previous_month, t.same_month_last_year) == (582, 524, 580)
    assert (t.month_over_month, t.year_over_year) == (11.07, 0.34)
    assert (t.year_to_date, t.year_to_date_last_year, t.year_to_date_change) == (4161, 4514, -7.82)
    assert b.categories == ["phishing", "deface", "malware"]
    assert b.chart_months[0] == "2019-10" and b.chart_months[-1] == "2020-10" and len(b.chart_months) == 13
    assert b.ytd_this_year[-1] == 4161 and len(b.ytd_this_year) == 10
    assert b.ytd_last_year[9] == 4514 and b.ytd_last_year[-1] == 5176
    assert b.cutoff == CUTOFF


@pytest.mark.parametrize(("lang", "phrases"), [("vi", LEAD_VI), ("en", LEAD_EN)])
def test_lead_paragraph_states_the_published_figures(seeded, lang, phrases):
    lead = " ".join(render.lead(numbers.build(seeded, "2020-10", alarms=[]), lang))
    for phrase in phrases:
        assert phrase in lead


def test_vietnamese_lead_is_in_the_published_style(seeded):
    (paragraph,) = render.lead(numbers.build(seeded, "2020-10", alarms=[]), "vi")
    assert paragraph.startswith("Trong tháng 10/2020, ")
    assert (
        "đã ghi nhận, cảnh báo và hướng dẫn xử lý 582 sự cố tấn công mạng vào các hệ thống thông tin tại Việt Nam ("
        in paragraph
    )
    assert "Tính chung 10 tháng đầu năm 2020, đã ghi nhận 4.161 sự cố" in paragraph
    assert paragraph.endswith(".")


def test_december_states_the_whole_year(seeded):
    vi = " ".join(render.lead(numbers.build(seeded, "2020-12", alarms=[]), "vi"))
    en = " ".join(render.lead(numbers.build(seeded, "2020-12", alarms=[]), "en"))
    # 5,168 in 2020 against 5,176 in 2019: the published -0.15%.
    assert "Tính chung cả năm 2020, đã ghi nhận 5.168 sự cố" in vi and "giảm 0,15% so với năm 2019" in vi
    assert "In the whole of 2020, it recorded 5,168 incidents, down 0.15% from 2019" in en
    # December: -54.48% vs November, as published.
    assert "giảm 54,48% so với tháng 11/2020" in vi


def test_january_has_no_year_to_date_sentence(seeded):
    vi = " ".join(render.lead(numbers.build(seeded, "2020-01", alarms=[]), "vi"))
    assert "Tính chung" not in vi and "283 sự cố" in vi


def test_first_year_has_no_year_on_year_change(seeded):
    b = numbers.build(seeded, "2019-10", alarms=[])
    assert b.report.total.year_over_year is None and b.report.total.year_to_date_change is None
    vi = " ".join(render.lead(b, "vi"))
    en = " ".join(render.lead(b, "en"))
    assert "chưa có số liệu cùng kỳ tháng 10/2018 để so sánh" in vi
    assert "chưa có số liệu cùng kỳ 10 tháng đầu năm 2018 để so sánh" in vi
    assert "no data for October 2018 to compare with" in en
    assert "tăng 123,08% so với tháng 9/2019" in vi  # 580 vs 260: the month before is in the data
    md = render.markdown(b, "en")
    total_row = next(line for line in md.splitlines() if line.startswith("| **Total**"))
    assert total_row.count("n/a") == 2  # vs Oct 2018 and vs the same period of 2018
    assert not re.search(r"\binf\b|\bnan\b|Infinity", md, re.IGNORECASE)


def test_month_before_the_first_data_is_refused(seeded):
    with pytest.raises(
        numbers.NoData, match=r"no bulletin for 2018-12: 2018-12 is before the first data \(2019-01\)"
    ):
        numbers.build(seeded, "2018-12", alarms=[])


def test_month_after_the_last_data_is_refused(seeded):
    with pytest.raises(numbers.NoData, match=r"2021-01 is after the last data \(2020-12\)"):
        numbers.build(seeded, "2021-01", alarms=[])


def test_empty_store_is_refused(db):
    with pytest.raises(numbers.NoData, match="the store holds no incidents"):
        numbers.build(db, "2020-10", alarms=[])


def test_a_month_without_incidents_and_a_zero_baseline(db):
    # Data in August and October, none in September: no September bulletin, October's change is n/a.
    seed(db, {"2020-08": 100, "2020-09": 0, "2020-10": 50})
    with pytest.raises(
        numbers.NoData, match=r"the store holds no incident in 2020-09 \(its data runs from 2020-08 to"
    ):
        numbers.build(db, "2020-09", alarms=[])
    octo = numbers.build(db, "2020-10", alarms=[])
    assert octo.report.total.previous_month == 0 and octo.report.total.month_over_month is None
    vi = " ".join(render.lead(octo, "vi"))
    assert "tháng 9/2020 không có sự cố nào để so sánh" in vi
    assert octo.provenance["total"]["month_over_month"]["provenance"]["why_none"] == "previous_month is 0"


def test_data_starting_mid_year(db):
    seed(db, {"2020-03": 10, "2020-04": 20})
    b = numbers.build(db, "2020-04", alarms=[])
    assert b.ytd_from == "2020-03"
    assert "the year to date counts from 2020-03, the first month with data" in [n.text for n in b.notes]
    assert "- Lũy kế tính từ tháng 3/2020, tháng đầu tiên có số liệu." in render.render(b, "vi", "md")
    assert "- The year to date counts from March 2020, the first month with data." in render.render(
        b, "en", "md"
    )
    vi = " ".join(render.lead(b, "vi"))
    assert "Tính từ tháng 3/2020 (tháng đầu tiên có số liệu) đến hết tháng 4/2020, đã ghi nhận 30 sự cố" in vi
    assert "4 tháng đầu năm" not in vi
    assert b.chart_months == ["2020-03", "2020-04"]  # months before the data are not drawn as zeros
    assert b.ytd_last_year is None


def test_incomplete_last_month_is_noted(db):
    seed(db, {"2020-09": 300})
    db.execute("DELETE FROM incidents WHERE day > '2020-09-20'")
    db.conn.commit()
    b = numbers.build(db, "2020-09", alarms=[])
    assert "incomplete" in [n.code for n in b.notes]
    assert "Số liệu mới có đến ngày 20/09/2020: tháng 9/2020 có thể chưa đầy đủ." in render.render(
        b, "vi", "html"
    )
    from incidents.bulletin.edition import Edition

    b.edition = Edition(name="public")  # the data-freshness note is an internal check
    assert "Số liệu mới có đến ngày" not in render.render(b, "vi", "html")


# --- number formats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [
        (4161, "4.161", "4,161"),
        (582, "582", "582"),
        (0, "0", "0"),
        (1234567, "1.234.567", "1,234,567"),
        (None, "không có số liệu", "n/a"),
    ],
)
def test_integer_format(value, vi, en):
    assert numfmt.integer(value, "vi") == vi and numfmt.integer(value, "en") == en


@pytest.mark.parametrize(
    ("value", "vi", "en"),
    [(11.07, "tăng 11,07%", "up 11.07%"), (-7.82, "giảm 7,82%", "down 7.82%"), (0.34, "tăng 0,34%", "up 0.34%"),
     (-100.0, "giảm 100,00%", "down 100.00%"), (0.0, "không đổi", "unchanged"), (None, "không có số liệu", "n/a"),
     (1234.5, "tăng 1.234,50%", "up 1,234.50%")],
)  # fmt: skip
def test_change_words_follow_the_sign(value, vi, en):
    assert numfmt.change(value, "vi") == vi and numfmt.change(value, "en") == en


def test_signed_percent_and_unknown_language():
    assert numfmt.percent(-7.82, "vi", signed=True) == "-7,82%"
    assert numfmt.percent(11.07, "en", signed=True) == "+11.07%"
    with pytest.raises(numfmt.UnknownLanguage):
        numfmt.integer(1, "fr")


@given(st.integers(min_value=0, max_value=10**9))
def test_integer_formats_read_back(n):
    vi, en = numfmt.integer(n, "vi"), numfmt.integer(n, "en")
    assert int(vi.replace(".", "")) == n and int(en.replace(",", "")) == n
    assert vi == en.replace(",", ".")


@given(st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False))
def test_percent_formats_read_back(d):
    x = float(d)
    vi, en = numfmt.percent(x, "vi", signed=True), numfmt.percent(x, "en", signed=True)
    assert float(en.rstrip("%").replace(",", "")) == x
    assert float(vi.rstrip("%").replace(".", "").replace(",", ".")) == x
    words = numfmt.change(x, "vi")
    assert words.startswith("tăng" if x > 0 else "giảm" if x < 0 else "không đổi")


# --- Markdown golden files ---------------------------------------------------------------------------

PUBLISHED_CSV = """period,scope,total,phishing,deface,malware,status,published_change,source,note
2020-10,month,582,,,,published,+11.07% MoM; +0.34% YoY,seed article,
2020-01..2020-10,ytd,4170,,,,published,-7.82% vs same period 2019,first release,revised later
"""


@pytest.fixture
def golden_bulletin(seeded_path, tmp_path):
    """October 2020 with fixed alarms and two published figures, one of them since revised."""
    from incidents import published

    db = store.open_db(tmp_path / "golden.db")
    db.execute("ATTACH DATABASE ? AS src", [str(seeded_path)])
    with db.atomic():
        db.execute("INSERT INTO incidents SELECT * FROM src.incidents")
        db.execute("INSERT INTO ingest_runs SELECT * FROM src.ingest_runs")
    db.execute("DETACH DATABASE src")
    csv_file = tmp_path / "published.csv"
    csv_file.write_text(PUBLISHED_CSV, encoding="utf-8")
    published.import_file(db, csv_file)
    yield numbers.build(db, "2020-10", alarms=ALARMS)
    db.close()


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; UPDATE_GOLDEN=1 rewrites the file (review the diff before committing)."""
    import os

    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(encoding="utf-8")


ISSUE = {
    "issued": "2020-11-05",
    "issuer": "NCSC | AIS",
    "contact": "NCSC <ncsc@example.vn>, +84 24 0000 0000",
}


@pytest.mark.parametrize("edition", ["internal", "public"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_markdown_matches_golden_file(golden_bulletin, lang, edition, tmp_path):
    """Golden internal and public bulletins in both languages (the public one: no CLI hint, no internal
    check, no victim name, TLP:CLEAR; the internal one: everything, TLP:AMBER)."""
    from dataclasses import replace

    from incidents.bulletin.edition import Edition

    b = replace(golden_bulletin, edition=Edition(name=edition, **ISSUE))
    charts = [{"title": "t", "png": f"c.{lang}.png", "svg": f"c.{lang}.svg"}]
    name = f"bulletin-2020-10.{lang}.md" if edition == "internal" else f"bulletin-2020-10.{lang}.public.md"
    text = render.markdown(b, lang, chart_files=charts)
    check_golden(name, text)
    if edition == "public":
        for internal in (" --", "incidents spikes", "(UTC)", "JSON", b.top_targets[0][0], "TLP:AMBER"):
            assert internal not in text, internal
        assert text.startswith("**TLP:CLEAR**") and text.rstrip().endswith("**TLP:CLEAR**")
    else:
        assert text.startswith("**TLP:AMBER**") and b.top_targets[0][0] in text
    assert (
        "05/11/2020" if lang == "vi" else "5 November 2020"
    ) in text and "NCSC \\| AIS" in text  # the issuer's | escaped in Markdown


@pytest.mark.parametrize(
    ("lang", "text"),
    [("vi", "Không phát hiện đột biến nào trong tháng."), ("en", "No spike was detected this month.")],
)
def test_a_month_without_spikes_says_so(seeded, lang, text):
    md = render.markdown(numbers.build(seeded, "2020-08", alarms=[]), lang)
    assert f"\n{text}\n" in md


def test_golden_bulletin_shows_spikes_and_the_revision(golden_bulletin):
    md = render.markdown(golden_bulletin, "en")
    assert "- A phishing spike on 14 October 2020: 31 incidents, 4.0 times the expected 7.8\n" in md
    assert "- Đột biến lừa đảo ngày 14/10/2020: 31 sự cố, gấp 4,0 lần mức dự kiến 7,8\n" in render.markdown(
        golden_bulletin, "vi"
    )
    assert "\n\nThe 4 other published figures for these periods match the store's.\n" in md
    assert (
        "2020-01..2020-10, total: **Differs from the published figure**: published 4,170, now 4,161 — first release"
        in md
    )
    vi = render.markdown(golden_bulletin, "vi")
    assert "**Khác với số liệu đã công bố**: đã công bố 4.170, hiện tại 4.161" in vi
    assert [c.figure for c in golden_bulletin.revisions] == ["total"]


# --- JSON: every number and its provenance --------------------------------------------------------


def _numbers_with_provenance(tree, path=""):
    """Yield (path, value, provenance) for every {"value", "provenance"} leaf of the figures."""
    if isinstance(tree, dict):
        if "value" in tree and "provenance" in tree:
            yield path, tree["value"], tree["provenance"]
            return
        for key, sub in tree.items():
            yield from _numbers_with_provenance(sub, f"{path}.{key}" if path else key)


def test_json_has_every_number_with_a_provenance_that_recomputes_it(seeded):
    b = numbers.build(seeded, "2020-10", alarms=ALARMS)
    data = json.loads(render.render(b, "en", "json"))
    assert data["month"] == "2020-10" and data["cutoff"] == CUTOFF and data["zone"] == "Asia/Ho_Chi_Minh"
    figures = data["figures"]
    assert figures["total"]["count"]["value"] == 582
    assert figures["total"]["month_over_month"]["value"] == 11.07
    assert figures["total"]["year_over_year"]["value"] == 0.34
    assert figures["total"]["year_to_date"]["value"] == 4161
    assert figures["total"]["year_to_date_change"]["value"] == -7.82
    assert figures["categories"]["phishing"]["share"]["value"] == 39.86
    leaves = list(_numbers_with_provenance(figures))
    assert len(leaves) == 8 + 7 * 9  # total: 8 figures; every category (stable keys) also has its share
    by_path = {path: value for path, value, _ in leaves}
    for path, value, prov in leaves:
        assert prov["zone"] == "Asia/Ho_Chi_Minh" and prov["filter"]
        if "sql" in prov:
            # Anyone can recompute a count from the stated SQL; it must give the stated value.
            assert seeded.execute(prov["sql"]).fetchone()[0] == value, path
            assert prov["period"] in prov["sql"].replace("' AND '", "..").replace("'", "")
        elif "inputs" in prov:
            scope = path.rsplit(".", 1)[0]
            cur, base = (by_path[f"{scope}.{name}"] for name in prov["inputs"])
            if not base:
                assert value is None and prov["why_none"], path
                continue
            assert value == round((cur - base) * 100 / base, 2), path
    assert data["lead"][0].startswith("In October 2020")
    monthly = data["monthly"]
    assert sum(monthly["values"]["2020-10"].values()) == 582
    assert seeded.execute(monthly["provenance"]["sql"] + " LIMIT 0").fetchall() == []
    assert data["year_to_date_series"]["this_year"]["values"][-1] == 4161
    assert data["top_sectors"]["values"][0]["count"] == b.top_sectors[0][1]
    assert data["spikes"]["values"][0]["explanation"].startswith("phishing: 31 incidents")
    assert data["cutoff_provenance"]["sql"].startswith("SELECT max(finished_at)")


def test_json_says_why_a_figure_is_missing(seeded):
    data = json.loads(render.render(numbers.build(seeded, "2019-10", alarms=[]), "vi", "json"))
    yoy = data["figures"]["total"]["year_over_year"]
    assert yoy["value"] is None
    assert yoy["provenance"]["why_none"] == "the store's data starts in 2019-01, after 2018-10"
    assert data["year_to_date_series"]["last_year"]["values"] is None


# --- HTML: valid, self-contained, charts embedded -------------------------------------------------

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}


class _Checker(HTMLParser):
    """Checks tags nest and close, and collects every URL the document would load or link to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.urls, self.images, self.doctype = [], [], [], [], None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "background", "srcset", "action"):
            if name in attrs:
                self.urls.append(attrs[name])
        if tag == "img":
            self.images.append(attrs)
        if tag == "link" or tag == "script":
            self.errors.append(f"<{tag}> loads an external resource or code")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (PNG spec, section 11.2.2)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_html_is_valid_and_self_contained(seeded, lang):
    html = render.render(numbers.build(seeded, "2020-10", alarms=ALARMS), lang, "html")
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.doctype.lower() == "doctype html"
    assert checker.errors == [] and checker.stack == []
    assert f'<html lang="{lang}">' in html and '<meta charset="utf-8">' in html
    for url in checker.urls:
        assert url.startswith(("data:", "mailto:")), url
    assert len(checker.images) == 2
    for img in checker.images:
        assert img["src"].startswith("data:image/png;base64,") and img["alt"]
        assert png_size(base64.b64decode(img["src"].split(",", 1)[1])) == (800, 450)
        assert (img["width"], img["height"]) == ("800", "450")
    assert "display:flex" not in html and "display:grid" not in html  # e-mail clients drop both
    assert "<style" not in html  # inline styles only: Gmail and Outlook strip or mangle <style> blocks
    lead = LEAD_VI if lang == "vi" else LEAD_EN
    assert all(phrase in html for phrase in lead)


def test_html_escapes_what_it_shows(db):
    seed(db, {"2020-09": 10, "2020-10": 12})
    db.execute("UPDATE incidents SET target = '<script>alert(1)</script>' WHERE day = '2020-10-01'")
    db.conn.commit()
    html = render.render(numbers.build(db, "2020-10", alarms=[]), "en", "html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- charts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_charts_are_real_png_and_svg_of_the_expected_size(seeded, lang):
    import xml.etree.ElementTree as ET

    from incidents.bulletin import charts

    b = numbers.build(seeded, "2020-10", alarms=[])
    made = charts.all_charts(b, lang)
    assert [c.name for c in made] == ["by_category", "ytd"]
    for chart in made:
        assert png_size(chart.png) == (800, 450) == (chart.width, chart.height)
        root = ET.fromstring(chart.svg.encode("utf-8"))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.get("viewBox") == "0 0 576 324"  # 8 x 4.5 in at 72 pt per inch
        assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 20
    # The SVG is reproducible byte for byte (fixed hash salt, no date).
    assert charts.by_category(b, lang).svg == made[0].svg


def test_chart_of_a_first_year_says_there_is_no_last_year(seeded):
    from incidents.bulletin import charts

    chart = charts.year_to_date(numbers.build(seeded, "2019-10", alarms=[]), "en")
    assert png_size(chart.png) == (800, 450)


def test_cutoff_unknown_without_ingest_runs(db):
    with db.atomic():
        store.add_incidents(db, incident_rows(month_day_counts("2020-10", {"phishing": 5})))
    b = numbers.build(db, "2020-10", alarms=[])
    assert b.cutoff is None
    assert "- Data cut-off (UTC): unknown (no ingest run recorded)\n" in render.markdown(b, "en")
    assert json.loads(render.render(b, "en", "json"))["cutoff"] is None


def test_a_month_with_many_episodes_lists_the_strongest(seeded):
    alarms = [
        FixedAlarm("total", f"2020-10-{2 * d - 1:02d}", "day", 30 + d, 20.0, 28.0, score=float(d % 7),
                   explanation=f"total: {30 + d} incidents on 2020-10-{2 * d - 1:02d}")
        for d in range(1, 13)
    ]  # fmt: skip
    b = numbers.build(seeded, "2020-10", alarms=alarms)
    assert len(b.episodes) == 12  # alarm days two days apart: twelve episodes
    assert len(b.top_spikes) == numbers.SPIKES_SHOWN == 8 and b.more_spikes == 4
    shown = {e.key for e in b.top_spikes}
    assert min(e.ratio for e in b.top_spikes) >= max(e.ratio for e in b.episodes if e.key not in shown)
    assert [e.first_day for e in b.top_spikes] == sorted(e.first_day for e in b.top_spikes)
    md = render.markdown(b, "vi")
    assert "… và 4 đợt đột biến khác (xem: incidents spikes --since 2020-10-01)." in md
    assert md.count("\n- Đột biến tổng số sự cố ngày ") == 8
    from incidents.bulletin.edition import Edition

    public = render.markdown(replace(b, edition=Edition("public")), "vi")
    assert "… và 4 đợt đột biến khác.\n" in public and "incidents spikes" not in public
    data = json.loads(render.render(b, "en", "json"))
    assert len(data["spikes"]["values"]) == 12 and len(data["spikes"]["episodes"]) == 12
    assert (
        data["spikes"]["sentences"][0]
        == "A spike in all incidents on 1 October 2020: 31 incidents, 1.6 times the expected 20.0"
    )


def test_spike_sentences_in_vietnamese_from_the_alarms_parts():
    from incidents.bulletin.render import _labels, environment, spike_text
    from incidents.spikes import Alarm

    vi = _labels(environment("vi"), "vi")
    en = _labels(environment("en"), "en")
    burst = Alarm("total", "2020-11-13", "day", 110, 45.2, 81.0, 1.9, "total: 42 incidents on 2020-11-13, ...",
                  2, 0.000222, 42, "2020-11-12", "2019-01-01")  # fmt: skip
    assert spike_text(burst, vi, "vi") == (
        "Tổng: 42 sự cố ngày 13/11/2020, 110 sự cố trong 2 ngày gần nhất, dự kiến 45, ngưỡng trên 81 "
        "(99,978%), tổng 2 ngày cao nhất kể từ 12/11/2020"
    )
    first = Alarm("phishing", "2020-11-01", "month", 1250, 412.0, 520.0, 7.1, "phishing: 1250 incidents in 2020-11, ...",
                  1, 0.001, 1250, None, "2019-01")  # fmt: skip
    assert spike_text(first, vi, "vi") == (
        "Lừa đảo: 1.250 sự cố trong tháng 11/2020, dự kiến 412, ngưỡng trên 520 (99,9%), "
        "cao nhất từ khi có số liệu (tháng 1/2019)"
    )
    assert spike_text(first, en, "en") == first.explanation  # the detector's own sentence is English
