"""Write a bulletin as Markdown (charts beside it), one self-contained HTML file, or JSON with provenance.

The wording lives in Jinja2 templates (incidents/bulletin/templates/); a centre adapts it by copying
any of them into a folder and passing `templates_dir` (`--templates DIR`): a file there wins over the
packaged one of the same name.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from incidents.bulletin import numfmt
from incidents.bulletin.json_document import as_json
from incidents.bulletin.numbers import Bulletin, BulletinError
from incidents.bulletin.templating import (
    TemplateProblem,
    _context,
    _labels,
    _render,
    environment,
    labels,
    lead,
    markdown_to_html,
    recommendations,
    strict_filter,
    template_error,
)
from incidents.bulletin.wording import episode_text, md_escape, note_text, spike_text

# The templates (templating.py), the wording of values and alarms (wording.py) and the JSON document
# (json_document.py) live in their own modules; their public names stay importable from here.
__all__ = [
    "FORMATS",
    "TemplateProblem",
    "as_json",
    "document",
    "email_message",
    "environment",
    "episode_text",
    "html",
    "labels",
    "lead",
    "markdown",
    "markdown_to_html",
    "md_escape",
    "note_text",
    "recommendations",
    "render",
    "spike_text",
    "strict_filter",
    "template_error",
    "write",
]

FORMATS = ("md", "html", "json", "eml")


def markdown(b: Bulletin, lang: str, *, templates_dir=None, chart_files: list[dict] | None = None) -> str:
    """Markdown; `chart_files` ([{title, png, svg}] relative names) when the charts are written beside it."""
    env = environment(lang, templates_dir)
    return _render(env, "bulletin.md.j2", **_context(b, env), charts=chart_files)


def html(b: Bulletin, lang: str, *, templates_dir=None, images: list[dict] | None = None) -> str:
    """One self-contained HTML file: inline CSS, table layout (e-mail clients ignore flexbox), charts as data URIs.

    `images` ([{title, width, height, src}]) replaces the data URIs, e.g. with cid: references in an e-mail.
    """
    import markupsafe

    from incidents.bulletin import charts

    env = environment(lang, templates_dir)
    env.filters["markdown"] = strict_filter(lambda text: markupsafe.Markup(markdown_to_html(text)))
    if images is None:
        images = [
            {"title": c.title, "width": c.width, "height": c.height,
             "src": "data:image/png;base64," + base64.b64encode(c.png).decode("ascii")}
            for c in charts.all_charts(b, lang)
        ]  # fmt: skip
    return _render(env, "bulletin.html.j2", **_context(b, env), charts=images)


def email_message(
    b: Bulletin,
    lang: str,
    *,
    templates_dir=None,
    sender: str | None = None,
    recipients: list[str] | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The bulletin as an e-mail ready to send or open: Markdown and HTML alternatives, charts inline.

    RFC 5322 headers: Date, From (`sender`, else the edition's contact address), To (`recipients`, else
    the empty group "undisclosed-recipients:;"), Message-ID, and the TLP label in the Subject, as FIRST
    TLP 2.0 asks of e-mail. Gmail and Outlook do not show data: URIs in mail; they do show images carried
    in a multipart/related part with Content-Disposition inline and referenced as cid: (RFC 2392). Each
    Content-ID is short and plain ASCII so no header folding or RFC 2047 encoding can touch it (an
    encoded msg-id is invalid and does not resolve under Python's compat32 parser and in some clients).
    """
    import secrets
    from email.utils import format_datetime, make_msgid, parseaddr

    from incidents.bulletin import charts

    made = charts.all_charts(b, lang)
    token = secrets.token_hex(4)
    cids = [f"<{c.name}.{b.month}.{token}@bulletin.invalid>" for c in made]
    images = [
        {"title": c.title, "width": c.width, "height": c.height, "src": "cid:" + cid[1:-1]}
        for c, cid in zip(made, cids, strict=True)
    ]
    env = environment(lang, templates_dir)
    labels = _labels(env, lang)
    from_address = sender or _address(b.edition.contact) or "bulletin@localhost"
    message = EmailMessage()
    message["Subject"] = f"[{b.edition.tlp_label}] {labels['title']} — {numfmt.month_label(b.month, lang)}"
    message["From"] = from_address
    message["To"] = ", ".join(recipients) if recipients else "undisclosed-recipients:;"
    message["Date"] = format_datetime(now or datetime.now(UTC))
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)  # short: a folded msg-id would break parsers
    message.set_content(markdown(b, lang, templates_dir=templates_dir))
    message.add_alternative(html(b, lang, templates_dir=templates_dir, images=images), subtype="html")
    html_part = message.get_payload()[1]
    for chart, cid in zip(made, cids, strict=True):
        html_part.add_related(
            chart.png,
            "image",
            "png",
            cid=cid,
            disposition="inline",
            filename=chart.filename(b.month, lang, "png"),
        )
    return message


def _address(text: str | None) -> str | None:
    """An e-mail address found in a contact line ('CSIRT <csirt@example.vn>, +84 ...'), or None."""
    from email.utils import getaddresses

    if not text:
        return None
    for _, address in getaddresses([text]):
        if "@" in address and " " not in address:
            return address
    found = re.search(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", text)
    return found.group(0) if found else None


def render(b: Bulletin, lang: str, fmt: str, *, templates_dir=None, **mail: Any) -> str:
    """The bulletin as one text (for stdout): Markdown without chart files, HTML, JSON, or an e-mail (eml).

    `mail`: sender, recipients and now for the e-mail's headers (see email_message)."""
    return document(b, lang, fmt, templates_dir=templates_dir, **mail).decode("utf-8")


def document(
    b: Bulletin,
    lang: str,
    fmt: str,
    *,
    templates_dir=None,
    chart_files: list[dict] | None = None,
    **mail: Any,
) -> bytes:
    """The bulletin in one format (`fmt` one of FORMATS) as bytes (eml is a MIME message, the others UTF-8
    text). Raises BulletinError for another format, TemplateProblem for a template that does not render."""
    if fmt == "md":
        return markdown(b, lang, templates_dir=templates_dir, chart_files=chart_files).encode("utf-8")
    if fmt == "html":
        return html(b, lang, templates_dir=templates_dir).encode("utf-8")
    if fmt == "json":
        data = as_json(b, lang, templates_dir=templates_dir)
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "eml":
        return email_message(b, lang, templates_dir=templates_dir, **mail).as_bytes()
    raise BulletinError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def write(
    b: Bulletin, out_dir: str | Path, lang: str, fmt: str, *, templates_dir=None, **mail: Any
) -> list[Path]:
    """Write the bulletin into `out_dir` (created if missing); returns the files written, document first.

    Raises BulletinError for an unknown format or a folder or file that cannot be written."""
    from incidents.bulletin import charts

    if fmt not in FORMATS:
        raise BulletinError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BulletinError(f"cannot create {out}: {e.strerror}") from None
    written: list[Path] = []
    chart_files = None
    # Only Markdown needs chart files: HTML and eml embed them, JSON carries their data (the series).
    if fmt == "md":
        chart_files = []
        for chart in charts.all_charts(b, lang):
            png, svg = chart.filename(b.month, lang, "png"), chart.filename(b.month, lang, "svg")
            _write(out / png, chart.png)
            _write(out / svg, chart.svg.encode("utf-8"))
            written += [out / png, out / svg]
            chart_files.append(
                {"title": chart.title, "png": png, "svg": svg, "width": chart.width, "height": chart.height}
            )
    path = out / f"bulletin-{b.month}.{lang}.{fmt}"
    _write(path, document(b, lang, fmt, templates_dir=templates_dir, chart_files=chart_files, **mail))
    return [path, *written]


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        raise BulletinError(f"cannot write {path}: {e.strerror}") from None
