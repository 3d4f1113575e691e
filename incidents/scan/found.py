"""The incidents a scan found: spilled to the scratch database as the rules find them, then written to
the store in batches.

Memory stays bounded by one batch (INCIDENT_BATCH episodes) however many incidents a file gives: the
rows wait in a table of the scan's scratch database (a temporary database on disk, see events.connect),
and the store's write transaction, one per file as before (a file is all in or all out), copies them
over a batch at a time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from incidents.scan.engine import Episode

FEED = "scan"
STATUS = "new"
# Episodes turned into incident rows at a time, and rows copied to the store at a time.
INCIDENT_BATCH = 2_000
_COLUMNS = 16  # store.INCIDENT_COLUMNS
_EVIDENCE = "line, host, dest_ip, source_ip, message, http_hostname, client_ip"


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items (the last one shorter)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def create_table(conn: sqlite3.Connection) -> None:
    """The `found` table of the scratch database: an incident row (run_id still None) and its rule id."""
    columns = ", ".join(f"c{k}" for k in range(_COLUMNS))
    conn.execute(f"CREATE TABLE found ({columns}, rule_id)")  # no types: values come back as stored


def spill(conn: sqlite3.Connection, episodes: Iterable[Episode], path: Path, fmt: str, zone: ZoneInfo) -> int:
    """Turn `episodes` (one rule's, in the engine's order) into incident rows in the `found` table, a batch
    at a time; returns how many."""
    marks = ", ".join("?" * (_COLUMNS + 1))
    count = 0
    for chunk in batched(episodes, INCIDENT_BATCH):
        evidence = _evidence(conn, chunk)
        conn.executemany(
            f"INSERT INTO found VALUES ({marks})",
            [incident_row(conn, e, path, fmt, zone, evidence) + (e.rule.id,) for e in chunk],
        )
        count += len(chunk)
    return count


def write(db, conn: sqlite3.Connection, run_id: int, new_per_rule: Counter) -> tuple[int, int]:
    """Copy the `found` rows to the store's incidents under `run_id`, INCIDENT_BATCH at a time, inside the
    caller's transaction. Counts in `new_per_rule` the rows new to the store (an id found twice in the file
    counts once). Returns (rows, new)."""
    from incidents import store

    rows_written = new = 0
    cursor = conn.execute("SELECT * FROM found ORDER BY rowid")
    while chunk := cursor.fetchmany(INCIDENT_BATCH):
        rows = [row[: _COLUMNS - 2] + (run_id, row[_COLUMNS - 1]) for row in chunk]
        # New are the ids stored now and not before (once each).
        ids = [row[0] for row in rows]
        before = _stored_ids(db, ids)
        store.add_incidents(db, rows)
        fresh = _stored_ids(db, ids) - before
        for row in chunk:
            if row[0] in fresh:
                fresh.discard(row[0])
                new_per_rule[row[-1]] += 1
                new += 1
        rows_written += len(rows)
    return rows_written, new


def incident_id(rule_id: str, source: str, start: float) -> str:
    """sha1 of rule id | source | episode start (UTC seconds): the same episode always has the same id."""
    return hashlib.sha1(f"{rule_id}|{source}|{int(start)}".encode()).hexdigest()


def _is_ip(value) -> bool:
    try:
        ipaddress.ip_address(str(value))
        return True
    except ValueError:
        return False


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evidence(conn, episodes: list[Episode]) -> dict[int, tuple]:
    """rowid -> evidence columns of every sampled event, in batches of one query."""
    rowids = sorted({r for e in episodes for r in e.sample})
    found: dict[int, tuple] = {}
    for i in range(0, len(rowids), 500):
        chunk = rowids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT rowid, {_EVIDENCE} FROM events WHERE rowid IN ({marks})", chunk):
            found[row[0]] = row[1:]
    return found


def _stored_ids(db, ids: list[str]) -> set[str]:
    known: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        known.update(r[0] for r in db.execute(f"SELECT id FROM incidents WHERE id IN ({marks})", chunk))
    return known


def incident_row(
    conn, episode: Episode, path: Path, fmt: str, zone: ZoneInfo, evidence_rows: dict | None = None
) -> tuple:
    """The incident tuple (store.INCIDENT_COLUMNS order, run_id still None) of one episode."""
    rule = episode.rule
    if evidence_rows is None:
        evidence_rows = _evidence(conn, [episode])
    evidence = [evidence_rows[r] for r in sorted(episode.sample) if r in evidence_rows]
    first = evidence[0] if evidence else (None,) * 7
    source = first[3] if "source_ip" not in rule.group_by else episode.group[rule.group_by.index("source_ip")]
    if rule.kind == "event":
        source = episode.group[0]
    group = ", ".join(f"{g}={v}" for g, v in zip(rule.group_by, episode.group))
    # The attacked system: the syslog host, the web site (virtual host), the alert's destination — or,
    # for malware, the infected client (eve's flow client) — and for DNS look-ups the client.
    if fmt == "suricata":
        target = (first[6] or first[3]) if rule.category == "malware" or "dns" in rule.readers else first[2]
    else:
        target = {"auth": first[1], "web": first[5], "dns": first[3]}.get(fmt)
    target_kind = None if not target else ("ip" if _is_ip(target) else "domain")
    start, end = _utc(episode.start), _utc(episode.end)
    what = f"{episode.events} matching events"
    if rule.kind != "event":
        what += f", up to {episode.metric} ({rule.threshold})"
    description = f"{rule.title}: {what} from {group or 'one source'}, {start} to {end} ({path.name})"
    raw = {
        "rule_id": rule.id,
        "rule": rule.title,
        "rule_file": rule.file.name,
        "log_file": str(path),
        "format": fmt,
        "group": dict(zip(rule.group_by, episode.group)),
        "first_seen": start,
        "last_seen": end,
        "events": episode.events,
        "metric": episode.metric,
        "lines": [episode.first_line, episode.last_line],
        "evidence": [{"line": e[0], "text": (e[4] or "")[:500]} for e in evidence],
    }
    return (
        incident_id(rule.id, str(source), episode.start), start,
        datetime.fromtimestamp(episode.start, zone).date().isoformat(), rule.category, rule.taxonomy, rule.type,
        target, target_kind, source if source and _is_ip(source) else None, None, FEED, rule.level, STATUS,
        description, None, json.dumps(raw, ensure_ascii=False),
    )  # fmt: skip
