"""The same store gives the same figures, spikes and bulletin on every machine (issue 15 point 8).

The demo store is copied once per environment (so `spikes` judges afresh each time, nothing kept from
another run) and the commands' outputs are compared byte for byte with a reference run under
LANG=C.UTF-8, TZ=UTC and one thread: under the users' own locale vi_VN.UTF-8, the C locale, and a time
zone far from Vietnam (America/Los_Angeles, whose date is a day behind for part of the day) with four
BLAS / OpenMP threads. `holidays` translates names by locale, so a lookup by name would drop Tết under vi_VN.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

REFERENCE = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "OMP_NUM_THREADS": "1",
             "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
VARIANTS = {
    "vi_VN.UTF-8": {"LANG": "vi_VN.UTF-8", "LC_ALL": "vi_VN.UTF-8"},
    "C": {"LANG": "C", "LC_ALL": "C"},
    "TZ=America/Los_Angeles, 4 threads": {
        "TZ": "America/Los_Angeles", "OMP_NUM_THREADS": "4", "OPENBLAS_NUM_THREADS": "4", "MKL_NUM_THREADS": "4",
    },
}  # fmt: skip
# The spikes command's own verdicts under these environments are the spikes branch's test; the
# bulletin carries the month's spikes, so a locale-dependent verdict shows here too.
COMMANDS = {
    "stats": ["stats", "--month", "2020-11", "--json"],
    "bulletin en": ["bulletin", "--month", "2020-11", "--lang", "en", "--format", "json"],
    "bulletin vi": ["bulletin", "--month", "2020-11", "--lang", "vi", "--format", "md"],
}


def has_locale(name: str) -> bool:
    out = subprocess.run(["locale", "-a"], check=False, capture_output=True, text=True).stdout.lower()
    return name.lower().replace("utf-8", "utf8") in out


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("locale") / "demo.db"
    r = subprocess.run(
        [sys.executable, "-m", "incidents.cli", "demo", "--db", str(path)],
        check=False, capture_output=True, text=True, timeout=600, env={**os.environ, **REFERENCE}, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    return path


def outputs(store: Path, env_extra: dict, folder: Path) -> dict[str, tuple[int, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update(REFERENCE)
    env.update(env_extra)
    env.pop("PYTHONIOENCODING", None)
    results = {}
    for name, args in COMMANDS.items():
        copy = folder / f"{name.replace(' ', '-')}.db"
        shutil.copy(store, copy)  # a fresh copy: spikes judges every day itself
        r = subprocess.run(
            [sys.executable, "-m", "incidents.cli", *args, "--db", str(copy)],
            check=False, capture_output=True, timeout=600, env=env, cwd=ROOT,
        )  # fmt: skip
        assert b"Traceback" not in r.stderr, r.stderr.decode("utf-8", "replace")[-2000:]
        results[name] = (r.returncode, r.stdout.decode("utf-8"))
    return results


@pytest.fixture(scope="module")
def reference(demo_store, tmp_path_factory):
    return outputs(demo_store, {}, tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_same_figures_spikes_and_bulletin_everywhere(demo_store, reference, tmp_path, variant):
    env = VARIANTS[variant]
    if "LANG" in env and env["LANG"] != "C" and not has_locale(env["LANG"]):
        pytest.skip(f"locale {env['LANG']} is not installed (localedef -i vi_VN -f UTF-8 vi_VN.UTF-8)")
    got = outputs(demo_store, env, tmp_path)
    assert reference["stats"][0] == 0 and '"count"' in reference["stats"][1]
    for name in COMMANDS:
        assert got[name] == reference[name], f"{name} differs under {variant}"
