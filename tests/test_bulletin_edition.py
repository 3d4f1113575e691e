"""The bulletin as issued: editions, TLP, the [bulletin] configuration, template errors, escaping, charts."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.bulletin import numbers, render
from incidents.bulletin.edition import Edition, EditionError, load_settings
from incidents.cli import app
from tests.test_bulletin import PUBLISHED_CSV, seed, seeded_store

runner = CliRunner()


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    return seeded_store(tmp_path_factory.mktemp("edition") / "incidents.db")


def invoke(*args, **kw):
    return runner.invoke(app, [str(a) for a in args], **kw)


def test_tlp_defaults_and_spelling():
    assert Edition("public").tlp_label == "TLP:CLEAR" and Edition("internal").tlp_label == "TLP:AMBER"
    assert Edition("public", tlp="amber+strict").tlp_label == "TLP:AMBER+STRICT"
    assert Edition("internal", tlp="red").tlp_colour == "#FF2B2B"
    assert not Edition("public").names_targets and Edition("public", name_targets=True).names_targets
    with pytest.raises(EditionError):
        Edition("secret")


def test_public_and_internal_json(store_file):
    r = invoke(
        "bulletin", "--month", "2020-10", "--format", "json", "--issued", "2020-11-05", "--db", store_file
    )
    data = json.loads(r.stdout)
    assert (data["edition"], data["tlp"], data["issued"]) == ("public", "TLP:CLEAR", "2020-11-05")
    assert "top_targets" not in data and "published" not in data and "cutoff" not in data
    r = invoke(
        "bulletin", "--month", "2020-10", "--format", "json", "--edition", "internal", "--db", store_file
    )
    data = json.loads(r.stdout)
    assert data["tlp"] == "TLP:AMBER" and data["top_targets"]["values"] and data["cutoff"]
    r = invoke(
        "bulletin",
        "--month",
        "2020-10",
        "--format",
        "json",
        "--name-targets",
        "--tlp",
        "green",
        "--db",
        store_file,
    )
    data = json.loads(r.stdout)
    assert data["tlp"] == "TLP:GREEN" and data["top_targets"]["values"]


def test_public_html_names_no_victim(store_file):
    db = store.open_db(store_file)
    b = numbers.build(db, "2020-10", alarms=[], edition=Edition("public", issued="2020-11-05"))
    db.close()
    html = render.html(b, "en")
    assert b.top_targets[0][0] not in html and "TLP:CLEAR" in html and "#FFFFFF" in html
    assert "--format" not in html and "Data cut-off" not in html


def test_issuer_contact_and_recommendations_from_the_config(store_file, tmp_path):
    (tmp_path / "advice.md.j2").write_text(
        "- Patch {{ category_label('deface') }} targets: {{ r.categories.deface.count | num }} this month.\n",
        encoding="utf-8",
    )
    config = tmp_path / "incidents.toml"
    config.write_text(
        '[bulletin]\nissuer = "VNCERT/CC"\ncontact = "VNCERT <ir@example.vn>"\n'
        'url = "https://example.vn/bulletins"\nrecommendations = "advice.md.j2"\n',
        encoding="utf-8",
    )
    r = invoke("bulletin", "--month", "2020-10", "--lang", "en", "--config", config, "--db", store_file)
    assert r.exit_code == 0, r.stderr
    assert "Issued by: VNCERT/CC · Contact: VNCERT &lt;ir@example.vn&gt;" in r.stdout
    assert "## Recommendations\n\n- Patch Deface targets: 203 this month.\n" in r.stdout
    assert "More information: https://example.vn/bulletins" in r.stdout
    r = invoke("bulletin", "--month", "2020-10", "--format", "html", "--config", config, "--db", store_file)
    assert "<li>Patch Thay đổi giao diện targets: 203 this month.</li>" in r.stdout
    settings = load_settings(config)
    assert settings.recommendations == tmp_path / "advice.md.j2"


def test_a_broken_config_is_one_line(store_file, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[bulletin\nissuer = 1\n", encoding="utf-8")
    r = invoke("bulletin", "--month", "2020-10", "--config", bad, "--db", store_file)
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and len(r.stderr.splitlines()) == 1
    r = invoke("bulletin", "--month", "2020-10", "--config", tmp_path / "none.toml", "--db", store_file)
    assert r.exit_code == 1 and r.stderr.startswith("Error: ")


@pytest.mark.parametrize(
    "name, source, where",
    [
        ("lead.en.j2", "In {{ b.month | month }}\n{{ r.total.cuont | num }}\n", "lead.en.j2 line 2"),
        ("lead.en.j2", "{{ r.total.count }}\n\n{{ r.total.cuont | signed }}\n", "lead.en.j2 line 3"),
        ("lead.en.j2", "{{ 'many' | num }}\n", "lead.en.j2 line 1"),
        ("lead.en.j2", "{{ r.total.count / 0 }}\n", "lead.en.j2 line 1"),
        ("lead.en.j2", "{% include 'nothere.j2' %}\n", "nothere.j2"),
        ("bulletin.md.j2", "# x\n{{ lead[0] }}\n{{ labels.nosuch.deeper }}\n", "bulletin.md.j2 line 3"),
        ("recommendations.en.j2", "- a\n- {{ b.nosuch | num }}\n", "recommendations.en.j2 line 2"),
        (
            "labels.en.j2",
            "{% set labels = 5 %}\n",
            "template labels.en.j2",
        ),  # a partial one: packaged words fill it
    ],
)
def test_template_errors_of_every_kind_are_one_line(store_file, tmp_path, name, source, where):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / name).write_text(source, encoding="utf-8")
    r = invoke("bulletin", "--month", "2020-10", "--lang", "en", "--templates", folder, "--db", store_file)
    assert r.exit_code == 1, r.stdout
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("Error: "), r.stderr
    assert where in r.stderr and "Traceback" not in r.stderr


def test_markdown_escapes_record_values(shared_dir, tmp_path):
    db = tmp_path / "h.db"
    invoke("ingest", shared_dir / "cases/hostile/33-csv-html-crlf-formula-fields.csv", "--db", db)
    r = invoke("bulletin", "--month", "2020-10", "--edition", "internal", "--lang", "en", "--db", db)
    assert r.exit_code == 0, r.stderr
    md = r.stdout
    assert "<script>" not in md and "<img" not in md and "<b>" not in md
    tables = [line for line in md.splitlines() if line.startswith("| ")]
    for line in tables:
        # Every row of a table has as many unescaped cell separators as its header.
        assert len(re.findall(r"(?<!\\)\|", line)) in (3, 8), line
    assert '| "&gt;&lt;img src=x onerror=alert(1)&gt; | 30 |' in md
    assert "| +cmd\\|' /c calc'!a0 | 30 |" in md


def test_published_check_exit_3_with_check(tmp_path):
    db_path = tmp_path / "p.db"
    db = store.open_db(db_path)
    seed(db)
    db.close()
    csv_file = tmp_path / "published.csv"
    csv_file.write_text(PUBLISHED_CSV, encoding="utf-8")
    assert invoke("published", "import", csv_file, "--db", db_path).exit_code == 0
    r = invoke("published", "check", "--db", db_path)
    assert r.exit_code == 0 and "differs" in r.stdout
    r = invoke("published", "check", "--check", "--db", db_path, "--plain")
    assert r.exit_code == 3 and "┃" not in r.stdout and "differs" in r.stdout
    r = invoke("published", "check", "--check", "--json", "--db", db_path)
    assert r.exit_code == 3 and json.loads(r.stdout)


def test_svg_charts_keep_their_text(store_file):
    from incidents.bulletin import charts

    db = store.open_db(store_file)
    b = numbers.build(db, "2020-10", alarms=[])
    db.close()
    for chart in charts.all_charts(b, "vi"):
        assert "<text" in chart.svg and '<g id="text_' in chart.svg or "<text" in chart.svg
        assert "tháng" in chart.svg.lower() or "2020" in chart.svg  # words an editor can change
        assert 'id="DejaVuSans-' not in chart.svg  # no glyph outlines standing in for the text


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_lead_and_recommendations_name_the_configured_issuer(store_file, tmp_path, lang):
    config = tmp_path / "incidents.toml"
    config.write_text('[bulletin]\nissuer = "VNCERT/CC"\n', encoding="utf-8")
    r = invoke("bulletin", "--month", "2020-10", "--lang", lang, "--config", config, "--db", store_file)
    assert r.exit_code == 0, r.stderr
    assert "NCSC" not in r.stdout
    lead = (
        "In October 2020, VNCERT/CC recorded"
        if lang == "en"
        else "Trong tháng 10/2020, VNCERT/CC đã ghi nhận"
    )
    assert lead in r.stdout
    advice = "Report incidents to VNCERT/CC" if lang == "en" else "Thông báo sự cố cho VNCERT/CC"
    assert advice in r.stdout
    r = invoke("bulletin", "--month", "2020-10", "--lang", lang, "--db", store_file)
    assert "NCSC" in r.stdout  # no issuer configured: the default wording


def test_public_json_carries_no_provenance_and_no_raw_alarms(store_file):
    args = ("bulletin", "--month", "2020-10", "--lang", "en", "--format", "json", "--db", store_file)
    public = invoke(*args)
    assert public.exit_code == 0, public.stderr
    assert "provenance" not in public.stdout and "SELECT" not in public.stdout
    data = json.loads(public.stdout)
    assert data["figures"]["total"]["count"] > 0  # {value, provenance} pairs became their values
    assert "values" not in data["spikes"]
    assert all("alarms" not in ep for ep in data["spikes"]["episodes"] or [])
    internal = json.loads(invoke(*args, "--edition", "internal").stdout)
    assert "provenance" in internal["figures"]["total"]["count"]
    assert "SELECT" in internal["figures"]["total"]["count"]["provenance"]["sql"]
    assert "values" in internal["spikes"]


def test_vietnamese_dates_are_dd_mm_yyyy_and_public_has_no_freshness_note(store_file):
    from incidents.bulletin import numfmt

    assert numfmt.day_label("2026-11-30", "vi") == "30/11/2026"
    assert numfmt.day_label("2026-11-30", "en") == "30 November 2026"
    args = ("bulletin", "--month", "2020-10", "--lang", "vi", "--issued", "2026-11-30", "--db", store_file)
    for fmt in ("md", "html"):
        internal = invoke(*args, "--format", fmt, "--edition", "internal")
        assert internal.exit_code == 0, internal.stderr
        assert "Ngày phát hành: 30/11/2026" in internal.stdout
        assert not re.search(r"Ngày phát hành: \d{4}-", internal.stdout)
        assert not re.search(r"Sự cố gần nhất trong kho dữ liệu: \d{4}-", internal.stdout)
        public = invoke(*args, "--format", fmt, "--edition", "public")
        assert "Số liệu mới có đến ngày" not in public.stdout
        assert "Sự cố gần nhất trong kho dữ liệu" not in public.stdout
    data = json.loads(invoke(*args, "--format", "json").stdout)
    assert "data_span" not in data and all(n["code"] != "incomplete" for n in data["notes"])


def test_list_since_after_until_is_a_usage_error(store_file):
    r = invoke("list", "--since", "2020-10-31", "--until", "2020-10-01", "--db", store_file)
    assert r.exit_code == 2, r.output
    assert "after --until" in r.output
