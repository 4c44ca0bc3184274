"""SASL XOAUTH2, the client side that IMAP and SMTP sign-ins share: the message that carries an
access token, the server's refusal kept to report it, the `TokenSource` protocol they get tokens
from, and scrubbing secrets from what a server answered."""

from __future__ import annotations

import json
from typing import Protocol

from intake.errors import IntakeError


class TokenError(IntakeError):
    """No access token could be had: the command failed, or the token endpoint refused or could
    not be reached."""


class TokenSource(Protocol):
    """Where XOAUTH2 sign-ins get their access token."""

    def token(self) -> str: ...

    def invalidate(self) -> None:
        """The server refused the last token: the next `token()` gets a fresh one."""
        ...


def xoauth2_response(user: str, token: str) -> str:
    """The client's XOAUTH2 message (Google's and Microsoft's format)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


class XOAuth2:
    """The client side of SASL XOAUTH2, as an authobject for imaplib/imapclient and smtplib.

    The first call answers with the credentials (an empty challenge in IMAP; none in SMTP, whose
    initial response carries them). A later call is the server's refusal, a JSON challenge such as
    `{"status":"401","schemes":"bearer","scope":"..."}`: it is kept in `error` and answered empty,
    as the mechanism requires, so that the server ends the exchange with its failure reply.
    """

    def __init__(self, user: str, token: str) -> None:
        self._response = xoauth2_response(user, token)
        self._answered = False
        self.error: str | None = None

    def __call__(self, challenge: bytes | None = None) -> str:
        if not self._answered:
            self._answered = True
            return self._response
        self.error = _describe_challenge(challenge or b"")
        return ""


def _describe_challenge(challenge: bytes) -> str:
    try:
        value = json.loads(challenge)
    except ValueError:
        return "the server refused the token"
    if not isinstance(value, dict):
        return "the server refused the token"
    details = [f"{k} {value[k]}" for k in ("status", "scope") if isinstance(value.get(k), str)]
    return "the server refused the token" + (f" ({', '.join(details)})" if details else "")


def scrub(text: str, *secrets: str | None) -> str:
    """`text` with every secret in it replaced: for messages built from what a server answered."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
