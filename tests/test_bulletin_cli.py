"""`incidents bulletin` and template overrides, through typer's CliRunner on a real store file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.bulletin import numbers, render
from incidents.cli import app
from tests.test_bulletin import ALARMS, LEAD_EN, LEAD_VI, png_size, seeded_store

runner = CliRunner()


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    return seeded_store(tmp_path_factory.mktemp("cli") / "incidents.db")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_markdown_to_stdout(store_file):
    result = invoke("bulletin", "--month", "2020-10", "--db", store_file)
    assert result.exit_code == 0, result.output
    assert all(phrase in result.stdout for phrase in LEAD_VI)
    assert "--out" not in result.stdout  # the public edition (the default) holds no CLI hint
    result = invoke("bulletin", "--month", "2020-10", "--edition", "internal", "--db", store_file)
    assert "Biểu đồ được ghi kèm khi dùng --out THƯ_MỤC." in result.stdout


def test_english_json_to_stdout(store_file):
    result = invoke("bulletin", "--month", "2020-10", "--lang", "en", "--format", "json", "--db", store_file)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["figures"]["total"]["count"] == 582  # public: the value without its SQL provenance
    assert all(phrase in data["lead"][0] for phrase in LEAD_EN)


@pytest.mark.parametrize(
    ("fmt", "files"),
    [
        ("md", ["bulletin-2020-10.en.md", "bulletin-2020-10-by-category.en.png", "bulletin-2020-10-by-category.en.svg",
                "bulletin-2020-10-ytd.en.png", "bulletin-2020-10-ytd.en.svg"]),
        ("html", ["bulletin-2020-10.en.html"]),
    ],
)  # fmt: skip
def test_out_folder_gets_the_document_and_its_charts(store_file, tmp_path, fmt, files):
    out = tmp_path / "out" / "nested"
    result = invoke(
        "bulletin", "--month", "2020-10", "--lang", "en", "--format", fmt, "--out", out, "--db", store_file
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(out / f) for f in files]
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    for name in files:
        if name.endswith(".png"):
            assert png_size((out / name).read_bytes()) == (800, 450)
    if fmt == "md":
        text = (out / files[0]).read_text(encoding="utf-8")
        # The Markdown links to the chart files written beside it.
        assert (
            "![Incidents by category, 13 months to October 2020](bulletin-2020-10-by-category.en.png)" in text
        )


def test_month_before_the_data_exits_1_with_one_line(store_file):
    result = invoke("bulletin", "--month", "2018-05", "--db", store_file)
    assert result.exit_code == 1
    assert result.stderr == "Error: no bulletin for 2018-05: 2018-05 is before the first data (2019-01)\n"
    assert result.stdout == ""


def test_bad_month_is_a_usage_error(store_file):
    result = invoke("bulletin", "--month", "2020-13", "--db", store_file)
    assert result.exit_code == 2
    assert "'2020-13' is not a month YYYY-MM" in result.stderr


def test_unknown_language_and_format_are_usage_errors(store_file):
    result = invoke("bulletin", "--month", "2020-10", "--lang", "fr", "--db", store_file)
    assert result.exit_code == 2 and "'fr' is not one of 'vi', 'en'" in result.stderr
    result = invoke("bulletin", "--month", "2020-10", "--format", "pdf", "--db", store_file)
    assert result.exit_code == 2 and "'pdf' is not one of 'md', 'html'," in result.stderr


def test_missing_store_exits_1(tmp_path):
    result = invoke("bulletin", "--month", "2020-10", "--db", tmp_path / "none.db")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: no database at {tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()


def test_out_that_is_a_file_exits_1(store_file, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("bulletin", "--month", "2020-10", "--out", blocker, "--db", store_file)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot create {blocker}")


# --- templates overridden from a folder -------------------------------------------------------------


def test_a_centre_can_override_the_lead_and_the_labels(store_file, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "lead.en.j2").write_text(
        "{{ labels.org }} handled {{ r.total.count | num }} incidents in {{ b.month | month }} "
        "({{ r.total.month_over_month | change }} on {{ r.periods.previous_month | month }}).\n",
        encoding="utf-8",
    )
    packaged = (render.Path(render.__file__).parent / "templates" / "labels.en.j2").read_text(
        encoding="utf-8"
    )
    (folder / "labels.en.j2").write_text(packaged.replace("the National Cyber Security Monitoring Center (NCSC)",
                                                          "CERT Example"), encoding="utf-8")  # fmt: skip
    result = invoke(
        "bulletin", "--month", "2020-10", "--lang", "en", "--templates", folder, "--db", store_file
    )
    assert result.exit_code == 0, result.output
    assert (
        "CERT Example handled 582 incidents in October 2020 (up 11.07% on September 2020)." in result.stdout
    )
    # Templates not in the folder still come from the package.
    assert "## Incidents by category" in result.stdout


def test_a_broken_template_is_one_clear_error(store_file, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "lead.vi.j2").write_text("Trong {{ b.month | month }\n", encoding="utf-8")
    result = invoke("bulletin", "--month", "2020-10", "--templates", folder, "--db", store_file)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: template ") and "lead.vi.j2 line 1:" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_misspelt_name_in_a_template_is_an_error_not_a_gap(store_file, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "lead.en.j2").write_text("{{ r.total.cuont }}\n", encoding="utf-8")
    result = invoke(
        "bulletin", "--month", "2020-10", "--lang", "en", "--templates", folder, "--db", store_file
    )
    assert result.exit_code == 1
    assert (
        result.stderr
        == "Error: template lead.en.j2 line 1: 'incidents.stats.Figures object' has no attribute 'cuont'\n"
    )


def test_missing_templates_folder(store_file, tmp_path):
    result = invoke("bulletin", "--month", "2020-10", "--templates", tmp_path / "nope", "--db", store_file)
    assert result.exit_code == 1
    assert result.stderr == f"Error: templates folder {tmp_path / 'nope'} does not exist\n"


def test_html_override_keeps_numbers_escaped(store_file, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "bulletin.html.j2").write_text("<p>{{ lead[0] }}</p><p>{{ '<b>' }}</p>\n", encoding="utf-8")
    db = store.open_db(store_file)
    html = render.html(numbers.build(db, "2020-10", alarms=ALARMS), "vi", templates_dir=folder)
    db.close()
    assert html.startswith("<p>Trong tháng 10/2020") and "<p>&lt;b&gt;</p>" in html


def test_every_command_of_mine_has_help():
    for args in (["bulletin"], ["published", "import"], ["published", "check"]):
        result = invoke(*args, "--help")
        assert result.exit_code == 0 and "Example: incidents" in result.stdout, args
    result = invoke("published", "--help")
    assert result.exit_code == 0 and "import" in result.stdout and "check" in result.stdout


def test_json_to_a_folder_is_one_file(store_file, tmp_path):
    result = invoke(
        "bulletin", "--month", "2020-10", "--format", "json", "--out", tmp_path, "--db", store_file
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'bulletin-2020-10.vi.json'}\n"
    data = json.loads((tmp_path / "bulletin-2020-10.vi.json").read_text(encoding="utf-8"))
    assert data["lang"] == "vi" and data["lead"][0].startswith("Trong tháng 10/2020")


@pytest.mark.parametrize("parser_policy", ["compat32", "default"])
def test_eml_is_an_email_whose_html_shows_its_inline_charts(store_file, tmp_path, parser_policy):
    """RFC 5322 headers, short plain Content-IDs, inline images; the same under both of Python's parsers
    (compat32 is how many tools and some clients read mail)."""
    import email
    from email import policy
    from email.header import decode_header, make_header
    from email.utils import parsedate_to_datetime

    result = invoke(
        "bulletin", "--month", "2020-10", "--format", "eml", "--out", tmp_path, "--db", store_file,
        "--to", "soc@example.vn", "--to", "cert@example.vn",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    path = tmp_path / "bulletin-2020-10.vi.eml"
    assert result.stdout == f"{path}\n"
    raw = path.read_bytes()
    assert b"=?" not in b"".join(line for line in raw.split(b"\n") if line.lower().startswith(b"content-id"))
    chosen = policy.compat32 if parser_policy == "compat32" else policy.default
    message = email.message_from_bytes(raw, policy=chosen)
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "[TLP:CLEAR] Bản tin tình hình sự cố an toàn thông tin mạng — tháng 10/2020"
    assert parsedate_to_datetime(str(message["Date"])).tzinfo is not None
    assert "@" in str(message["From"]) and str(message["To"]) == "soc@example.vn, cert@example.vn"
    assert str(message["Message-ID"]).startswith("<") and str(message["Message-ID"]).endswith(">")
    assert message.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p for p in message.walk()}
    plain = parts["text/plain"].get_payload(decode=True).decode("utf-8")
    html = parts["text/html"].get_payload(decode=True).decode("utf-8")
    assert all(phrase in plain for phrase in LEAD_VI) and all(phrase in html for phrase in LEAD_VI)
    assert len([p for p in message.walk() if p.get_content_type() == "multipart/related"]) == 1
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 2
    for image in images:
        cid = str(image["Content-ID"]).strip()
        assert cid.startswith("<") and cid.endswith(">") and cid.isascii() and len(cid) < 70
        assert f'src="cid:{cid[1:-1]}"' in html  # the HTML references each inline part (RFC 2392)
        assert str(image["Content-Disposition"]).startswith("inline")
        assert png_size(image.get_payload(decode=True)) == (800, 450)
    assert "data:image" not in html  # Gmail and Outlook do not show data: URIs in mail


def test_the_public_edition_of_a_month_cut_short_warns_its_writer(tmp_path):
    """Probe finding: the public edition (no data-freshness note, issue 13) of a month whose data stops
    early read as a fall; the writer now hears it on stderr, the text stays as published."""
    from incidents import store
    from tests.test_bulletin import seed

    db = store.open_db(tmp_path / "cut.db")
    seed(db, {"2020-10": 300, "2020-11": 300})
    db.execute("DELETE FROM incidents WHERE day > '2020-11-10'")
    db.close()
    public = invoke("bulletin", "--month", "2020-11", "--lang", "en", "--db", tmp_path / "cut.db")
    assert public.exit_code == 0, public.output
    note = "Note: the data runs to 2020-11-10: 2020-11 may be incomplete; the public edition does not say so"
    assert public.stderr.splitlines() == [note + " (the internal one does)"]
    assert "may be incomplete" not in public.stdout
    internal = invoke("bulletin", "--month", "2020-11", "--lang", "en", "--edition", "internal", "--db",
                      tmp_path / "cut.db")  # fmt: skip
    assert internal.exit_code == 0 and "November 2020 may be incomplete" in internal.stdout
    assert "Note:" not in internal.stderr
    whole = invoke("bulletin", "--month", "2020-10", "--lang", "en", "--db", tmp_path / "cut.db")
    assert whole.exit_code == 0 and "Note:" not in whole.stderr
