"""Messages in the store as a poll meets them: which of a batch were seen before, the highest IMAP
UID handled, the replies a poll queues and the daily count that may hold them, decided mail a
folder kept back, and the service's own bookkeeping. And as staff find them again, to reprocess,
and as retention empties them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import ColumnElement, Connection, Engine, Executable, func, insert, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from intake.core.states import MessageState
from intake.errors import StoreError
from intake.store.applications import clip
from intake.store.tables import MessageRecord, OutboxRecord, OutboxState, ServiceRecord, WatermarkRecord

log = logging.getLogger(__name__)


class Seen:
    """The messages of a batch seen before: by SHA-256, by content key, by place in this mailbox.
    Those written in the batch are added, so that the same mail twice in one batch is found too."""

    def __init__(self, session: Session, mailbox: str, digests: Mapping[str, str],
                 contents: Mapping[str, str | None]) -> None:
        """`digests` and `contents` are by place in the mailbox."""
        keys = [k for k in contents.values() if k]
        rows = session.exec(select(MessageRecord).where(
            col(MessageRecord.sha256).in_(list(digests.values()))
            | col(MessageRecord.content_key).in_(keys)
            | ((col(MessageRecord.mailbox) == mailbox)
               & col(MessageRecord.location).in_(list(digests))))).all()
        self._known: dict[str, MessageRecord] = {}
        for row in rows:
            self._known[row.sha256] = row
            if row.content_key:
                self._known[row.content_key] = row
            if row.mailbox == mailbox:
                self._known[row.location] = row

    def find(self, location: str, digest: str, content: str | None) -> MessageRecord | None:
        for key in (digest, content, location):
            if key and key in self._known:
                return self._known[key]
        return None

    def add(self, record: MessageRecord, location: str, digest: str, content: str | None) -> None:
        self._known[digest] = self._known[location] = record
        if content:
            self._known[content] = record


def advance_watermark(session: Session, mailbox: str, locations: Iterable[str]) -> None:
    """Bookkeeping of the highest IMAP UID handled under the current UIDVALIDITY."""
    places = [location.partition(":") for location in locations]
    uids = [(int(v), int(u)) for v, sep, u in places if sep and v.isdigit() and u.isdigit()]
    if not uids:
        return  # a Maildir: file names, no UIDs
    uidvalidity = uids[0][0]
    highest = max(uid for _v, uid in uids)
    mark = session.get(WatermarkRecord, mailbox)
    if mark is None or mark.uidvalidity != uidvalidity:
        if mark is not None:
            log.warning("%s: UIDVALIDITY changed (%d -> %d); SHA-256 keeps old mail from being "
                        "processed again", mailbox, mark.uidvalidity, uidvalidity)
        mark = WatermarkRecord(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=highest)
    mark.last_uid = max(mark.last_uid, highest)
    session.add(mark)


def replies_since(session: Session, recipient: str, since: datetime) -> int:
    """The replies queued for a recipient since then, whatever became of them."""
    return session.exec(
        select(func.count()).select_from(OutboxRecord)
        .where(OutboxRecord.recipient == recipient)
        .where(col(OutboxRecord.created_at) >= since)
    ).one()


def insert_message(session: Session, record: MessageRecord) -> MessageRecord:
    """A new message's row, written with one INSERT … RETURNING rather than the ORM's flush (a
    third of writing a message in a backlog); the record comes back with its id, detached, so that
    a later write of the same message in the session is an UPDATE."""
    values = {column: getattr(record, column) for column in _message_columns()}
    record.id = session.execute(_message_insert(), values).scalar_one()
    make_transient_to_detached(record)
    return record


@cache
def _message_columns() -> tuple[str, ...]:
    return tuple(c.name for c in MessageRecord.__table__.columns  # type: ignore[attr-defined]
                 if c.name != "id")


@cache
def _message_insert() -> Executable:
    table = MessageRecord.__table__  # type: ignore[attr-defined]
    return insert(table).returning(table.c.id)


def queue_reply(session: Session, *, message_row: int, revision: int, message_id: str,
                recipient: str, subject: str, raw: bytes, state: OutboxState,
                now: datetime) -> None:
    """A reply to a stored message in the outbox, due now (if `state` is pending)."""
    session.execute(_outbox_insert(), {
        "message_row": message_row, "revision": revision, "message_id": message_id,
        "recipient": clip(recipient, 320), "subject": clip(subject, 998), "raw": raw,
        "state": state, "attempts": 0, "next_attempt_at": now, "last_error": "",
        "created_at": now, "sent_at": None})


@cache
def _outbox_insert() -> Executable:
    """Built once: building a statement costs more than running it."""
    return insert(OutboxRecord.__table__)  # type: ignore[attr-defined]


def set_service(engine: Engine, key: str, value: str) -> None:
    """One value of the service's bookkeeping (`last_good_poll`), in its own transaction."""
    try:
        with Session(engine) as session:
            record = session.get(ServiceRecord, key) or ServiceRecord(key=key, value=value)
            record.value = value
            session.add(record)
            session.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record {key}: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc



# --- decided mail still in the mailbox ---------------------------------------------------------

_CHUNK = 500  # locations per IN (…): well under every database's limit on parameters


def decided_states(engine: Engine, mailbox: str, locations: Sequence[str]
                   ) -> tuple[dict[str, str], list[str]]:
    """The state of each of `locations` recorded before (found by place: UIDs are never reused
    under one UIDVALIDITY), and every location of this mailbox marked as not moved."""
    states: dict[str, str] = {}
    try:
        with Session(engine) as session:
            for chunk in _chunks(sorted(locations)):
                states.update(session.exec(
                    select(MessageRecord.location, MessageRecord.state)
                    .where(MessageRecord.mailbox == mailbox)
                    .where(col(MessageRecord.location).in_(chunk))).all())
            marked = list(session.exec(select(MessageRecord.location)
                                       .where(MessageRecord.mailbox == mailbox)
                                       .where(col(MessageRecord.unmoved_since).is_not(None))).all())
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read which mail is decided: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc
    return states, marked


def mark_unmoved(engine: Engine, mailbox: str, refused: Sequence[tuple[str, Sequence[str]]],
                 cleared: Sequence[str], now: datetime) -> None:
    """Marks mail a folder refused (since when, and the server's words, per (error, locations))
    and unmarks mail moved or gone: `intake status` alerts on marked mail."""
    if not refused and not cleared:
        return
    table = MessageRecord.__table__  # type: ignore[attr-defined]
    try:
        with Session(engine) as session:
            for error, locations in refused:
                for chunk in _chunks(locations):
                    session.execute(update(table).where(
                        table.c.mailbox == mailbox, table.c.location.in_(chunk),
                        table.c.unmoved_since.is_(None)).values(unmoved_since=now))
                    session.execute(update(table).where(
                        table.c.mailbox == mailbox, table.c.location.in_(chunk))
                        .values(move_error=error[:500]))
            for chunk in _chunks(cleared):
                session.execute(update(table).where(
                    table.c.mailbox == mailbox, table.c.location.in_(chunk))
                    .values(unmoved_since=None, move_error=None))
            session.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot record which mail is not moved: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start:start + _CHUNK])


# --- as staff find them again ------------------------------------------------------------------

def named_messages(engine: Engine, name: int | str) -> list[int]:
    """The row ids of the stored message with this row id (an int) or Message-ID (a str, with its
    angle brackets); empty when there is none."""
    if isinstance(name, int):
        return _message_rows(engine, col(MessageRecord.id) == name)
    return _message_rows(engine, col(MessageRecord.message_id) == name)


def unsettled_messages(engine: Engine) -> list[int]:
    """The row ids of every quarantined and failed message, in order: what reprocessing retries."""
    return _message_rows(engine, col(MessageRecord.state).in_(
        [MessageState.QUARANTINED, MessageState.FAILED]))


def _message_rows(engine: Engine, condition: ColumnElement[bool]) -> list[int]:
    with Session(engine) as session:
        return [row for row in session.exec(select(MessageRecord.id).where(condition)
                                            .order_by(col(MessageRecord.id))).all() if row]


def purge_raw_mail(connection: Connection, cutoff: datetime, now: datetime) -> int:
    """Empties the raw mail of messages decided before `cutoff`; the decisions stay. Mail still
    being retried (failed) and quarantined mail (for `intake reprocess`) are kept. Returns how
    many were emptied."""
    table = MessageRecord.__table__  # type: ignore[attr-defined]
    return int(connection.execute(
        update(table).where(table.c.raw.is_not(None))
        .where(table.c.processed_at < cutoff)
        .where(table.c.state.not_in([MessageState.FAILED, MessageState.QUARANTINED]))
        .values(raw=None, purged_at=now)).rowcount)
