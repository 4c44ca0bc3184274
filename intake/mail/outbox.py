"""Sends the replies waiting in the outbox: over SMTP, or into a local Maildir for runs without a
server. A reply is claimed before it is sent, so a crash mid-send can never send it twice."""

from __future__ import annotations

import contextlib
import logging
import mailbox
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, Engine, Executable, bindparam, update
from sqlmodel import Session, col, select

from intake.config.mail import is_loopback
from intake.errors import ConfigError, OutboxError
from intake.mail.source import tls_context
from intake.mail.xoauth2 import TokenError, TokenSource, XOAuth2, scrub
from intake.store.tables import OutboxRecord, OutboxState

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


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unreachable: bool = False  # the run stopped: the server could not be reached

    def __add__(self, other: Delivery) -> Delivery:
        return Delivery(self.sent + other.sent, self.retried + other.retried,
                        self.failed + other.failed, self.unreachable or other.unreachable)


def retry_delay(attempts: int, base_seconds: int = 60) -> timedelta:
    """base, 2 × base, 4 × base … after each failed attempt; at most an hour."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 3600))


def deliver_pending(engine: Engine, transport: Transport, *, sender: str, now: datetime,
                    max_attempts: int, retry_seconds: int = 60,
                    failpoint: object = None) -> Delivery:
    """Send every reply that is due. Each is claimed (committed as SENDING) before it is handed to
    the server, and marked SENT after, in the transaction that claims the next: a crash in between
    leaves it SENDING, never sent again.

    A reply the server deferred waits out its backoff; but once another reply goes through, the
    server takes mail again, and the deferred ones are sent at once rather than up to an hour
    later."""
    with engine.connect() as connection:  # one connection for the run, a transaction a step
        return _deliver(connection, engine, transport, sender=sender, now=now,
                        max_attempts=max_attempts, retry_seconds=retry_seconds,
                        failpoint=failpoint)


def _deliver(connection: Connection, engine: Engine, transport: Transport, *, sender: str,
             now: datetime, max_attempts: int, retry_seconds: int, failpoint: object) -> Delivery:
    counts = {"sent": 0, "retried": 0, "failed": 0}
    tried: set[int] = set()
    reached = True
    table = OutboxRecord.__table__  # type: ignore[attr-defined]
    claim, mark_sent = _delivery_statements()
    accepted: list[int] = []  # taken by the server; marked SENT in the next transaction

    def transaction(statement: Executable | None = None,
                    values: Mapping[str, object] | None = None) -> Sequence[Any] | None:
        """One step's statement, and the SENT mark of the reply before it (one commit for two)."""
        with connection.begin():
            for row_id in accepted:
                connection.execute(mark_sent, {"row": row_id, "now": now})
            counts["sent"] += len(accepted)
            accepted.clear()
            if statement is None:
                return None
            result = connection.execute(statement, values or {})
            return result.first() if result.returns_rows else None

    def attempt(row_id: int, waiting: int) -> bool:
        """Send one reply; False when the server cannot be reached (no use trying the rest)."""
        tried.add(row_id)
        claimed = transaction(claim, {"row": row_id})  # committed before the server sees it
        if claimed is None:
            return True  # another sender took it
        raw, recipient, attempts, created_at = claimed
        try:
            transport.send(raw, sender, [recipient])
        except Unreachable as exc:
            # Nothing reached the server: not an attempt of this reply. Try again next poll.
            transaction(update(table).where(table.c.id == row_id)
                        .values(state=OutboxState.PENDING, last_error=str(exc)[:500]))
            log.warning("outbox: server unreachable, %d replies wait for the next poll: %s",
                        waiting, exc)
            return False
        except Exception as exc:  # noqa: BLE001 - whatever the server said, the reply waits
            attempts += 1
            values: dict[str, object] = {"attempts": attempts, "last_error": str(exc)[:500]}
            if (now - created_at >= TEMPORARY_FAILURES_FOR if isinstance(exc, TemporaryFailure)
                    else attempts >= max_attempts):
                values["state"] = OutboxState.FAILED
                counts["failed"] += 1
            else:
                values["state"] = OutboxState.PENDING
                values["next_attempt_at"] = now + retry_delay(attempts, retry_seconds)
                counts["retried"] += 1
            transaction(update(table).where(table.c.id == row_id).values(**values))
            log.warning("outbox %d: send failed (attempt %d): %s", row_id, attempts, exc)
            return True
        if callable(failpoint):
            failpoint("after-send")
        # Sent: the copy (names, the school's annotated file) is no longer needed here.
        accepted.append(row_id)
        return True

    due = _pending(engine, now, due=True)
    for position, row_id in enumerate(due):
        if not attempt(row_id, len(due) - position):
            reached = False
            break
    else:
        if accepted or counts["sent"]:
            deferred = [i for i in _pending(engine, now, due=False) if i not in tried]
            if deferred:
                log.info("outbox: the server takes mail again; %d deferred repl(ies) go now",
                         len(deferred))
                for position, row_id in enumerate(deferred):
                    if not attempt(row_id, len(deferred) - position):
                        reached = False
                        break
    if accepted:
        transaction()
    return Delivery(counts["sent"], counts["retried"], counts["failed"], not reached)


@cache
def _delivery_statements() -> tuple[Executable, Executable]:
    """Claiming and marking a reply, built once: a backlog sends a thousand."""
    table = OutboxRecord.__table__  # type: ignore[attr-defined]
    claim = (update(table).where(table.c.id == bindparam("row"),
                                 table.c.state == OutboxState.PENDING)
             .values(state=OutboxState.SENDING)
             .returning(table.c.raw, table.c.recipient, table.c.attempts, table.c.created_at))
    mark_sent = (update(table).where(table.c.id == bindparam("row"))
                 .values(state=OutboxState.SENT, sent_at=bindparam("now"), raw=b""))
    return claim, mark_sent


def _pending(engine: Engine, now: datetime, *, due: bool) -> list[int]:
    """Pending replies in order: those due by `now`, or those waiting out a backoff past it."""
    when = col(OutboxRecord.next_attempt_at)
    with Session(engine) as session:
        return [row_id for row_id in session.exec(
            select(OutboxRecord.id)
            .where(OutboxRecord.state == OutboxState.PENDING)
            .where(when <= now if due else when > now)
            .order_by(col(OutboxRecord.id))
        ).all() if row_id is not None]
