"""The same store gives the same spike verdicts under any LANG, TZ and thread count (issue 15, point 8).

Before holidays were named in a fixed language, Tết was found by its English name, which the
`holidays` package gives only under an English locale: under vi_VN.UTF-8 and C it disappeared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from incidents import store
from incidents.taxonomy import rsit

SCRIPT = """
import sys
from incidents import store
from incidents.spikes.calendar import holiday_days
from incidents.spikes.kept import judge_new_days
from datetime import date
db = store.open_db(sys.argv[1])
judge_new_days(db)
kinds = holiday_days(date(2019, 10, 1), date(2020, 6, 30))
print({k: len(v) for k, v in kinds.items()})
for row in db.execute("SELECT series, day, count, expected, upper, level, alarm, span FROM spike_days ORDER BY 1, 2"):
    print(row)
for row in db.execute("SELECT day, score, features FROM spike_mix_flags ORDER BY 1"):
    print(row)
"""

ENVIRONMENTS = [
    {"LANG": "en_US.UTF-8", "TZ": "Asia/Ho_Chi_Minh"},
    {"LANG": "vi_VN.UTF-8", "LC_ALL": "vi_VN.UTF-8", "TZ": "Asia/Ho_Chi_Minh"},
    {"LANG": "C", "LC_ALL": "C", "TZ": "UTC"},
    {"LANG": "C.UTF-8", "TZ": "America/Los_Angeles", "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"},
]


def build(path: Path) -> None:
    """Nine months of phishing and malware around Tết 2020 (23-29 January), with reporting dips on it."""
    rng = np.random.default_rng(8)
    first = date(2019, 10, 1)
    rows = []
    for k in range(270):
        day = first + timedelta(days=k)
        dip = 0.3 if date(2020, 1, 23) <= day <= date(2020, 1, 29) else 1.0
        for category, mean in (("phishing", 12), ("malware", 5)):
            taxonomy, kind = rsit(category)
            for j in range(int(rng.poisson(mean * dip * (0.6 if day.weekday() >= 5 else 1)))):
                rows.append(
                    (f"{category}{day}{j}", f"{day}T02:00:00Z", str(day), category, taxonomy, kind,
                     f"t{j % 25}.vn", "domain", f"10.1.{j % 9}.1", None, "f", None, None, None, None, "{}")
                )  # fmt: skip
    db = store.open_db(path)
    with db.atomic():
        store.add_incidents(db, rows)
    db.close()


@pytest.mark.slow
def test_verdicts_are_the_same_under_any_locale_zone_and_thread_count(tmp_path):
    base = tmp_path / "base.db"
    build(base)
    outputs = []
    for k, env in enumerate(ENVIRONMENTS):
        path = tmp_path / f"run{k}.db"
        path.write_bytes(base.read_bytes())
        keep = {key: value for key, value in os.environ.items() if not key.startswith(("LC_", "LANG"))}
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path)],
            env={**keep, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0].startswith("{'tet': 7,")  # Tết 2020 is found
    for env, out in zip(ENVIRONMENTS[1:], outputs[1:]):
        assert out == outputs[0], env
