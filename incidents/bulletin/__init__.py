"""The monthly bulletin: the month's figures in the published style, with charts and the provenance of each number.

`bulletin_text` gives one document (for stdout); `write_bulletin` writes it with its chart files into a
folder. Both go through numbers.build (figures from incidents.stats) and render (Jinja2 templates).
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from incidents.bulletin.numbers import Bulletin, BulletinError, NoData, build
from incidents.bulletin.numfmt import LANGS, UnknownLanguage
from incidents.bulletin.render import FORMATS, TemplateProblem

__all__ = [
    "FORMATS", "LANGS", "Bulletin", "BulletinError", "NoData", "TemplateProblem", "UnknownLanguage",
    "build", "bulletin_text", "write_bulletin",
]  # fmt: skip


def bulletin_text(
    db: sqlite_utils.Database,
    month: str,
    *,
    lang: str = "vi",
    fmt: str = "md",
    templates_dir: str | Path | None = None,
) -> str:
    """The bulletin of `month` as one text: Markdown (charts left out), self-contained HTML, or JSON."""
    from incidents.bulletin import render

    return render.render(build(db, month), lang, fmt, templates_dir=templates_dir)


def write_bulletin(
    db: sqlite_utils.Database,
    month: str,
    out_dir: str | Path,
    *,
    lang: str = "vi",
    fmt: str = "md",
    templates_dir: str | Path | None = None,
) -> list[Path]:
    """Write the bulletin of `month` (and, for md and json, its PNG and SVG charts) into `out_dir`."""
    from incidents.bulletin import render

    return render.write(build(db, month), out_dir, lang, fmt, templates_dir=templates_dir)
