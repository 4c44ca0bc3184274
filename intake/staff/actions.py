"""The applications of a day that a person must act on, for the summary: rejections (and the list
that has corrected one since), questions, the waiting list, groups to merge."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from intake.core.states import Verdict
from intake.staff.periods import Period, between
from intake.store.capacity import waiting_list
from intake.store.tables import ApplicationRecord, GroupRecord, MessageRecord, ParticipantRecord

# The findings that say an institution may not apply to the programme at all.
INELIGIBLE = frozenset({"institution.ineligible", "institution.not-partner"})


@dataclass(frozen=True, slots=True)
class Action:
    """An application a person must act on: a question to answer, a rejected school to help."""

    kind: str  # rejected, ineligible, question, waitlisted, merge
    number: str  # the application number
    institution: str = ""
    sender: str = ""
    detail: str = ""  # the question as written, or the first finding's code
    later: str = ""  # a rejection's correction: the number of the list accepted since


def staff_actions(session: Session, period: Period) -> list[Action]:
    """The day's applications that need a person: each question asked, each rejection (with the
    list that has corrected it since, if any), in application order."""
    found = []
    corrected = aliased(ApplicationRecord)  # an accepted list that corrects the rejection
    for number, institution, sender, first_error, later in session.execute(
            sa_select(col(ApplicationRecord.number), col(ApplicationRecord.institution),
                      col(MessageRecord.sender), col(ApplicationRecord.first_error),
                      func.min(col(corrected.number)))
            .join(MessageRecord, col(MessageRecord.id) == col(ApplicationRecord.message_row))
            .outerjoin(corrected, (col(corrected.resolves_id) == col(ApplicationRecord.id))
                       & (col(corrected.verdict) == Verdict.ACCEPTED))
            .where(*between(ApplicationRecord.created_at, period))
            .where(col(ApplicationRecord.verdict) == Verdict.REJECTED)
            .group_by(col(ApplicationRecord.id), col(ApplicationRecord.number),
                      col(ApplicationRecord.institution), col(MessageRecord.sender),
                      col(ApplicationRecord.first_error))
            .order_by(col(ApplicationRecord.id))).all():
        kind = "ineligible" if first_error in INELIGIBLE else "rejected"
        found.append(Action(kind, number, institution or "", sender or "", first_error or "",
                            later or ""))
    for number, institution, sender, questions in session.execute(
            sa_select(col(ApplicationRecord.number), col(ApplicationRecord.institution),
                      col(MessageRecord.sender), col(ApplicationRecord.questions))
            .join(MessageRecord, col(MessageRecord.id) == col(ApplicationRecord.message_row))
            .where(*between(ApplicationRecord.created_at, period))
            .where(col(ApplicationRecord.verdict) != Verdict.SUPERSEDED)
            .where(col(ApplicationRecord.questions).is_not(None))
            .order_by(col(ApplicationRecord.id))).all():
        for question in (questions or "").splitlines():
            found.append(Action("question", number, institution or "", sender or "", question))
    for item in waiting_list(session):  # the whole waiting list, whenever they came
        found.append(Action("waitlisted", item.number, item.institution or "", item.sender,
                            str(item.supervisions)))
    for number, institution, sender, kind, people in session.execute(
            sa_select(col(ApplicationRecord.number), col(ApplicationRecord.institution),
                      col(MessageRecord.sender), col(GroupRecord.kind),
                      func.count(col(ParticipantRecord.id)))
            .join(MessageRecord, col(MessageRecord.id) == col(ApplicationRecord.message_row))
            .join(GroupRecord, col(GroupRecord.application_id) == col(ApplicationRecord.id))
            .join(ParticipantRecord, col(ParticipantRecord.group_id) == col(GroupRecord.id))
            .where(*between(ApplicationRecord.created_at, period))
            .where(col(ApplicationRecord.verdict) == Verdict.ACCEPTED,
                   col(ApplicationRecord.withdrawn_at).is_(None), col(GroupRecord.to_merge))
            .group_by(col(GroupRecord.id), col(ApplicationRecord.number),
                      col(ApplicationRecord.institution), col(MessageRecord.sender),
                      col(GroupRecord.kind))
            .order_by(col(GroupRecord.id))).all():
        found.append(Action("merge", number, institution or "", sender or "",
                            f"{kind}:{people}"))
    return found
