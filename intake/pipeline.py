"""One poll: fetch -> parse -> read -> decide -> store (with the reply) -> send -> move.

The one place that sequences the shell. Each message is committed with its reply in one
transaction before anything is acknowledged; one message's failure never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jinja2
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from intake.annotation import annotate_workbook
from intake.automail import Ours
from intake.blank_list import make_blank_list
from intake.config import Settings
from intake.errors import StoreError
from intake.mailbox import MailSource, MessageRef
from intake.messages import IncomingMessage, parse_message
from intake.outbox import Delivery, Transport, deliver_pending
from intake.outcome import (
    ListOutcome,
    MessageOutcome,
    choose_programme,
    classify_message,
    decide_lists,
)
from intake.registry import InstitutionIndex
from intake.replies import (
    Envelope,
    FileAttachment,
    ReplyItem,
    compose_email,
    render_no_list,
    render_reply,
    reply_subject,
)
from intake.store import (
    ApplicationRecord,
    GroupRecord,
    MessageRecord,
    MessageState,
    OutboxRecord,
    OutboxState,
    ParticipantRecord,
    RegistrationRecord,
    ServiceRecord,
)

log = logging.getLogger(__name__)

BLANK_LIST_NAME = "dalibnieku-saraksts.xlsx"
FINAL_STATES = frozenset({MessageState.APPLICATION, MessageState.AUTO, MessageState.CORRESPONDENCE,
                          MessageState.NO_LIST, MessageState.QUARANTINED})
Failpoint = Callable[[str], None]


@dataclass
class PollSummary:
    """What one poll did, for its one log line and for `intake poll`'s output."""

    seen: int = 0
    states: Counter[str] = field(default_factory=Counter)
    already_done: int = 0
    accepted_lists: int = 0
    rejected_lists: int = 0
    delivery: Delivery = field(default_factory=Delivery)

    def line(self) -> str:
        states = " ".join(f"{k}={v}" for k, v in sorted(self.states.items())) or "none"
        return (f"poll: seen={self.seen} new: {states} already-done={self.already_done} "
                f"lists accepted={self.accepted_lists} rejected={self.rejected_lists} "
                f"replies sent={self.delivery.sent} retried={self.delivery.retried} "
                f"failed={self.delivery.failed}")


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    engine: Engine
    environment: jinja2.Environment
    registry: InstitutionIndex | None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    failpoint: Failpoint = lambda _name: None
    should_stop: Callable[[], bool] = lambda: False  # SIGTERM: finish the message in hand, then stop

    @property
    def ours(self) -> Ours:
        return Ours(self.settings.mail.address, self.settings.mail.domain)


def poll(context: Context, source: MailSource, transport: Transport) -> PollSummary:
    """One cycle. Raises only for our own environment (mailbox, database); a bad message is data."""
    summary = PollSummary()
    mail = context.settings.mail
    refs = source.list_new()
    summary.seen = len(refs)
    done: dict[str, list[MessageRef]] = {}
    for start in range(0, len(refs), mail.batch_size):
        batch = refs[start:start + mail.batch_size]
        small = [r for r in batch if r.size <= mail.max_message_bytes]
        for ref in batch:
            if ref.size > mail.max_message_bytes:
                folder = _handle_oversized(context, source, ref, summary)
                if folder:
                    done.setdefault(folder, []).append(ref)
        if context.should_stop():
            break
        for ref, raw in source.fetch(small):
            if context.should_stop():
                break
            context.failpoint("after-fetch")
            folder = _handle(context, source.name, ref, raw, summary)
            if folder:
                done.setdefault(folder, []).append(ref)
    summary.delivery = deliver_pending(
        context.engine, transport, sender=mail.address, now=context.now(),
        max_attempts=mail.send_retries, retry_seconds=mail.send_retry_seconds,
        failpoint=context.failpoint)
    context.failpoint("before-move")
    for folder, moved in done.items():
        source.move(moved, folder)
    _set_service(context.engine, "last_good_poll", context.now().isoformat())
    return summary


def _folder(context: Context, state: str) -> str | None:
    folders = context.settings.mail.folders
    return {
        MessageState.APPLICATION: folders.application, MessageState.AUTO: folders.auto,
        MessageState.CORRESPONDENCE: folders.correspondence, MessageState.NO_LIST: folders.no_list,
        MessageState.QUARANTINED: folders.quarantined,
    }.get(MessageState(state))


def _handle(context: Context, mailbox: str, ref: MessageRef, raw: bytes,
            summary: PollSummary) -> str | None:
    """Process one message; returns the folder it goes to once everything is committed."""
    digest = hashlib.sha256(raw).hexdigest()
    existing = _existing(context.engine, mailbox, ref, digest)
    if existing is not None and existing.state in FINAL_STATES:
        summary.already_done += 1  # processed before: a copy, a resend, or an unfinished move
        return _folder(context, existing.state)
    attempts = existing.attempts if existing is not None else 0
    try:
        outcome, message = _decide(context, raw)
        _commit(context, mailbox, ref, raw, digest, message, outcome, existing)
    except (StoreError, SQLAlchemyError) as exc:
        if isinstance(exc, IntegrityError):
            summary.already_done += 1  # another poller committed it first
            return None
        raise StoreError(f"cannot store message {ref.location}: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc
    except Exception as exc:
        state = _record_failure(context, mailbox, ref, raw, digest, existing, attempts + 1, exc)
        summary.states[state] += 1
        log.exception("message %s: %s (attempt %d)", ref.location, type(exc).__name__, attempts + 1)
        return _folder(context, state)
    context.failpoint("after-commit")
    summary.states[outcome.state] += 1
    for item in outcome.lists:
        if item.decision.accepted:
            summary.accepted_lists += 1
        else:
            summary.rejected_lists += 1
    log.info("message %s: %s (%s), %d list(s)", ref.location, outcome.state, outcome.reason,
             len(outcome.lists))
    return _folder(context, outcome.state)


def _existing(engine: Engine, mailbox: str, ref: MessageRef, digest: str) -> MessageRecord | None:
    with Session(engine) as session:
        return session.exec(select(MessageRecord).where(
            (col(MessageRecord.sha256) == digest)
            | ((col(MessageRecord.mailbox) == mailbox) & (col(MessageRecord.location) == ref.location))
        )).first()


def _decide(context: Context, raw: bytes) -> tuple[MessageOutcome, IncomingMessage]:
    settings = context.settings
    message = parse_message(raw, context.ours)
    state, reason = classify_message(message, our_domain=settings.mail.domain)
    programme = choose_programme(message, settings.programmes, settings.default_programme)
    lists: tuple[ListOutcome, ...] = ()
    if state is MessageState.APPLICATION:
        lists = decide_lists(message, programme=programme, today=context.now().date(),
                             limits=settings.limits, registry=context.registry,
                             registered=lambda name, keys: _registered(context.engine, name, keys))
    return MessageOutcome(state, reason, programme, lists), message


def _registered(engine: Engine, programme: str, keys: Sequence[str]) -> Mapping[str, str]:
    with Session(engine) as session:
        rows = session.exec(
            select(RegistrationRecord.key, ApplicationRecord.number)
            .join(ApplicationRecord, col(ApplicationRecord.id) == col(RegistrationRecord.application_id))
            .where(RegistrationRecord.programme == programme)
            .where(col(RegistrationRecord.key).in_(list(keys)))
        ).all()
    return dict(rows)


def _commit(context: Context, mailbox: str, ref: MessageRef, raw: bytes, digest: str,
            message: IncomingMessage, outcome: MessageOutcome, existing: MessageRecord | None) -> None:
    """The decision, the application rows and the reply: one transaction."""
    now = context.now()
    with Session(context.engine) as session:
        record = session.get(MessageRecord, existing.id) if existing is not None else None
        if record is None:
            record = MessageRecord(mailbox=mailbox, location=ref.location, sha256=digest,
                                   received_at=now, state=outcome.state)
        record.message_id = message.message_id[:998]
        record.sender = message.sender
        record.subject = message.subject[:998]
        record.state = outcome.state
        record.reason = outcome.reason[:200]
        record.processed_at = now
        record.raw = raw
        record.error = ""
        session.add(record)
        session.flush()
        assert record.id is not None
        items = [_store_list(session, record.id, outcome, item, now) for item in outcome.lists]
        reply = _reply(context, message, outcome, items)
        if reply is not None:
            session.add(_outbox_row(session, context, record.id, message.sender, reply, now))
        session.commit()


def _store_list(session: Session, message_row: int, outcome: MessageOutcome, item: ListOutcome,
                now: datetime) -> ReplyItem:
    decision = item.decision
    application = ApplicationRecord(
        number=f"new-{uuid.uuid4().hex[:16]}", message_row=message_row,  # set from the id below
        attachment=item.attachment.filename[:300], programme=outcome.programme.name,
        institution=decision.institution, verdict="accepted" if decision.accepted else "rejected",
        errors=len(decision.errors), warnings=len(decision.warnings), created_at=now)
    session.add(application)
    session.flush()
    assert application.id is not None
    application.number = f"SUP-{now.year}-{application.id:05d}"
    session.add(application)
    if decision.accepted:
        # Only accepted lists keep their people: that is all R5 and the staff need.
        for position, group in enumerate(decision.groups, start=1):
            group_row = GroupRecord(application_id=application.id, position=position,
                                    kind=group.kind.value, label=group.label)
            session.add(group_row)
            session.flush()
            assert group_row.id is not None
            session.add_all(ParticipantRecord(
                group_id=group_row.id, row=p.row, first_name=p.first_name, last_name=p.last_name,
                position=p.position[:300], email=p.email, role=p.role.value)
                for p in group.participants)
        session.add_all(RegistrationRecord(programme=outcome.programme.name, key=key,
                                           application_id=application.id)
                        for key in item.registration_keys)
    number = application.number if decision.accepted else None
    return ReplyItem(decision, number=number)


@dataclass(frozen=True, slots=True)
class _Reply:
    subject: str
    raw: bytes


def _reply(context: Context, message: IncomingMessage, outcome: MessageOutcome,
           items: list[ReplyItem]) -> _Reply | None:
    if outcome.state not in (MessageState.APPLICATION, MessageState.NO_LIST):
        return None
    settings, programme = context.settings, outcome.programme
    attachments: list[FileAttachment] = []
    if outcome.state is MessageState.NO_LIST:
        rendered = render_no_list(context.environment, programme=programme,
                                  blank_name=BLANK_LIST_NAME)
        attachments.append(FileAttachment(BLANK_LIST_NAME, make_blank_list(programme)))
    else:
        annotated_items = []
        for item, listed in zip(items, outcome.lists, strict=True):
            name = None
            if not item.decision.accepted and item.decision.findings:
                copy = annotate_workbook(listed.attachment.content, item.decision,
                                         limits=settings.limits)
                if copy is not None:
                    name = _annotated_name(listed.attachment.filename)
                    attachments.append(FileAttachment(name, copy))
            annotated_items.append(ReplyItem(item.decision, item.number, name))
        rejected = any(not i.decision.accepted for i in annotated_items)
        if rejected:
            attachments.append(FileAttachment(BLANK_LIST_NAME, make_blank_list(programme)))
        rendered = render_reply(annotated_items, context.environment, programme=programme,
                                blank_attached=rejected)
    subject = reply_subject(message.subject) or rendered.subject
    envelope = Envelope(
        sender=settings.mail.address, recipient=message.sender,
        message_id=f"<{uuid.uuid4().hex}@{settings.mail.domain}>", date=context.now(),
        in_reply_to=message.message_id if message.message_id.startswith("<") else "",
        references=message.in_reply_to)
    email = compose_email(rendered.__class__(subject, rendered.text, rendered.html), envelope,
                          attachments)
    return _Reply(subject, email.as_bytes())


def _annotated_name(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem}-piezimes.xlsx"


def _outbox_row(session: Session, context: Context, message_row: int, recipient: str,
                reply: _Reply, now: datetime) -> OutboxRecord:
    """Pending, or held for staff when this recipient has had its automatic replies for the day."""
    sent_today = session.exec(
        select(func.count()).select_from(OutboxRecord)
        .where(OutboxRecord.recipient == recipient)
        .where(col(OutboxRecord.created_at) >= now - timedelta(days=1))
    ).one()
    state = OutboxState.PENDING
    if sent_today >= context.settings.mail.replies_per_recipient_per_day:
        state = OutboxState.HELD
        log.warning("message row %d: reply held, recipient over the daily limit", message_row)
    return OutboxRecord(message_row=message_row, recipient=recipient, subject=reply.subject[:998],
                        raw=reply.raw, state=state, next_attempt_at=now, created_at=now)


def _record_failure(context: Context, mailbox: str, ref: MessageRef, raw: bytes, digest: str,
                    existing: MessageRecord | None, attempts: int, exc: Exception) -> str:
    state = (MessageState.QUARANTINED if attempts >= context.settings.mail.max_attempts
             else MessageState.FAILED)
    now = context.now()
    with Session(context.engine) as session:
        record = session.get(MessageRecord, existing.id) if existing is not None else None
        if record is None:
            record = MessageRecord(mailbox=mailbox, location=ref.location, sha256=digest,
                                   received_at=now, raw=raw, state=state)
        record.state = state
        record.attempts = attempts
        record.error = f"{type(exc).__name__}: {exc}"[:2000]
        record.reason = "our-error"
        record.processed_at = now
        session.add(record)
        session.commit()
    return state


def _handle_oversized(context: Context, source: MailSource, ref: MessageRef,
                      summary: PollSummary) -> str | None:
    """Too large to download: decided from its header alone (issue 5 refines the reply)."""
    header = source.fetch_header(ref)
    raw = header + b"\r\n\r\n"
    return _handle(context, source.name, ref, raw, summary)


def _set_service(engine: Engine, key: str, value: str) -> None:
    with Session(engine) as session:
        record = session.get(ServiceRecord, key) or ServiceRecord(key=key, value=value)
        record.value = value
        session.add(record)
        session.commit()
