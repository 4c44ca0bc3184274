"""Where replies go: an SMTP server (STARTTLS or TLS, a password or XOAUTH2), or a local Maildir
for runs without a server; and what a refusal means (unreachable, temporary, final)."""

from __future__ import annotations

import contextlib
import logging
import mailbox
import os
import smtplib
import socket
import ssl
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from intake.config.mail import is_loopback
from intake.errors import ConfigError, OutboxError
from intake.mail.source import tls_context
from intake.mail.xoauth2 import TokenError, TokenSource, XOAuth2, scrub

log = logging.getLogger(__name__)


class Unreachable(OutboxError):
    """The server could not be reached or refused our login: no reply can go out this poll."""


class TemporaryFailure(OutboxError):
    """The server answered "try again later" (4xx), or the connection dropped mid-send."""


# A reply the server keeps answering 4xx is retried (with the backoff) this long after it was
# queued, however many attempts that takes; a permanent refusal (5xx) fails after send_retries.
TEMPORARY_FAILURES_FOR = timedelta(days=1)


class Transport(Protocol):
    """Hands one message to the next mail server (or a local folder)."""

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None: ...

    def check(self) -> None: ...

    def close(self) -> None: ...


def open_transport(url: str, *, password: str | None, ca_file: Path | None,
                   timeout: float, tokens: TokenSource | None = None) -> Transport:
    if url.startswith("maildir:"):
        return MaildirSink(Path(url.removeprefix("maildir:")))
    if url.startswith(("smtps://", "smtp+starttls://", "smtp://")):
        return SmtpTransport(url, password=password, ca_file=ca_file, timeout=timeout,
                             tokens=tokens)
    raise ConfigError(f"SMTP URL must start with smtps://, smtp+starttls:// or maildir: "
                      f"(got {url[:20]!r})")


class MaildirSink:
    """Writes replies into a Maildir: what `intake demo` and local runs use instead of a server."""

    def __init__(self, root: Path) -> None:
        self.folder = mailbox.Maildir(root, create=True)

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        try:
            self.folder.add(raw)
        except OSError as exc:
            raise Unreachable(f"cannot write to the reply folder: {exc.strerror}") from exc

    def check(self) -> None:
        if not os.access(self.folder._path, os.W_OK):
            raise Unreachable("the reply folder is not writable")

    def close(self) -> None:
        self.folder.close()


class SmtpTransport:
    """smtps:// (implicit TLS) or smtp+starttls:// (STARTTLS required); plain smtp:// on loopback
    only. Certificates are verified; the login comes from the environment, or is AUTH XOAUTH2
    with an access token from `tokens`."""

    def __init__(self, url: str, *, password: str | None, ca_file: Path | None,
                 timeout: float, tokens: TokenSource | None = None) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or ""
        self.port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
        self.user = unquote(parts.username or "")
        self.password = password
        self.tokens = tokens
        self.context = tls_context(ca_file)
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None
        if not self.host:
            raise ConfigError("SMTP URL needs a host: smtps://[USER@]HOST[:PORT]")
        if self.scheme == "smtp" and not is_loopback(self.host):
            raise ConfigError("plain smtp:// is allowed on loopback only; use smtps:// or "
                              "smtp+starttls://")
        if tokens is not None and not self.user:
            raise ConfigError("XOAUTH2 needs the account in the SMTP URL: smtps://USER@HOST")
        if self.user and password is None and tokens is None:
            raise ConfigError("INTAKE_SMTP_PASSWORD is not set")

    def _connect(self) -> smtplib.SMTP:
        if self._client is not None:
            return self._client
        client: smtplib.SMTP
        if self.scheme == "smtps":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                      context=self.context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            _no_delay(client)
            if self.scheme == "smtp+starttls":
                client.starttls(context=self.context)
            if self.tokens is not None:
                self._xoauth2(client, self.tokens)
            elif self.user and self.password is not None:
                client.login(self.user, self.password)
        except BaseException:
            client.close()  # a failed login must not leave its socket open
            raise
        self._client = client
        return client

    def _xoauth2(self, client: smtplib.SMTP, tokens: TokenSource) -> None:
        """AUTH XOAUTH2 (initial response). A refused token (revoked, or expired early) is
        replaced once."""
        client.ehlo_or_helo_if_needed()  # smtplib's auth() does not, and a STARTTLS forgets it
        offered = str(client.esmtp_features.get("auth", "")).upper().split()
        if "XOAUTH2" not in offered:
            raise Unreachable(f"{self.host}:{self.port} does not offer AUTH XOAUTH2 (it offers: "
                              f"{' '.join(offered) or 'no AUTH'})")
        for attempt in (1, 2):
            try:
                token = tokens.token()
            except (TokenError, ConfigError) as exc:  # e.g. no refresh token: not this reply's
                raise Unreachable(f"no OAuth2 access token for SMTP: {exc}") from None
            exchange = XOAuth2(self.user, token)
            try:
                code, reply = client.auth("XOAUTH2", exchange, initial_response_ok=True)
                if code == 235:
                    return
                raise smtplib.SMTPAuthenticationError(code, reply)  # smtplib lets 503 pass
            except smtplib.SMTPAuthenticationError as exc:
                tokens.invalidate()
                if attempt == 2:
                    error = exc.smtp_error
                    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else error
                    said = scrub(f"{exc.smtp_code} {text}", token)
                    raise Unreachable(
                        f"{self.host}:{self.port} refused the XOAUTH2 sign-in as {self.user} "
                        f"twice, the second time with a token asked for anew "
                        f"({exchange.error or 'refused'}; {said}). Check that the token is for "
                        "this account and may send mail (Microsoft 365: SMTP.Send, or "
                        "SMTP.SendAsApp, and SMTP AUTH enabled for the mailbox; Gmail: "
                        "https://mail.google.com/)") from None

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        try:
            client = self._connect()
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.close()
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        try:
            client.sendmail(sender, list(recipients), raw)
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.close()
            kind = TemporaryFailure if _temporary(exc) else OutboxError
            raise kind(f"{type(exc).__name__}: {exc}") from exc

    def check(self) -> None:
        """Connect, greet and log in, as a send would; for `intake check`."""
        try:
            self._connect().noop()
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self.close()

    def close(self) -> None:
        if self._client is not None:
            # The connection may already be gone: nothing to close cleanly then.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._client.quit()
            self._client = None


def _no_delay(client: smtplib.SMTP) -> None:
    """Nagle's algorithm off. smtplib writes each command, and a message's data, whole and then
    waits for the answer: with it on, the last part of a message larger than a few segments waits
    for the server's delayed ACK (about 40 ms a reply with attachments, against 1.4 ms without
    the wait). Kept for the TLS socket that STARTTLS wraps around it."""
    if client.sock is not None and client.sock.family in (socket.AF_INET, socket.AF_INET6):
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _temporary(exc: Exception) -> bool:
    """4xx, or no answer at all (a dropped connection): worth trying again later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _said in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return True
