"""Sending the outbox on SQLite and PostgreSQL: a stop request claims no further reply, and only a
reply tried before counts as deferred. The transport is a recorder behind our `Transport`
protocol; the end-to-end tests send through a real SMTP server."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, func, select

from intake.core.states import MessageState
from intake.poll.sending import deliver_pending
from intake.store import messages
from intake.store.tables import MessageRecord, OutboxRecord, OutboxState

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Recorder:
    """A transport that keeps the recipients it is handed."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        self.sent.append(recipients[0])

    def check(self) -> None:
        pass

    def close(self) -> None:
        pass


def queue(engine, count: int, *, due: datetime = NOW) -> None:
    with Session(engine) as session:
        for number in range(count):
            record = messages.insert_message(session, MessageRecord(
                mailbox="imap://x/INBOX", location=f"1:{number}", sha256=f"{number:064d}",
                state=MessageState.APPLICATION, received_at=NOW))
            assert record.id is not None
            messages.queue_reply(session, message_row=record.id, revision=0,
                                 message_id=f"<r{number}@intake.example.lv>",
                                 recipient=f"s{number}@skola.lv", subject="Re: Pieteikums",
                                 raw=b"Subject: x\r\n\r\nx\r\n", state=OutboxState.PENDING, now=due)
        session.commit()


def states(engine) -> dict[str, int]:
    with Session(engine) as session:
        return dict(session.exec(select(OutboxRecord.state, func.count())
                                 .group_by(col(OutboxRecord.state))).all())


def test_a_stop_request_claims_no_further_reply(engine):
    queue(engine, 3)
    transport = Recorder()

    delivery = deliver_pending(engine, transport, sender="supervizija@intake.example.lv", now=NOW,
                               max_attempts=3, stop=lambda: len(transport.sent) >= 1)

    assert transport.sent == ["s0@skola.lv"]
    assert (delivery.sent, delivery.unreachable) == (1, False)
    assert states(engine) == {OutboxState.SENT: 1, OutboxState.PENDING: 2}  # for the next poll


def test_a_reply_queued_after_the_run_began_is_not_taken_for_a_deferred_one(engine, caplog):
    queue(engine, 1)
    later = NOW + timedelta(seconds=5)  # written by the batch committed while this run sends

    with Session(engine) as session:
        record = messages.insert_message(session, MessageRecord(
            mailbox="imap://x/INBOX", location="1:99", sha256="f" * 64,
            state=MessageState.APPLICATION, received_at=later))
        assert record.id is not None
        messages.queue_reply(session, message_row=record.id, revision=0,
                             message_id="<r99@intake.example.lv>", recipient="s99@skola.lv",
                             subject="Re: Pieteikums", raw=b"x", state=OutboxState.PENDING,
                             now=later)
        session.commit()
    transport = Recorder()
    with caplog.at_level(logging.INFO, logger="intake.poll.sending"):
        deliver_pending(engine, transport, sender="supervizija@intake.example.lv", now=NOW,
                        max_attempts=3)

    assert transport.sent == ["s0@skola.lv"]  # the later one goes with the next pass
    assert not [r for r in caplog.records if "deferred" in r.getMessage()]
