"""One poller at a time per database, with a lock the operating system or the database server
frees when its holder dies: a crashed daemon never blocks the one systemd starts after it.

PostgreSQL: a session advisory lock on a connection held for the poll. SQLite: flock() on a file
beside the database. Other databases: no lock (the unique constraints still forbid a message
being stored twice)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

_ADVISORY_KEY = 0x5355505F494E54  # "SUP_INT": our lock among the database's advisory locks


@contextlib.contextmanager
def poll_lock(engine: Engine) -> Iterator[bool]:
    """Yields True while this process holds the lock, False when another poller does."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            held = bool(connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _ADVISORY_KEY}).scalar())
            connection.commit()
            try:
                yield held
            finally:
                # A connection lost during the poll took the lock with it: nothing to unlock, and
                # the poll's own error is the one to report.
                if held:
                    with contextlib.suppress(SQLAlchemyError):
                        connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                           {"key": _ADVISORY_KEY})
                        connection.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield True
        return
    path = Path(f"{database}.poll-lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # closing releases the lock; so does the process's death
