"""Applications taken back: withdrawn by staff, or superseded when reprocessing decides their mail
anew. Either way their people are free to be registered again (R5) while the application keeps
its number and its findings for the record. Each function runs in the caller's transaction, which
also cancels the replies that became wrong."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from intake.core.states import Verdict
from intake.store.tables import ApplicationRecord, GroupRecord, ParticipantRecord, RegistrationRecord


def supersede_applications(session: Session, message_row: int) -> None:
    """Marks a message's applications superseded and deletes their people, groups and R5 keys."""
    ids = list(session.exec(select(ApplicationRecord.id).where(
        ApplicationRecord.message_row == message_row,
        ApplicationRecord.verdict != Verdict.SUPERSEDED)).all())
    if not ids:
        return
    groups = select(GroupRecord.id).where(col(GroupRecord.application_id).in_(ids))
    session.execute(delete(ParticipantRecord).where(col(ParticipantRecord.group_id).in_(groups)))
    for table in (GroupRecord, RegistrationRecord):
        session.execute(delete(table).where(col(table.application_id).in_(ids)))
    session.execute(update(ApplicationRecord).where(col(ApplicationRecord.id).in_(ids))
                    .values(verdict=Verdict.SUPERSEDED))
    session.flush()


def application_by_number(session: Session, number: str) -> ApplicationRecord | None:
    """The application with this number (as stored: `SUP-2025-00042`), or None."""
    return session.exec(select(ApplicationRecord).where(ApplicationRecord.number == number)).first()


def withdraw_application(session: Session, application: ApplicationRecord, *, by: str, reason: str,
                         now: datetime) -> int:
    """Deletes an application's R5 keys and marks it withdrawn (when, by whom, why); its people
    stay listed. Returns how many participants it had."""
    released = session.exec(
        select(func.count()).select_from(ParticipantRecord)
        .join(GroupRecord, col(GroupRecord.id) == col(ParticipantRecord.group_id))
        .where(GroupRecord.application_id == application.id)).one()
    session.execute(delete(RegistrationRecord).where(
        col(RegistrationRecord.application_id) == application.id))
    application.withdrawn_at = now
    application.withdrawn_by = by[:100]
    application.withdrawn_reason = reason[:500]
    session.add(application)
    return released
