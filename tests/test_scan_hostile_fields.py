"""Every reader with hostile values in every attacker-controlled field (issue 10, kind 3; issue 15, 3).

The attacker types the SSH user name, the HTTP request line, referrer and user agent, the DNS name; a
sensor copies packet data into eve.json. Whatever they hold, the fields the rules count on (source
address, port, status, time) come from the line's structure, and a reader never raises.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.scan.readers import access, dns, eve, syslog
from incidents.scan.readers.clock import SyslogYears
from incidents.scan.readers.lines import Rejected

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
YEARS = SyslogYears(year=2024, modified=date(2024, 12, 31))
# Text an attacker can type into one field of a one-line log: anything but a line end.
typed = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00\x85\u2028\u2029"), max_size=80
)
spoof = st.sampled_from(
    [
        " from 10.10.1.2 port 55555 ssh2",
        " from 10.10.1.2",
        " port 1",
        " rhost=10.1.1.1",
        "]",
        " ssh2: RSA x",
        "",
    ]
)
hostile = st.builds(lambda a, b, c: a + b + c, typed, spoof, typed).filter(lambda u: u.strip() == u and u)
ips = st.sampled_from(["198.51.100.66", "203.0.113.7", "2001:db8::5"])
ports = st.integers(0, 65535)


_CONN = sqlite3.connect(":memory:")


def bindable(row) -> bool:
    """Every value can go into SQLite as it is (no object, no int beyond 64 bits)."""
    _CONN.execute(f"SELECT {', '.join('?' * len(row))}", row)
    return True


@settings(max_examples=300, deadline=None)
@given(
    user=hostile,
    ip=ips,
    port=ports,
    method=st.sampled_from(["password", "keyboard-interactive/pam", "publickey"]),
)
def test_sshd_source_is_the_last_from_ip_port(user, ip, port, method):
    reader = syslog.Reader(zone=HCM, years=YEARS)
    for prefix in ("", "invalid user "):
        line = f"Mar  1 10:00:00 gw sshd[1]: Failed {method} for {prefix}{user} from {ip} port {port} ssh2"
        row = reader.parse(1, line)
        assert row[8] == ip and row[9] == port and row[7] == user, line
    row = reader.parse(2, f"Mar  1 10:00:00 gw sshd[1]: Invalid user {user} from {ip} port {port}")
    assert (row[6], row[8], row[9]) == ("invalid_user", ip, port)
    row = reader.parse(
        3, f"Mar  1 10:00:00 gw sshd[1]: Accepted {method} for {user} from {ip} port {port} ssh2"
    )
    assert (row[6], row[8], row[9]) == ("accepted", ip, port)
    row = reader.parse(
        4, f"Mar  1 10:00:00 fw sshd[2]: error: PAM: Authentication error for {user} from {ip}"
    )
    assert (row[6], row[8]) == ("pam_auth_error", ip)


@settings(max_examples=200, deadline=None)
@given(user=hostile, ip=ips)
def test_pam_unix_rhost_is_not_taken_from_the_user(user, ip):
    line = (
        "Mar  1 10:00:00 gw sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
        f"tty=ssh ruser= rhost={ip}  user={user}"
    )
    assert syslog.classify(line.split(": ", 1)[1])[2] == ip


@settings(max_examples=300, deadline=None)
@given(line=typed)
def test_readers_never_raise_and_rows_are_bindable(line):
    for module in (syslog, access, eve, dns):
        reader = module.Reader(zone=HCM, years=YEARS)
        for text in (
            line,
            "<13>" + line,
            "Mar  1 10:00:00 gw sshd[1]: " + line,
            "<38>1 2024-03-01T10:00:00Z h a 1 - - " + line,
        ):
            row = reader.parse(1, text)
            if type(row) is tuple and row:
                assert bindable(row)
            elif type(row) is list:
                assert all(bindable(r) for r in row)
            else:
                assert row is None or isinstance(row, str)


def _apache_quote(text: str) -> str:
    # mod_log_config escapes " and \\ with a backslash (and non-printables as \\xhh)
    return text.replace("\\", "\\\\").replace('"', '\\"')


@settings(max_examples=300, deadline=None)
@given(uri=typed.map(lambda t: "/" + t.replace(" ", "%20")), referrer=typed, agent=typed, ip=ips,
       status=st.integers(100, 599), vhost=st.booleans())  # fmt: skip
def test_web_source_status_and_time_come_from_the_structure(uri, referrer, agent, ip, status, vhost):
    line = (
        f"{'www.example.vn:443 ' if vhost else ''}{ip} - - [01/Mar/2024:10:15:22 +0700] "
        f'"GET {_apache_quote(uri)} HTTP/1.1" {status} 12 "{_apache_quote(referrer)}" "{_apache_quote(agent)}"'
    )
    row = access.Reader().parse(1, line)
    assert row is not None, line
    assert row[3] == ip and row[12] == status and row[1] == 1709262922  # 2024-03-01T03:15:22Z
    assert row[-1] == ("www.example.vn" if vhost else None)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | typed,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(typed, children, max_size=3),
    max_leaves=10,
)
EVE_FIELDS = ["timestamp", "src_ip", "dest_ip", "src_port", "dest_port", "proto", "event_type", "alert", "dns",
              "http", "flow", "direction"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    field=st.sampled_from(EVE_FIELDS), value=json_values, nested=st.sampled_from(["", "alert", "dns", "http"])
)
def test_eve_any_value_in_any_field(field, value, nested):
    record = {
        "timestamp": "2025-09-01T08:00:01+0700", "event_type": "alert", "src_ip": "192.0.2.50", "dest_ip": "198.51.100.53",
        "src_port": 5300, "dest_port": 53, "alert": {"signature": "x", "category": "y", "severity": 1, "signature_id": 1},
        "dns": {"version": 3, "type": "request", "queries": [{"rrname": "a.example", "rrtype": "A"}]},
        "http": {"hostname": "h", "url": "/"},
    }  # fmt: skip
    if nested:
        record[nested] = dict(record.get(nested) or {}) | {field: value}
    else:
        record[field] = value
    row = eve.Reader(zone=UTC).parse(1, json.dumps(record))
    if isinstance(row, Rejected):
        return
    rows = row if isinstance(row, list) else [row]
    for r in rows:
        assert bindable(r)
        assert r[4] is None or isinstance(r[4], str)


@settings(max_examples=200, deadline=None)
@given(name=typed.filter(lambda n: n.strip() == n and n), client=ips)
def test_dnsmasq_client_is_the_last_from(name, client):
    line = f"Mar  1 10:15:22 dnsmasq[812]: query[A] {name} from {client}"
    row = dns.Reader(zone=HCM, years=YEARS).parse(1, line)
    assert row[3] == client and row[6] == name.rstrip(".")
