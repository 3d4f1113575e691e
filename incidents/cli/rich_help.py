"""Typer's help pages without the parts of rich this app never uses (`incidents --help` start-up)."""

from __future__ import annotations

import sys


class _Deferred(type):
    """A stand-in class for one not imported yet: the real one is imported at the first call or
    attribute look-up (a class, so that annotations such as `Markdown | Text` still evaluate)."""

    def __call__(cls, *args, **kwargs):
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(cls._real(), attr)

    def _real(cls):
        import importlib

        return getattr(importlib.import_module(cls.__module__), cls.__name__)


def import_rich_help() -> None:
    """Import typer.rich_utils (help pages and usage errors) without what this app never uses.

    typer.rich_utils imports `rich.markdown` (markdown-it) and `rich.traceback` (pygments, attrs) at
    its top, for `rich_markup_mode="markdown"` and pretty tracebacks: both off here, yet those imports
    were most of typer.rich_utils' cost (`--help`: 0.327 -> 0.269 s CPU at load 7, bench/startup.py).
    While typer.rich_utils is imported, those two modules are stand-ins whose `Markdown` and
    `Traceback` import the real ones on first use; the stand-ins are then removed, so any later
    `import rich.markdown` gets the real module."""
    if "typer.rich_utils" in sys.modules:
        return
    import types

    stand_ins = {}
    for module, name in (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback")):
        if module not in sys.modules:
            stand_ins[module] = types.ModuleType(module)
            setattr(stand_ins[module], name, _Deferred(name, (), {"__module__": module}))
    sys.modules.update(stand_ins)
    try:
        import typer.rich_utils  # noqa: F401
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]
