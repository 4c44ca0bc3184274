"""Mail loops: an auto-responder at a school answers everything we send. Whatever it looks like,
the exchange stops by itself, within `replies_per_recipient_per_day`."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from intake.poll.service import poll_once
from intake.store.status import read_status
from tests.end_to_end.conftest import OUR_ADDRESS
from tests.end_to_end.test_mailbox_loop import application, school_list
from tests.end_to_end.test_outages import settings_for
from tests.support.mail import make_email
from tests.support.smtp import Received

SCHOOL = "sekretare9100@skola.example.lv"
ROUNDS = 20  # far more than any responder may get: the test fails if the exchange runs on


def responder_answer(reply: Received, number: int, *, headers: str, threaded: bool,
                     subject: str = "Re: {subject}", sender: str = f"Sekretāre <{SCHOOL}>",
                     body: str = "Thank you for your mail. We will answer as soon as possible.") -> bytes:
    """What the school's auto-responder sends back to one of our replies."""
    ours = reply.message
    if threaded:  # as most clients do: In-Reply-To and References name our Message-ID
        headers += f"In-Reply-To: {ours['Message-ID']}\r\nReferences: {ours['Message-ID']}\r\n"
    return make_email(style="outlook", sender=sender, to=OUR_ADDRESS,
                      subject=subject.format(subject=ours["Subject"]), number=number,
                      extra_headers=headers, body=body)


def exchange(settings, engine, dovecot, smtp, *, headers: str, threaded: bool,
             **answer: str) -> tuple[int, int]:
    """The school applies; then, poll by poll, the responder answers each reply we sent.
    Returns (mails we sent, polls until one sent nothing)."""
    dovecot.append(application("gmail", 9100, school_list(9100)))
    answered = 0
    for polls in range(1, ROUNDS + 1):
        assert poll_once(settings, engine) is not None
        sent = smtp.inbox.wait_for(0)  # the server keeps what it accepted before answering 250
        if len(sent) == answered:
            return answered, polls
        for reply in sent[answered:]:
            assert reply.recipients == [SCHOOL]
            dovecot.append(responder_answer(reply, 9101 + answered, headers=headers,
                                            threaded=threaded, **answer))
            answered += 1
    raise AssertionError(f"the exchange went on for {ROUNDS} polls: {answered} mails sent")


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
@pytest.mark.parametrize(("headers", "outcome"), [
    ("Auto-Submitted: auto-replied\r\n", ("auto", "auto-submitted")),  # RFC 3834
    ("X-Auto-Response-Suppress: All\r\nX-MS-Exchange-Inbox-Rules-Loop: x@skola.example.lv\r\n",
     ("auto", "x-auto-response-suppress")),  # Outlook / Exchange out-of-office
    ("Precedence: auto_reply\r\n", ("auto", "precedence")),  # vacation(1) and kin
    ("", ("correspondence", "reply-without-list")),  # no such header, but a reply to ours
], ids=["auto-submitted", "outlook-out-of-office", "precedence", "plain-threaded"])
def test_a_responder_that_says_what_it_is_or_threads_gets_one_mail(engine, database_url,
                                                                  mailbox_server, smtp, tmp_path,
                                                                  headers, outcome):
    settings = settings_for(database_url, mailbox_server, smtp.url, tmp_path)

    sent, polls = exchange(settings, engine, mailbox_server, smtp, headers=headers, threaded=True)

    assert (sent, polls) == (1, 2)  # our confirmation; its answer is recorded, never answered
    assert _states(engine) == [("application", "1 attachment(s)"), outcome]
    assert read_status(engine).outbox == {"sent": 1}
    assert mailbox_server.folder_counts()["INBOX"] == 0


def test_a_plain_responder_that_does_not_thread_is_stopped_by_the_daily_limit(
        engine, database_url, mailbox_server, smtp, tmp_path):
    """No automatic-mail header, no In-Reply-To or References: each answer looks like a new
    question without a list. The per-recipient limit ends it: 5 mails, then the 6th reply is held
    for staff, and the responder, getting nothing, says nothing more."""
    settings = settings_for(database_url, mailbox_server, smtp.url, tmp_path)
    limit = settings.mail.replies_per_recipient_per_day
    assert limit == 5  # the shipped default

    sent, polls = exchange(settings, engine, mailbox_server, smtp, headers="", threaded=False)

    assert (sent, polls) == (limit, limit + 1)
    assert _states(engine) == [("application", "1 attachment(s)")] + [
        ("no_list", "no-attachment")] * limit
    assert read_status(engine).outbox == {"sent": limit, "held": 1}
    subjects = [r.message["Subject"] for r in smtp.inbox.messages]
    assert subjects[0].startswith("Re: Pieteikums supervīzijai 9100 — pieņemts, SUP-")
    # each answer's "Re: Re: … — pieņemts" is answered as one thread, never "Re: Re: Re: …"
    assert subjects[1:] == ["Re: Pieteikums supervīzijai 9100 — vajadzīgs dalībnieku saraksts"] * (
        limit - 1)
    assert mailbox_server.folder_counts()["INBOX"] == 0


@pytest.mark.parametrize(("answer", "headers", "reason"), [
    ({"subject": "Arpus biroja atrasanas automatiska atbilde: {subject}",
      "body": "Esmu atvaļinājumā līdz 5. janvārim."}, "", "subject"),
    ({"subject": "Автоответ: {subject}", "body": "Я в отпуске до 10 января."}, "", "subject"),
    ({"subject": "Mail delivery failed: returning message to sender",
      "sender": "Mail Delivery System <MAILER-DAEMON@mx.skola.example.lv>",
      "body": "This message was created automatically by mail delivery software."}, "", "sender"),
    ({"subject": "Please confirm your message",
      "body": "I use a challenge-response spam filter. Click the link below to confirm."}, "", "challenge"),
    ({}, f"X-Loop: {OUR_ADDRESS}\r\n", "loop"),
], ids=["latvian-out-of-office-without-diacritics", "russian-auto-reply", "bounce-without-dsn",
        "challenge-response", "x-loop"])
def test_a_responder_known_only_by_its_words_or_x_loop_gets_one_mail(
        engine, database_url, mailbox_server, smtp, tmp_path, answer, headers, reason):
    """Neither an automatic-mail header nor a thread: what the mail says, or X-Loop, is enough."""
    settings = settings_for(database_url, mailbox_server, smtp.url, tmp_path)

    sent, polls = exchange(settings, engine, mailbox_server, smtp, headers=headers, threaded=False,
                           **answer)

    assert (sent, polls) == (1, 2)
    assert _states(engine) == [("application", "1 attachment(s)"), ("auto", reason)]


def _states(engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [(state, reason) for state, reason in connection.execute(
            text("select state, reason from messages order by id"))]
