"""A large file's extra disk is bounded by one batch, not by the file (issue 15 point 6).

The WAL's size is sampled every 10 ms while `incidents ingest` runs (ingest truncates it at its end).
The same file ingested in one transaction (a batch larger than the file) needs a WAL that grows with
the file (25 MB for these 30,000 rows, measured); in batches of 500 rows it stays bounded (7.5 MB:
SQLite's autocheckpoint size of 1,000 pages, one batch, and what the spike judging after the ingest
writes), whatever the file's size. A sample can only miss a peak, never invent one: the one-transaction figure is a lower bound.
bench/memory.py measures the same on 2 GB.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from incidents import store

HEADER = "id,time,category,target,sector,feed,severity,status,source_ip,description\n"
ROWS = 30_000
pytestmark = [pytest.mark.slow]


def peak_wal(tmp_path: Path, csv: Path, commit_rows: int) -> int:
    db = tmp_path / f"store-{commit_rows}.db"
    store.open_db(db).close()
    wal = Path(str(db) + "-wal")
    env = {**os.environ, "INCIDENTS_INGEST_COMMIT_ROWS": str(commit_rows)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "incidents.cli", "ingest", "--db", str(db), str(csv)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, wal.stat().st_size)
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    assert proc.returncode == 0, proc.stderr.read()
    proc.stderr.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == ROWS
    finally:
        conn.close()
    return peak


def test_wal_is_bounded_by_a_batch_not_by_the_file(tmp_path):
    csv = tmp_path / "big.csv"
    with open(csv, "w") as fh:
        fh.write(HEADER)
        fh.writelines(
            f"r{i},2020-10-{1 + i % 28:02d}T01:00:00Z,phishing,host{i}.example.vn,government,feed,high,new,"
            f"203.0.113.{i % 250},a record of the disk test number {i}\n"
            for i in range(ROWS)
        )
    whole = peak_wal(tmp_path, csv, 10**9)
    batched = peak_wal(tmp_path, csv, 500)
    print(
        f"\nWAL peak: {whole / 1e6:.1f} MB in one transaction, {batched / 1e6:.1f} MB in batches of 500 rows"
    )
    assert whole > csv.stat().st_size  # the file's rows, indexes and raw JSON: more than the file
    assert batched < whole / 2
