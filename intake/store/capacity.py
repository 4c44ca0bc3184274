"""R7's cap: how many supervisions a programme holds, its waiting list, and moving the waiting up
when a place is freed. Each function runs in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from intake.store.tables import ApplicationRecord, GroupRecord, MessageRecord, standing, waiting

_CACHE = "capacity"  # Session.info key: a batch counts once per programme, then keeps count


@dataclass
class Capacity:
    """A programme's supervisions held and applications waiting, as of this transaction."""

    held: int
    waiting: int


def capacity(session: Session, programme: str) -> Capacity:
    """Counted once per session (a poll's batch) and kept up to date by `admit`: one query per
    batch, not one per message."""
    counts: dict[str, Capacity] = session.info.setdefault(_CACHE, {})
    if programme not in counts:
        held = session.exec(
            select(func.count(col(GroupRecord.id)))
            .join(ApplicationRecord, col(ApplicationRecord.id) == col(GroupRecord.application_id))
            .where(*standing(), col(ApplicationRecord.programme) == programme,
                   col(GroupRecord.to_merge).is_(False))).one()
        queued = session.exec(select(func.count()).select_from(ApplicationRecord).where(
            *waiting(), col(ApplicationRecord.programme) == programme)).one()
        counts[programme] = Capacity(int(held), int(queued))
    return counts[programme]


def admit(session: Session, programme: str, cap: int, supervisions: int) -> int | None:
    """Whether an accepted application's supervisions fit under the cap: None if they do (they are
    counted as held), else its place on the waiting list. Nobody overtakes the waiting list."""
    state = capacity(session, programme)
    if state.waiting == 0 and state.held + supervisions <= cap:
        state.held += supervisions
        return None
    state.waiting += 1
    return state.waiting


@dataclass(frozen=True, slots=True)
class Waiting:
    """An application on the waiting list, with what telling its school needs."""

    id: int
    number: str
    institution: str | None
    supervisions: int
    message_row: int
    sender: str
    message_id: str


def waiting_list(session: Session, programme: str | None = None) -> list[Waiting]:
    """The waiting list in its order (the order applications were wait-listed)."""
    rows = session.execute(
        sa_select(col(ApplicationRecord.id), col(ApplicationRecord.number),
                  col(ApplicationRecord.institution), func.count(col(GroupRecord.id)),
                  col(ApplicationRecord.message_row), col(MessageRecord.sender),
                  col(MessageRecord.message_id))
        .join(MessageRecord, col(MessageRecord.id) == col(ApplicationRecord.message_row))
        .outerjoin(GroupRecord, (col(GroupRecord.application_id) == col(ApplicationRecord.id))
                   & col(GroupRecord.to_merge).is_(False))
        .where(*waiting())
        .where(*([col(ApplicationRecord.programme) == programme] if programme else []))
        .group_by(col(ApplicationRecord.id), col(ApplicationRecord.number),
                  col(ApplicationRecord.institution), col(ApplicationRecord.message_row),
                  col(MessageRecord.sender), col(MessageRecord.message_id),
                  col(ApplicationRecord.waitlisted_at))
        .order_by(col(ApplicationRecord.waitlisted_at), col(ApplicationRecord.id))).all()
    return [Waiting(int(r[0]), r[1], r[2], int(r[3]), int(r[4]), r[5], r[6]) for r in rows]


def move_up(session: Session, programme: str, cap: int, now: datetime) -> list[Waiting]:
    """The waiting applications that fit under the cap now, in order, moved up: they hold their
    supervisions from now on. The first that does not fit stops the rest (nobody overtakes)."""
    session.info.pop(_CACHE, None)
    state = capacity(session, programme)
    moved = []
    for item in waiting_list(session, programme):
        if state.held + item.supervisions > cap:
            break
        state.held += item.supervisions
        moved.append(item)
    if moved:
        session.execute(update(ApplicationRecord)
                        .where(col(ApplicationRecord.id).in_([m.id for m in moved]))
                        .values(waitlisted_at=None, promoted_at=now))
    session.info.pop(_CACHE, None)
    return moved
