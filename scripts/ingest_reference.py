"""Write the generated ingest reference (layouts, fallbacks, classification table) into README.md.

Usage: uv run python scripts/ingest_reference.py
"""

from __future__ import annotations

from pathlib import Path

from incidents.ingest.reference import replace_in

README = Path(__file__).resolve().parent.parent / "README.md"

if __name__ == "__main__":
    README.write_text(replace_in(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the ingest reference into {README}")
