"""Settings and programmes: TOML files plus environment overrides, read once into frozen values."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intake.errors import ConfigError
from intake.folders import folder_path
from intake.formats import Limits
from intake.oauth import check_settings as check_oauth


class SplitPolicy(StrEnum):
    BALANCED = "balanced"  # 23 -> 8, 8, 7 (R4)
    FILL = "fill"  # 23 -> 10, 10, 3


@dataclass(frozen=True, slots=True)
class Programme:
    """A programme's rule parameters (R1, R3–R7, R10, R12): data, not code."""

    name: str
    title: str
    max_group_size: int = 10
    min_group_size: int = 0
    leaders_apart: bool = True
    split_policy: SplitPolicy = SplitPolicy.BALANCED
    one_supervision_per_educator: bool = False
    registry_match_required: bool = True
    open_from: date | None = None
    open_until: date | None = None
    target_supervisions: int | None = None  # R7
    supervision_cap: int | None = None  # R7, optional: wait-list beyond it
    min_supervisions_per_institution: int | None = None  # R6
    # Amendments (a list replying to a confirmation) are applied automatically while the programme
    # is open, up to this date and this many days after the application was accepted (e.g. until
    # groups are scheduled); later ones go to staff as correspondence.
    amendments_until: date | None = None
    amendment_days: int | None = None

    def is_open(self, today: date) -> bool:
        return (self.open_from is None or today >= self.open_from) and (
            self.open_until is None or today <= self.open_until)

    def accepts_amendment(self, accepted_on: date, today: date) -> bool:
        return self.is_open(today) and (
            self.amendments_until is None or today <= self.amendments_until) and (
            self.amendment_days is None or (today - accepted_on).days <= self.amendment_days)


@dataclass(frozen=True, slots=True)
class Folders:
    """Where handled mail is moved, by outcome (created when missing): paths with `/` between
    their parts, whatever the server's own delimiter (intake.folders maps them)."""

    application: str = "Intake/Applications"
    auto: str = "Intake/Automatic"
    correspondence: str = "Intake/Correspondence"
    no_list: str = "Intake/NoList"
    quarantined: str = "Intake/Quarantine"


@dataclass(frozen=True, slots=True)
class MailSettings:
    """The mailbox we read, the server we send through, and how we behave as a correspondent."""

    mailbox_url: str = "maildir:var/mail/inbox"
    mailbox_password: str | None = field(default=None, repr=False)
    smtp_url: str = "maildir:var/mail/sent"
    smtp_password: str | None = field(default=None, repr=False)
    tls_ca_file: Path | None = None
    address: str = "supervizija@intake.invalid"
    staff: tuple[str, ...] = ()
    folders: Folders = field(default_factory=Folders)
    poll_interval_seconds: int = 60
    idle: bool = True  # IMAP IDLE: a poll as soon as mail arrives (the interval stays the safety net)
    batch_size: int = 50
    batch_bytes: int = 64 * 1024 * 1024  # a batch holds about this much mail at most
    parallel_from: int = 100  # a poll with this many messages decides them in worker processes
    timeout_seconds: float = 30.0
    max_message_bytes: int = 25 * 1024 * 1024
    max_attempts: int = 3  # then quarantined
    replies_per_recipient_per_day: int = 5
    send_retries: int = 5
    send_retry_seconds: int = 60  # the first retry's delay; each next one doubles, up to an hour
    # Sign-in: "password", or "xoauth2" (Microsoft 365, Gmail) with a token from intake.oauth.
    mailbox_auth: str = "password"
    smtp_auth: str = "password"
    oauth_token_command: str | None = None  # prints an access token; or the token endpoint below
    oauth_token_url: str | None = None
    oauth_grant: str = "refresh_token"  # or "client_credentials" (Microsoft 365 app-only)
    oauth_client_id: str | None = None
    oauth_scope: str | None = None
    oauth_client_secret: str | None = field(default=None, repr=False)
    oauth_refresh_token: str | None = field(default=None, repr=False)  # the first; rotated ones are saved

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service needs to know, validated once at start."""

    config_dir: Path
    default_programme: str
    programmes: Mapping[str, Programme]
    state_dir: Path
    database_url: str
    templates_dir: Path
    limits: Limits = field(default_factory=Limits)
    mail: MailSettings = field(default_factory=MailSettings)
    timezone: str = "Europe/Riga"  # staff's days: the summary's day, export dates
    summary_time: time = time(7, 0)  # when the daily summary goes to the staff, local time
    retention_days: int = 90  # raw mail is purged this many days after it was decided (0: never)
    failpoint: str | None = None  # tests only: INTAKE_FAILPOINT kills the process at that step
    notify_socket: str | None = None  # systemd's NOTIFY_SOCKET, when it runs us as Type=notify

    def programme(self, name: str | None) -> Programme:
        wanted = name or self.default_programme
        try:
            return self.programmes[wanted]
        except KeyError:
            known = ", ".join(sorted(self.programmes))
            raise ConfigError(f"unknown programme {wanted!r}; configured: {known}") from None


def resource_dir(name: str) -> Path:
    """`templates` or `config`: inside an installed wheel, or at the top of a source checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_resources" / name, package.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"cannot find the bundled {name}/ directory")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read `INTAKE_CONFIG` (or the bundled config/intake.toml) and apply environment overrides."""
    env = os.environ if environ is None else environ
    path = Path(env["INTAKE_CONFIG"]) if env.get("INTAKE_CONFIG") else (
        resource_dir("config") / "intake.toml")
    raw = _read_toml(path)
    base = path.parent
    programmes_dir = base / str(raw.get("programmes_dir", "programmes"))
    programmes = load_programmes(programmes_dir)
    state_dir = Path(env.get("INTAKE_STATE_DIR") or str(raw.get("state_dir", "var")))
    if not state_dir.is_absolute():
        state_dir = Path.cwd() / state_dir
    database_url = env.get("INTAKE_DATABASE_URL") or str(
        raw.get("database_url") or f"sqlite:///{state_dir / 'intake.sqlite3'}")
    templates = raw.get("templates_dir")
    settings = Settings(
        config_dir=base,
        default_programme=str(raw.get("default_programme", "national")),
        programmes=programmes,
        state_dir=state_dir,
        database_url=database_url,
        templates_dir=(base / str(templates)) if templates else resource_dir("templates"),
        limits=_limits(raw.get("limits", {}), path),
        mail=_mail(raw.get("mail", {}), env, path, state_dir),
        **_staff(raw, path),
        failpoint=env.get("INTAKE_FAILPOINT") or None,
        notify_socket=env.get("NOTIFY_SOCKET") or None,
    )
    settings.programme(None)  # the default must exist
    return settings


def _staff(raw: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The staff's time zone, the summary's time and how long raw mail is kept."""
    values: dict[str, Any] = {}
    if "timezone" in raw:
        try:
            ZoneInfo(str(raw["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{path}: unknown timezone {raw['timezone']!r}") from None
        values["timezone"] = str(raw["timezone"])
    if "summary_time" in raw:
        try:
            values["summary_time"] = time.fromisoformat(str(raw["summary_time"]))
            if values["summary_time"].second or values["summary_time"].microsecond:
                raise ValueError("seconds")  # the daily job runs on the minute
        except ValueError:
            raise ConfigError(f"{path}: summary_time must be a time such as \"07:00\"") from None
    if "retention_days" in raw:
        days = raw["retention_days"]
        if not isinstance(days, int) or days < 0:
            raise ConfigError(f"{path}: retention_days must be a whole number of days (0: keep)")
        values["retention_days"] = days
    return values


def load_programmes(directory: Path) -> dict[str, Programme]:
    if not directory.is_dir():
        raise ConfigError(f"programmes directory {directory} does not exist")
    programmes = {}
    for path in sorted(directory.glob("*.toml")):
        programme = parse_programme(_read_toml(path), path)
        programmes[programme.name] = programme
    if not programmes:
        raise ConfigError(f"no programme files (*.toml) in {directory}")
    return programmes


def parse_programme(raw: Mapping[str, Any], path: Path) -> Programme:
    known = {f.name for f in fields(Programme)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; expected some of {sorted(known)}")
    try:
        values = dict(raw)
        if "split_policy" in values:
            values["split_policy"] = SplitPolicy(values["split_policy"])
        programme = Programme(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for name in ("open_from", "open_until", "amendments_until"):
        value = getattr(programme, name)
        if value is not None and not isinstance(value, date):
            raise ConfigError(f"{path}: {name} must be a date such as 2026-09-01")
    if not 1 <= programme.max_group_size <= 100 or programme.min_group_size < 0 or (
            programme.min_group_size > programme.max_group_size):
        raise ConfigError(f"{path}: group sizes must satisfy 0 <= min <= max, 1 <= max <= 100")
    if programme.amendment_days is not None and (
            not isinstance(programme.amendment_days, int) or programme.amendment_days < 0):
        raise ConfigError(f"{path}: amendment_days must be a whole number of days, 0 or more")
    return programme


_SECRET_KEYS = {"password", "mailbox_password", "smtp_password", "token", "secret", "client_secret",
                "refresh_token", "access_token", "oauth_client_secret", "oauth_refresh_token",
                "oauth_access_token"}


def _mail(raw: object, env: Mapping[str, str], path: Path, state_dir: Path) -> MailSettings:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [mail] must be a table")
    secrets = _SECRET_KEYS & set(raw)
    if secrets:
        raise ConfigError(f"{path}: [mail] must not hold secrets ({', '.join(sorted(secrets))}); "
                          "give them as INTAKE_MAILBOX_PASSWORD / INTAKE_SMTP_PASSWORD, "
                          "INTAKE_OAUTH_CLIENT_SECRET / INTAKE_OAUTH_REFRESH_TOKEN")
    values = dict(raw)
    folders = values.pop("folders", {})
    if not isinstance(folders, dict):
        raise ConfigError(f"{path}: [mail.folders] must be a table")
    overrides = {
        "mailbox_url": env.get("INTAKE_MAILBOX_URL"), "smtp_url": env.get("INTAKE_SMTP_URL"),
        "address": env.get("INTAKE_FROM"), "tls_ca_file": env.get("INTAKE_TLS_CA_FILE"),
    }
    values.update({k: v for k, v in overrides.items() if v})
    if env.get("INTAKE_STAFF") is not None:
        values["staff"] = [a.strip() for a in env["INTAKE_STAFF"].split(",") if a.strip()]
    try:
        mail = MailSettings(
            **{k: v for k, v in values.items() if k not in ("staff", "tls_ca_file")},
            staff=tuple(values.get("staff", ())),
            tls_ca_file=Path(values["tls_ca_file"]) if values.get("tls_ca_file") else None,
            folders=_folders(folders, path),
            mailbox_password=_secret(env, "INTAKE_MAILBOX_PASSWORD", "mailbox-password"),
            smtp_password=_secret(env, "INTAKE_SMTP_PASSWORD", "smtp-password"),
            oauth_client_secret=_secret(env, "INTAKE_OAUTH_CLIENT_SECRET", "oauth-client-secret"),
            oauth_refresh_token=_secret(env, "INTAKE_OAUTH_REFRESH_TOKEN", "oauth-refresh-token"),
        )
    except TypeError as exc:
        raise ConfigError(f"{path}: [mail]: {exc}") from None
    _check_url(mail.mailbox_url, "mailbox", ("imaps", "imap", "maildir"))
    _check_url(mail.smtp_url, "SMTP", ("smtps", "smtp+starttls", "smtp", "maildir"))
    for url in (mail.mailbox_url, mail.smtp_url):
        if urlsplit(url).password:
            raise ConfigError("a password in a mailbox or SMTP URL is refused: give it as "
                              "INTAKE_MAILBOX_PASSWORD / INTAKE_SMTP_PASSWORD")
    if "@" not in mail.address:
        raise ConfigError(f"{path}: [mail] address must be an e-mail address (INTAKE_FROM)")
    if mail.tls_ca_file is not None and not mail.tls_ca_file.is_file():
        raise ConfigError(f"CA file {mail.tls_ca_file} does not exist")
    check_oauth(mail, path)
    return _anchor_maildirs(mail, state_dir)


def _folders(raw: Mapping[str, Any], path: Path) -> Folders:
    """Each path in its `/` form; the older dotted form (`Intake.Applications`) is read as one."""
    paths = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: [mail.folders] {key} must be a folder path, such as "
                              "\"Intake/Applications\"")
        try:
            paths[key] = folder_path(value)
        except ConfigError as exc:
            raise ConfigError(f"{path}: [mail.folders] {key}: {exc}") from None
    return Folders(**paths)


def _check_url(url: str, what: str, schemes: tuple[str, ...]) -> None:
    scheme = url.partition(":")[0]
    if scheme not in schemes:
        raise ConfigError(f"{what} URL must start with {', '.join(s + ':' for s in schemes)} "
                          f"(got {scheme!r})")
    if scheme != "maildir" and not urlsplit(url).hostname:
        raise ConfigError(f"{what} URL has no host")


def _secret(env: Mapping[str, str], variable: str, credential: str) -> str | None:
    """A secret from the environment, or from systemd's LoadCredential= directory."""
    if env.get(variable):
        return env[variable]
    directory = env.get("CREDENTIALS_DIRECTORY")
    if directory:
        path = Path(directory) / credential
        if path.is_file():
            return path.read_text(encoding="utf-8").strip() or None
    return None


def _anchor_maildirs(mail: MailSettings, state_dir: Path) -> MailSettings:
    """`maildir:var/mail/inbox` is relative to the state directory's parent, like `state_dir`."""
    def anchored(url: str) -> str:
        if not url.startswith("maildir:"):
            return url
        folder = Path(url.removeprefix("maildir:"))
        if not folder.is_absolute():
            folder = state_dir.parent / folder
        return f"maildir:{folder}"
    return replace(mail, mailbox_url=anchored(mail.mailbox_url), smtp_url=anchored(mail.smtp_url))


def _limits(raw: object, path: Path) -> Limits:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [limits] must be a table")
    try:
        return Limits(**raw)
    except TypeError as exc:
        raise ConfigError(f"{path}: [limits]: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
