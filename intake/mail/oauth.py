"""OAuth2 access tokens for SASL XOAUTH2 sign-in: Microsoft 365 and Gmail refuse passwords for IMAP
and SMTP AUTH.

A token comes from one of two sources (the XOAUTH2 mechanism itself is in `xoauth2`):

- a command the operator configures (run without a shell; its standard output is the token), or
- the provider's token endpoint: the refresh-token grant (a delegated sign-in, Microsoft 365 or
  Gmail), whose rotated refresh tokens are saved under the state directory, or the
  client-credentials grant (Microsoft 365 app-only), in `token_endpoint`.

An access token from the endpoint is kept until shortly before it expires; a server that refuses
one makes the caller `invalidate()` it and ask once more. Tokens, secrets and a command's error
output never reach a log or an error message.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from intake.errors import ConfigError
from intake.mail.token_endpoint import EndpointSettings, EndpointTokenSource
from intake.mail.xoauth2 import TokenError, TokenSource

if TYPE_CHECKING:
    from intake.config import Settings
    from intake.config.mail import MailSettings

STORE_NAME = "oauth-refresh-token.json"  # under the state directory


# --- a command --------------------------------------------------------------------------------

class CommandTokenSource:
    """`oauth_token_command`: run (without a shell) at every sign-in; its standard output is the
    token. A helper that talks to the provider (oauth2l, az, a site's own script) caches as it
    sees fit; its standard error is never logged, as it may hold secrets."""

    def __init__(self, command: str, *, timeout: float) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise ConfigError(f"oauth_token_command cannot be parsed: {exc}") from None
        if not self.argv:
            raise ConfigError("oauth_token_command is empty")
        self.timeout = timeout

    def token(self) -> str:
        program = self.argv[0]
        try:
            process = subprocess.Popen(  # noqa: S603 - the operator's own command, without a shell
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise TokenError(f"cannot run oauth_token_command {program!r}: "
                             f"{exc.strerror or type(exc).__name__}") from None
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise TokenError(f"oauth_token_command {program!r} did not finish within "
                             f"{self.timeout:g} s") from None
        if process.returncode != 0:
            said = ""
            if err.strip():
                said = (f"; its {len(err.splitlines())} line(s) of error output are not logged, as "
                        "they may hold secrets: run it by hand as the service user to read them")
            raise TokenError(f"oauth_token_command {program!r} exited with status "
                             f"{process.returncode}{said}")
        token = out.decode("ascii", "replace").strip()
        if not token or any(c.isspace() or not c.isprintable() for c in token):
            raise TokenError(f"oauth_token_command {program!r} must print the access token alone, "
                             "on one line")
        return token

    def invalidate(self) -> None:
        return None  # every sign-in runs the command again


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """The command and whatever it started: nothing may keep running, or keep our pipes open."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


# --- wiring -----------------------------------------------------------------------------------

_sources: dict[object, TokenSource] = {}
_sources_lock = threading.Lock()


def token_source(settings: Settings) -> TokenSource:
    """The process's token source for this configuration: one, so that an access token is
    reused by every poll (and by IMAP and SMTP alike) until it is due for renewal."""
    mail = settings.mail
    key: EndpointSettings | tuple[str, float]
    if mail.oauth_token_command:
        key = (mail.oauth_token_command, mail.timeout_seconds)
    else:
        key = endpoint_settings(mail, settings.state_dir)
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            source = (CommandTokenSource(key[0], timeout=key[1]) if isinstance(key, tuple)
                      else EndpointTokenSource(key))
            _sources[key] = source
        return source


def endpoint_settings(mail: MailSettings, state_dir: Path) -> EndpointSettings:
    if not mail.oauth_token_url or not mail.oauth_client_id:
        raise ConfigError("XOAUTH2 needs oauth_token_command, or oauth_token_url and "
                          "oauth_client_id")
    return EndpointSettings(
        url=mail.oauth_token_url, grant=mail.oauth_grant, client_id=mail.oauth_client_id,
        scope=mail.oauth_scope, client_secret=mail.oauth_client_secret,
        refresh_token=mail.oauth_refresh_token,
        store=state_dir / STORE_NAME if mail.oauth_grant == "refresh_token" else None,
        ca_file=mail.tls_ca_file, timeout=mail.timeout_seconds)
