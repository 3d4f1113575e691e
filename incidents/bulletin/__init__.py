"""The monthly bulletin: the month's figures in the published style, with charts and the provenance of each number.

`bulletin_text` gives one document (for stdout); `write_bulletin` writes it with its chart files into a
folder. Both go through numbers.build (figures from incidents.stats) and render (Jinja2 templates).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from incidents.bulletin.edition import (
    EDITIONS,
    TLP_LEVELS,
    BulletinSettings,
    Edition,
    EditionError,
    load_settings,
)
from incidents.bulletin.numbers import Bulletin, BulletinError, NoData, build
from incidents.bulletin.numfmt import LANGS, UnknownLanguage
from incidents.bulletin.render import FORMATS, TemplateProblem
from incidents.bulletin.templating import check_folder

if TYPE_CHECKING:  # sqlite_utils imports pandas (~1 s): the TUI reads numfmt without it
    import sqlite_utils

__all__ = [
    "EDITIONS", "FORMATS", "LANGS", "TLP_LEVELS", "Bulletin", "BulletinError", "BulletinSettings", "Edition",
    "EditionError", "NoData", "TemplateProblem", "UnknownLanguage",
    "build", "bulletin_text", "load_settings", "write_bulletin",
]  # fmt: skip


def bulletin_text(
    db: sqlite_utils.Database,
    month: str,
    *,
    lang: str = "vi",
    fmt: str = "md",
    templates_dir: str | Path | None = None,
    edition: Edition | None = None,
    **mail,
) -> str:
    """The bulletin of `month` as one text: Markdown (charts left out), self-contained HTML, JSON or eml.

    `edition`: public or internal, TLP, issue date, issuer (default: internal, TLP:AMBER, today).
    `mail`: sender, recipients for an eml's headers; progress(done, total) for the spikes' judging."""
    from incidents.bulletin import render

    progress = mail.pop("progress", None)
    check_folder(lang, templates_dir)  # a broken template is refused before the figures are computed
    b = build(db, month, edition=edition, progress=progress)
    return render.render(b, lang, fmt, templates_dir=templates_dir, **mail)


def write_bulletin(
    db: sqlite_utils.Database,
    month: str,
    out_dir: str | Path,
    *,
    lang: str = "vi",
    fmt: str = "md",
    templates_dir: str | Path | None = None,
    edition: Edition | None = None,
    **mail,
) -> list[Path]:
    """Write the bulletin of `month` (and, for md, its PNG and SVG charts) into `out_dir`."""
    from incidents.bulletin import render

    progress = mail.pop("progress", None)
    check_folder(lang, templates_dir)  # a broken template is refused before the figures are computed
    b = build(db, month, edition=edition, progress=progress)
    return render.write(b, out_dir, lang, fmt, templates_dir=templates_dir, **mail)
