"""The bulletin's two charts (13 months by category; year to date vs last year) as PNG and SVG.

Readable in print and by colour-blind readers: the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal
Design", jfly.uni-koeln.de/color) plus a hatch per category and a line style and marker per year, so
the charts still read in greyscale. Drawn on a bare matplotlib Figure with the Agg canvas: no pyplot
state, no display needed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from incidents.bulletin import numfmt
from incidents.bulletin.numbers import Bulletin
from incidents.taxonomy import CATEGORIES

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100  # 800 x 450 px: fits an e-mail column and an A4 page
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
HATCHES = ("//", "..", "xx", "\\\\", "++", "oo", "--")

_TITLES = {
    "by_category": {
        "vi": "Sự cố theo loại, {n} tháng đến {month}",
        "en": "Incidents by category, {n} months to {month}",
    },
    "ytd": {"vi": "Lũy kế từ đầu năm {year} so với năm {last}", "en": "Year to date {year} vs {last}"},
}
_AXIS = {"vi": "Số sự cố", "en": "Incidents"}


@dataclass
class Chart:
    """One chart in both formats, with the text that stands in for it."""

    name: str  # 'by_category' or 'ytd'
    title: str
    png: bytes
    svg: str
    width: int
    height: int

    def filename(self, month: str, lang: str, ext: str) -> str:
        """The chart's file name: 'bulletin-2020-10-by-category.vi.png' for month, lang and ext (png, svg)."""
        return f"bulletin-{month}-{self.name.replace('_', '-')}.{lang}.{ext}"


def category_label(name: str, lang: str) -> str:
    """The category's label in `lang` ('vi' or 'en'); KeyError for a name not in the taxonomy."""
    c = CATEGORIES[name]
    return c.label_vi if lang == "vi" else c.label_en


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _thousands(lang: str):
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    return FuncFormatter(lambda x, _pos: numfmt.integer(round(x), lang)), MaxNLocator(integer=True)


def _export(fig, name: str, title: str) -> Chart:
    import matplotlib

    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
    # A fixed hash salt and no date make the SVG byte-identical between runs (diffable, cacheable).
    # svg.fonttype "none": the SVG keeps its text as <text> elements, so an editor can change a title or
    # a label (and a screen reader or a search can read it); the viewer supplies the font.
    with matplotlib.rc_context({"svg.hashsalt": "incidents-bulletin", "svg.fonttype": "none"}):
        svg = io.StringIO()
        fig.savefig(svg, format="svg", metadata={"Date": None})
    return Chart(name=name, title=title, png=png.getvalue(), svg=svg.getvalue(),
                 width=int(WIDTH_IN * DPI), height=int(HEIGHT_IN * DPI))  # fmt: skip


def by_category(b: Bulletin, lang: str) -> Chart:
    """Stacked bars: incidents per month and category over the chart months."""
    fig, ax = _figure()
    months = b.chart_months
    x = range(len(months))
    bottom = [0] * len(months)
    for i, name in enumerate(b.categories):
        values = [b.monthly[m].get(name, 0) for m in months]
        ax.bar(x, values, bottom=bottom, label=category_label(name, lang), color=OKABE_ITO[i % len(OKABE_ITO)],
               hatch=HATCHES[i % len(HATCHES)], edgecolor="#333333", linewidth=0.6)  # fmt: skip
        bottom = [a + v for a, v in zip(bottom, values)]
    for xi, total in zip(x, bottom):
        ax.annotate(numfmt.integer(total, lang), (xi, total), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)  # fmt: skip
    ax.set_xticks(list(x), [numfmt.short_month(m, lang) for m in months], rotation=45, ha="right", fontsize=8)
    formatter, locator = _thousands(lang)
    ax.yaxis.set_major_formatter(formatter)
    ax.yaxis.set_major_locator(locator)
    ax.set_ylabel(_AXIS[lang])
    ax.margins(y=0.12)
    ax.spines[["top", "right"]].set_visible(False)
    # Below the plot, outside it: a legend inside would cover the tallest bars.
    fig.legend(loc="outside lower center", fontsize=8, frameon=False, ncols=min(len(b.categories), 4))
    title = _TITLES["by_category"][lang].format(n=len(months), month=numfmt.month_label(b.month, lang))
    ax.set_title(title, fontsize=11)
    return _export(fig, "by_category", title)


def year_to_date(b: Bulletin, lang: str) -> Chart:
    """Running totals from January: this year up to the month, last year over all twelve months."""
    fig, ax = _figure()
    first = int(b.ytd_from[5:7])
    this_x = list(range(first, first + len(b.ytd_this_year)))
    ax.plot(
        this_x,
        b.ytd_this_year,
        color=OKABE_ITO[4],
        marker="o",
        linestyle="-",
        linewidth=2.2,
        label=str(b.year),
    )
    ax.annotate(numfmt.integer(b.ytd_this_year[-1], lang), (this_x[-1], b.ytd_this_year[-1]),
                xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)  # fmt: skip
    if b.ytd_last_year:
        last_x = list(range(1, 13))
        ax.plot(last_x, b.ytd_last_year, color=OKABE_ITO[5], marker="s", linestyle="--", linewidth=1.8,
                label=str(b.year - 1))  # fmt: skip
        m = b.month_number
        ax.annotate(numfmt.integer(b.ytd_last_year[m - 1], lang), (m, b.ytd_last_year[m - 1]),
                    xytext=(6, -10), textcoords="offset points", va="center", fontsize=8)  # fmt: skip
    else:
        no_data = {"vi": f"không có số liệu năm {b.year - 1}", "en": f"no data for {b.year - 1}"}[lang]
        ax.text(0.98, 0.04, no_data, transform=ax.transAxes, ha="right", fontsize=8, style="italic")
    # "T1".."T12" is how Vietnamese tables abbreviate tháng 1..12.
    ticks = [
        f"T{m}" if lang == "vi" else numfmt.short_month(f"{b.year}-{m:02d}", lang)[:3] for m in range(1, 13)
    ]
    ax.set_xticks(range(1, 13), ticks, fontsize=8)
    ax.set_xlim(0.5, 12.5)
    formatter, locator = _thousands(lang)
    ax.yaxis.set_major_formatter(formatter)
    ax.yaxis.set_major_locator(locator)
    ax.set_ylabel(_AXIS[lang])
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", linewidth=0.4, color="#BBBBBB")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", fontsize=9, frameon=False)
    title = _TITLES["ytd"][lang].format(year=b.year, last=b.year - 1)
    ax.set_title(title, fontsize=11)
    return _export(fig, "ytd", title)


def all_charts(b: Bulletin, lang: str) -> list[Chart]:
    """The bulletin's charts in `lang`, in the order they appear: by category, then year to date."""
    return [by_category(b, lang), year_to_date(b, lang)]
