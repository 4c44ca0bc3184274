"""A local Maildir as a mail source: new mail read from new/ and cur/, handled mail renamed into a
Maildir++ subfolder per outcome."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from intake.errors import ConfigError, MailboxError
from intake.mail.folders import MAILDIR_LAYOUT, Layout, maildir_name
from intake.mail.source import FolderError, MessageRef


class MaildirSource:
    """A local Maildir (Maildir++ subfolders for outcomes): the embedded default, and for hosts
    whose MTA delivers to disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = f"maildir:{root}"
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    def _path(self, ref: MessageRef) -> Path:
        for sub in ("new", "cur"):
            path = self.root / sub / ref.location
            if path.exists():
                return path
        raise MailboxError(f"{ref.location} is gone from {self.root}")

    def list_new(self) -> list[MessageRef]:
        refs = []
        for sub in ("new", "cur"):
            for entry in sorted(os.scandir(self.root / sub), key=lambda e: e.name):
                if entry.is_file() and not entry.name.startswith("."):
                    refs.append(MessageRef(entry.name, entry.stat().st_size))
        return refs

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        for ref in refs:
            try:
                yield ref, self._path(ref).read_bytes()
            except OSError as exc:
                raise MailboxError(f"cannot read {ref.location}: {exc.strerror}") from exc

    def fetch_header(self, ref: MessageRef) -> bytes:
        with self._path(ref).open("rb") as handle:
            head = handle.read(256 * 1024)
        return head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]

    def layout(self) -> Layout:
        return MAILDIR_LAYOUT

    def server_folder(self, folder: str) -> str:
        return maildir_name(folder)

    def ensure_folder(self, folder: str) -> bool:
        target = self.root / self.server_folder(folder)
        created = not (target / "cur").is_dir()
        try:
            for sub in ("tmp", "new", "cur"):
                (target / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FolderError(folder, target.name, f"cannot create {target}: {exc.strerror}",
                              MAILDIR_LAYOUT) from exc
        return created

    def move(self, refs: Sequence[MessageRef], folder: str) -> None:
        try:
            target = self.root / self.server_folder(folder)
        except ConfigError as exc:
            raise FolderError(folder, None, str(exc), MAILDIR_LAYOUT) from exc
        self.ensure_folder(folder)
        for ref in refs:
            source = self._path(ref)
            name = ref.location if ":2," in ref.location else f"{ref.location}:2,S"
            try:
                source.rename(target / "cur" / name)
            except OSError as exc:
                raise FolderError(folder, target.name, f"cannot move mail into {target}: "
                                  f"{exc.strerror}", MAILDIR_LAYOUT) from exc

    def close(self) -> None:
        return None
