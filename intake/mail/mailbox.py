"""Mail sources: an IMAP folder (imapclient) or a local Maildir. Fetch what is new, move what is done.

Nothing here decides anything: the pipeline acknowledges (moves) a message only after its outcome
is committed, so a crash at any point leaves the message where the next poll finds it again.
Folders are named by configured paths (`Intake/Applications`); each source maps them to its own
names (intake.mail.folders). A folder the server refuses is a FolderError, an outage a MailboxError.
"""

from __future__ import annotations

import contextlib
import os
import re
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import unquote, urlsplit

import imapclient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from intake.config.mail import is_loopback
from intake.errors import ConfigError, MailboxError
from intake.mail.folders import MAILDIR_LAYOUT, Layout, maildir_name
from intake.mail.xoauth2 import TokenError, TokenSource, XOAuth2, scrub

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class MessageRef:
    location: str  # "UIDVALIDITY:UID" on IMAP, the file name in a Maildir
    size: int


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


def open_source(url: str, *, password: str | None, ca_file: Path | None,
                timeout: float, tokens: TokenSource | None = None) -> MailSource:
    if url.startswith("maildir:"):
        return MaildirSource(Path(url.removeprefix("maildir:")))
    if url.startswith(("imap://", "imaps://")):
        return connect_imap(url, password=password, ca_file=ca_file, timeout=timeout,
                            tokens=tokens)
    raise ConfigError(f"mailbox URL must start with imaps://, imap:// or maildir: (got {url[:20]!r})")


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verified TLS: the system's CAs, or the given CA file (a private CA, a test's own)."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def with_retries(action: Callable[[], MailSource], *, attempts: int = 3, delay: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> MailSource:
    """Reconnect with exponential backoff; the last failure is raised."""
    for attempt in range(attempts):
        try:
            return action()
        except MailboxError:
            if attempt == attempts - 1:
                raise
            sleep(delay * 2**attempt)
    raise AssertionError("unreachable")


# --- IMAP -------------------------------------------------------------------------------------

def connect_imap(url: str, *, password: str | None, ca_file: Path | None,
                 timeout: float, tokens: TokenSource | None = None) -> ImapSource:
    """Signs in with the password, or by SASL XOAUTH2 with an access token from `tokens`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    implicit_tls = parts.scheme == "imaps"
    port = parts.port or (993 if implicit_tls else 143)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    user = unquote(parts.username or "")
    if not host or not user:
        raise ConfigError("mailbox URL needs a user and a host: imaps://USER@HOST[:PORT]/FOLDER")
    if password is None and tokens is None:
        raise ConfigError("INTAKE_MAILBOX_PASSWORD is not set")
    context = tls_context(ca_file)
    try:
        client = imapclient.IMAPClient(host, port=port, ssl=implicit_tls, ssl_context=context,
                                       timeout=timeout)
    except (IMAPClientError, OSError, ssl.SSLError) as exc:
        raise MailboxError(f"cannot connect to {host}:{port}: {type(exc).__name__}: {exc}") from exc
    try:
        if not implicit_tls:
            if b"STARTTLS" in client.capabilities():
                client.starttls(context)
            elif not is_loopback(host):
                raise ConfigError(f"{host} offers no STARTTLS; plain IMAP is allowed on loopback only")
        if tokens is not None:
            _xoauth2_login(client, user, tokens, f"{host}:{port}")
        else:
            client.login(user, password)
    except (ConfigError, MailboxError, IMAPClientError, OSError, ssl.SSLError) as exc:
        with contextlib.suppress(OSError):
            client.shutdown()  # a failed login must not leave its socket open
        if isinstance(exc, ConfigError | MailboxError):
            raise
        raise MailboxError(f"cannot log in to {host}:{port}: {type(exc).__name__}: {exc}") from exc
    return ImapSource(client, f"imap://{user}@{host}:{port}/{folder}", folder)


def _xoauth2_login(client: imapclient.IMAPClient, user: str, tokens: TokenSource,
                   where: str) -> None:
    """AUTHENTICATE XOAUTH2. A refused token (revoked, or expired early) is replaced once."""
    for attempt in (1, 2):
        try:
            token = tokens.token()
        except TokenError as exc:
            raise MailboxError(f"no OAuth2 access token for the mailbox: {exc}") from None
        exchange = XOAuth2(user, token)
        try:
            client.sasl_login("XOAUTH2", exchange)
            return
        except imapclient.exceptions.LoginError as exc:
            tokens.invalidate()
            if attempt == 2:
                said = scrub(str(exc), token)
                raise MailboxError(
                    f"{where} refused the XOAUTH2 sign-in as {user} twice, the second time with "
                    f"a token asked for anew ({exchange.error or 'refused'}; {said}). Check that "
                    "the token is for this account and carries IMAP access (Microsoft 365: "
                    "IMAP.AccessAsUser.All, or IMAP.AccessAsApp with the app's service principal "
                    "given access to the mailbox; Gmail: https://mail.google.com/) and that IMAP "
                    "is enabled for the mailbox") from None
    raise AssertionError("unreachable")


class ImapSource:
    """An IMAP folder: UIDs under a UIDVALIDITY; MOVE, or COPY + \\Deleted + UID EXPUNGE."""

    def __init__(self, client: imapclient.IMAPClient, name: str, folder: str) -> None:
        self.client = client
        self.name = name
        self.folder = folder
        self.uidvalidity = 0
        self._folders: set[str] = set()  # server names known to exist on this connection
        self._layout: Layout | None = None

    def _call(self, what: str, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except (TimeoutError, IMAPClientError, OSError, ssl.SSLError) as exc:
            raise MailboxError(f"{what} failed: {type(exc).__name__}: {exc}") from exc

    def _folder_call(self, folder: str, server_name: str, what: str, action: Callable[[], _T]) -> _T:
        """A command on a folder: the server's refusal (NO, BAD) is the folder's FolderError, a
        lost connection stays a MailboxError."""
        try:
            return action()
        except (TimeoutError, IMAPClientAbortError, OSError, ssl.SSLError) as exc:
            raise MailboxError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
        except IMAPClientError as exc:
            raise FolderError(folder, server_name, f"{what} answered: {_answer(exc)}",
                              self.layout()) from exc

    def layout(self) -> Layout:
        """The hierarchy delimiter (LIST "" "") and the personal namespace's prefix (NAMESPACE,
        where the server has it); asked once per connection."""
        if self._layout is None:
            listed = self._call("LIST", lambda: self.client.list_folders("", ""))
            delimiter = _text(listed[0][1]) if listed else None
            prefix = ""
            if self._call("CAPABILITY", lambda: self.client.has_capability("NAMESPACE")):
                personal = self._call("NAMESPACE", self.client.namespace).personal
                if personal:
                    prefix = _text(personal[0][0]) or ""
                    delimiter = _text(personal[0][1]) or delimiter
            self._layout = Layout(delimiter, prefix)
        return self._layout

    def server_folder(self, folder: str) -> str:
        name = self.layout().server_name(folder)
        if name == self.folder or name.upper() == self.folder.upper() == "INBOX":
            raise ConfigError(f"folder {folder!r} is {self.folder!r}, the folder the intake reads: "
                              "handled mail must go elsewhere")
        return name

    def list_new(self) -> list[MessageRef]:
        selected = self._call("SELECT", lambda: self.client.select_folder(self.folder))
        self.uidvalidity = int(selected[b"UIDVALIDITY"])
        uids = self._call("SEARCH", lambda: self.client.search(["UNDELETED"]))
        refs: list[MessageRef] = []
        for start in range(0, len(uids), 500):
            chunk = uids[start:start + 500]
            sizes = self._fetch_sizes(chunk)
            refs.extend(MessageRef(f"{self.uidvalidity}:{uid}", int(str(data[b"RFC822.SIZE"])))
                        for uid, data in sorted(sizes.items()))
        return refs

    def _fetch_sizes(self, uids: list[int]) -> dict[int, dict[bytes, object]]:
        result: dict[int, dict[bytes, object]] = self._call(
            "FETCH SIZE", lambda: self.client.fetch(uids, ["RFC822.SIZE"]))
        return result

    def _uid(self, ref: MessageRef) -> int:
        uidvalidity, _, uid = ref.location.partition(":")
        if int(uidvalidity) != self.uidvalidity:
            raise MailboxError("UIDVALIDITY changed during the poll")
        return int(uid)

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        by_uid = {self._uid(r): r for r in refs}
        # BODY.PEEK[] leaves \\Seen alone: reading is not acknowledging.
        data = self._call("FETCH", lambda: self.client.fetch(list(by_uid), ["BODY.PEEK[]"]))
        for uid, ref in by_uid.items():
            body = data.get(uid, {}).get(b"BODY[]")
            if isinstance(body, bytes):
                yield ref, body

    def fetch_header(self, ref: MessageRef) -> bytes:
        uid = self._uid(ref)
        data = self._call("FETCH HEADER", lambda: self.client.fetch([uid], ["BODY.PEEK[HEADER]"]))
        header = data.get(uid, {}).get(b"BODY[HEADER]", b"")
        return header if isinstance(header, bytes) else b""

    def move(self, refs: Sequence[MessageRef], folder: str) -> None:
        """MOVE, or (a server without it) COPY, \\Deleted and UID EXPUNGE of these messages only
        (a plain EXPUNGE where the server has no UIDPLUS)."""
        if not refs:
            return
        try:
            name = self.server_folder(folder)
        except ConfigError as exc:  # a poll goes on: the operator is told, the mail waits
            raise FolderError(folder, None, str(exc), self.layout()) from exc
        self.ensure_folder(folder)
        uids = [self._uid(r) for r in refs]
        if self._call("CAPABILITY", lambda: self.client.has_capability("MOVE")):
            self._folder_call(folder, name, "MOVE", lambda: self.client.move(uids, name))
            return
        self._folder_call(folder, name, "COPY", lambda: self.client.copy(uids, name))
        self._call("STORE", lambda: self.client.add_flags(uids, [imapclient.DELETED]))
        if self._call("CAPABILITY", lambda: self.client.has_capability("UIDPLUS")):
            self._call("EXPUNGE", lambda: self.client.uid_expunge(uids))
        else:
            self._call("EXPUNGE", lambda: self.client.expunge())

    def ensure_folder(self, folder: str) -> bool:
        name = self.server_folder(folder)
        if name in self._folders:
            return False
        listed = self._folder_call(folder, name, "LIST",
                                   lambda: self.client.list_folders("", name))
        # A parent that exists only as a level of the hierarchy (\Noselect) holds no mail.
        exists = any(_text(found) == name and not {b"\\NOSELECT", b"\\NONEXISTENT"} & {
            bytes(flag).upper() for flag in flags} for flags, _delimiter, found in listed)
        created = False
        if not exists:
            try:
                self._folder_call(folder, name, "CREATE", lambda: self.client.create_folder(name))
                created = True
            except FolderError as exc:
                if "ALREADYEXISTS" not in exc.said.upper():  # made meanwhile by another client
                    raise
            # Mail clients that show subscribed folders only show it too; a refusal costs nothing.
            with contextlib.suppress(MailboxError):
                self._folder_call(folder, name, "SUBSCRIBE",
                                  lambda: self.client.subscribe_folder(name))
        self._folders.add(name)
        return created

    def close(self) -> None:
        # Closing a broken connection: nothing is left to save.
        with contextlib.suppress(TimeoutError, IMAPClientError, OSError, ssl.SSLError):
            self.client.logout()


def _text(value: object) -> str | None:
    """A delimiter, prefix or name as imapclient gives it (bytes or str; None for NIL)."""
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


_TIMING = re.compile(r"\s*\(\d+\.\d+(?: \+ \d+\.\d+)* secs\)\.?$")


def _answer(exc: IMAPClientError) -> str:
    """What the server said, without imapclient's `create failed:` and Dovecot's timings."""
    said = str(exc)
    said = said.split(" failed: ", 1)[1] if " failed: " in said else said
    return _TIMING.sub("", said)[:300]


# --- Maildir ----------------------------------------------------------------------------------

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
