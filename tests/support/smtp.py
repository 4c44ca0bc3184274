"""An aiosmtpd server in a thread: what it received, and a way to wait for it without sleeping."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.dovecot import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Inbox:
    """The server's handler: keeps every message it accepts."""

    messages: list[Received] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)
    refuse: bool = False  # answer 451 to every message, as a server in trouble does

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "451 4.3.0 try again later"
        with self.condition:
            self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                                          bytes(envelope.content or b"")))
            self.condition.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.condition:
            if not self.condition.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")
            return list(self.messages)

    def clear(self) -> None:
        with self.condition:
            self.messages.clear()


@dataclass
class SmtpServer:
    controller: Controller
    inbox: Inbox
    port: int
    tls: str  # "starttls" or "implicit"

    @property
    def url(self) -> str:
        scheme = "smtps" if self.tls == "implicit" else "smtp+starttls"
        return f"{scheme}://localhost:{self.port}"

    def stop(self) -> None:
        self.controller.stop()
        self.controller.loop.close()


def start_smtp(cert: Path, key: Path, *, tls: str = "starttls") -> SmtpServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    loop = asyncio.new_event_loop()  # ours, so that stop() can close it
    if tls == "implicit":
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context,
                                loop=loop)
    else:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, loop=loop,
                                tls_context=context, require_starttls=True)
    controller.start()
    return SmtpServer(controller, inbox, port, tls)
