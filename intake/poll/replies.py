"""The reply to a message, composed from plain values: here, or in a worker process of a large
poll. Composing reads and writes no database; queueing the reply is the writer's."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import jinja2

from intake.config import Settings
from intake.core.formats import Limits
from intake.core.messages import IncomingMessage
from intake.core.model import Decision
from intake.core.outcome import TOO_LARGE, MessageOutcome
from intake.core.replies import (
    Envelope,
    FileAttachment,
    ReplyItem,
    compose_email,
    render_no_list,
    render_reply,
)
from intake.core.states import MessageState

log = logging.getLogger(__name__)

BLANK_LIST_NAME = "dalibnieku-saraksts.xlsx"
REPLIED_STATES = frozenset({MessageState.APPLICATION, MessageState.NO_LIST})


@dataclass(frozen=True, slots=True)
class Reply:
    """A composed reply: the mail as sent, its subject and Message-ID for the outbox row."""

    subject: str
    raw: bytes
    message_id: str


@dataclass(frozen=True, slots=True)
class ReplyJob:
    """A reply to compose: plain values, so that a worker process can compose it."""

    message_row: int
    message: IncomingMessage
    outcome: MessageOutcome
    items: list[ReplyItem]
    now: datetime
    revision: int = 0
    replies_today: int | None = None  # the recipient's automatic replies in the last 24 hours


@dataclass(frozen=True, slots=True)
class Replies:
    """What composing any reply needs besides the job: plain values, for the worker processes."""

    templates_dir: Path
    address: str
    domain: str
    limits: Limits
    max_message_bytes: int


def replies_of(settings: Settings) -> Replies:
    return Replies(settings.templates_dir, settings.mail.address, settings.mail.domain,
                   settings.limits, settings.mail.max_message_bytes)


def compose_reply(job: ReplyJob, replies: Replies, environment: jinja2.Environment) -> Reply:
    # Imported here: they load openpyxl, which a poll without a reply to compose (and `intake
    # poll`'s start-up) does without; the worker processes' fork server imports them once.
    from intake.core.blank_list import make_blank_list

    message, outcome, programme = job.message, job.outcome, job.outcome.programme
    attachments: list[FileAttachment] = []
    if outcome.state is MessageState.NO_LIST or outcome.reason == TOO_LARGE:
        too_large = replies.max_message_bytes if outcome.reason == TOO_LARGE else None
        rendered = render_no_list(environment, programme=programme, blank_name=BLANK_LIST_NAME,
                                  too_large_bytes=too_large, original_subject=message.subject)
        attachments.append(FileAttachment(BLANK_LIST_NAME, make_blank_list(programme)))
    else:
        annotated_items = []
        for item, listed in zip(job.items, outcome.lists, strict=True):
            name = None
            if not item.decision.accepted and item.decision.findings:
                copy = _annotated_copy(listed.attachment.content, item.decision, replies.limits)
                if copy is not None:
                    name = _annotated_name(listed.attachment.filename)
                    attachments.append(FileAttachment(name, copy))
            annotated_items.append(replace(item, annotated=name))
        rejected = any(not i.decision.accepted for i in annotated_items)
        if rejected:
            attachments.append(FileAttachment(BLANK_LIST_NAME, make_blank_list(programme)))
        rendered = render_reply(annotated_items, environment, programme=programme,
                                blank_attached=rejected, original_subject=message.subject)
    subject = rendered.subject
    envelope = Envelope(
        sender=replies.address, sender_name=programme.sender_name, recipient=message.sender,
        message_id=f"<{uuid.uuid4().hex}@{replies.domain}>", date=job.now,
        in_reply_to=message.message_id if message.message_id.startswith("<") else "",
        references=message.in_reply_to)
    raw = compose_email(rendered, envelope, attachments)
    return Reply(subject, raw, envelope.message_id)


def _annotated_copy(content: bytes, decision: Decision, limits: Limits) -> bytes | None:
    """The annotated workbook, or None: a copy we cannot make must not cost the school its reply."""
    from intake.core.annotation import annotate_workbook

    try:
        return annotate_workbook(content, decision, limits=limits)
    except Exception as exc:  # noqa: BLE001 - the reply goes out without the copy
        log.warning("annotated copy failed: %s", type(exc).__name__)
        return None


def _annotated_name(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem}-piezimes.xlsx"
