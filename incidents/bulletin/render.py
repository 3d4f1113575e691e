"""Write a bulletin as Markdown (charts beside it), one self-contained HTML file, or JSON with provenance.

The wording lives in Jinja2 templates (incidents/bulletin/templates/); a centre adapts it by copying
any of them into a folder and passing `templates_dir` (`--templates DIR`): a file there wins over the
packaged one of the same name.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from incidents import __version__
from incidents.bulletin import numfmt
from incidents.bulletin.numbers import Bulletin, BulletinError
from incidents.taxonomy import CATEGORIES

FORMATS = ("md", "html", "json", "eml")


class TemplateProblem(BulletinError):
    """A bulletin template is missing or does not render."""


def environment(lang: str, templates_dir: str | Path | None = None):
    """A Jinja2 environment for one language: number filters bound to it, user folder before the package."""
    import jinja2

    numfmt.check_lang(lang)
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        folder = Path(templates_dir)
        if not folder.is_dir():
            raise TemplateProblem(f"templates folder {folder} does not exist")
        loaders.append(jinja2.FileSystemLoader(folder))
    loaders.append(jinja2.PackageLoader("incidents.bulletin", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        # Escape in HTML only; StrictUndefined makes a misspelt name in a centre's template an error, not a gap.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=lambda n: numfmt.integer(n, lang),
        pct=lambda x: numfmt.percent(x, lang),
        signed=lambda x: numfmt.percent(x, lang, signed=True),
        change=lambda x: numfmt.change(x, lang),
        month=lambda m: numfmt.month_label(m, lang),
        short_month=lambda m: numfmt.short_month(m, lang),
        day=lambda d: numfmt.day_label(d, lang),
        note=lambda n, labels: note_text(n, labels, lang),
        spike=lambda a, labels: spike_text(a, labels, lang),
        episode=lambda item, labels: episode_text(item, labels, lang),
        md=md_escape,
    )
    custom = ("num", "pct", "signed", "change", "month", "short_month", "day", "note", "spike", "episode")
    for name in (*custom, "md"):
        env.filters[name] = strict_filter(env.filters[name])
    env.globals.update(
        lang=lang,
        months_of_year=lambda n: numfmt.months_of_year(n, lang),
        category_label=lambda c: CATEGORIES[c].label_vi if lang == "vi" else CATEGORIES[c].label_en,
    )
    return env


def strict_filter(f):
    """`f` as a filter that, given an undefined name, raises that name's own UndefinedError
    ("'... object' has no attribute 'cuont'") instead of failing inside `f` on the stand-in."""
    import jinja2

    def checked(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            if isinstance(value, jinja2.Undefined):
                value._fail_with_undefined_error()
        return f(*args, **kwargs)

    return checked


_MONTH = re.compile(r"^\d{4}-\d{2}$")
# Characters that Markdown (CommonMark, GitHub tables) would read as syntax in a value from a record:
# `|` ends a table cell, `<` `>` open HTML, `[` `]` make links and images, `*` `_` `~` `` ` `` emphasis
# and code, `\` escapes. (A value never starts a line, so `#`, `-` and `+` need no escape.)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(value: object) -> str:
    """A record's value made safe inside Markdown text and table cells: syntax characters backslash-
    escaped, `&`, `<`, `>` as entities, line breaks as `<br>` (the one tag a cell may hold)."""
    if value is None:
        return ""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def note_text(note, labels: dict, lang: str) -> str:
    """A stats note (code, params) in the bulletin's words: labels.note_texts[code], months localised.

    A code the labels do not know (a centre's older labels file) falls back to the English text.
    """
    wording = labels.get("note_texts", {}).get(note.code)
    if not wording:
        return note.text
    params = {
        k: numfmt.month_label(v, lang)
        if isinstance(v, str) and _MONTH.match(v)
        else numfmt.day_label(v, lang)
        for k, v in note.params.items()
    }
    return wording.format(**params)


def episode_text(item, labels: dict, lang: str) -> str:
    """An episode (spikes.episodes.Episode) as the bulletin's sentence in `lang`, capitalised:
    "A phishing campaign from 10 to 13 November 2020: 248 incidents, 5.1 times the expected 48.6".
    An alarm (where no episode could be formed) is worded by spike_text."""
    if not hasattr(item, "first_day"):
        return spike_text(item, labels, lang)
    from incidents.spikes.episodes import sentence

    text = sentence(item, lang)
    return text[:1].upper() + text[1:]


def spike_text(alarm, labels: dict, lang: str) -> str:
    """An alarm's sentence in the bulletin's words: labels.spike_texts, numbers and dates localised.

    The detector's own sentence (English) where the labels have no spike_texts (English, or a centre's
    older labels file) or the alarm does not carry its parts (an alarm from elsewhere).
    """
    words = labels.get("spike_texts")
    if not words or getattr(alarm, "period_count", None) is None:
        return alarm.explanation
    from incidents.spikes.explain import level_text, number

    def day(label: str) -> str:  # '2020-10-14' -> '14/10/2020', '2020-10' -> 'tháng 10/2020'
        return numfmt.month_label(label, lang) if len(label) == 7 else "/".join(reversed(label.split("-")))

    point = "," if lang == "vi" else "."

    def expected(x: float) -> str:  # the English sentence's figure (explain.number), localised
        text = number(x)
        return numfmt.integer(int(text), lang) if x >= 10 else text.replace(".", point)

    series = (
        labels.get("total", alarm.series) if alarm.series == "total" else _category_label(alarm.series, lang)
    )
    unit = words["units"][alarm.freq]
    span = alarm.span or 1
    since_key = ("since" if alarm.since else "since_start") + ("_span" if span > 1 else "")
    level = level_text(alarm.level).rstrip("%")
    return words["span" if span > 1 else "one"].format(
        series=series,
        count=numfmt.integer(alarm.period_count, lang),
        total=numfmt.integer(alarm.count, lang),
        when=words[alarm.freq].format(date=day(alarm.date[:7] if alarm.freq == "month" else alarm.date)),
        span=span,
        unit=unit,
        expected=expected(alarm.expected),
        upper=numfmt.integer(int(alarm.upper), lang),
        level=level.replace(".", point),
        since=words[since_key].format(date=day(alarm.since or alarm.records_from), span=span, unit=unit),
    )


def _category_label(name: str, lang: str) -> str:
    category = CATEGORIES.get(name)
    if category is None:
        return name
    return category.label_vi if lang == "vi" else category.label_en


def _render(env, name: str, **context: Any) -> str:
    import jinja2

    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as e:
        raise TemplateProblem(f"no template {e.name}") from None
    except jinja2.TemplateSyntaxError as e:
        raise TemplateProblem(
            f"template {_short(e.filename or e.name)} line {e.lineno}: {e.message}"
        ) from None
    except BulletinError:
        raise
    except Exception as e:  # noqa: BLE001 - any error a template causes (a filter given an undefined name...)
        raise TemplateProblem(template_error(e, name)) from None


def _short(filename: str | None) -> str:
    return Path(filename).name if filename else "?"


def template_error(error: BaseException, name: str) -> str:
    """'template lead.en.j2 line 12: ...': the innermost template frame of the traceback names both
    (Jinja2 rewrites tracebacks so that template frames carry the template's file and line)."""
    import traceback

    where = f"template {name}"
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(".j2") or frame.filename == "<template>":
            where = f"template {_short(frame.filename)} line {frame.lineno}"
            break
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    if not isinstance(error, (ValueError, LookupError)) and type(error).__name__ not in ("UndefinedError",):
        message = f"{type(error).__name__}: {message}"
    return f"{where}: {' '.join(str(message).split())}"


def _context(b: Bulletin, env) -> dict:
    labels = _labels(env, env.globals["lang"])
    if b.edition.issuer:  # the lead and the recommendations name the configured issuer, not the NCSC
        labels = {**labels, "org": b.edition.issuer}
    context = {"b": b, "r": b.report, "labels": labels, "e": b.edition}
    lead_text = _render(env, f"lead.{env.globals['lang']}.j2", **context)
    # A paragraph per blank-line-separated block, its whitespace collapsed: templates stay readable.
    context["lead"] = [" ".join(p.split()) for p in re.split(r"\n\s*\n", lead_text) if p.strip()]
    context["recommendations"] = recommendations(env, context)
    return context


def recommendations(env, context: dict) -> str:
    """The recommendations section as Markdown: the centre's template named in the configuration
    (`[bulletin] recommendations`), else `recommendations.<lang>.j2` (--templates folder, then the
    package). Rendered with the bulletin's context, so it can speak of the month's figures."""
    import jinja2

    path = context["b"].edition.recommendations
    if path is None:
        text = _render(env, f"recommendations.{env.globals['lang']}.j2", **context)
    else:
        path = Path(path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise TemplateProblem(f"cannot read the recommendations template {path}: {e}") from None
        try:
            template = env.from_string(source)
            template.filename = str(path)
        except jinja2.TemplateSyntaxError as e:
            raise TemplateProblem(f"template {path.name} line {e.lineno}: {e.message}") from None
        try:
            text = template.render(**context)
        except Exception as e:  # noqa: BLE001 - see _render
            raise TemplateProblem(template_error(e, path.name).replace("<template>", path.name)) from None
    return text.strip()


def markdown_to_html(text: str) -> str:
    """CommonMark to HTML for the recommendations (raw HTML in the template is shown as text)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(text)


def labels(lang: str, templates_dir: str | Path | None = None) -> dict:
    """The bulletin's words in `lang` (labels.<lang>.j2: note and spike sentences, sector names); the
    TUI shows the same words. Raises TemplateProblem."""
    return _labels(environment(lang, templates_dir), lang)


def _labels(env, lang: str) -> dict:
    import jinja2

    try:
        return env.get_template(f"labels.{lang}.j2").module.labels
    except jinja2.TemplateNotFound as e:
        raise TemplateProblem(f"no template {e.name}") from None
    except AttributeError:
        raise TemplateProblem(f"template labels.{lang}.j2 does not set `labels`") from None


def lead(b: Bulletin, lang: str, templates_dir: str | Path | None = None) -> list[str]:
    """The lead paragraph(s) in the published style."""
    return _context(b, environment(lang, templates_dir))["lead"]


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


def as_json(b: Bulletin, lang: str, *, templates_dir=None) -> dict:
    """Every number of the bulletin with its provenance, the cut-off, and the lead paragraph in `lang`."""
    p = b.provenance
    e = b.edition
    data = {
        "bulletin": "incidents monthly bulletin",
        "generator": f"incidents {__version__}",
        "edition": e.name,
        "tlp": e.tlp_label,
        "issued": e.issue_date,
        "issuer": e.issuer,
        "contact": e.contact,
        "month": b.month,
        "lang": lang,
        "zone": b.zone,
        "cutoff": b.cutoff,
        "cutoff_provenance": p["cutoff"],
        "data_span": {"first_day": b.first_day, "last_day": b.last_day},
        "lead": lead(b, lang, templates_dir),
        "figures": {"total": p["total"], "categories": p["categories"]},
        "monthly": {"values": b.monthly, "provenance": p["monthly"]},
        "year_to_date_series": {
            "this_year": {"first_month": b.ytd_from, "values": b.ytd_this_year, "provenance": p["ytd_this_year"]},
            "last_year": {"first_month": f"{b.year - 1}-01", "values": b.ytd_last_year, "provenance": p["ytd_last_year"]},
        },
        "top_sectors": {"values": [{"sector": v, "count": n} for v, n in b.top_sectors], "provenance": p["top_sectors"]},
        "top_targets": {"values": [{"target": v, "count": n} for v, n in b.top_targets], "provenance": p["top_targets"]},
        "spikes": {
            "values": None if b.spikes is None else [_alarm_dict(a) for a in b.spikes],
            "episodes": None if b.episodes is None else [_episode_dict(e) for e in b.episodes],
            "sentences": None if b.episodes is None else [episode_text(e, {}, lang) for e in b.episodes],
            "note": b.spikes_note,
            "provenance": p["spikes"],
        },
        "published": [c.as_dict() for c in b.published],
        "notes": [dataclasses.asdict(n) for n in b.notes],
    }  # fmt: skip
    if e.public:
        # The public edition carries no internal check (cut-off, published-vs-computed) and no victim name.
        for key in ("cutoff", "cutoff_provenance", "published", "data_span"):
            del data[key]
        data["notes"] = [n for n in data["notes"] if n["code"] in ("no_last_year", "ytd_from")]
        if not e.names_targets:
            del data["top_targets"]
        # nor the SQL provenance of each number and the detector's raw alarms (internal edition only)
        del data["spikes"]["values"]
        for ep in data["spikes"]["episodes"] or []:
            del ep["alarms"]
        data = _without_provenance(data)
    return data


def _without_provenance(x: Any) -> Any:
    """`x` with every "provenance" key removed at any depth; a {value, provenance} pair becomes its value."""
    if isinstance(x, dict):
        if set(x) == {"value", "provenance"}:
            return _without_provenance(x["value"])
        return {k: _without_provenance(v) for k, v in x.items() if k != "provenance"}
    if isinstance(x, list):
        return [_without_provenance(v) for v in x]
    return x


def _episode_dict(e: Any) -> dict:
    skip = ("alarms", "folded")
    d = {f.name: getattr(e, f.name) for f in dataclasses.fields(e) if f.name not in skip}
    d["key"] = e.key
    d["days"] = list(e.days)
    d["alarms"] = [_alarm_dict(a) for a in e.alarms]
    d["folded"] = [f.key for f in e.folded]
    return d


def _alarm_dict(alarm: Any) -> dict:
    return dataclasses.asdict(alarm) if dataclasses.is_dataclass(alarm) else dict(vars(alarm))


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
    """The bulletin in one format as bytes (eml is a MIME message, the others UTF-8 text)."""
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
    """Write the bulletin into `out_dir` (created if missing); returns the files written, document first."""
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
