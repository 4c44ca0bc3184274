"""A tiny OAuth2 provider on loopback, in a thread: the token endpoint our client calls (refresh-token
and client-credentials grants, rotating refresh tokens) and the endpoints Dovecot's oauth2 passdb
asks whether an access token is valid (tokeninfo, and RFC 7662 introspection by POST)."""

from __future__ import annotations

import itertools
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "intake-test-app"
CLIENT_SECRET = "client-secret-for-tests"


@dataclass
class Provider:
    """What the provider knows: which tokens are valid, for whom, and every grant it answered."""

    app_user: str = "intake"  # the mailbox an app-only (client-credentials) token is for
    access: dict[str, str] = field(default_factory=dict)  # access token -> user
    refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> user
    grants: list[dict[str, str]] = field(default_factory=list)
    introspected: list[str] = field(default_factory=list)
    expires_in: int = 3600
    rotate: bool = True  # answer a refresh grant with a new refresh token (Microsoft does)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        with self.lock:
            self.access.clear()
            self.refresh.clear()
            self.grants.clear()
            self.introspected.clear()
            self.expires_in = 3600
            self.rotate = True

    def issue_access(self, user: str) -> str:
        with self.lock:
            token = f"at-{next(self._serial)}-{user}"
            self.access[token] = user
            return token

    def issue_refresh(self, user: str) -> str:
        with self.lock:
            token = f"rt-{next(self._serial)}-{user}"
            self.refresh[token] = user
            return token

    def revoke(self, token: str) -> None:
        """The token expires or is revoked early: the servers refuse it from now on."""
        with self.lock:
            self.access.pop(token, None)
            self.refresh.pop(token, None)

    def user_of(self, access_token: str) -> str | None:
        with self.lock:
            self.introspected.append(access_token)
            return self.access.get(access_token)

    def grant(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        """The token endpoint: RFC 6749 sections 4.4 and 6, with the errors providers give."""
        with self.lock:
            self.grants.append(dict(form))
        if form.get("client_id") != CLIENT_ID:
            return 401, {"error": "invalid_client", "error_description": "unknown client"}
        kind = form.get("grant_type")
        if kind == "client_credentials":
            if form.get("client_secret") != CLIENT_SECRET:
                return 401, {"error": "invalid_client", "error_description": "bad client secret"}
            return 200, {"access_token": self.issue_access(self.app_user), "token_type": "Bearer",
                         "expires_in": self.expires_in}
        if kind == "refresh_token":
            with self.lock:
                user = self.refresh.get(form.get("refresh_token", ""))
            if user is None:
                return 400, {"error": "invalid_grant",
                             "error_description": "AADSTS70000: the refresh token has expired"}
            answer: dict[str, object] = {"access_token": self.issue_access(user),
                                         "token_type": "Bearer", "expires_in": self.expires_in}
            if self.rotate:
                self.revoke(form["refresh_token"])
                answer["refresh_token"] = self.issue_refresh(user)
            return 200, answer
        return 400, {"error": "unsupported_grant_type"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return None  # requests carry tokens: nothing goes to stderr

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _about(self, token: str) -> tuple[int, dict[str, object]]:
        user = self.server.provider.user_of(token)
        if user is None:
            return 200, {"active": False}
        return 200, {"active": True, "username": user, "scope": "mail"}

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/tokeninfo":
            self._answer(404, {"error": "not_found"})
            return
        token = parse_qs(parts.query).get("access_token", [""])[0]
        status, body = self._about(token)
        if not body["active"]:
            status, body = 401, {"error": "invalid_token"}
        self._answer(status, body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path == "/introspect":
            self._answer(*self._about(form.get("token", "")))
        elif self.path == "/token":
            self._answer(*self.server.provider.grant(form))
        else:
            self._answer(404, {"error": "not_found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every request thread: nothing left running

    def __init__(self, provider: Provider) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.provider = provider


@dataclass
class OAuthServer:
    server: _Server
    thread: threading.Thread
    provider: Provider
    tls: bool = False

    @property
    def base_url(self) -> str:
        if self.tls:
            return f"https://localhost:{self.server.server_address[1]}"
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


def start_oauth_server(tls: tuple[Path, Path] | None = None) -> OAuthServer:
    """`tls`: (certificate, key) to serve https, as a real token endpoint does."""
    provider = Provider()
    server = _Server(provider)
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="oauth-provider")
    thread.start()
    return OAuthServer(server, thread, provider, tls is not None)
