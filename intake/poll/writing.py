"""A batch of messages written in one transaction, each message behind one error boundary.

The batch is first written straight through. Should one message fail, the transaction is rolled
back and the batch written again with each message in its own savepoint, where a failure is that
message's alone: savepoints cost, and failures are rare. A failure of the database itself is never
a message's: it ends the batch, and nothing of it is committed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

from intake.core.outcome import MessageOutcome
from intake.core.resubmission import Relation
from intake.core.states import MessageState
from intake.mail.source import MessageRef
from intake.poll.context import Context
from intake.poll.moves import folder_for
from intake.poll.recording import Arrival, finish, queue_reply, write_failure, write_outcome
from intake.poll.replies import Reply, ReplyJob, compose_reply, replies_of
from intake.poll.workers import PreparationError, Prepared, WorkerFailure, submit_reply
from intake.store import messages
from intake.store.tables import MessageRecord

log = logging.getLogger(__name__)

FINAL_STATES = frozenset({MessageState.APPLICATION, MessageState.AUTO, MessageState.CORRESPONDENCE,
                          MessageState.NO_LIST, MessageState.QUARANTINED})
Fetched = list[tuple[MessageRef, bytes]]


def content_key(raw: bytes) -> str | None:
    """Message-ID + body: equal for the same mail delivered again with other Received headers.

    None without a Message-ID: several clients' mails share none, and a body alone is no identity."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        head, _separator, body = raw.partition(b"\n\n")
    found = _MESSAGE_ID.search(head)
    if not found:
        return None
    return hashlib.sha256(found.group(1).strip() + b"\0" + body.replace(b"\r\n", b"\n")).hexdigest()


_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]{1,900}>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class BatchKeys:
    """How each message of a batch is recognised when seen before."""

    mailbox: str
    digests: dict[str, str]
    contents: dict[str, str | None]

    @classmethod
    def of(cls, mailbox: str, fetched: Fetched) -> BatchKeys:
        return cls(mailbox, {ref.location: hashlib.sha256(raw).hexdigest() for ref, raw in fetched},
                   {ref.location: content_key(raw) for ref, raw in fetched})

    def arrival(self, ref: MessageRef, raw: bytes) -> Arrival:
        return Arrival(self.mailbox, ref.location, raw, self.digests[ref.location],
                       self.contents[ref.location])


@dataclass
class ListCounts:
    accepted: int = 0
    rejected: int = 0


@dataclass
class Written:
    """What a committed batch did, for the poll's summary and the moves."""

    moves: list[tuple[MessageRef, str]] = field(default_factory=list)
    states: Counter[str] = field(default_factory=Counter)
    lists: ListCounts = field(default_factory=ListCounts)
    already_done: int = 0
    log: list[tuple[int, str]] = field(default_factory=list)  # logged once committed


@dataclass
class _Progress:
    """How far the first pass got: a stop request is honoured only after those messages."""

    reached: int = 0


class _MessageFailed(Exception):
    """A message failed where there was no savepoint: the batch is written again with them."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def write_batch(context: Context, keys: BatchKeys, fetched: Fetched,
                take: Callable[[MessageRef, bytes], Prepared],
                workers: Executor | None = None, *, prepare_first: bool = False,
                lock: AbstractContextManager[object] | None = None) -> Written:
    """Decide and store a batch in one transaction, committed on return. `take` prepares a message
    (each once, whatever pass asks). `prepare_first`: every message is taken before the
    transaction begins, so that the database (and `lock`, held for the transaction) is free
    while the workers prepare them. Raises SQLAlchemyError where the database fails."""
    prepared: dict[str, Prepared] = {}  # the second pass reads the same: each is prepared once

    def prepare(ref: MessageRef, raw: bytes) -> Prepared:
        if ref.location not in prepared:
            prepared[ref.location] = take(ref, raw)
        return prepared[ref.location]

    if prepare_first:
        for ref, raw in fetched:
            if context.should_stop():
                break  # the rest is prepared (or left) as the pass reaches it
            prepare(ref, raw)
    progress = _Progress()
    with lock or nullcontext():
        try:
            return _write_pass(context, keys, fetched, prepare, isolated=False, workers=workers,
                               progress=progress)
        except _MessageFailed as failed:
            log.warning("message %s failed (%s); the batch is written again, message by message",
                        failed.location, type(failed.__cause__).__name__)
            return _write_pass(context, keys, fetched, prepare, isolated=True,
                               stop_from=progress.reached)


def _write_pass(context: Context, keys: BatchKeys, fetched: Fetched,
                prepare: Callable[[MessageRef, bytes], Prepared], *, isolated: bool,
                workers: Executor | None = None, progress: _Progress | None = None,
                stop_from: int = 0) -> Written:
    """One pass over a batch. Straight through (not `isolated`) with worker processes, the replies
    are composed by the workers while this process writes the next messages, and queued at the
    end, before the commit."""
    written = Written()
    deferred: list[tuple[ReplyJob, str, Future[Reply] | None]] = []
    with Session(context.engine) as session:
        seen = messages.Seen(session, keys.mailbox, keys.digests, keys.contents)
        todo = []
        for ref, raw in fetched:
            arrival = keys.arrival(ref, raw)
            if not _done_before(context, _find(seen, arrival), ref, written):
                todo.append((ref, arrival))
        for number, (ref, arrival) in enumerate(todo):
            if number >= stop_from and context.should_stop():
                break  # SIGTERM: what is decided so far is committed below; the rest waits
            prepared = prepare(ref, arrival.raw)
            if progress is not None:
                progress.reached = number + 1
            existing = _find(seen, arrival)
            if _done_before(context, existing, ref, written):
                continue  # the same mail twice in this batch
            defer = None
            if workers is not None and not isolated:
                def defer(job: ReplyJob, location: str = ref.location) -> None:
                    deferred.append((job, location, submit_reply(workers, job)))
            record = write_message(context, session, arrival, existing, written, prepared,
                                   isolated=isolated, defer=defer)
            written.states[record.state] += 1
            seen.add(record, arrival.location, arrival.digest, arrival.content_key)
            if folder := _folder(context, record.state):
                written.moves.append((ref, folder))
        _queue_deferred(context, session, deferred)
        messages.advance_watermark(session, keys.mailbox, [ref.location for ref, _raw in fetched])
        session.commit()
    return written


def _find(seen: messages.Seen, arrival: Arrival) -> MessageRecord | None:
    return seen.find(arrival.location, arrival.digest, arrival.content_key)


def _done_before(context: Context, existing: MessageRecord | None, ref: MessageRef,
                 written: Written) -> bool:
    """A copy, a resend, an unfinished move, or the same mail twice in the batch: only moved."""
    if existing is None or existing.state not in FINAL_STATES:
        return False
    written.already_done += 1
    written.moves.append((ref, _folder(context, existing.state) or ""))
    return True


def write_message(context: Context, session: Session, arrival: Arrival,
                  existing: MessageRecord | None, written: Written, prepared: Prepared, *,
                  isolated: bool, defer: Callable[[ReplyJob], None] | None = None
                  ) -> MessageRecord:
    """Decide one message and write its rows and reply: a message's one error boundary.

    A preparation that failed is recorded at once: nothing of the message is written yet. Any
    other failure but the database's own is the message's: `isolated`, the message's savepoint is
    rolled back and the failure recorded; not `isolated` (no savepoint), it raises
    `_MessageFailed`, which ends the batch's first pass."""
    if isinstance(prepared, WorkerFailure):
        error = PreparationError(prepared)
        record = write_failure(context, session, arrival, existing, error)
        written.log.append((logging.ERROR, f"message {arrival.location}: PreparationError: "
                                           f"{error} (attempt {record.attempts})"))
        return record
    savepoint = session.begin_nested() if isolated else None
    try:
        decided = finish(context, prepared, session)
        record = write_outcome(context, session, arrival, decided, existing, defer=defer)
        if savepoint is not None:
            savepoint.commit()
    except (OperationalError, InterfaceError):
        if savepoint is not None:
            savepoint.rollback()
        raise  # the database itself is unreachable: not this message's fault
    except Exception as exc:
        if savepoint is None:
            raise _MessageFailed(arrival.location) from exc
        savepoint.rollback()
        record = write_failure(context, session, arrival, existing, exc)
        if isinstance(exc, IntegrityError | DataError):
            # A value this message carries that the schema refuses: no traceback is of use.
            log.error("message %s: %s (attempt %d)", arrival.location, type(exc).__name__,
                      record.attempts)
        else:
            log.exception("message %s: %s (attempt %d)", arrival.location, type(exc).__name__,
                          record.attempts)
        return record
    _count(written, arrival.location, decided.outcome)
    return record


def _queue_deferred(context: Context, session: Session,
                    deferred: list[tuple[ReplyJob, str, Future[Reply] | None]]) -> None:
    """The replies the workers composed, into the outbox in the messages' order. One that failed
    (or a broken pool) ends the batch's first pass: the second composes each reply here."""
    queued: Counter[str] = Counter()  # per recipient, for the daily limit the probes counted
    for job, location, future in deferred:
        recipient = job.message.sender
        try:
            try:
                reply = future.result() if future is not None else None
            except Exception as exc:  # noqa: BLE001 - a broken pool, say: composed here instead
                log.warning("message %s: the reply is composed here (%s in the worker)", location,
                            type(exc).__name__)
                reply = None
            if reply is None:
                reply = compose_reply(job, replies_of(context.settings), context.environment)
            queue_reply(session, context, job, reply,
                        earlier_in_batch=queued[recipient] if job.replies_today is not None else 0)
        except (OperationalError, InterfaceError):
            raise  # the database itself is unreachable: not this message's fault
        except Exception as exc:
            raise _MessageFailed(location) from exc
        queued[recipient] += 1


def _count(written: Written, location: str, outcome: MessageOutcome) -> None:
    for item in outcome.lists:
        if item.decision.accepted or item.relation is Relation.REPEAT:
            written.lists.accepted += 1
        else:
            written.lists.rejected += 1
    written.log.append((logging.INFO, f"message {location}: {outcome.state} "
                                      f"({outcome.reason}), {len(outcome.lists)} list(s)"))


def _folder(context: Context, state: str) -> str | None:
    return folder_for(context.settings.mail.folders, state)
