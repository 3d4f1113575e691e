"""`incidents doctor` on broken states a healthy-looking store can be in: a configuration named but
absent, a damaged store (one line), a WAL much larger than the store, a full or nearly full disk (a
small tmpfs, skipped where mounting is not allowed), and files the next writer cannot write."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents import store
from incidents.cli import app
from tests.conftest import add_counts

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_default_config(tmp_path, monkeypatch):
    """No configuration named and none at the default ./incidents.toml (a fresh folder)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_CONFIG", raising=False)


def make_store(path: Path, *, alert_status: str | None = None, alert_run: bool = False) -> Path:
    db = store.open_db(path)
    add_counts(db, {("2020-10-05", "deface"): 3})
    if alert_status:
        db.execute(
            "INSERT INTO alert_outbox(key, kind, subject_key, recipient, status, created_at, payload) "
            f"VALUES ('k1', 'incident', 'x', 'desk@example.vn', '{alert_status}', '2020-10-05T00:00:00Z', '{{}}')"
        )
    if alert_run:
        db.execute(
            "INSERT INTO alert_runs(started_at, finished_at, now, outcome, queued, sent, pending, failed, held) "
            "VALUES ('2020-10-05T00:00:00Z', '2020-10-05T00:00:01Z', '2020-10-05T00:00:00Z', 'ok', 1, 1, 0, 0, 0)"
        )
    db.conn.commit()
    db.close()
    return path


def doctor(*args, env=None):
    r = runner.invoke(app, ["doctor", *args], env=env)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def checks(r) -> dict[str, dict]:
    """name -> the last check of that name (--json)."""
    return {c["name"]: c for c in json.loads(r.stdout)["checks"]}


def line(r, name: str) -> str:
    return next(x for x in r.stdout.splitlines() if x.split()[1:2] == [f"{name}:"])


# --- the configuration ------------------------------------------------------------------------------


def test_a_named_configuration_that_does_not_exist_is_a_problem(tmp_path):
    path = make_store(tmp_path / "s.db", alert_run=True)
    missing = tmp_path / "nonexist.toml"
    r = doctor("--db", str(path), "--config", str(missing))
    assert r.exit_code == 1
    got = line(r, "config")
    assert got.startswith("PROBLEM") and "does not exist" in got and "incidents config init" in got
    r = doctor("--db", str(path), "--json", env={"INCIDENTS_CONFIG": str(missing)})
    assert r.exit_code == 1 and checks(r)["config"]["level"] == "problem"


def test_no_configuration_named_is_fine_unless_the_store_has_alerts(tmp_path):
    r = doctor("--db", str(make_store(tmp_path / "plain.db")), "--json")
    assert r.exit_code == 0 and checks(r)["config"]["level"] == "ok"
    r = doctor("--db", str(make_store(tmp_path / "ran.db", alert_run=True)), "--json")
    assert r.exit_code == 0 and checks(r)["config"]["level"] == "warning"
    assert "alert job has no configuration" in checks(r)["config"]["message"]
    r = doctor("--db", str(make_store(tmp_path / "pending.db", alert_status="pending")))
    assert r.exit_code == 1
    got = line(r, "config")
    assert got.startswith("PROBLEM") and "1 pending alert(s)" in got and "--config" in got


# --- a damaged store --------------------------------------------------------------------------------


def damaged_store(path: Path) -> Path:
    """A store of 400 incidents with a few cell pointers of one leaf page of `incidents` overwritten: it
    opens, and integrity_check answers with several messages joined by newlines in one row."""
    db = store.open_db(path)
    add_counts(db, {("2020-10-05", "deface"): 400})
    db.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=DELETE")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    leaves = [
        r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = 'incidents' AND pagetype = 'leaf'")
    ]
    conn.close()
    with open(path, "r+b") as fh:
        fh.seek((leaves[len(leaves) // 2] - 1) * page + 8 + 6)
        fh.write(b"\xff\xf0" * 4)
    return path


def test_a_damaged_store_is_one_line_with_the_count_of_other_problems(tmp_path):
    path = damaged_store(tmp_path / "s.db")
    r = doctor("--db", str(path))
    assert r.exit_code == 1
    problems = [x for x in r.stdout.splitlines() if x.startswith("PROBLEM")]
    # Every line of the report is a check (or the verdict): no message spills over several lines.
    assert all(x.split()[0] in ("ok", "warning", "PROBLEM") for x in r.stdout.splitlines()[:-1]), r.stdout
    assert len(r.stdout.splitlines()) < 12, r.stdout
    assert [x for x in problems if "integrity: The store is damaged: On tree page" in x], r.stdout
    r = doctor("--db", str(path), "--json")
    report = json.loads(r.stdout)
    assert all("\n" not in c["message"] for c in report["checks"])
    integrity = checks(r)["integrity"]
    assert integrity["level"] == "problem" and integrity["detail"]["others"] >= 2
    assert integrity["detail"]["first"].startswith("On tree page")
    assert f"and {integrity['detail']['others']:,} other problem(s)" in integrity["message"]


# --- the write-ahead log ----------------------------------------------------------------------------


def test_a_wal_much_larger_than_the_store_is_a_problem_with_its_fix(tmp_path):
    path = make_store(tmp_path / "s.db")
    writer = sqlite3.connect(path)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")  # as when a reader kept the WAL from being reset
        writer.execute("CREATE TABLE padding(b BLOB)")
        for _ in range(70):
            writer.execute("INSERT INTO padding VALUES (zeroblob(1000000))")
            writer.commit()
        writer.execute("DELETE FROM padding")
        writer.commit()
        wal = Path(f"{path}-wal").stat().st_size
        assert wal > 64_000_000 > path.stat().st_size
        r = doctor("--db", str(path), "--json")
        assert r.exit_code == 1
        check = checks(r)["wal"]
        assert check["level"] == "problem" and check["detail"]["wal_bytes"] == wal
        assert f"sqlite3 {path} 'PRAGMA wal_checkpoint(TRUNCATE)'" in check["message"]
        # The fix given works: the WAL is emptied and doctor is content.
        writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        r = doctor("--db", str(path), "--json")
        assert r.exit_code == 0 and checks(r)["wal"]["level"] == "ok", r.stdout
    finally:
        writer.close()


# --- the disk ---------------------------------------------------------------------------------------


def fill(folder: Path) -> None:
    """Write a filler file until the file system holding `folder` is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.mark.resources
def test_a_nearly_full_disk_is_a_problem_naming_the_free_bytes(small_mount):
    path = make_store(small_mount / "s.db")
    r = doctor("--db", str(path), "--json")
    assert r.exit_code == 1  # a 3 MB file system is below the 100 MB one batch needs
    disk = checks(r)["disk"]
    assert disk["level"] == "problem" and disk["detail"]["mount"] == str(small_mount.resolve())
    assert f"{disk['detail']['free_bytes']:,} bytes" in disk["message"]
    assert "below the 100.0 MB" in disk["message"]


@pytest.mark.resources
def test_a_full_disk_says_the_disk_is_full(small_mount):
    path = make_store(small_mount / "s.db")  # cleanly closed: no -wal, no -shm
    fill(small_mount)
    r = doctor("--db", str(path))
    assert r.exit_code == 1
    assert "disk I/O error" not in r.stdout, r.stdout
    got = line(r, "disk")
    assert got.startswith("PROBLEM") and "The disk holding the store is full" in got and "bytes free" in got
    store_line = line(r, "store")
    assert store_line.startswith("ok") or "the disk is full" in store_line, r.stdout
    assert "disk I/O error" not in doctor("--db", str(path), "--json").stdout
    (small_mount / "filler").unlink()
    r = doctor("--db", str(path), "--json")
    assert (
        checks(r)["store"]["level"] == "ok" and checks(r)["disk"]["level"] == "problem"
    )  # 3 MB: still small


# --- files the next writer cannot write -------------------------------------------------------------


def test_wal_and_shm_left_read_only_by_a_reader_are_a_problem(tmp_path):
    """The probe's case: a reader opened the store while it was mode 0444, so SQLite made its -wal and
    -shm files 0444 too; the store is writable again, but the next writer fails on them."""
    path = make_store(tmp_path / "s.db")
    path.chmod(0o444)
    reader = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    reader.execute("SELECT count(*) FROM incidents").fetchall()
    reader.close()
    shm = Path(f"{path}-shm")
    if not shm.exists():
        pytest.skip("this SQLite did not leave a -shm file behind a read-only reader")
    path.chmod(0o644)
    shm.chmod(0o444)  # as SQLite made it (the store's mode at the time)
    if os.geteuid() == 0:  # root writes through permissions: give the files to the user who runs the writer
        for f in (path, shm, Path(f"{path}-wal")):
            if f.exists():
                os.chown(f, 65534, 65534)
    r = doctor("--db", str(path))
    assert r.exit_code == 1
    bad = [x for x in r.stdout.splitlines() if x.startswith("PROBLEM  files:") and f"{shm} is" in x]
    assert bad and "mode 0444" in bad[0] and f"chmod 0644 {shm}" in bad[0] and f"rm {shm}" in bad[0], r.stdout
    for side in (shm, Path(f"{path}-wal")):  # the fix given
        if side.exists():
            side.chmod(0o644)
    r = doctor("--db", str(path), "--json")
    assert r.exit_code == 0 and checks(r)["files"]["level"] == "ok", r.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_a_shm_owned_by_another_user_is_a_problem(tmp_path):
    """A reader run as root beside a store that runs as nobody: the -shm is root's, 0644."""
    path = make_store(tmp_path / "s.db")
    os.chown(path, 65534, 65534)
    shm = Path(f"{path}-shm")
    shm.write_bytes(b"")
    shm.chmod(0o644)
    r = doctor("--db", str(path), "--json")
    assert r.exit_code == 1
    files = [c for c in json.loads(r.stdout)["checks"] if c["name"] == "files"]
    assert (
        files[0]["level"] == "problem" and "the store's owner nobody cannot write it" in files[0]["message"]
    )
    assert f"chown nobody {shm}" in files[0]["message"]
    os.chown(shm, 65534, 65534)
    r = doctor("--db", str(path), "--json")
    assert r.exit_code == 0 and checks(r)["files"]["level"] == "ok", r.stdout
    journal = Path(f"{path}-journal")  # a rollback journal left by root's write to a DELETE-mode copy
    journal.write_bytes(b"\0" * 512)
    r = doctor("--db", str(path), "--json")
    assert r.exit_code == 1 and checks(r)["files"]["level"] == "problem"
    assert "never remove it" in checks(r)["files"]["message"]


def test_a_store_this_user_cannot_write_is_a_problem(tmp_path):
    path = make_store(tmp_path / "s.db")
    path.chmod(0o444)
    r = doctor("--db", str(path), "--json")
    files = checks(r)["files"]
    if os.geteuid() == 0:  # root writes through permissions: the owner-less write bit is a warning
        assert files["level"] == "warning" and f"chmod u+w {path}" in files["message"]
    else:
        assert r.exit_code == 1 and files["level"] == "problem" and f"chmod u+w {path}" in files["message"]


@pytest.mark.resources
def test_a_store_on_a_read_only_mount_is_a_problem(small_mount):
    path = make_store(small_mount / "s.db")
    r = subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=False, capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only here ({r.stderr.decode().strip()})")
    r = doctor("--db", str(path), "--json")
    assert r.exit_code == 1
    files = checks(r)["files"]
    assert (
        files["level"] == "problem"
        and "read-only mount" in files["message"]
        and "remount,rw" in files["message"]
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads through permissions")
def test_a_store_this_user_cannot_read_says_who_can(tmp_path):
    path = make_store(tmp_path / "s.db")
    path.chmod(0o200)
    try:
        r = doctor("--db", str(path))
    finally:
        path.chmod(0o644)
    assert r.exit_code == 1
    got = line(r, "store")
    assert got.startswith("PROBLEM") and "cannot read" in got and f"chmod o+r {path}" in got


def test_an_immutable_store_is_named_as_such_not_fixed_by_chmod(tmp_path):
    """Probe finding: on a `chattr +i` store doctor advised `chmod u+w`, which its mode already allowed."""
    import shutil

    path = make_store(tmp_path / "store.db")
    if (
        not shutil.which("chattr")
        or subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode
    ):
        pytest.skip("chattr +i is not possible here (not root, or the file system has no such attribute)")
    try:
        r = runner.invoke(app, ["doctor", "--db", str(path)])
        files = [line for line in r.stdout.splitlines() if line.split()[1:2] == ["files:"]]
        assert r.exit_code == 1 and any("immutable" in line and "chattr -i" in line for line in files), (
            r.stdout
        )
        assert not any("chmod u+w" in line for line in files), files
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


@pytest.mark.resources
def test_a_read_only_bind_mount_is_named_by_its_own_mount_point(tmp_path):
    """A bind mount has the device of the file system it comes from, so os.path.ismount cannot see it: the
    message must name the bind mount's point, never tell the operator to remount '/' read-write."""
    source, point = tmp_path / "source", tmp_path / "ro"
    source.mkdir()
    point.mkdir()
    path = make_store(source / "s.db")
    r = subprocess.run(["mount", "--bind", str(source), str(point)], check=False, capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({r.stderr.decode().strip()})")
    try:
        r = subprocess.run(["mount", "-o", "remount,bind,ro", str(point)], check=False, capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"cannot remount the bind mount read-only here ({r.stderr.decode().strip()})")
        r = doctor("--db", str(point / path.name), "--json")
        assert r.exit_code == 1
        files = checks(r)["files"]
        assert files["level"] == "problem", files
        assert f"read-only mount ({point.resolve()})" in files["message"]
        assert f"`mount -o remount,rw {point.resolve()}`" in files["message"]
    finally:
        subprocess.run(["umount", str(point)], check=False, capture_output=True)
