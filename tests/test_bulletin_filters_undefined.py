"""Every custom filter given a misspelt name raises the name's own UndefinedError, never a TypeError
from inside the filter ("unsupported format string passed to StrictUndefined.__format__")."""

import jinja2
import pytest

from incidents.bulletin import render


class Figures:
    count = 3


FILTERS = ["num", "pct", "signed", "change", "month", "short_month", "day", "note", "spike", "episode", "md"]


def test_the_list_covers_every_custom_filter():
    env = render.environment("en")
    default = jinja2.Environment().filters
    assert {name for name in env.filters if name not in default} == set(FILTERS)


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("name", FILTERS)
def test_filter_names_the_undefined_attribute(name, lang):
    env = render.environment(lang)
    args = "(labels)" if name in ("note", "spike", "episode") else ""
    template = env.from_string(f"{{{{ t.cuont | {name}{args} }}}}")
    with pytest.raises(jinja2.UndefinedError) as raised:
        template.render(t=Figures(), labels={})
    assert str(raised.value) == f"'{Figures.__module__}.Figures object' has no attribute 'cuont'"


def test_filter_names_an_undefined_variable_and_markdown_filter_too():
    env = render.environment("en")
    with pytest.raises(jinja2.UndefinedError, match="'nosuch' is undefined"):
        env.from_string("{{ nosuch | num }}").render()
    env.filters["markdown"] = render.strict_filter(lambda text: text)
    with pytest.raises(jinja2.UndefinedError, match="has no attribute 'cuont'"):
        env.from_string("{{ t.cuont | markdown }}").render(t=Figures())


def test_defined_values_still_format():
    env = render.environment("en")
    assert env.from_string("{{ t.count | num }} {{ 12.5 | signed }}").render(t=Figures()) == "3 +12.50%"
