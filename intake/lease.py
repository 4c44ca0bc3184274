"""One poller at a time per database: a lease row that expires, so a crashed holder frees it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, update
from sqlalchemy.exc import IntegrityError

from intake.store import ServiceRecord

_KEY = "poll_lease"


def _value(owner: str, until: datetime) -> str:
    # The expiry first, in one fixed-width UTC format: comparing values compares expiries.
    return f"{until.strftime('%Y-%m-%dT%H:%M:%S')}|{owner}"[:100]


def acquire(engine: Engine, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease (or extend our own); False while another poller holds an unexpired one."""
    table = ServiceRecord.__table__  # type: ignore[attr-defined]
    value = _value(owner, now + ttl)
    try:
        with engine.begin() as connection:
            connection.execute(insert(table).values(key=_KEY, value=value))
        return True
    except IntegrityError:
        pass  # a lease exists: take it over only if it is ours or has expired
    expired_before = now.strftime("%Y-%m-%dT%H:%M:%S")
    with engine.begin() as connection:
        taken = connection.execute(
            update(table).where(table.c.key == _KEY)
            .where((table.c.value < expired_before) | table.c.value.endswith(f"|{owner}"))
            .values(value=value))
    return bool(taken.rowcount)


def release(engine: Engine, owner: str) -> None:
    table = ServiceRecord.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(delete(table).where(table.c.key == _KEY)
                           .where(table.c.value.endswith(f"|{owner}")))
