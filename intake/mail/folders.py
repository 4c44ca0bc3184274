"""Folders for handled mail: a configured path (`Intake/Applications`) and a server's name for it.

A path is written with `/` between its parts whatever the server uses. The server's own name is
its personal namespace's prefix (`INBOX.` on Courier and Cyrus, often "" elsewhere) followed by
the parts joined by its hierarchy delimiter; non-ASCII names are sent in modified UTF-7 by
imapclient. A part that holds the delimiter cannot be said on that server: a configuration error.
"""

from __future__ import annotations

from dataclasses import dataclass

from imapclient import imap_utf7

from intake.config.mail import parse_folder
from intake.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Layout:
    """How a server names folders: its hierarchy delimiter (None: a flat server) and the prefix
    of its personal namespace."""

    delimiter: str | None
    prefix: str = ""

    def describe(self) -> str:
        delimiter = "none (a flat server)" if self.delimiter is None else repr(self.delimiter)
        return f"hierarchy delimiter {delimiter}, personal namespace prefix {self.prefix!r}"

    def server_name(self, folder: str) -> str:
        """The server's name for a configured path; ConfigError for one it cannot hold."""
        parts = parse_folder(folder)
        delimiter = self.delimiter
        if delimiter is None:
            if len(parts) > 1:
                raise ConfigError(f"folder {folder!r}: the server has no folder hierarchy "
                                  f"({self.describe()}); name a single folder, without '/'")
            return self.prefix + parts[0]
        for part in parts:
            if delimiter in part:
                raise ConfigError(
                    f"folder {folder!r}: its part {part!r} holds {delimiter!r}, which this server "
                    f"puts between folder names ({self.describe()}); rename the part without it")
        if len(parts) == 1 and parts[0].upper() == "INBOX":
            return "INBOX"
        prefix_parts = [p for p in self.prefix.split(delimiter) if p] if self.prefix else []
        given = list(parts[:len(prefix_parts)])
        if given and _same_parts(given, prefix_parts):
            # Written with the prefix already (`INBOX/Intake/Applications`): not prefixed twice.
            return delimiter.join(prefix_parts + list(parts[len(prefix_parts):]))
        return self.prefix + delimiter.join(parts)


def _same_parts(given: list[str], prefix: list[str]) -> bool:
    """INBOX is a name in any case (RFC 3501); every other name is the server's to compare."""
    return len(given) == len(prefix) and all(
        g == p or (index == 0 and g.upper() == p.upper() == "INBOX")
        for index, (g, p) in enumerate(zip(given, prefix, strict=True)))


MAILDIR_LAYOUT = Layout(".", "")


def maildir_name(folder: str) -> str:
    """The Maildir++ directory of a configured path (`.Intake.Applications`), its names in
    modified UTF-7 as Dovecot and Courier keep them on disk."""
    encoded: bytes = imap_utf7.encode(MAILDIR_LAYOUT.server_name(folder))
    return "." + encoded.decode("ascii")
