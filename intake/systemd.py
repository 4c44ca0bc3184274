"""Tells systemd how the service is doing (sd_notify): READY, WATCHDOG pings, STOPPING."""

from __future__ import annotations

import contextlib
import socket


def notify(socket_path: str | None, state: str) -> bool:
    """Send `state` (e.g. "READY=1") to systemd's notification socket; False when not under it."""
    if not socket_path:
        return False
    address = "\0" + socket_path[1:] if socket_path.startswith("@") else socket_path
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
        return True
    return False
