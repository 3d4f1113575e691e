"""incidents.alerts.send against real servers: STARTTLS with a login, an untrusted certificate, a refused login."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from datetime import timedelta

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from incidents.alerts import alert_counts
from tests.smtpd import SmtpServer
from tests.test_alert_job import NOW, Env, add

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the STARTTLS test")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"soc"
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_server(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(
        tls_context=context, require_starttls=True, authenticator=authenticator, auth_require_tls=True
    )
    server.start()
    yield server
    server.stop()


STARTTLS = """
[[recipients]]
email = "desk@example.vn"
min_severity = "high"
"""


def tls_env(tmp_path, server):
    e = Env(tmp_path, server, STARTTLS)
    e.config.write_text(
        e.config.read_text().replace('security = "none"', 'security = "starttls"\nuser = "soc"')
    )
    return e


def test_starttls_with_a_login_from_the_environment(tmp_path, tls_server, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test's own CA
    monkeypatch.setenv("INCIDENTS_SMTP_PASSWORD", PASSWORD)
    e = tls_env(tmp_path, tls_server)
    add(e.db, [{"id": "p1", "category": "phishing"}])
    result = e.run()
    assert result.exit_code == 0, result.output
    (mail,) = tls_server.received
    assert mail.rcpt_tos == ["desk@example.vn"] and PASSWORD not in mail.raw.decode()
    assert PASSWORD not in result.output
    e.db.close()


def test_a_refused_login_is_one_line_exit_1_and_nothing_is_lost(
    tmp_path, tls_server, certificate, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.setenv("INCIDENTS_SMTP_PASSWORD", "wrong password")
    e = tls_env(tmp_path, tls_server)
    add(e.db, [{"id": "p1", "category": "phishing"}])
    result = e.run()
    assert result.exit_code == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: mail server 127.0.0.1:{tls_server.port} refused the login: 535")
    assert "wrong password" not in result.output
    assert alert_counts(e.conn())["pending"] == 1
    monkeypatch.setenv("INCIDENTS_SMTP_PASSWORD", PASSWORD)
    assert e.run(now=NOW + timedelta(minutes=15)).exit_code == 0
    assert len(tls_server.received) == 1
    e.db.close()


def test_an_untrusted_certificate_is_refused(tmp_path, tls_server, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("INCIDENTS_SMTP_PASSWORD", PASSWORD)
    e = tls_env(tmp_path, tls_server)
    add(e.db, [{"id": "p1", "category": "phishing"}])
    result = e.run()
    assert result.exit_code == 1
    assert "certificate not trusted" in result.stderr and tls_server.received == []
    e.db.close()


def test_starttls_asked_of_a_server_without_it(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENTS_SMTP_PASSWORD", PASSWORD)
    plain = SmtpServer().start()
    try:
        e = tls_env(tmp_path, plain)
        add(e.db, [{"id": "p1", "category": "phishing"}])
        result = e.run()
        assert result.exit_code == 1
        assert result.stderr.strip().startswith(
            f"Error: mail server 127.0.0.1:{plain.port} does not offer STARTTLS"
        )
        e.db.close()
    finally:
        plain.stop()
