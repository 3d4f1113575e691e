"""The HTML bulletin fits a 420-px screen: every data table scrolls inside its own box, the layout
tables are fixed to the screen width, long words wrap and nothing has a fixed width over 420 px."""

import re
from pathlib import Path

TEMPLATE = Path(__file__).parent.parent / "incidents" / "bulletin" / "templates" / "bulletin.html.j2"


def test_every_data_table_sits_in_a_scroll_box():
    text = TEMPLATE.read_text(encoding="utf-8")
    tables = [m.start() for m in re.finditer(r"<table(?![^>]*role=\"presentation\")", text)]
    assert tables
    for at in tables:
        before = text[:at].rstrip()
        assert before.endswith('<div class="scroll" style="overflow-x:auto;max-width:100%;">'), at


def test_no_fixed_width_over_420_px_and_words_wrap():
    text = TEMPLATE.read_text(encoding="utf-8")
    for m in re.finditer(r"(?<![-\w])width[:=]\"?(\d+)(px)?", text):
        assert int(m.group(1)) <= 420, m.group(0)
    for m in re.finditer(r"<table role=\"presentation\"[^>]*>", text):
        assert "table-layout:fixed" in m.group(0)
    assert "overflow-wrap:anywhere" in text
