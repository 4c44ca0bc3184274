"""Opening a database: SQLite with WAL, a busy timeout and writers that queue; PostgreSQL with
timeouts and keepalives; either read-only where a command only reads."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, event, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import create_engine

from intake.errors import StoreError

# How long a SQLite connection waits for another process's write transaction before it gives up
# with "database is locked": longer than any transaction of ours (a poll's batch, a registry
# import), so a writer waits its turn instead of failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def open_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for `url`. SQLite files get their folder, WAL, foreign keys, a busy timeout, and
    transactions that take the write lock when they begin (see `_sqlite_begin_immediate`).

    `read_only`: the engine never writes and creates nothing: a SQLite file is opened with
    `mode=ro` (it must exist: `sqlite_file` says where), PostgreSQL runs every transaction
    READ ONLY. Its transactions read one consistent snapshot."""
    sqlite_path = sqlite_file(url)
    if sqlite_path is not None and not read_only:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        options: dict[str, object] = {}
        if read_only and make_url(url).get_backend_name() == "postgresql":
            options["postgresql_readonly"] = True  # each transaction BEGINs READ ONLY
        target: str | URL = url
        if read_only and sqlite_path is not None:
            target = _read_only_sqlite_url(url, sqlite_path)
        # hide_parameters: a failing statement's values (educators' names) never reach a log.
        engine = create_engine(target, pool_pre_ping=True, hide_parameters=True,
                               connect_args=_connect_args(url), execution_options=options)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot use database URL ({exc.__class__.__name__})") from exc
    if engine.dialect.name == "sqlite":
        pragmas = _sqlite_reader_pragmas if read_only else _sqlite_pragmas
        event.listen(engine, "connect", functools.partial(pragmas, busy_ms=busy_timeout_ms(url)))
        event.listen(engine, "begin", _sqlite_begin if read_only else _sqlite_begin_immediate)
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database or one in memory."""
    try:
        parsed = make_url(url)
    except (SQLAlchemyError, ValueError):
        return None  # open_engine says what is wrong with it
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") in ("true", "1") or parsed.database.startswith("file:"):
        return None  # a SQLite URI of the operator's own: taken as it is
    return Path(parsed.database)


def _read_only_sqlite_url(url: str, path: Path) -> URL:
    # mode=ro: SQLite itself refuses every write and never creates the file; percent-encoded by
    # as_uri(), so a path with '?', '#' or '%' stays a path.
    return make_url(url).set(database=path.resolve().as_uri(),
                             query={"mode": "ro", "uri": "true"})


# PostgreSQL over the network: a server that does not answer fails the connection within 10 s
# (as SQLite's busy timeout fails a locked file) instead of hanging the poll, and keepalives find a
# connection whose peer vanished. Parameters given in the URL's query win.
_POSTGRES_CONNECT = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30,
                     "keepalives_interval": 10, "keepalives_count": 3}


def _connect_args(url: str) -> dict[str, object]:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    return {k: v for k, v in _POSTGRES_CONNECT.items() if k not in parsed.query}


def busy_timeout_ms(url: str) -> int:
    """How long a SQLite connection waits for another process's lock: the URL's `timeout` (in
    seconds, as the sqlite3 driver reads it: `sqlite:///var/intake.sqlite3?timeout=60`), or
    SQLITE_BUSY_TIMEOUT_SECONDS."""
    given = make_url(url).query.get("timeout")
    try:
        seconds = float(given) if isinstance(given, str) else SQLITE_BUSY_TIMEOUT_SECONDS
    except ValueError:
        raise StoreError(f"the database URL's timeout must be a number of seconds, not {given!r}") from None
    return max(0, round(seconds * 1000))


def _sqlite_pragmas(connection: Any, _record: object, *, busy_ms: int) -> None:
    _sqlite_reader_pragmas(connection, _record, busy_ms=busy_ms)
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL survives a crash of the process (not of the OS) without an fsync per
    # commit; the daemon's guarantee is about its own crashes.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_reader_pragmas(connection: Any, _record: object, *, busy_ms: int) -> None:
    # The driver's own transaction handling (a BEGIN before INSERT, UPDATE and DELETE only, none
    # before DDL) is switched off: SQLAlchemy's "begin" event emits the BEGIN (the pattern the
    # SQLAlchemy SQLite dialect documents), so DDL is transactional and a transaction's reads
    # share its snapshot.
    connection.isolation_level = None
    cursor = connection.cursor()
    # First, so that even switching to WAL waits for another process's lock.
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    # The write lock from the start. A deferred transaction that has read and then writes cannot
    # wait for another writer (in WAL its snapshot would be stale): SQLite fails it at once with
    # "database is locked", busy timeout or not. Taken at BEGIN, the busy timeout applies, and the
    # transactions of a writing process simply queue. Readers in other processes (WAL) never wait.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")
