"""A real SMTP server on 127.0.0.1 for the alert tests (aiosmtpd), recording what it accepted.

`answers` maps a recipient address to the reply its RCPT gets ("550 5.1.1 no such mailbox", "451 try
later"); every other recipient is accepted. `on_data` runs when a message's DATA arrives, before the 250.
`accept_only` (None: no limit) accepts that many messages, then answers every later DATA with
`TEMPFAIL_ANSWER`, as a server that starts deferring mid-run does.
"""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass

from aiosmtpd.controller import Controller

TEMPFAIL_ANSWER = "451 4.3.2 too busy, try again later"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


class Recorder:
    def __init__(self):
        self.received: list[Received] = []
        self.answers: dict[str, str] = {}
        self.on_data = None
        self.accept_only: int | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.answers.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.accept_only is not None and len(self.received) >= self.accept_only:
            return TEMPFAIL_ANSWER
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        if self.on_data is not None:
            self.on_data()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def smtp_table(port: int) -> str:
    """The [smtp] table of an incidents.toml that sends to the test server on `port` (plain SMTP, no login)."""
    return f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "soc@example.vn"
timeout = 5
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """Start/stop a recording server on a fixed free port (stop, then start again: 'down, then up')."""

    def __init__(self, **smtp_kwargs):
        self.port = free_port()
        self.handler = Recorder()
        self.controller: Controller | None = None
        self.smtp_kwargs = smtp_kwargs  # passed to aiosmtpd's SMTP: tls_context, authenticator, ...

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.smtp_kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received
