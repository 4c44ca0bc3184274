"""Applications in the store: written from a decision, found again when a list comes back (by our
reply's Message-ID, a number the mail names, the list's fingerprint), replaced by an amendment,
and a message's applications as reprocessing weighs them.

Plain INSERTs and DELETEs, no ORM objects: a poll writes thousands of rows.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import (
    BindParameter,
    Executable,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    update,
)
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from intake.core.details import Details
from intake.core.messages import IncomingMessage, application_numbers
from intake.core.model import Decision, Group, GroupKind, Participant, Role
from intake.core.registry import InstitutionIndex
from intake.core.resubmission import Earlier, Relation
from intake.core.states import Verdict
from intake.store.tables import (
    ApplicationRecord,
    FindingRecord,
    GroupRecord,
    MessageRecord,
    OutboxRecord,
    ParticipantRecord,
    RegistrationRecord,
    ResubmissionRecord,
)

LIVE = (Verdict.ACCEPTED, Verdict.REJECTED)  # not superseded by reprocess


def clip(text: str, length: int) -> str:
    """A school's text as a column takes it: no NUL (PostgreSQL refuses it), at most `length`."""
    return text.replace("\x00", "")[:length]


def store_application(session: Session, message_row: int, programme: str, filename: str,
                      decision: Decision, now: datetime, registry: InstitutionIndex | None, *,
                      fingerprint: str | None = None, resolves: int | None = None,
                      details: Details | None = None, waitlisted: bool = False
                      ) -> tuple[str, int]:
    """The application row (numbered from its id) and how often each finding's code occurred."""
    known = registry.match(decision.institution) if registry and decision.institution else None
    statements = _statements()
    application_id = session.execute(statements.application, {
        "number": f"new-{uuid.uuid4().hex[:16]}", "message_row": message_row,  # set from the id
        "attachment": clip(filename, 300), "programme": programme,
        "institution": clip(decision.institution, 300) if decision.institution else None,
        "institution_number": known.number if known else None,
        "verdict": Verdict.of(decision.accepted),
        "errors": len(decision.errors), "warnings": len(decision.warnings), "created_at": now,
        "fingerprint": fingerprint, "resolves_id": resolves, "amended_at": None,
        "withdrawn_at": None, "withdrawn_by": None, "withdrawn_reason": None,
        **details_row(details or Details()),
        "first_error": decision.errors[0].code[:50] if decision.errors else None,
        "waitlisted_at": now if waitlisted else None, "promoted_at": None,
    }).scalar_one()
    number = f"SUP-{now.year}-{application_id:05d}"
    session.execute(statements.number, {"row": application_id, "new": number})
    _store_findings(session, application_id, decision)
    return number, application_id


def details_row(details: Details) -> dict[str, str | None]:
    """An application's details as its columns: lines of text, each clipped to its column."""
    def lines(items: Sequence[str], length: int) -> str | None:
        return clip("\n".join(items), length) or None

    return {
        "contact_name": clip(details.contact_name, 200) if details.contact_name else None,
        "contact_position": (clip(details.contact_position, 200) if details.contact_position
                             else None),
        "contact_phone": clip(details.contact_phone, 20) if details.contact_phone else None,
        "contact_email": clip(details.contact_email, 320) if details.contact_email else None,
        "preferred_times": lines(details.times, 1000),
        "mode": details.mode.value if details.mode else None,
        "questions": lines(details.questions, 2000),
        # The programme's own columns (`Reģions: Vidzeme`) go with the remarks.
        "remarks": lines([*(f"{title}: {value}" for title, value in details.columns),
                          *details.remarks], 2000)}


@dataclass(frozen=True, slots=True)
class _Statements:
    application: Executable
    number: Executable
    findings: Executable
    groups: Executable
    participants: Executable
    registrations: Executable


@cache
def _statements() -> _Statements:
    """The writes of every list, built once: building a statement costs more than running it."""
    def table(model: type[SQLModel]) -> Table:
        return model.__table__  # type: ignore[attr-defined,no-any-return]

    applications, groups = table(ApplicationRecord), table(GroupRecord)
    return _Statements(
        application=insert(applications).returning(applications.c.id),
        number=update(applications).where(applications.c.id == bindparam("row"))
        .values(number=bindparam("new")),
        findings=insert(table(FindingRecord)),
        groups=insert(groups).returning(groups.c.id, sort_by_parameter_order=True),
        participants=insert(table(ParticipantRecord)),
        registrations=insert(table(RegistrationRecord)))


def _store_findings(session: Session, application_id: int, decision: Decision) -> None:
    codes = Counter((f.severity.value, f.code) for f in decision.findings)
    if codes:
        session.execute(_statements().findings, [
            {"application_id": application_id, "severity": severity, "code": code, "count": count}
            for (severity, code), count in sorted(codes.items())])


def store_people(session: Session, application_id: int, programme: str, decision: Decision,
                 keys: Sequence[str]) -> None:
    """An accepted list's groups, people and R5 keys: all that R5 and the staff need."""
    # One INSERT … RETURNING for all the groups and one for all the people: a poll writes
    # thousands of these, and each statement costs more than its rows.
    statements = _statements()
    group_ids = session.execute(statements.groups, [
        {"application_id": application_id, "position": position, "kind": group.kind.value,
         "label": clip(group.label, 100) if group.label else None, "to_merge": group.to_merge}
        for position, group in enumerate(decision.groups, start=1)]).scalars().all()
    session.execute(statements.participants, [
        {"group_id": group_id, "row": p.row, "first_name": clip(p.first_name, 200),
         "last_name": clip(p.last_name, 200), "position": clip(p.position, 300),
         "email": clip(p.email, 320), "role": p.role.value}
        for group_id, group in zip(group_ids, decision.groups, strict=True)
        for p in group.participants])
    if keys:
        session.execute(statements.registrations, [
            {"programme": programme, "key": clip(key, 700), "application_id": application_id}
            for key in keys])


def amend_application(session: Session, earlier: Earlier, decision: Decision, keys: Sequence[str],
                      *, filename: str, fingerprint: str | None, now: datetime,
                      details: Details | None = None) -> None:
    """An accepted amendment: the application keeps its number; its people, groups and R5 keys
    are replaced (the removed are free again), and it remembers when. Details the amending mail
    gives (a new question, another contact) replace the earlier ones."""
    groups = select(GroupRecord.id).where(GroupRecord.application_id == earlier.id)
    session.execute(delete(RegistrationRecord).where(
        col(RegistrationRecord.application_id) == earlier.id))
    session.execute(delete(ParticipantRecord).where(col(ParticipantRecord.group_id).in_(groups)))
    session.execute(delete(GroupRecord).where(col(GroupRecord.application_id) == earlier.id))
    session.execute(delete(FindingRecord).where(col(FindingRecord.application_id) == earlier.id))
    session.execute(update(ApplicationRecord).where(col(ApplicationRecord.id) == earlier.id).values(
        attachment=clip(filename, 300), fingerprint=fingerprint, errors=0,
        warnings=len(decision.warnings), amended_at=now,
        **({} if details is None or details.is_empty else details_row(details))))
    _store_findings(session, earlier.id, decision)
    store_people(session, earlier.id, earlier.programme, decision, keys)


def record_resubmission(session: Session, earlier: Earlier, message_row: int, relation: Relation,
                        now: datetime, *, added: int = 0, removed: int = 0,
                        unchanged: int = 0) -> None:
    session.execute(insert(ResubmissionRecord).values(
        application_id=earlier.id, message_row=message_row, kind=relation.value, added=added,
        removed=removed, unchanged=unchanged, created_at=now))


@dataclass(frozen=True, slots=True)
class Prior:
    """Whether anything earlier can matter to a message: one round trip, so that a backlog of new
    lists does not pay for the lookups a resubmission needs."""

    same_list: bool  # a live application of the programme has one of its lists' fingerprints
    rejections: bool  # the sender has a live rejected application in the programme
    registered: bool  # one of its people is registered already (R5)
    replies_today: int  # automatic replies to the sender in the last 24 hours


def probe(session: Session, *, programme: str, fingerprints: Sequence[str], sender: str,
          keys: Sequence[str], since: datetime) -> Prior:
    row = session.execute(_probe_statement(), {
        "programme": programme, "fingerprints": list(fingerprints), "sender": sender,
        "keys": list(keys), "since": since}).one()
    return Prior(bool(row[0]), bool(row[1]), bool(row[2]), int(row[3]))


@cache
def _probe_statement() -> Executable:
    """Built once: building a statement costs far more than SQLite takes to run it."""
    programme: BindParameter[str] = bindparam("programme")
    sender: BindParameter[str] = bindparam("sender")
    live = (col(ApplicationRecord.verdict).in_(LIVE), col(ApplicationRecord.withdrawn_at).is_(None),
            col(ApplicationRecord.programme) == programme)
    return select(
        exists().where(col(ApplicationRecord.fingerprint).in_(
            bindparam("fingerprints", expanding=True)), *live),
        exists().where(col(ApplicationRecord.verdict) == Verdict.REJECTED, *live,
                       col(MessageRecord.id) == col(ApplicationRecord.message_row),
                       col(MessageRecord.sender) == sender),
        exists().where(col(RegistrationRecord.programme) == programme,
                       col(RegistrationRecord.key).in_(bindparam("keys", expanding=True))),
        select(func.count()).select_from(OutboxRecord)
        .where(col(OutboxRecord.recipient) == sender,
               col(OutboxRecord.created_at) >= bindparam("since"))
        .scalar_subquery())


def referenced(session: Session, message: IncomingMessage) -> list[Earlier]:
    """Applications the mail answers: those of our reply its In-Reply-To or References name (our
    Message-IDs are unguessable); else those it names by number in its subject or in the lines
    its sender wrote (not in a quoted reply of ours), if they came from the sender's domain."""
    ours = [ref for ref in message.in_reply_to if len(ref) <= 300]
    if ours:
        answered = select(OutboxRecord.message_row).where(col(OutboxRecord.message_id).in_(ours))
        # Our reply to a list sent again (a repeat, an amendment) answers for its application.
        again = select(ResubmissionRecord.application_id).where(
            col(ResubmissionRecord.message_row).in_(answered))
        rows = session.exec(_live().where(col(ApplicationRecord.message_row).in_(answered)
                                          | col(ApplicationRecord.id).in_(again))
                            .order_by(col(ApplicationRecord.id).desc())).all()
        if rows:
            return [_earlier(session, row) for row in rows]
    numbers = application_numbers(message)
    if not numbers:
        return []
    rows = session.exec(_live().where(col(ApplicationRecord.number).in_(numbers))
                        .order_by(col(ApplicationRecord.id).desc())).all()
    domain = _domain(message.sender)
    return [e for e in (_earlier(session, row) for row in rows) if _domain(e.sender) == domain]


def _domain(address: str) -> str:
    return address.rpartition("@")[2].casefold()


def same_list(session: Session, programme: str, fingerprint: str) -> list[Earlier]:
    """Live applications of the programme with this list's fingerprint, the latest first."""
    rows = session.exec(_live().where(ApplicationRecord.fingerprint == fingerprint)
                        .where(ApplicationRecord.programme == programme)
                        .order_by(col(ApplicationRecord.id).desc()).limit(5)).all()
    return [_earlier(session, row) for row in rows]


def unresolved_rejections(session: Session, programme: str, sender: str) -> list[Earlier]:
    """The sender's latest rejected lists that no later list has corrected yet."""
    resolved = select(ApplicationRecord.resolves_id).where(
        col(ApplicationRecord.resolves_id).is_not(None))
    rows = session.exec(_live().where(ApplicationRecord.verdict == Verdict.REJECTED)
                        .where(ApplicationRecord.programme == programme)
                        .where(col(ApplicationRecord.id).not_in(resolved))
                        .join(MessageRecord,
                              col(MessageRecord.id) == col(ApplicationRecord.message_row))
                        .where(MessageRecord.sender == sender)
                        .order_by(col(ApplicationRecord.id).desc()).limit(5)).all()
    return [_earlier(session, row) for row in rows]


def registered(session: Session, programme: str, keys: Sequence[str],
               amended: int | None = None) -> Mapping[str, str]:
    """R5: which of these people an earlier application registered (by key, that application's
    number; this batch's included), except in the application `amended` (by id)."""
    query = (select(RegistrationRecord.key, ApplicationRecord.number)
             .join(ApplicationRecord,
                   col(ApplicationRecord.id) == col(RegistrationRecord.application_id))
             .where(RegistrationRecord.programme == programme)
             .where(col(RegistrationRecord.key).in_(list(keys))))
    if amended is not None:
        query = query.where(col(ApplicationRecord.id) != amended)
    return dict(session.exec(query).all())


def stored_groups(session: Session, application_id: int) -> tuple[Group, ...]:
    """An application's groups as confirmed (and last amended)."""
    groups = session.exec(select(GroupRecord).where(GroupRecord.application_id == application_id)
                          .order_by(col(GroupRecord.position))).all()
    people = session.exec(select(ParticipantRecord).where(
        col(ParticipantRecord.group_id).in_([g.id for g in groups]))
        .order_by(col(ParticipantRecord.id))).all()
    by_group: dict[int, list[Participant]] = {}
    for p in people:
        by_group.setdefault(p.group_id, []).append(
            Participant(p.row, p.first_name, p.last_name, p.position, p.email, Role(p.role)))
    return tuple(Group(GroupKind(g.kind), tuple(by_group.get(g.id or 0, ())), g.label)
                 for g in groups)


def live_verdicts(session: Session, message_row: int) -> list[tuple[str, list[str]]]:
    """Each of a message's applications not superseded, in order: its verdict and the codes of
    its errors (each code once, however many rows had it)."""
    verdicts = []
    for application in session.exec(select(ApplicationRecord).where(
            ApplicationRecord.message_row == message_row,
            ApplicationRecord.verdict != Verdict.SUPERSEDED).order_by(col(ApplicationRecord.id))).all():
        codes = session.exec(select(FindingRecord.code).where(
            FindingRecord.application_id == application.id, FindingRecord.severity == "error")
        ).all()
        verdicts.append((application.verdict, list(codes)))
    return verdicts


@dataclass(frozen=True, slots=True)
class Blockers:
    """What keeps a message from being decided again: the numbers of its applications withdrawn
    or amended since, and whether the mail itself resubmitted or amended an earlier one."""

    withdrawn: list[str]
    amended: list[str]
    resubmitted: bool


def reprocess_blockers(session: Session, message_row: int) -> Blockers:
    withdrawn = session.exec(select(ApplicationRecord.number).where(
        ApplicationRecord.message_row == message_row,
        col(ApplicationRecord.withdrawn_at).is_not(None))).all()
    amended = session.exec(select(ApplicationRecord.number).where(
        ApplicationRecord.message_row == message_row,
        col(ApplicationRecord.amended_at).is_not(None))).all()
    again = session.exec(select(ResubmissionRecord.id).where(
        ResubmissionRecord.message_row == message_row)).first()
    return Blockers(list(withdrawn), list(amended), again is not None)


def _live() -> SelectOfScalar[ApplicationRecord]:
    return select(ApplicationRecord).where(col(ApplicationRecord.verdict).in_(LIVE)).where(
        col(ApplicationRecord.withdrawn_at).is_(None))


def _earlier(session: Session, row: ApplicationRecord) -> Earlier:
    assert row.id is not None
    codes = session.exec(select(FindingRecord.severity, FindingRecord.code, FindingRecord.count)
                         .where(FindingRecord.application_id == row.id)).all()
    people = () if row.verdict != Verdict.ACCEPTED else tuple(
        p for group in stored_groups(session, row.id) for p in group.participants)
    sender = session.exec(select(MessageRecord.sender)
                          .where(MessageRecord.id == row.message_row)).first()
    resolved = session.exec(select(ApplicationRecord.id)
                            .where(ApplicationRecord.resolves_id == row.id)).first()
    return Earlier(row.id, row.number, row.verdict, row.created_at, row.institution,
                   row.fingerprint, row.programme, frozenset(codes), people, row.amended_at,
                   resolved is not None, sender or "")


def fix_times(session: Session) -> list[float]:
    """Seconds from a list's first rejection to the accepted list that corrected it (through any
    number of corrections still rejected): how well our error reports help schools."""
    rows = session.exec(select(ApplicationRecord.id, ApplicationRecord.verdict,
                               ApplicationRecord.created_at, ApplicationRecord.resolves_id)
                        .where(col(ApplicationRecord.resolves_id).is_not(None)
                               | col(ApplicationRecord.id).in_(
                                   select(ApplicationRecord.resolves_id)))).all()
    by_id = {row[0]: row for row in rows}
    times = []
    for _id, verdict, created_at, resolves in rows:
        if verdict != Verdict.ACCEPTED or resolves is None:
            continue
        first = by_id.get(resolves)
        seen = {_id}
        while first is not None and first[3] is not None and first[3] not in seen:
            seen.add(first[0])
            first = by_id.get(first[3])
        if first is not None:
            times.append((created_at - first[2]).total_seconds())
    return times
