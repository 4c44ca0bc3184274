"""What an operator's monitor reads: messages per state, the outbox, the last good poll, what
waits for a human (`intake status`, `intake check`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from intake.core.states import MessageState
from intake.errors import StoreError
from intake.store.applications import fix_times
from intake.store.schema import is_current
from intake.store.tables import (
    ApplicationRecord,
    GroupRecord,
    MessageRecord,
    OutboxRecord,
    OutboxState,
    ParticipantRecord,
    ResubmissionRecord,
    ServiceRecord,
    standing,
)


@dataclass(frozen=True, slots=True)
class Status:
    messages: dict[str, int]
    outbox: dict[str, int]
    last_good_poll: str | None
    applications: dict[str, int]
    oldest_pending: str | None = None  # when the longest-waiting unsent reply was queued
    # Lists sent again: by resubmission.Relation; applications amended; rejections corrected.
    resubmissions: dict[str, int] = field(default_factory=dict)
    registered_participants: int = 0  # in accepted applications not withdrawn
    amended: int = 0
    corrections: int = 0
    median_hours_to_fix: float | None = None  # from a rejection to the accepted correction
    # Decided and answered, but kept in the mailbox by a folder the server refuses (see intake.poll.moves).
    not_moved: int = 0
    not_moved_since: str | None = None
    move_error: str | None = None

    @property
    def quarantined(self) -> int:
        return self.messages.get(MessageState.QUARANTINED, 0)

    def problems(self, now: datetime, interval_seconds: int) -> list[str]:
        """What an operator must look at: a monitor alerts on a non-empty list."""
        found = []
        if self.last_good_poll is None:
            found.append("no poll has succeeded yet")
        elif now - datetime.fromisoformat(self.last_good_poll) > timedelta(
                seconds=3 * interval_seconds):
            found.append(f"the last good poll was at {self.last_good_poll}, more than three "
                         "intervals ago")
        if self.quarantined:
            found.append(f"{self.quarantined} message(s) in quarantine")
        if self.oldest_pending is not None and now - datetime.fromisoformat(
                self.oldest_pending) > timedelta(seconds=3 * interval_seconds):
            found.append(f"{self.outbox.get(OutboxState.PENDING, 0)} repl(ies) waiting to be sent, "
                         f"the oldest since {self.oldest_pending}: the SMTP server is unreachable "
                         "or refusing them")
        if self.not_moved:
            found.append(f"{self.not_moved} message(s) decided and answered but not moved to their "
                         f"folders since {self.not_moved_since}: {self.move_error}; they are not "
                         "answered again, and the first poll after the folder works moves them "
                         "(`intake check` tests the folders)")
        return found

    def as_json(self) -> dict[str, object]:
        return {"messages": self.messages, "outbox": self.outbox,
                "applications": self.applications, "quarantined": self.quarantined,
                "last_good_poll": self.last_good_poll, "oldest_pending": self.oldest_pending,
                "registered_participants": self.registered_participants,
                "resubmissions": self.resubmissions, "amended": self.amended,
                "corrections": self.corrections, "median_hours_to_fix": self.median_hours_to_fix,
                "not_moved": self.not_moved, "not_moved_since": self.not_moved_since}


def read_status(engine: Engine) -> Status:
    try:
        return _read_status(engine)
    except SQLAlchemyError as exc:  # a monitor gets exit status 3 and one line, not a traceback
        raise StoreError(f"database unreachable: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc


def _read_status(engine: Engine) -> Status:
    if not is_current(engine):
        raise StoreError("the database schema is not current: run `intake db upgrade`")
    with Session(engine) as session:
        messages = Counter(dict(session.exec(
            select(MessageRecord.state, func.count()).group_by(col(MessageRecord.state))).all()))
        outbox = Counter(dict(session.exec(
            select(OutboxRecord.state, func.count()).group_by(col(OutboxRecord.state))).all()))
        applications = Counter(dict(session.exec(
            select(ApplicationRecord.verdict, func.count())
            .group_by(col(ApplicationRecord.verdict))).all()))
        last = session.get(ServiceRecord, "last_good_poll")
        oldest = session.exec(select(func.min(OutboxRecord.created_at))
                              .where(OutboxRecord.state == OutboxState.PENDING)).one()
        resubmissions = dict(session.exec(
            select(ResubmissionRecord.kind, func.count())
            .group_by(col(ResubmissionRecord.kind))).all())
        people = session.exec(
            select(func.count()).select_from(ParticipantRecord)
            .join(GroupRecord, col(GroupRecord.id) == col(ParticipantRecord.group_id))
            .join(ApplicationRecord, col(ApplicationRecord.id) == col(GroupRecord.application_id))
            .where(*standing())).one()
        amended = session.exec(select(func.count()).select_from(ApplicationRecord)
                               .where(col(ApplicationRecord.amended_at).is_not(None))).one()
        fixes = fix_times(session)
        not_moved, since = session.exec(
            select(func.count(), func.min(MessageRecord.unmoved_since))
            .where(col(MessageRecord.unmoved_since).is_not(None))).one()
        move_error = session.exec(
            select(MessageRecord.move_error).where(col(MessageRecord.unmoved_since).is_not(None))
            .order_by(col(MessageRecord.unmoved_since).desc()).limit(1)).first()
    return Status(dict(messages), dict(outbox), last.value if last else None, dict(applications),
                  oldest.isoformat() if oldest is not None else None, resubmissions, people,
                  amended, len(fixes),
                  round(median(fixes) / 3600, 1) if fixes else None, not_moved=not_moved,
                  not_moved_since=since.isoformat() if since is not None else None,
                  move_error=move_error)
