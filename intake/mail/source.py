"""What the poll needs of a mail source, whichever it is: the `MailSource` protocol, a message's
reference, the `FolderError` of a folder the server refuses, the check that creates every configured
folder before mail is moved into it, and the verified TLS that IMAP and SMTP connections use.

Nothing here decides anything: the pipeline acknowledges (moves) a message only after its outcome
is committed, so a crash at any point leaves the message where the next poll finds it again.
Folders are named by configured paths (`Intake/Applications`); each source maps them to its own
names (intake.mail.folders). A folder the server refuses is a FolderError, an outage a MailboxError.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from intake.errors import ConfigError, MailboxError
from intake.mail.folders import Layout


@dataclass(frozen=True, slots=True)
class MessageRef:
    location: str  # "UIDVALIDITY:UID" on IMAP, the file name in a Maildir
    size: int


class SignInRefused(MailboxError):
    """The server refused our credentials. Trying again at once would be refused again, and
    repeated refusals may lock the account (Microsoft 365 does): not retried within a poll."""


class FolderError(MailboxError):
    """The server answered, and refused a folder: its name, its creation, or a move into it. The
    connection is fine and other folders may work; the message says which folder, under what
    name, what the server said, and how the server names folders."""

    def __init__(self, folder: str, server_name: str | None, said: str, layout: Layout) -> None:
        where = f" ({server_name!r} on the server)" if server_name is not None else ""
        super().__init__(f"folder {folder!r}{where}: {said}; the server's {layout.describe()}")
        self.folder = folder
        self.server_name = server_name
        self.said = said
        self.layout = layout


class MailSource(Protocol):
    """What the pipeline needs of a mailbox. Folders are configured paths (`Intake/Applications`)."""

    name: str

    def list_new(self) -> list[MessageRef]: ...

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]: ...

    def fetch_header(self, ref: MessageRef) -> bytes: ...

    def layout(self) -> Layout: ...

    def server_folder(self, folder: str) -> str:
        """The source's own name for a folder; ConfigError for one it cannot hold."""
        ...

    def ensure_folder(self, folder: str) -> bool:
        """Create the folder unless it exists (True: created); FolderError when refused."""
        ...

    def move(self, refs: Sequence[MessageRef], folder: str) -> None:
        """Into the folder, created when missing; FolderError when it cannot be used."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FolderCheck:
    """One configured folder as the server has it: created now, there already, or a problem
    (`problem`: what the server or, with `config`, the configuration has against it)."""

    name: str  # the setting: application, auto ...
    folder: str  # the configured path
    server_name: str | None = None
    created: bool = False
    problem: str | None = None
    config: bool = False

    def line(self) -> str:
        where = f" ({self.server_name!r} on the server)" if self.server_name is not None else ""
        state = ("created" if self.created else "exists") if self.problem is None else (
            f"{'CONFIGURATION' if self.config else 'REFUSED'}: {self.problem}")
        return f"{self.name} {self.folder!r}{where}: {state}"


def check_folders(source: MailSource, folders: Mapping[str, str]) -> list[FolderCheck]:
    """Each folder created unless it exists, before any mail is moved into it. A lost
    connection is raised (MailboxError); a refused or impossible folder is reported."""
    checks = []
    for name, folder in folders.items():
        try:
            server_name = source.server_folder(folder)
        except ConfigError as exc:
            checks.append(FolderCheck(name, folder, problem=str(exc), config=True))
            continue
        try:
            created = source.ensure_folder(folder)
        except FolderError as exc:
            checks.append(FolderCheck(name, folder, server_name, problem=exc.said))
            continue
        checks.append(FolderCheck(name, folder, server_name, created=created))
    return checks


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verified TLS: the system's CAs, or the given CA file (a private CA, a test's own)."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
