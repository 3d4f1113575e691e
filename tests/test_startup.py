"""Start-up: the everyday commands import only what they need (issue 14 point 5).

`import sqlite_utils` pulls in pandas and numpy (~0.5 s CPU), typer >= 0.29 pydantic (~0.2 s), and the
spike, scan and bulletin libraries bring scikit-learn, pySigma, matplotlib and jinja2. `stats`,
`list` and `--help` must import none of them. The CPU figures are measured by bench/startup.py, never
timed here.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = {
    "pandas", "numpy", "scipy", "sklearn", "matplotlib", "sigma", "textual", "sqlite_utils", "pydantic",
    "jinja2", "holidays", "yaml", "pyarrow",
}  # fmt: skip

PROBE = """
import sys
sys.argv = ["incidents", *sys.argv[1:]]
from incidents.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
print(code, " ".join(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def imported(args: list[str], env: dict | None = None) -> tuple[int, set[str]]:
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    code, modules = r.stderr.strip().splitlines()[-1].split(" ", 1)
    return int(code or 0), set(modules.split())


@pytest.mark.parametrize(
    "args",
    [["--help"], ["stats", "--month", "2020-10"], ["list"], ["list", "--target", "host1"]],
    ids=lambda a: " ".join(a),
)
def test_everyday_commands_import_nothing_heavy(small_store, args):
    code, modules = imported([*args, "--db", str(small_store)] if args[0] != "--help" else args)
    assert code == 0
    assert "incidents" in modules and "sqlite3" in modules  # the probe saw the command run
    assert modules & HEAVY == set()


def test_help_imports_neither_markdown_nor_pygments():
    """typer.rich_utils imports rich.markdown and rich.traceback (markdown-it, pygments, attrs) for
    features this app does not use; `incidents --help` gets stand-ins (cli/rich_help.import_rich_help)."""
    code, modules = imported(["--help"])
    assert code == 0 and "typer" in modules
    assert modules & {"markdown_it", "pygments", "attr"} == set()


def test_the_stand_ins_give_the_real_classes_later():
    code = (
        "import sys; sys.argv = ['incidents', '--help']\n"
        "from incidents.cli.rich_help import import_rich_help\n"
        "import_rich_help()\n"
        "import typer.rich_utils as r\n"
        "from rich.markdown import Markdown\n"
        "from rich.traceback import Traceback\n"
        "print(type(r.Markdown('*x*')) is Markdown, r.Traceback.from_exception == Traceback.from_exception)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split() == ["True", "True"]


def test_the_probe_sees_a_heavy_import(tmp_path):
    """The check above can fail: `rules list` with an empty rule cache converts the Sigma rules, so it
    imports pySigma and YAML."""
    import os

    code, modules = imported(["rules", "list"], env={**os.environ, "INCIDENTS_CACHE_DIR": str(tmp_path)})
    assert code == 0 and {"sigma", "yaml"} <= modules
