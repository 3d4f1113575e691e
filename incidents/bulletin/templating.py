"""The bulletin's Jinja2 templates: the environment and its filters, rendering with errors that name the
template and line, the labels, the lead and the recommendations.

The wording lives in Jinja2 templates (incidents/bulletin/templates/); a centre adapts it by copying
any of them into a folder and passing `templates_dir` (`--templates DIR`): a file there wins over the
packaged one of the same name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from incidents.bulletin import numfmt
from incidents.bulletin.numbers import Bulletin, BulletinError
from incidents.bulletin.wording import episode_text, md_escape, note_text, spike_text
from incidents.files import NotRegularFile, read_text, regular_problem
from incidents.taxonomy import CATEGORIES


class TemplateProblem(BulletinError):
    """A bulletin template is missing or does not render."""


def environment(lang: str, templates_dir: str | Path | None = None):
    """A Jinja2 environment for one language: number filters bound to it, user folder before the package.

    Raises UnknownLanguage for a language other than en/vi, TemplateProblem when `templates_dir` is not
    a folder."""
    import jinja2

    numfmt.check_lang(lang)
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        folder = Path(templates_dir)
        if not folder.is_dir():
            raise TemplateProblem(f"templates folder {folder} does not exist")
        try:
            os.listdir(folder)  # a folder that cannot be read would fall back to the packaged templates
        except OSError as e:
            raise TemplateProblem(f"templates folder {folder} cannot be read: {e.strerror or e}") from None
        loaders.append(_regular_loader(folder))
    loaders.append(jinja2.PackageLoader("incidents.bulletin", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        # Escape in HTML only; StrictUndefined makes a misspelt name in a centre's template an error, not a gap.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Every value a template prints: control characters as text (`\x1b`), lines kept (see finalize).
        finalize=_finalize,
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
        centre_folder=templates_dir is not None,  # labels fall back to the packaged ones (_labels)
        months_of_year=lambda n: numfmt.months_of_year(n, lang),
        category_label=lambda c: CATEGORIES[c].label_vi if lang == "vi" else CATEGORIES[c].label_en,
    )
    return env


def _finalize(value: Any) -> Any:
    """A printed value with its control characters shown as text (incidents.controls.printable_lines).

    ESC, BEL and C1 controls from a record (a sector, a target) would otherwise reach the terminal that
    shows the bulletin on stdout, or the mail reader. Markup (HTML built here) stays Markup: only the
    controls inside it are replaced, by text that needs no escaping."""
    import markupsafe

    from incidents.controls import printable_lines

    if isinstance(value, str):
        escaped = printable_lines(value)
        if escaped is value or escaped == value:
            return value
        return markupsafe.Markup(escaped) if isinstance(value, markupsafe.Markup) else escaped
    return value


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


def _regular_loader(folder: Path):
    """A FileSystemLoader over the centre's folder that refuses a template that is there but is not a
    regular file (a FIFO would block the read; jinja2 would quietly fall back to the packaged one)."""
    import jinja2

    class RegularFileLoader(jinja2.FileSystemLoader):
        def get_source(self, environment, template):
            path = Path(folder, *template.split("/"))
            if os.path.lexists(path) and (problem := regular_problem(path)):
                raise TemplateProblem(f"template {template}: {problem}")
            return super().get_source(environment, template)

    return RegularFileLoader(folder)


def check_folder(lang: str, templates_dir: str | Path | None) -> None:
    """Load every template of the centre's folder once, before any figure is computed: a template that
    is not a regular file, cannot be read or does not parse is refused at once (TemplateProblem), not
    after the month's spikes have been judged. Raises UnknownLanguage as `environment`."""
    if templates_dir is None:
        return
    env = environment(lang, templates_dir)
    folder = Path(templates_dir)
    for path in sorted(folder.glob("*.j2")):
        name = path.relative_to(folder).as_posix()
        _render(env, name, load_only=True)
    if (folder / f"labels.{lang}.j2").exists():
        _labels(
            env, lang
        )  # a labels file that sets `labels` to a list, or fails to evaluate, is refused now too


def _render(env, name: str, *, load_only: bool = False, **context: Any) -> str:
    import jinja2

    try:
        template = env.get_template(name)
        return "" if load_only else template.render(**context)
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
    package). Rendered with the bulletin's context, so it can speak of the month's figures. Raises
    TemplateProblem (naming the template and line) when it cannot be read or does not render."""
    import jinja2

    path = context["b"].edition.recommendations
    if path is None:
        text = _render(env, f"recommendations.{env.globals['lang']}.j2", **context)
    else:
        path = Path(path)
        try:
            source = read_text(path)
        except NotRegularFile as e:
            raise TemplateProblem(f"recommendations template {e}") from None
        except OSError as e:
            raise TemplateProblem(
                f"cannot read the recommendations template {path}: {e.strerror or e}"
            ) from None
        except UnicodeDecodeError as e:
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
    """The labels of `env` (the centre's labels.<lang>.j2 when its folder has one) over the packaged ones:
    a copy made before a release added a label still renders, with the new label in the packaged words."""
    own = _module_labels(env, lang)
    if not isinstance(own, dict):
        raise TemplateProblem(
            f"template labels.{lang}.j2 sets `labels` to a {type(own).__name__}, not a mapping"
        )
    if not env.globals.get("centre_folder"):
        return own
    packaged = _module_labels(environment(lang), lang)
    merged = {**packaged, **own}
    for key, value in packaged.items():  # one level down too (note_texts, sector names)
        if isinstance(value, dict) and isinstance(own.get(key), dict):
            merged[key] = {**value, **own[key]}
    return merged


def _module_labels(env, lang: str) -> dict:
    import jinja2

    name = f"labels.{lang}.j2"
    try:
        return env.get_template(name).module.labels
    except jinja2.TemplateNotFound as e:
        raise TemplateProblem(f"no template {e.name}") from None
    except jinja2.TemplateSyntaxError as e:
        # As _render does for the other templates: one line, never a traceback.
        raise TemplateProblem(
            f"template {_short(e.filename or e.name)} line {e.lineno}: {e.message}"
        ) from None
    except AttributeError:
        raise TemplateProblem(f"template {name} does not set `labels`") from None
    except BulletinError:
        raise
    except Exception as e:  # noqa: BLE001 - any error the labels' own expressions cause
        raise TemplateProblem(template_error(e, name)) from None


def lead(b: Bulletin, lang: str, templates_dir: str | Path | None = None) -> list[str]:
    """The lead paragraph(s) in the published style."""
    return _context(b, environment(lang, templates_dir))["lead"]
