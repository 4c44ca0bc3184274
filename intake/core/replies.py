"""Renders a decision as the Latvian reply a school receives (text and HTML), via Jinja2 templates."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.charset import BASE64, Charset
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr
from pathlib import Path

import jinja2

from intake.core.findings import number_in_sheet_order
from intake.core.latvian import after_colon, plural
from intake.core.model import Decision, Finding, GroupKind, Severity
from intake.core.programme import Programme
from intake.core.resubmission import PersonChange, Relation


class _Wire(Compat32):
    """compat32 as it folds headers, without its Header machinery for a header that fits one line
    in ASCII (all of ours but the subject and long References): that machinery cost more than the
    rest of composing a reply."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (isinstance(value, str) and value.isascii() and "\r" not in value
                and "\n" not in value and len(name) + 2 + len(value) <= (self.max_line_length or 78)):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc,no-any-return]


_WIRE = _Wire(linesep="\r\n", max_line_length=78)
# UTF-8 encoded words in base64 only. The stdlib's default for UTF-8 picks the shorter of base64
# and quoted-printable, measuring the candidate line again after every character: quadratic in the
# subject's length (1.5 ms for a school's 950-character subject; 0.5 ms in base64). Every client
# decodes both.
_UTF8_WORDS = Charset("utf-8")
_UTF8_WORDS.header_encoding = BASE64


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def make_environment(templates_dir: Path, *, auto_reload: bool = True) -> jinja2.Environment:
    """The templates' environment: HTML escaped, text not, undefined names an error. Without
    `auto_reload` (a worker process, which lives for one poll) a template is not checked for a
    change on disk each time it is used."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        auto_reload=auto_reload,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["plural"] = plural
    environment.filters["filesize"] = filesize
    environment.filters["where"] = describe_location
    environment.filters["what"] = describe_problem
    environment.filters["numbered"] = number_findings
    environment.filters["explain"] = explain_finding
    environment.globals["GroupKind"] = GroupKind
    environment.globals["Relation"] = Relation
    environment.globals["Severity"] = Severity
    environment.filters["day"] = lambda day: day.strftime("%d.%m.%Y.")
    return environment


def filesize(size: int) -> str:
    """`25 MB`, `20 kB`: a size as a secretary reads it."""
    if size >= 1_048_576:
        return f"{size / 1_048_576:.0f} MB"
    return f"{max(size // 1024, 1)} kB"


def describe_location(finding: Finding) -> str:
    """`Lapā «Saraksts», 6. rindā, kolonnā «E-pasts» (E6)`: as much of it as the finding knows,
    in the order and the case a Latvian sentence puts it."""
    parts = []
    if finding.sheet:
        parts.append(f"lapā «{finding.sheet}»")
    if finding.row is not None:
        parts.append(f"{finding.row}. rindā")
    if finding.column is not None:
        name = f"«{finding.column_title}»" if finding.column_title else finding.column_letter
        parts.append(f"kolonnā {name}")
    where = ", ".join(parts)
    if finding.cell and finding.column_title:
        where = f"{where} ({finding.cell})"
    elif finding.column is not None and finding.column_title:
        where = f"{where} (kolonna {finding.column_letter})"
    return where[:1].upper() + where[1:]


def describe_problem(finding: Finding) -> str:
    """The message, preceded by the value found unless the message already quotes it; after the
    colon the message goes on in lower case, as a Latvian sentence does."""
    if finding.value and f"«{finding.value}»" not in finding.message:
        return f"«{finding.value}»: {after_colon(finding.message)}"
    return finding.message


def explain_finding(finding: Finding) -> str:
    """What is wrong and what to do, as sentences: the problem, then the hint."""
    problem = describe_problem(finding)
    if not finding.hint:
        return problem
    stop = "" if problem.endswith((".", "!", "?")) else "."
    return f"{problem}{stop} {finding.hint}"


def number_findings(decision: Decision, severity: Severity | None = None) -> list[tuple[int, Finding]]:
    """A decision's findings (of one severity, or all) with their numbers: the numbers and the
    order of the annotated copy's «Piezīmes» sheet, the order of the sheet (`in_sheet_order`)."""
    return [(number, f) for number, f in number_in_sheet_order(decision.findings)
            if severity is None or f.severity is severity]


@dataclass(frozen=True, slots=True)
class ReplyItem:
    """One list's part of a reply: its decision, its application number, its annotated copy."""

    decision: Decision
    number: str | None = None
    annotated: str | None = None  # the file name of the annotated copy attached to the reply
    relation: Relation = Relation.NEW
    # The day of the application this list repeats, amends or (for a new list) corrects.
    earlier_on: date | None = None
    change: PersonChange | None = None  # an applied amendment: who was added, removed, kept
    waitlisted: int | None = None  # accepted beyond the programme's cap: its place on the waiting list

    @property
    def error_count(self) -> int:
        return len(self.decision.errors)


def render_reply(items: Sequence[ReplyItem], environment: jinja2.Environment, *,
                 programme: Programme, blank_attached: bool = False,
                 original_subject: str = "") -> Rendered:
    """The answer to an application: each list's confirmation or error report, in one mail. Its
    subject keeps the school's (`Re: …`, for the thread) and adds the outcome."""
    return _render("reply", environment, items=list(items), programme=programme,
                   blank_attached=blank_attached, topic=reply_subject(original_subject))


def render_no_list(environment: jinja2.Environment, *, programme: Programme, blank_name: str,
                   too_large_bytes: int | None = None, original_subject: str = "") -> Rendered:
    """The answer to a mail without a list we could read: how to apply, with the blank list
    attached; `too_large_bytes` when the mail was refused for its size before it was downloaded."""
    return _render("no_list", environment, programme=programme, blank_name=blank_name,
                   too_large_bytes=too_large_bytes, topic=reply_subject(original_subject))


def render_promoted(environment: jinja2.Environment, *, programme: Programme, number: str,
                    institution: str | None) -> Rendered:
    """The news that a wait-listed application has its place now (R7's cap)."""
    return _render("promoted", environment, programme=programme, number=number,
                   institution=institution)


def _render(name: str, environment: jinja2.Environment, **context: object) -> Rendered:
    programme = context.get("programme")
    folder = programme.templates if isinstance(programme, Programme) else None

    def template(file: str) -> jinja2.Template:
        # The programme's own file where it has one (its wording differs), else the shared one.
        if folder:
            return environment.select_template([f"{folder}/{file}", file])
        return environment.get_template(file)

    # `{% include own("_part.html") %}`: the programme's own part where it has one.
    context.setdefault("own", lambda file: [f"{folder}/{file}", file] if folder else [file])
    subject = template(f"{name}.subject.txt").render(context)
    return Rendered(
        subject=" ".join(subject.split()),
        text=template(f"{name}.txt").render(context),
        html=template(f"{name}.html").render(context),
    )


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who a reply goes to and what it answers; ids and times come from the shell."""

    sender: str  # our address
    recipient: str
    message_id: str  # "<…@our-domain>"
    date: datetime
    in_reply_to: str = ""  # the school's Message-ID
    references: tuple[str, ...] = ()
    auto_submitted: str = "auto-replied"  # RFC 3834; "auto-generated" for the staff summary
    loop_header: str = "X-Intake-Loop"
    loop_value: str = "supervision-intake"
    sender_name: str = ""  # shown beside our address: `IKVD supervīziju pieteikumi <…>`


@dataclass(frozen=True, slots=True)
class FileAttachment:
    filename: str
    content: bytes
    subtype: str = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def compose_email(rendered: Rendered, envelope: Envelope,
                  attachments: Sequence[FileAttachment] = ()) -> bytes:
    """The reply as MIME bytes (CRLF): text and HTML, attachments, and headers that stop loops.

    Built with the compat32 MIME classes: the same wire format as EmailMessage's content
    manager at a third of the cost, which matters at a thousand replies a poll."""
    alternative = MIMEMultipart("alternative", boundary=_boundary())
    alternative.attach(MIMEText(rendered.text, "plain", "utf-8"))
    alternative.attach(MIMEText(rendered.html, "html", "utf-8"))
    message: MIMEMultipart = alternative
    if attachments:
        message = MIMEMultipart("mixed", boundary=_boundary())
        message.attach(alternative)
        for item in attachments:
            part = MIMEApplication(item.content, item.subtype)
            part.add_header("Content-Disposition", "attachment",
                            filename=("utf-8", "", _one_line(item.filename)))  # RFC 2231
            message.attach(part)
    message["From"] = (formataddr((_one_line(envelope.sender_name), envelope.sender), "utf-8")
                       if envelope.sender_name else envelope.sender)
    message["To"] = envelope.recipient
    message["Subject"] = Header(_one_line(rendered.subject), _UTF8_WORDS)  # type: ignore[assignment]
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    if envelope.in_reply_to:
        message["In-Reply-To"] = envelope.in_reply_to
        references = dict.fromkeys(r for r in (*envelope.references, envelope.in_reply_to) if r)
        message["References"] = " ".join(references)
    # RFC 3834: we answer automatically; ask others not to answer us, and mark our mail for loops.
    message["Auto-Submitted"] = envelope.auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message[envelope.loop_header] = envelope.loop_value
    return message.as_bytes(policy=_WIRE)


def _boundary() -> str:
    """A MIME boundary no part can contain: the parts are base64, which has no "_" (the standard
    library's generator would otherwise compile a regular expression per part to make sure)."""
    return f"=_intake_{uuid.uuid4().hex}"


# What our subjects add after the school's (`Re: … — pieņemts, SUP-2026-00004`): dropped when the
# school answers one of our replies, so that the next outcome replaces it instead of piling up.
_OUR_OUTCOME = re.compile(
    r"\s+—\s+(?:pieņemts|pieņemti|jālabo|jau reģistrēts|grozījumi|vajadzīgs dalībnieku saraksts"
    r"|vēstule ir par lielu)\b.*$")
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|aw|sv|atb|vs)\s*:)+\s*", re.IGNORECASE)


def reply_subject(original: str) -> str:
    """`Re: …` once, whatever prefixes the school's client added, without the outcome an earlier
    reply of ours added."""
    topic = _one_line(original)
    bare = _OUR_OUTCOME.sub("", _REPLY_PREFIX.sub("", topic))
    return f"Re: {bare}" if bare else ""


def _one_line(text: str) -> str:
    # CR and LF in a school's subject or file name must not become headers of ours.
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())
