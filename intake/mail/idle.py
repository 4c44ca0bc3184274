"""IMAP IDLE (RFC 2177): a second connection that waits for new mail and wakes the poller, so a
school's mail is answered within seconds instead of at the next interval.

The interval poll stays as the safety net: a server without IDLE, or an IDLE connection that is
down, costs only latency, never mail.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable

from imapclient.exceptions import IMAPClientError

from intake.errors import MailboxError
from intake.mail.imap import ImapSource
from intake.mail.source import MailSource

log = logging.getLogger(__name__)

RENEW_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
_ARRIVALS = (b"EXISTS", b"RECENT")


class NewMailWatcher:
    """Runs in its own thread: connect, SELECT, IDLE; on EXISTS call `wake`. Reconnects with
    backoff when the connection drops; gives up (logged) when the server has no IDLE."""

    def __init__(self, connect: Callable[[], MailSource], wake: Callable[[], object], *,
                 renew_seconds: float = RENEW_SECONDS, max_backoff: float = 300.0) -> None:
        self._connect = connect
        self._wake = wake
        self._renew = renew_seconds
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._source: ImapSource | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="imap-idle", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ends the wait at once: the socket is shut down under the blocked IDLE."""
        self._stop.set()
        with self._lock:
            source = self._source
        if source is not None:
            with contextlib.suppress(OSError):
                source.client.socket().shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                source = self._connect()
            except MailboxError as exc:
                log.warning("IDLE: cannot connect (%s); retrying in %.0f s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if not isinstance(source, ImapSource):
                source.close()
                return  # a Maildir: nothing to wait on
            with self._lock:
                self._source = source
            try:
                if not source.client.has_capability("IDLE"):
                    log.info("IDLE: the server does not offer it; polling on the interval only")
                    return
                self._wait(source)
                backoff = 1.0
            except (TimeoutError, IMAPClientError, OSError, ssl.SSLError) as exc:
                if self._stop.is_set():
                    return
                log.warning("IDLE: connection lost (%s: %s); reconnecting in %.0f s",
                            type(exc).__name__, exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
            finally:
                with self._lock:
                    self._source = None
                source.close()

    def _wait(self, source: ImapSource) -> None:
        client = source.client
        client.select_folder(source.folder, readonly=True)
        self._wake()  # whatever arrived while we were away
        while not self._stop.is_set():
            client.idle()
            deadline = time.monotonic() + self._renew
            try:
                while not self._stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    responses = client.idle_check(timeout=remaining)
                    if any(len(r) > 1 and r[1] in _ARRIVALS for r in responses):
                        self._wake()
            finally:
                if not self._stop.is_set():
                    client.idle_done()
