"""The README's ingest reference is the code's: regenerate with `uv run python scripts/ingest_reference.py`."""

from __future__ import annotations

from incidents.ingest.reference import END, START, markdown
from tests.conftest import ROOT


def test_readme_ingest_reference_is_generated_from_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme
    block = readme[readme.index(START) : readme.index(END) + len(END)]
    assert block == markdown(), "README drifted: run `uv run python scripts/ingest_reference.py`"
