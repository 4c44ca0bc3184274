"""Opens the configured mail source: an IMAP folder (imapclient) or a local Maildir, by the
mailbox URL's scheme, reconnecting with backoff while the server is out."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from intake.errors import ConfigError, MailboxError
from intake.mail.imap import connect_imap
from intake.mail.maildir import MaildirSource
from intake.mail.source import MailSource, SignInRefused
from intake.mail.xoauth2 import TokenSource


def open_source(url: str, *, password: str | None, ca_file: Path | None,
                timeout: float, tokens: TokenSource | None = None) -> MailSource:
    """The source a mailbox URL names: `maildir:PATH`, or `imaps://USER@HOST[:PORT]/FOLDER`."""
    if url.startswith("maildir:"):
        return MaildirSource(Path(url.removeprefix("maildir:")))
    if url.startswith(("imap://", "imaps://")):
        return connect_imap(url, password=password, ca_file=ca_file, timeout=timeout,
                            tokens=tokens)
    raise ConfigError(f"mailbox URL must start with imaps://, imap:// or maildir: (got {url[:20]!r})")


def with_retries(action: Callable[[], MailSource], *, attempts: int = 3, delay: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> MailSource:
    """Reconnect with exponential backoff; the last failure is raised. Refused credentials are
    raised at once: the next poll tries again."""
    for attempt in range(attempts):
        try:
            return action()
        except SignInRefused:
            raise
        except MailboxError:
            if attempt == attempts - 1:
                raise
            sleep(delay * 2**attempt)
    raise AssertionError("unreachable")
