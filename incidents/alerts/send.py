"""Sending: one SMTP connection per run (smtplib), one envelope recipient per message.

Server answers sort into three kinds (RFC 5321 section 4.2.1): a 2xx took the mail; a 4xx, a refused
connection, a timeout or a dropped line is temporary (`TempFailure`: the run stops, every mail stays
pending for the next run, exit 75); a 5xx to one message or recipient is permanent for that message
(`Refused`, with the server's words: it is marked failed and the others still go). A refused login,
a refused sender or a certificate that does not verify are the operator's to fix (`SetupFailure`,
exit 1), never retried blindly.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from typing import Self

from incidents.config import SmtpConfig, smtp_password


class SendError(Exception):
    """Sending failed."""


class TempFailure(SendError):
    """The server is down or answered 4xx: try again later (EX_TEMPFAIL)."""


class Refused(SendError):
    """The server refused this message or its recipient for good (5xx); `words` is its answer."""

    def __init__(self, words: str):
        super().__init__(words)
        self.words = words


class SetupFailure(SendError):
    """Login, sender or TLS refused: the configuration must change before any mail can go."""


def _words(code: int, resp) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return f"{code} {' '.join(text.split())}"


class Sender:
    """`with Sender(smtp) as s: s.send(from_addr, to_addr, message)`; connects on entry."""

    def __init__(self, smtp: SmtpConfig):
        self.smtp = smtp
        self.client: smtplib.SMTP | None = None
        self.where = f"{smtp.host}:{smtp.port}"

    def __enter__(self) -> Self:
        s = self.smtp
        try:
            context = ssl.create_default_context()
            if s.security == "tls":
                self.client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                self.client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            self.client.ehlo()
            if s.security == "starttls":
                if not self.client.has_extn("starttls"):
                    raise SetupFailure(
                        f"mail server {self.where} does not offer STARTTLS (security = starttls)"
                    )
                self.client.starttls(context=context)
                self.client.ehlo()
            if s.user:
                password = smtp_password(s)
                if password is None:
                    raise SetupFailure("smtp.user is set but there is no password ($INCIDENTS_SMTP_PASSWORD)")
                self.client.login(s.user, password)
        except SetupFailure:
            self._drop()
            raise
        except smtplib.SMTPAuthenticationError as e:
            self._drop()
            raise SetupFailure(
                f"mail server {self.where} refused the login: {_words(e.smtp_code, e.smtp_error)}"
            ) from None
        except ssl.SSLCertVerificationError as e:
            self._drop()
            raise SetupFailure(
                f"mail server {self.where}: certificate not trusted ({e.verify_message})"
            ) from None
        except smtplib.SMTPResponseException as e:
            self._drop()
            if 400 <= e.smtp_code < 500:
                raise TempFailure(
                    f"mail server {self.where} answered {_words(e.smtp_code, e.smtp_error)}"
                ) from None
            raise SetupFailure(
                f"mail server {self.where} answered {_words(e.smtp_code, e.smtp_error)}"
            ) from None
        except (OSError, smtplib.SMTPException) as e:
            self._drop()
            raise TempFailure(f"mail server {self.where} unavailable: {_oserror(e)}") from None
        return self

    def send(self, sender: str, recipient: str, message: str) -> None:
        """Hand one message to the server for one envelope recipient. Raises TempFailure, Refused, SetupFailure."""
        assert self.client is not None
        try:
            refused = self.client.sendmail(sender, [recipient], message.encode("utf-8"))
        except smtplib.SMTPRecipientsRefused as e:
            code, resp = e.recipients.get(recipient, next(iter(e.recipients.values()), (451, b"refused")))
            if 400 <= code < 500:
                raise TempFailure(
                    f"mail server {self.where} deferred {recipient}: {_words(code, resp)}"
                ) from None
            raise Refused(_words(code, resp)) from None
        except smtplib.SMTPSenderRefused as e:
            if 400 <= e.smtp_code < 500:
                raise TempFailure(
                    f"mail server {self.where} deferred the sender: {_words(e.smtp_code, e.smtp_error)}"
                ) from None
            raise SetupFailure(
                f"mail server {self.where} refused the sender {sender}: {_words(e.smtp_code, e.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as e:  # SMTPDataError and the like
            if 400 <= e.smtp_code < 500:
                raise TempFailure(
                    f"mail server {self.where} answered {_words(e.smtp_code, e.smtp_error)}"
                ) from None
            raise Refused(_words(e.smtp_code, e.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as e:
            raise TempFailure(f"mail server {self.where} unavailable: {_oserror(e)}") from None
        if refused:  # cannot happen with one recipient (all refused raises), kept for safety
            code, resp = refused[recipient]
            raise Refused(_words(code, resp))

    def _drop(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except OSError:
                pass
            self.client = None

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


def _oserror(e: BaseException) -> str:
    if isinstance(e, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__
