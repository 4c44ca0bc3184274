"""A TCP proxy on loopback that a test can cut and restore: a network outage between the intake
and a server (PostgreSQL) without touching the server itself."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`. `cut()` drops every open connection and leaves new
    ones hanging unanswered (as a host gone from the network: only the client's own timeout ends
    the wait), or, with `refuse=True`, closes them at once; `restore()` forwards again."""

    target: tuple[str, int]
    port: int = 0
    accepted: int = 0  # connections accepted while forwarding
    _listener: socket.socket = field(init=False, repr=False)
    _selector: selectors.DefaultSelector = field(init=False, repr=False)
    _wakeup: tuple[socket.socket, socket.socket] = field(init=False, repr=False)
    _pairs: dict[socket.socket, socket.socket] = field(default_factory=dict, repr=False)
    _held: list[socket.socket] = field(default_factory=list, repr=False)
    _mode: str = "forward"  # or "hang", "refuse"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _acks: list[threading.Event] = field(default_factory=list, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _stopping: bool = False

    def start(self) -> TcpProxy:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._wakeup = socket.socketpair()
        self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._selector.register(self._wakeup[0], selectors.EVENT_READ, "wakeup")
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()
        return self

    def cut(self, *, refuse: bool = False) -> None:
        self._command("refuse" if refuse else "hang")

    def restore(self) -> None:
        self._command("forward")

    def close(self) -> None:
        self._stopping = True
        self._wakeup[1].send(b"x")
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._drop_all()
        self._selector.close()
        self._listener.close()
        self._wakeup[0].close()
        self._wakeup[1].close()

    def _command(self, mode: str) -> None:
        """Switch modes in the proxy's own thread, and wait until it has."""
        done = threading.Event()
        with self._lock:
            self._mode = mode
            self._acks.append(done)
        self._wakeup[1].send(b"x")
        assert done.wait(10), "the proxy thread did not answer"

    def _run(self) -> None:
        while not self._stopping:
            for key, _events in self._selector.select():
                if key.data == "wakeup":
                    self._on_wakeup()
                elif key.data == "accept":
                    self._accept()
                elif key.fileobj in self._pairs:
                    self._forward(key.fileobj)  # type: ignore[arg-type]

    def _on_wakeup(self) -> None:
        self._wakeup[0].recv(64)
        with self._lock:
            mode, acks, self._acks = self._mode, self._acks, []
        if mode == "forward":
            self._release_held()
        else:
            self._drop_all()
        for done in acks:
            done.set()

    def _accept(self) -> None:
        client, _address = self._listener.accept()
        with self._lock:
            mode = self._mode
        if mode == "refuse":
            client.close()
            return
        if mode == "hang":
            self._held.append(client)  # accepted by the kernel, never answered
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self.accepted += 1
        for sock in (client, upstream):
            sock.setblocking(True)
            sock.settimeout(10)
        self._pairs[client] = upstream
        self._pairs[upstream] = client
        self._selector.register(client, selectors.EVENT_READ, "data")
        self._selector.register(upstream, selectors.EVENT_READ, "data")

    def _forward(self, sock: socket.socket) -> None:
        other = self._pairs[sock]
        try:
            data = sock.recv(65536)
            if data:
                other.sendall(data)
                return
        except OSError:
            pass
        self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        other = self._pairs.pop(sock, None)
        for each in (sock, other):
            if each is None:
                continue
            self._pairs.pop(each, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(each)
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()

    def _drop_all(self) -> None:
        for sock in list(self._pairs):
            self._drop(sock)
        self._release_held()

    def _release_held(self) -> None:
        for sock in self._held:
            sock.close()
        self._held.clear()
