"""Correlation windows and episodes, checked by hand and against pysigma-backend-sqlite's own plan."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from incidents.scan import events
from incidents.scan.engine import _windows as _slide
from incidents.scan.engine import detect
from incidents.scan.rules import Rule, load_pipeline, load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"


def _windows(rule, rows) -> list:
    """The episodes of one group's rows (the engine yields them as they close)."""
    return list(_slide(rule, rows))


def rule(kind="event_count", count=10, timespan=300, op="gte", value_field=None) -> Rule:
    return Rule(
        id="t", title="t", level="high", file=Path("t.yml"), kind=kind, category="intrusion",
        taxonomy="intrusion-attempts", type="brute-force", readers=("auth",), predicate="1",
        group_by=("source_ip",), value_field=value_field, timespan=timespan, op=op, count=count,
    )  # fmt: skip


def rows(times, values=None):
    # (rowid, epoch, line, value, group)
    return [(i, t, i, (values[i] if values else None), "203.0.113.5") for i, t in enumerate(times)]


def test_a_burst_is_one_episode_not_one_per_window():
    burst = rows([i * 10 for i in range(100)])  # 100 failures in 1000 s: 91 windows qualify
    [episode] = _windows(rule(), burst)
    assert (episode.start, episode.end, episode.events, episode.metric) == (0, 990, 100, 31)


def test_quiet_longer_than_the_timespan_starts_a_new_episode():
    times = [i for i in range(10)] + [1000 + i for i in range(10)]
    assert [(e.start, e.events) for e in _windows(rule(), rows(times))] == [(0, 10), (1000, 10)]


def test_windows_close_together_are_merged():
    times = [i for i in range(10)] + [200 + i for i in range(10)]  # 200 s apart < 300 s timespan
    [episode] = _windows(rule(), rows(times))
    assert episode.events == 20 and episode.metric == 20


def test_below_the_threshold_nothing():
    assert _windows(rule(), rows([i * 40 for i in range(20)])) == []  # 8 per 5 minutes at most


def test_equal_timestamps_are_counted_together():
    # RANGE frames include every row with the current time (SQL window semantics): 10 at one second
    assert len(_windows(rule(), rows([5] * 10))) == 1


def test_value_count_counts_distinct_values_case_insensitively():
    users = ["root", "ROOT", "admin", "oracle", "test", "root", "ubuntu"]
    [episode] = _windows(rule("value_count", 5, 3600, value_field="user"), rows(range(7), users))
    assert episode.metric == 5
    assert _windows(rule("value_count", 5, 3600, value_field="user"), rows(range(5), users)) == []


def _backend_alerts(conn, rule_file: str) -> list[dict]:
    from sigma.backends.sqlite import sqliteBackend
    from sigma.backends.sqlite.runtime import execute_plan
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule

    collection = SigmaCollection.from_yaml((RULES / rule_file).read_text())
    backend = sqliteBackend(
        load_pipeline(RULES), table="events", timestamp_field="epoch", timestamp_format="unix"
    )
    backend.convert(collection)
    [correlation] = [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]
    alerts, _ = execute_plan(conn, backend._correlation_plans[id(correlation)], include_events=False)
    return alerts


@pytest.mark.parametrize("rule_file", ["ssh-brute-force.yml", "ssh-password-spraying.yml"])
def test_same_windows_as_the_sqlite_backend_plan(shared_dir, rule_file):
    """Every window pysigma-backend-sqlite's compiled plan reports lies in one of our episodes, and back."""
    conn = events.connect()
    log = shared_dir / "data/logs/loghub/OpenSSH_OpenSSH_2k.log"
    events.load(conn, log, "auth", zone=ZoneInfo("UTC"), year=2020)
    alerts = _backend_alerts(conn, rule_file)
    [ours] = [r for r in load_rules(RULES).rules if r.file.name == rule_file]
    episodes = detect(conn, ours)
    assert alerts and episodes
    by_source: dict[str, list] = {}
    for e in episodes:
        by_source.setdefault(e.group[0].lower(), []).append(e)
    for alert in alerts:
        source = alert["group_keys"]["source_ip"]
        assert any(e.start <= alert["window_end"] <= e.end for e in by_source[source]), alert
    # ...and no episode without a backend window in it
    windows = {(a["group_keys"]["source_ip"], a["window_end"]) for a in alerts}
    for e in episodes:
        assert any(s == e.group[0].lower() and e.start <= end <= e.end for s, end in windows)
    # the highest metric per source agrees too
    for source, eps in by_source.items():
        backend_max = max(a["metric_value"] for a in alerts if a["group_keys"]["source_ip"] == source)
        assert max(e.metric for e in eps) == backend_max
