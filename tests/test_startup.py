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


def test_the_probe_sees_a_heavy_import(tmp_path):
    """The check above can fail: `rules list` with an empty rule cache converts the Sigma rules, so it
    imports pySigma and YAML."""
    import os

    code, modules = imported(["rules", "list"], env={**os.environ, "INCIDENTS_CACHE_DIR": str(tmp_path)})
    assert code == 0 and {"sigma", "yaml"} <= modules
