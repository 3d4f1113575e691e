"""incidents.config: the TOML contract, its validation and `incidents config init / check`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incidents import config as cfg
from incidents.cli import app

GOOD = """
[smtp]
host = "127.0.0.1"
port = 2525
security = "none"
sender = "soc@example.vn"
user = ""
[[recipients]]
email = "phishing-desk@example.vn"
categories = ["phishing"]
spikes = true
min_severity = "high"
max_per_hour = 6
digest_at = "08:00"
[[recipients]]
email = "duty@example.vn"
feeds = true
spikes = true
lang = "vi"
[bulletin]
issuer = "VNCERT"
contact = "soc@example.vn"
url = "https://example.vn/b"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "incidents.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_contract_example_loads_into_dataclasses(tmp_path):
    conf = cfg.load_config(write(tmp_path, GOOD))
    assert conf.smtp == cfg.SmtpConfig(host="127.0.0.1", port=2525, security="none", sender="soc@example.vn")
    desk, duty = conf.recipients
    assert desk.categories == ("phishing",) and desk.spikes and desk.min_severity == "high"
    assert desk.max_per_hour == 6 and desk.digest_at == "08:00" and not desk.feeds and desk.lang == "en"
    assert duty.categories == () and duty.feeds and duty.lang == "vi"
    assert duty.max_per_hour == cfg.DEFAULT_MAX_PER_HOUR and duty.min_severity is None
    assert conf.bulletin == cfg.BulletinConfig(
        issuer="VNCERT", contact="soc@example.vn", url="https://example.vn/b"
    )
    assert cfg.check_config(conf.path) == []


def test_recipient_rules():
    desk = cfg.Recipient("a@example.vn", categories=("phishing",), spikes=True, min_severity="high")
    assert (
        desk.wants_series("phishing") and not desk.wants_series("total") and not desk.wants_series("deface")
    )
    assert (
        desk.wants_severity("critical") and desk.wants_severity("high") and not desk.wants_severity("medium")
    )
    assert not desk.wants_severity(None)
    everyone = cfg.Recipient("b@example.vn", spikes=True)
    assert everyone.wants_series("total") and everyone.wants_series("deface")
    assert not everyone.wants_severity("critical")


def test_path_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("INCIDENTS_CONFIG", raising=False)
    assert cfg.resolve_config_path(None) == Path("incidents.toml")
    monkeypatch.setenv("INCIDENTS_CONFIG", str(tmp_path / "x.toml"))
    assert cfg.resolve_config_path(None) == tmp_path / "x.toml"
    assert cfg.resolve_config_path(tmp_path / "y.toml") == tmp_path / "y.toml"


def test_missing_file(tmp_path):
    with pytest.raises(cfg.ConfigError, match="config init"):
        cfg.load_config(tmp_path / "none.toml")
    empty = cfg.load_config(tmp_path / "none.toml", required=False)
    assert empty.smtp is None and empty.recipients == [] and not empty.found


BAD = """
[smtp]
host = "mail.example.vn"
security = "startls"
sender = "soc@@example.vn"
passwd = "x"
[[recipients]]
email = "desk@example.vn, boss@example.vn"
spikes = true
[[recipients]]
email = "ok@example.vn"
categories = ["phishng", "malware"]
min_severity = "urgent"
digest_at = "8am"
[bulletin]
issuer = "X"
logo = "a.png"
url = "javascript:alert(1)"
[alerts]
x = 1
"""


def test_check_reports_every_problem_on_one_line_each(tmp_path):
    problems = cfg.check_config(write(tmp_path, BAD))
    text = "\n".join(problems)
    assert all("\n" not in p for p in problems)
    for needle in (
        "smtp.security: 'startls' is not one of none, starttls, tls (did you mean 'starttls'?)",
        "smtp.sender: 'soc@@example.vn' is not a valid e-mail address",
        "smtp.passwd: unknown key (did you mean 'password_file'?)",
        "recipients[1].email: 'desk@example.vn, boss@example.vn' is not a valid e-mail address",
        "recipients[2].categories: unknown category 'phishng' (did you mean 'phishing'?)",
        "recipients[2].min_severity: unknown severity 'urgent'",
        "recipients[2].digest_at: must be a local time 'HH:MM'",
        "bulletin.logo: unknown key",
        "bulletin.url: must be an http(s) address",
        "alerts: unknown table or key",
    ):
        assert needle in text, needle
    assert len(problems) == 10


def test_a_password_in_the_file_is_refused_and_never_echoed(tmp_path):
    path = write(tmp_path, GOOD.replace('user = ""', 'user = "soc"\npassword = "s3cret-Pw"'))
    problems = cfg.check_config(path)
    assert any("never read from this file" in p for p in problems)
    assert "s3cret-Pw" not in "\n".join(problems)


def test_password_from_environment_or_owner_only_file(tmp_path, monkeypatch):
    monkeypatch.delenv(cfg.PASSWORD_ENV, raising=False)
    secret = tmp_path / "pw"
    secret.write_text("hunter2-xyz\n")
    os.chmod(secret, 0o644)
    path = write(tmp_path, GOOD.replace('user = ""', 'user = "soc"\npassword_file = "pw"'))
    problems = cfg.check_config(path)
    assert problems == [
        f"{path}: smtp.password_file {secret} is readable by others (run: chmod 600 {secret})"
    ]
    os.chmod(secret, 0o600)
    conf = cfg.load_config(path)
    assert "hunter2" not in repr(conf)
    assert cfg.smtp_password(conf.smtp) == "hunter2-xyz"
    monkeypatch.setenv(cfg.PASSWORD_ENV, "from-env")
    assert cfg.smtp_password(conf.smtp) == "from-env"


def test_user_without_any_password_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.delenv(cfg.PASSWORD_ENV, raising=False)
    path = write(tmp_path, GOOD.replace('user = ""', 'user = "soc"'))
    assert cfg.check_config(path) == [
        f"{path}: smtp.user: is set but there is no password: set $INCIDENTS_SMTP_PASSWORD or smtp.password_file"
    ]
    monkeypatch.setenv(cfg.PASSWORD_ENV, "x")
    assert cfg.check_config(path) == []


def test_load_raises_the_first_problem_and_counts_the_rest(tmp_path):
    with pytest.raises(cfg.ConfigError, match=r"and 9 more: run 'incidents config check'"):
        cfg.load_config(write(tmp_path, BAD))


def test_not_toml(tmp_path):
    problems = cfg.check_config(write(tmp_path, "[smtp\nhost="))
    assert len(problems) == 1 and "not valid TOML" in problems[0]


def test_recommendations_template_relative_to_the_file(tmp_path):
    (tmp_path / "rec.md.j2").write_text("- patch")
    conf = cfg.load_config(write(tmp_path, GOOD + 'recommendations = "rec.md.j2"\n'))
    assert conf.bulletin.recommendations == tmp_path / "rec.md.j2"
    problems = cfg.check_config(write(tmp_path, GOOD + 'recommendations = "nope.j2"\n'))
    assert problems == [
        f"{tmp_path / 'incidents.toml'}: bulletin.recommendations: no template file at {tmp_path / 'nope.j2'}"
    ]


def test_cli_init_then_check(tmp_path):
    runner = CliRunner()
    path = tmp_path / "incidents.toml"
    result = runner.invoke(app, ["config", "init", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text().startswith("# incidents.toml")
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0 and result.output.strip() == f"{path}: ok"
    result = runner.invoke(app, ["config", "init", "--config", str(path)])
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_cli_check_exit_1_with_one_line_per_problem(tmp_path):
    path = write(tmp_path, BAD)
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 10 and all(line.startswith("Error: ") for line in lines)
