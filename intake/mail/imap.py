"""An IMAP folder as a mail source (imapclient): sign-in by password or XOAUTH2, UIDs under a
UIDVALIDITY, fetching without marking mail seen, MOVE (or COPY and expunge), and folders named as
the server's hierarchy and namespace have them."""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import imapclient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from intake.config.mail import is_loopback
from intake.errors import ConfigError, MailboxError
from intake.mail.folders import Layout
from intake.mail.source import FolderError, MessageRef, SignInRefused, tls_context
from intake.mail.xoauth2 import TokenError, TokenSource, XOAuth2, scrub

_T = TypeVar("_T")


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
        refused = SignInRefused if isinstance(exc, imapclient.exceptions.LoginError) else MailboxError
        raise refused(f"cannot log in to {host}:{port}: {type(exc).__name__}: {exc}") from exc
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
                raise SignInRefused(
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
