"""The `[mail]` table: the mailbox, the SMTP server, folders as paths, and how we sign in.

Checked here without touching a server, so that a mistake is said at start.
"""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, Strict

from intake.core.programme import FILE_TABLE, Number, Switch, Text, Whole
from intake.errors import ConfigError

AUTH_METHODS = ("password", "xoauth2")
GRANTS = ("refresh_token", "client_credentials")


def _address(value: str) -> str:
    if value.count("@") != 1 or any(ch.isspace() or ch in ",;<>" for ch in value):
        raise ValueError("one e-mail address such as \"sekretare@skola.lv\"")
    return value


Address = Annotated[str, Strict(), AfterValidator(_address)]


@dataclass(frozen=True, slots=True)
class Folders:
    """Where handled mail is moved, by outcome (created when missing): paths with `/` between
    their parts, whatever the server's own delimiter (intake.mail.folders maps them)."""

    __pydantic_config__: ClassVar[ConfigDict] = FILE_TABLE

    application: Text = "Intake/Applications"
    auto: Text = "Intake/Automatic"
    correspondence: Text = "Intake/Correspondence"
    no_list: Text = "Intake/NoList"
    quarantined: Text = "Intake/Quarantine"


@dataclass(frozen=True, slots=True)
class MailSettings:
    """The mailbox we read, the server we send through, and how we behave as a correspondent."""

    __pydantic_config__: ClassVar[ConfigDict] = FILE_TABLE

    mailbox_url: Text = "maildir:var/mail/inbox"
    mailbox_password: str | None = field(default=None, repr=False)
    smtp_url: Text = "maildir:var/mail/sent"
    smtp_password: str | None = field(default=None, repr=False)
    tls_ca_file: Path | None = None
    address: Text = "supervizija@intake.invalid"
    staff: tuple[Address, ...] = ()
    folders: Folders = field(default_factory=Folders)
    poll_interval_seconds: Annotated[Whole, Field(ge=1, le=86_400)] = 60
    idle: Switch = True  # IMAP IDLE: a poll as soon as mail arrives (the interval stays the safety net)
    batch_size: Annotated[Whole, Field(ge=1, le=10_000)] = 50
    # a batch holds about this much mail at most
    batch_bytes: Annotated[Whole, Field(ge=1, le=2**40)] = 64 * 1024 * 1024
    # a poll with this many messages decides them in worker processes
    parallel_from: Annotated[Whole, Field(ge=1)] = 100
    timeout_seconds: Annotated[Number, Field(gt=0, le=3_600)] = 30.0
    max_message_bytes: Annotated[Whole, Field(ge=1, le=2**40)] = 25 * 1024 * 1024
    max_attempts: Annotated[Whole, Field(ge=1, le=100)] = 3  # then quarantined
    replies_per_recipient_per_day: Annotated[Whole, Field(ge=0, le=10_000)] = 5
    send_retries: Annotated[Whole, Field(ge=1, le=100)] = 5
    # the first retry's delay; each next one doubles, up to an hour
    send_retry_seconds: Annotated[Whole, Field(ge=0, le=3_600)] = 60
    # Sign-in: "password", or "xoauth2" (Microsoft 365, Gmail) with a token from intake.mail.oauth.
    mailbox_auth: Text = "password"
    smtp_auth: Text = "password"
    oauth_token_command: Text | None = None  # prints an access token; or the token endpoint below
    oauth_token_url: Text | None = None
    oauth_grant: Text = "refresh_token"  # or "client_credentials" (Microsoft 365 app-only)
    oauth_client_id: Text | None = None
    oauth_scope: Text | None = None
    oauth_client_secret: str | None = field(default=None, repr=False)
    oauth_refresh_token: str | None = field(default=None, repr=False)  # the first; rotated ones are saved

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()



# --- folders as paths ---------------------------------------------------------------------

SEPARATOR = "/"
LEGACY_SEPARATOR = "."  # `Intake.Applications`: a dotted path, read as parts
_FORBIDDEN = frozenset("*%") | {chr(c) for c in range(32)} | {"\x7f"}  # LIST wildcards, controls


def parse_folder(text: str) -> tuple[str, ...]:
    """The parts of a configured path. Without a `/`, dots separate the parts (the older dotted
    form, `Intake.Applications`); with one, dots belong to the names (`Intake/Pieteikumi 2.0`). A
    leading `/` keeps a top-level name whole (`/Pieteikumi 2.0`)."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"folder {text!r}: a folder needs a name, such as \"Intake/Applications\"")
    if text.startswith(SEPARATOR):
        parts = tuple(text[1:].split(SEPARATOR))
    elif SEPARATOR in text:
        parts = tuple(text.split(SEPARATOR))
    else:
        parts = tuple(text.split(LEGACY_SEPARATOR))
    for part in parts:
        if not part:
            raise ConfigError(f"folder {text!r}: an empty part (a separator at the start or the "
                              "end, or two together); write it as \"Intake/Applications\"")
        if part != part.strip():
            raise ConfigError(f"folder {text!r}: the part {part!r} starts or ends with a space")
        if bad := sorted(set(part) & _FORBIDDEN):
            raise ConfigError(f"folder {text!r}: the part {part!r} holds {bad[0]!r}, which no IMAP "
                              "server takes in a folder name")
    return parts


def folder_path(text: str) -> str:
    """The configured path in its `/` form: `Intake.Applications` becomes `Intake/Applications`."""
    parts = parse_folder(text)
    path = SEPARATOR.join(parts)
    # A single name with a dot was written with a leading `/` to keep it whole: it stays so.
    return SEPARATOR + path if len(parts) == 1 and LEGACY_SEPARATOR in path else path


def canonical_folders(folders: Folders, path: Path) -> Folders:
    """Each path in its `/` form; the older dotted form (`Intake.Applications`) is read as one."""
    paths = {}
    for item in fields(Folders):
        try:
            paths[item.name] = folder_path(getattr(folders, item.name))
        except ConfigError as exc:
            raise ConfigError(f"{path}: [mail.folders] {item.name}: {exc}") from None
    return Folders(**paths)



# --- sign-in ---------------------------------------------------------------------------------

def is_loopback(host: str) -> bool:
    """localhost or a loopback address: where plain IMAP/SMTP and http endpoints are allowed."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint_url(url: str) -> None:
    """https, or http on loopback only (a local test endpoint): the secrets travel in the body."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConfigError("oauth_token_url has no host")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)):
        if parts.password or parts.username:
            raise ConfigError("oauth_token_url must not hold credentials")
        return
    raise ConfigError("oauth_token_url must be https:// (plain http:// only on loopback)")


def check_sign_in(mail: MailSettings, path: Path) -> None:
    """At start: the sign-in methods and, where XOAUTH2 is used, one complete token source."""
    for name in ("mailbox_auth", "smtp_auth"):
        if getattr(mail, name) not in AUTH_METHODS:
            raise ConfigError(f"{path}: [mail] {name} must be one of {', '.join(AUTH_METHODS)}")
    if mail.oauth_grant not in GRANTS:
        raise ConfigError(f"{path}: [mail] oauth_grant must be one of {', '.join(GRANTS)}")
    if mail.oauth_token_url:
        check_endpoint_url(mail.oauth_token_url)
    if mail.oauth_token_command is not None:
        try:
            argv = shlex.split(mail.oauth_token_command)
        except ValueError as exc:
            raise ConfigError(f"oauth_token_command cannot be parsed: {exc}") from None
        if not argv:
            raise ConfigError("oauth_token_command is empty")
    users = {"mailbox": (mail.mailbox_auth, mail.mailbox_url),
             "SMTP": (mail.smtp_auth, mail.smtp_url)}
    used = False
    for what, (auth, url) in users.items():
        if auth != "xoauth2":
            continue
        used = True
        if url.startswith("maildir:"):
            raise ConfigError(f"{what} sign-in by xoauth2 needs a server URL, not {url[:8]}")
        if not urlsplit(url).username:
            raise ConfigError(f"{what} sign-in by xoauth2 needs the account in the URL "
                              "(imaps://USER@HOST/..., smtps://USER@HOST)")
    if not used:
        return
    if bool(mail.oauth_token_command) == bool(mail.oauth_token_url):
        raise ConfigError(f"{path}: xoauth2 sign-in needs either oauth_token_command or "
                          "oauth_token_url (with oauth_client_id), not both")
    if mail.oauth_token_url:
        if not mail.oauth_client_id:
            raise ConfigError(f"{path}: oauth_token_url needs oauth_client_id")
        if mail.oauth_grant == "client_credentials" and not (
                mail.oauth_client_secret and mail.oauth_scope):
            raise ConfigError("the client_credentials grant needs oauth_scope (Microsoft 365: "
                              "https://outlook.office365.com/.default) and the client secret "
                              "(INTAKE_OAUTH_CLIENT_SECRET or the oauth-client-secret credential)")
