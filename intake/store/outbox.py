"""The outbox's rows as a sender walks them: the replies due, a reply claimed before the server
sees it, marked sent after, put back or failed. Each of these runs inside the caller's transaction,
so that a reply's SENT mark and the next one's claim commit together.

And as staff handle them: replies a newer decision makes wrong cancelled, a message's next reply
numbered, checked replies released for sending, old unsent copies purged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Connection, Engine, Executable, Update, bindparam, func, update
from sqlmodel import Session, col, select

from intake.store.tables import OutboxRecord, OutboxState


@dataclass(frozen=True, slots=True)
class Claimed:
    """A reply taken for sending: what goes to the server, and what its failure is weighed by."""

    raw: bytes
    recipient: str
    attempts: int
    created_at: datetime


def pending(engine: Engine, now: datetime, *, due: bool) -> list[int]:
    """Pending replies in order: those due by `now`, or those waiting out a backoff past it."""
    when = col(OutboxRecord.next_attempt_at)
    with Session(engine) as session:
        return [row_id for row_id in session.exec(
            select(OutboxRecord.id)
            .where(OutboxRecord.state == OutboxState.PENDING)
            # Waiting out a backoff: a reply tried before (one queued meanwhile is not deferred).
            .where(when <= now if due else (when > now) & (col(OutboxRecord.attempts) > 0))
            .order_by(col(OutboxRecord.id))
        ).all() if row_id is not None]


def claim(connection: Connection, row_id: int) -> Claimed | None:
    """PENDING to SENDING; None when another sender took it first."""
    row = connection.execute(_statements()[0], {"row": row_id}).first()
    return None if row is None else Claimed(*row)


def mark_sent(connection: Connection, row_ids: Sequence[int], now: datetime) -> None:
    """Sent: the copy (names, the school's annotated file) is no longer needed here."""
    for row_id in row_ids:
        connection.execute(_statements()[1], {"row": row_id, "now": now})


def put_back(connection: Connection, row_id: int, error: str) -> None:
    """Nothing reached the server: pending again, and not counted as an attempt."""
    connection.execute(_update(row_id).values(state=OutboxState.PENDING, last_error=error[:500]))


def record_attempt(connection: Connection, row_id: int, *, attempts: int, error: str,
                   retry_at: datetime | None) -> None:
    """A failed attempt: pending again until `retry_at`, or FAILED when there is none."""
    values: dict[str, object] = {"attempts": attempts, "last_error": error[:500]}
    if retry_at is None:
        values["state"] = OutboxState.FAILED
    else:
        values.update(state=OutboxState.PENDING, next_attempt_at=retry_at)
    connection.execute(_update(row_id).values(**values))


def _update(row_id: int) -> Update:
    table = OutboxRecord.__table__  # type: ignore[attr-defined]
    return update(table).where(table.c.id == row_id)


@cache
def _statements() -> tuple[Executable, Executable]:
    """Claiming and marking a reply, built once: a backlog sends a thousand."""
    table = OutboxRecord.__table__  # type: ignore[attr-defined]
    claiming = (update(table).where(table.c.id == bindparam("row"),
                                    table.c.state == OutboxState.PENDING)
                .values(state=OutboxState.SENDING)
                .returning(table.c.raw, table.c.recipient, table.c.attempts, table.c.created_at))
    marking = (update(table).where(table.c.id == bindparam("row"))
               .values(state=OutboxState.SENT, sent_at=bindparam("now"), raw=b""))
    return claiming, marking


# --- as staff handle them -------------------------------------------------------------------------

UNSENT = (OutboxState.PENDING, OutboxState.HELD, OutboxState.FAILED)


def cancel_unsent(session: Session, message_row: int) -> None:
    """A message's replies not sent yet (pending, held, failed) that a newer decision makes wrong,
    in the open transaction."""
    session.execute(update(OutboxRecord).where(col(OutboxRecord.message_row) == message_row)
                    .where(col(OutboxRecord.state).in_(UNSENT))
                    .values(state=OutboxState.CANCELLED))


def next_revision(session: Session, message_row: int) -> int:
    """The revision a message's next reply takes: 0 for its first, one past the latest after."""
    latest = session.exec(select(func.max(OutboxRecord.revision))
                          .where(OutboxRecord.message_row == message_row)).one()
    return 0 if latest is None else latest + 1


def release(engine: Engine, row_ids: Sequence[int], now: datetime) -> int:
    """Held, failed or interrupted (`sending`) replies pending again and due now, in their own
    transaction; those whose copy was purged stay as they are. Returns how many were released."""
    table = OutboxRecord.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        result = connection.execute(
            update(table).where(table.c.id.in_(list(row_ids)))
            .where(table.c.state.in_([OutboxState.HELD, OutboxState.FAILED, OutboxState.SENDING]))
            .where(table.c.raw != b"")
            .values(state=OutboxState.PENDING, attempts=0, next_attempt_at=now))
    return int(result.rowcount)


def purge_unsent(connection: Connection, cutoff: datetime) -> int:
    """Empties the copies of replies queued before `cutoff` that were never sent (held, failed,
    interrupted, cancelled): names and the school's file are not kept past retention. The rows
    stay. Returns how many were emptied."""
    table = OutboxRecord.__table__  # type: ignore[attr-defined]
    return int(connection.execute(
        update(table).where(table.c.raw != b"").where(table.c.created_at < cutoff)
        .where(table.c.state.in_([OutboxState.HELD, OutboxState.FAILED, OutboxState.SENDING,
                                  OutboxState.CANCELLED]))
        .values(raw=b"")).rowcount)
