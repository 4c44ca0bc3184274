"""Settings and programmes: TOML files plus environment overrides, read once into frozen values."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    create_model,
)

from intake.config.checks import Table, check_table
from intake.config.mail import Folders, MailSettings, canonical_folders, check_sign_in
from intake.core.formats import Limits
from intake.core.programme import FILE_TABLE, Programme, Text, Whole
from intake.errors import ConfigError


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError("a time zone such as \"Europe/Riga\"") from None
    return name


def _clock(value: object) -> object:
    """`"07:00"` or TOML's own `07:00:00`; on the minute, since the daily job runs on the minute."""
    if isinstance(value, str):
        try:
            value = time.fromisoformat(value)
        except ValueError:
            raise ValueError("a time such as \"07:00\"") from None
    if isinstance(value, time) and (value.second or value.microsecond):
        raise ValueError("a time on the minute, such as \"07:00\"")
    return value


TimeZone = Annotated[str, Strict(), AfterValidator(_zone)]
ClockTime = Annotated[time, Strict(), BeforeValidator(_clock)]  # not 7, which pydantic reads as 00:00:07


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
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_resources" / name, package.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"cannot find the bundled {name}/ directory")


class _IntakeFile(BaseModel):
    """The top level of intake.toml; its tables are checked on their own (`limits`, `mail`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_programme: Text = "national"
    programmes_dir: Text = "programmes"
    state_dir: Text = "var"
    database_url: Text | None = None
    templates_dir: Text | None = None
    timezone: TimeZone = "Europe/Riga"
    summary_time: ClockTime = time(7, 0)
    retention_days: Annotated[Whole, Field(ge=0, le=36_500)] = 90
    limits: dict[str, Any] = Field(default_factory=dict)
    mail: dict[str, Any] = Field(default_factory=dict)


# Every bound of a workbook is a positive whole number.
_LimitsTable = create_model(  # type: ignore[call-overload]
    "_LimitsTable", __config__=FILE_TABLE,
    **{f.name: (Annotated[Whole, Field(ge=1)], f.default) for f in fields(Limits)})
_SECRET_KEYS = {"password", "mailbox_password", "smtp_password", "token", "secret", "client_secret",
                "refresh_token", "access_token", "oauth_client_secret", "oauth_refresh_token",
                "oauth_access_token"}
_SECRET_FIELDS = ("mailbox_password", "smtp_password", "oauth_client_secret", "oauth_refresh_token")
# The keys each table of intake.toml takes, for "did you mean" and for the documentation.
FILE_TABLES: dict[Table, tuple[str, ...]] = {
    (): tuple(_IntakeFile.model_fields),
    ("limits",): tuple(f.name for f in fields(Limits)),
    ("mail",): tuple(f.name for f in fields(MailSettings) if f.name not in _SECRET_FIELDS),
    ("mail", "folders"): tuple(f.name for f in fields(Folders)),
}
PROGRAMME_TABLES: dict[Table, tuple[str, ...]] = {(): tuple(f.name for f in fields(Programme))}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read `INTAKE_CONFIG` (or the bundled config/intake.toml) and apply environment overrides."""
    env = os.environ if environ is None else environ
    path = Path(env["INTAKE_CONFIG"]) if env.get("INTAKE_CONFIG") else (
        resource_dir("config") / "intake.toml")
    raw = _read_toml(path)
    if isinstance(raw.get("mail"), dict):
        _refuse_secrets(raw["mail"], path)
    top = check_table(TypeAdapter(_IntakeFile), raw, path=path, table=(), tables=FILE_TABLES)
    base = path.parent
    programmes = load_programmes(base / top.programmes_dir)
    state_dir = Path(env.get("INTAKE_STATE_DIR") or top.state_dir)
    if not state_dir.is_absolute():
        state_dir = Path.cwd() / state_dir
    database_url = env.get("INTAKE_DATABASE_URL") or top.database_url or (
        f"sqlite:///{state_dir / 'intake.sqlite3'}")
    _check_database_url(database_url, "INTAKE_DATABASE_URL" if env.get("INTAKE_DATABASE_URL")
                        else f"{path}: database_url")
    limits = check_table(TypeAdapter(_LimitsTable), top.limits, path=path, table=("limits",),
                         tables=FILE_TABLES)
    settings = Settings(
        config_dir=base,
        default_programme=top.default_programme,
        programmes=programmes,
        state_dir=state_dir,
        database_url=database_url,
        templates_dir=(base / top.templates_dir) if top.templates_dir else resource_dir("templates"),
        limits=Limits(**limits.model_dump()),
        mail=_mail(top.mail, env, path, state_dir),
        timezone=top.timezone,
        summary_time=top.summary_time,
        retention_days=top.retention_days,
        failpoint=env.get("INTAKE_FAILPOINT") or None,
        notify_socket=env.get("NOTIFY_SOCKET") or None,
    )
    if not settings.templates_dir.is_dir():
        raise ConfigError(f"{path}: templates_dir = {top.templates_dir!r}: expected an existing "
                          f"folder of templates ({settings.templates_dir} is none)")
    if state_dir.exists() and not state_dir.is_dir():
        raise ConfigError(f"{path}: state_dir = {str(state_dir)!r}: expected a folder, found a file "
                          "(INTAKE_STATE_DIR overrides it)")
    if top.default_programme not in programmes:
        raise ConfigError(f"{path}: default_programme = {top.default_programme!r}: unknown programme "
                          f"{top.default_programme!r}; configured: {', '.join(sorted(programmes))}")
    return settings


def load_programmes(directory: Path) -> dict[str, Programme]:
    if not directory.is_dir():
        raise ConfigError(f"programmes directory {directory} does not exist")
    programmes: dict[str, Programme] = {}
    for path in sorted(directory.glob("*.toml")):
        programme = parse_programme(_read_toml(path), path)
        if not programme.enabled:
            continue  # a shipped example, or a programme switched off
        if programme.name in programmes:
            raise ConfigError(f"{path}: name = {programme.name!r}: another file names its programme so")
        programmes[programme.name] = programme
    if not programmes:
        raise ConfigError(f"no enabled programme files (*.toml) in {directory}")
    return programmes


def parse_programme(raw: Mapping[str, Any], path: Path) -> Programme:
    programme = check_table(TypeAdapter(Programme), raw, path=path, table=(), tables=PROGRAMME_TABLES)
    if programme.min_group_size > programme.max_group_size:
        raise ConfigError(f"{path}: min_group_size = {programme.min_group_size}: expected at most "
                          f"max_group_size ({programme.max_group_size})")
    if programme.open_from and programme.open_until and programme.open_from > programme.open_until:
        raise ConfigError(f"{path}: open_from = {programme.open_from}: expected on or before "
                          f"open_until ({programme.open_until})")
    if programme.merge_below > programme.max_group_size:
        raise ConfigError(f"{path}: merge_below = {programme.merge_below}: expected at most "
                          f"max_group_size ({programme.max_group_size})")
    if programme.partners_file:
        programme = replace(programme, partners=(
            *programme.partners, *_partners(path.parent / programme.partners_file, path)))
    return programme


def _partners(file: Path, path: Path) -> tuple[str, ...]:
    """A partner list: one registration number or name a line; `#` begins a comment."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: partners_file = {str(file)!r}: cannot read it "
                          f"({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: partners_file = {str(file)!r}: expected UTF-8 text") from None
    partners = tuple(line for raw in text.splitlines() if (line := raw.partition("#")[0].strip()))
    if not partners:
        raise ConfigError(f"{path}: partners_file = {str(file)!r}: the file lists no institution")
    return partners


def _refuse_secrets(table: Mapping[str, Any], path: Path) -> None:
    secrets = _SECRET_KEYS & set(table)
    if secrets:
        raise ConfigError(f"{path}: [mail] must not hold secrets ({', '.join(sorted(secrets))}); "
                          "give them as INTAKE_MAILBOX_PASSWORD / INTAKE_SMTP_PASSWORD, "
                          "INTAKE_OAUTH_CLIENT_SECRET / INTAKE_OAUTH_REFRESH_TOKEN")


def _mail(raw: Mapping[str, Any], env: Mapping[str, str], path: Path, state_dir: Path) -> MailSettings:
    values = dict(raw)
    overrides = {
        "mailbox_url": env.get("INTAKE_MAILBOX_URL"), "smtp_url": env.get("INTAKE_SMTP_URL"),
        "address": env.get("INTAKE_FROM"), "tls_ca_file": env.get("INTAKE_TLS_CA_FILE"),
    }
    values.update({k: v for k, v in overrides.items() if v})
    if env.get("INTAKE_STAFF") is not None:
        values["staff"] = [a.strip() for a in env["INTAKE_STAFF"].split(",") if a.strip()]
    values.update({
        "mailbox_password": _secret(env, "INTAKE_MAILBOX_PASSWORD", "mailbox-password"),
        "smtp_password": _secret(env, "INTAKE_SMTP_PASSWORD", "smtp-password"),
        "oauth_client_secret": _secret(env, "INTAKE_OAUTH_CLIENT_SECRET", "oauth-client-secret"),
        "oauth_refresh_token": _secret(env, "INTAKE_OAUTH_REFRESH_TOKEN", "oauth-refresh-token"),
    })
    mail = check_table(TypeAdapter(MailSettings), values, path=path, table=("mail",), tables=FILE_TABLES)
    mail = replace(mail, folders=canonical_folders(mail.folders, path))
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
    check_sign_in(mail, path)
    return _anchor_maildirs(mail, state_dir)


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


def _check_database_url(url: str, where: str) -> None:
    """SQLite or PostgreSQL, said at start rather than as a failure of the first connection."""
    scheme = url.partition("://")[0].partition("+")[0] if "://" in url else ""
    if scheme not in ("sqlite", "postgresql"):
        shown = urlsplit(url)._replace(netloc=urlsplit(url).hostname or "").geturl() if "@" in url else url
        raise ConfigError(f"{where} = {shown!r}: expected a database URL starting with sqlite:/// "
                          "or postgresql+psycopg://")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"configuration file {path} is a folder, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"configuration file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (save it as UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
