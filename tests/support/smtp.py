"""An aiosmtpd server in a thread: what it received, and a way to wait for it without sleeping."""

from __future__ import annotations

import asyncio
import binascii
import email
import email.policy
import json
import ssl
import threading
import time
from base64 import b64decode
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, Session

from tests.support.dovecot import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    at: float = field(default_factory=time.monotonic)  # when the server accepted it

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
    refused: int = 0  # messages answered 451

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            with self.condition:
                self.refused += 1
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
class OAuthInbox(Inbox):
    """An Inbox that signs clients in by SASL XOAUTH2 as Gmail and Exchange Online do: `valid`
    says whether a token is good for a user; a bad one gets a 334 JSON challenge, then 535 once the
    client has answered it (with an empty line, as the mechanism requires)."""

    valid: Callable[[str, str], bool] = lambda user, token: False
    logins: list[str] = field(default_factory=list)
    refusals: list[bytes] = field(default_factory=list)  # what clients answered the challenge

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 2:  # the initial response
            try:
                response = b64decode(args[1], validate=True)
            except binascii.Error:
                return AuthResult(success=False, handled=False,
                                  message="501 5.5.2 Cannot decode base64")
        else:
            answer = await server.challenge_auth("")
            if answer is MISSING:
                return AuthResult(success=False, handled=True)
            response = answer
        fields = dict(part.split("=", 1) for part in response.decode().split("\x01") if "=" in part)
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        if user and token and self.valid(user, token):
            with self.condition:
                self.logins.append(user)
            return AuthResult(success=True, auth_data=user)
        challenge = json.dumps({"status": "400", "schemes": "Bearer",
                                "scope": "https://mail.google.com/"})
        answer = await server.challenge_auth(challenge)  # "334 <base64 JSON>", then the answer
        with self.condition:
            self.refusals.append(answer if isinstance(answer, bytes) else b"*")
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Username and Password not accepted")


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

    def halt(self) -> None:
        """Down: the port refuses connections until `resume`."""
        self.stop()

    def resume(self) -> None:
        """Up again on the same port, with the same inbox."""
        self.controller.loop = asyncio.new_event_loop()
        self.controller.start()


def start_smtp(cert: Path, key: Path, *, tls: str = "starttls",
               inbox: Inbox | None = None) -> SmtpServer:
    """`inbox`: an OAuthInbox requires its clients to sign in by XOAUTH2 (after STARTTLS)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    options = {"auth_required": True} if isinstance(inbox, OAuthInbox) else {}
    inbox = inbox or Inbox()
    port = free_port()
    loop = asyncio.new_event_loop()  # ours, so that stop() can close it
    if tls == "implicit":
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context,
                                loop=loop, **options)
    else:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, loop=loop,
                                tls_context=context, require_starttls=True, **options)
    controller.start()
    return SmtpServer(controller, inbox, port, tls)
