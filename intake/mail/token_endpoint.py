"""An OAuth2 token endpoint as a token source (RFC 6749): the refresh-token grant (a delegated
sign-in, Microsoft 365 or Gmail), whose rotated refresh tokens are saved under the state directory,
or the client-credentials grant (Microsoft 365 app-only). Its access token is kept until shortly
before it expires; requests go over TLS (or to loopback), never through a redirect."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import ssl
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPMessage
from pathlib import Path
from typing import IO
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit

from intake.config.mail import is_loopback
from intake.errors import ConfigError
from intake.mail.xoauth2 import TokenError, scrub

log = logging.getLogger(__name__)

_MAX_RESPONSE_BYTES = 1024 * 1024
_DEFAULT_LIFETIME = 300  # seconds, when the endpoint does not say (expires_in is only RECOMMENDED)
_MARGIN = 300  # an access token is renewed this long before it expires (at most half its life)


@dataclass(frozen=True, slots=True)
class EndpointSettings:
    url: str
    grant: str
    client_id: str
    scope: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)  # the initial one, as configured
    store: Path | None = None  # where rotated refresh tokens are kept (refresh-token grant)
    ca_file: Path | None = None
    timeout: float = 30.0


class EndpointTokenSource:
    """OAuth2 token endpoint (RFC 6749): the refresh-token or the client-credentials grant.

    A refresh token the endpoint rotates is saved at once (0600, written atomically, under a lock
    shared with other `intake` processes on the same state directory). The saved one is used for
    as long as the configured initial refresh token is the one it descends from: an operator who
    signs in again and configures a new refresh token replaces it.
    """

    def __init__(self, settings: EndpointSettings, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._access: str | None = None
        self._renew_at = 0.0
        self._unsaved: str | None = None  # a rotated refresh token that could not be saved
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._access is not None and self.clock() < self._renew_at:
                return self._access
            self._access = None
            started = self.clock()
            if self.settings.grant == "client_credentials":
                answer = self._request({"grant_type": "client_credentials"})
            else:
                answer = self._refresh_grant()
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                raise TokenError("the token endpoint answered without an access_token")
            lifetime = _lifetime(answer.get("expires_in"))
            self._access = token
            self._renew_at = started + lifetime - min(_MARGIN, lifetime / 2)
            return token

    def invalidate(self) -> None:
        with self._lock:
            self._access = None

    def _refresh_grant(self) -> dict[str, object]:
        store = self.settings.store
        with _file_lock(store):
            current = self._current_refresh_token()
            answer = self._request({"grant_type": "refresh_token", "refresh_token": current})
            rotated = answer.get("refresh_token")
            if isinstance(rotated, str) and rotated and (rotated != current or self._unsaved):
                self._unsaved = rotated
                if store is not None:
                    try:
                        _save(store, {"refresh_token": rotated,
                                      "seed": _fingerprint(self.settings.refresh_token)})
                        self._unsaved = None
                    except OSError as exc:
                        # It is used from memory meanwhile, and saved at the next refresh.
                        log.error("cannot save the rotated OAuth2 refresh token to %s: %s",
                                  store, exc.strerror or type(exc).__name__)
            return answer

    def _current_refresh_token(self) -> str:
        """The saved refresh token while it descends from the configured one (or none is
        configured any more), else the configured one. Read anew each time: another process may
        have rotated it."""
        if self._unsaved is not None:
            return self._unsaved
        configured = self.settings.refresh_token
        saved = _load(self.settings.store) if self.settings.store is not None else None
        if saved is not None and (configured is None
                                  or saved.get("seed") == _fingerprint(configured)):
            token = saved.get("refresh_token")
            if isinstance(token, str) and token:
                return token
        if configured:
            return configured
        raise ConfigError("no OAuth2 refresh token: give the one from the first sign-in as "
                          "INTAKE_OAUTH_REFRESH_TOKEN or the oauth-refresh-token credential")

    def _request(self, form: dict[str, str]) -> dict[str, object]:
        s = self.settings
        form = {**form, "client_id": s.client_id}
        if s.client_secret:
            form["client_secret"] = s.client_secret
        if s.scope:
            form["scope"] = s.scope
        secrets = (s.client_secret, form.get("refresh_token"))
        request = urllib.request.Request(  # noqa: S310 - https, or http on loopback (checked)
            s.url, data=urlencode(form).encode("ascii"), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json"})
        grant = form["grant_type"]
        try:
            with _opener(s.url, s.ca_file).open(request, timeout=s.timeout) as response:
                body = response.read(_MAX_RESPONSE_BYTES)
        except HTTPError as exc:
            with exc:
                detail = _oauth_error(exc.read(_MAX_RESPONSE_BYTES))
            hint = ""
            if detail.startswith("invalid_grant") and grant == "refresh_token":
                hint = ("; the refresh token is no longer valid (expired, revoked, or the password "
                        "changed): sign in again and give the new refresh token as "
                        "INTAKE_OAUTH_REFRESH_TOKEN or the oauth-refresh-token credential")
            elif detail.startswith(("invalid_client", "unauthorized_client")):
                hint = "; check oauth_client_id and the client secret"
            raise TokenError(scrub(f"the token endpoint refused the {grant} grant: HTTP {exc.code} "
                                   f"{detail}{hint}", *secrets)) from None
        except (URLError, OSError, ssl.SSLError) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            raise TokenError(scrub(f"cannot reach the token endpoint {_origin(s.url)}: "
                                   f"{type(reason).__name__}: {reason}", *secrets)) from None
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise TokenError("the token endpoint did not answer with a JSON object")
        token_type = answer.get("token_type")
        if isinstance(token_type, str) and token_type.lower() != "bearer":
            raise TokenError(f"the token endpoint issued a {token_type!r} token, not a Bearer token")
        return answer


def _lifetime(value: object) -> float:
    try:
        seconds = float(value) if isinstance(value, (int, float, str)) else _DEFAULT_LIFETIME
    except ValueError:
        seconds = _DEFAULT_LIFETIME
    return min(max(seconds, 0.0), 86400.0)  # a day at most, whatever the endpoint says


def _oauth_error(body: bytes) -> str:
    """`error: first line of error_description`, as RFC 6749 section 5.2 has endpoints answer."""
    try:
        value = json.loads(body)
    except ValueError:
        return "(no OAuth2 error in the answer)"
    if not isinstance(value, dict) or not isinstance(value.get("error"), str):
        return "(no OAuth2 error in the answer)"
    text = str(value["error"])
    description = value.get("error_description")
    if isinstance(description, str) and description.strip():
        text += ": " + description.strip().splitlines()[0][:300]
    return text


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A token endpoint answers; it does not send our secrets on to somewhere else."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> None:
        return None


def _opener(url: str, ca_file: Path | None) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context()  # the system's CAs, and a private one if configured
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=context),
                                                  _NoRedirects()]
    if is_loopback(urlsplit(url).hostname or ""):
        handlers.append(urllib.request.ProxyHandler({}))  # never through a proxy to ourselves
    return urllib.request.build_opener(*handlers)


# --- the saved refresh token ------------------------------------------------------------------

def _fingerprint(token: str | None) -> str | None:
    return hashlib.sha256(token.encode()).hexdigest()[:32] if token else None


def _load(path: Path) -> dict[str, object] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the saved OAuth2 refresh token in %s: %s", path,
                    type(exc).__name__)
        return None
    return value if isinstance(value, dict) else None


def _save(path: Path, value: dict[str, object]) -> None:
    """Atomically: a temporary file (0600) in the same folder, flushed, then renamed over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(value, handle)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@contextlib.contextmanager
def _file_lock(store: Path | None) -> Iterator[None]:
    """Refreshes take turns between `intake` processes on one state directory (the daemon and an
    operator's `intake check`), so that each reads the refresh token the other saved."""
    if store is None:
        yield
        return
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(store.with_name(f"{store.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise TokenError(f"cannot keep the OAuth2 refresh token in {store.parent}: "
                         f"{exc.strerror or type(exc).__name__}") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # which releases the lock
