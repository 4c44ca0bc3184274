"""Parses a raw e-mail into what the intake needs: sender, ids, automatic or not, the list files."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr
from functools import lru_cache

from intake.core.automail import CLASSIFIER_HEADERS, Ours, auto_reason
from intake.core.latvian import normalise
from intake.core.parts import (
    MAX_PARTS,
    SPREADSHEET_EXTENSIONS,
    Attachment,
    attachments_of,
    body_text,
    describe,
    forwarded_text,
    header_text,
    inside_attached_mails,
    walk,
)

_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|atb|pārs|pars|ats|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# `SUP-2026-00042`: what `applications.store_application` gives (the row id, 5 digits or more).
_APPLICATION_NUMBER = re.compile(r"\bSUP-\d{4}-(?:\d{5}|[1-9]\d{5,8})\b")
# Where a quoted or forwarded mail begins: what Outlook, Gmail, Apple Mail and Thunderbird put above
# it, in English, Latvian and Russian.
QUOTE_HEADER = re.compile(
    r"^\s*(-{2,}\s*(original message|forwarded message|pārsūtīta vēstule|sākotnējā vēstule"
    r"|pārsūtīta ziņa|pārsūtītā ziņa|sākotnējā ziņa|пересланное сообщение|исходное сообщение)"
    r"|begin forwarded message:|sākt pārsūtīto ziņu:"
    r"|(from|no|sūtītājs|sender|sent|nosūtīts|от)\s*:|on .+ wrote:|.+ rakstīja:|.+ написал\(?а?\)?:)",
    re.IGNORECASE)
_ANGLE_ADDRESS = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_NOT_IN_DOMAIN = frozenset('<>()[],;:\\"@ ')


class _LenientPolicy(EmailPolicy):
    """policy.default, except that a header its parser chokes on is its raw text.

    The stdlib raises IndexError on `Content-Type: text/plain; a*` while the parser itself reads
    the Content-Type, so no try around a single access can catch it; as text the header is read
    the way compat32 reads every header."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if name.lower() in _MIME_HEADERS and _PLAIN_MIME_VALUE.match(plain := _unfold(value)):
            return plain
        if len(value) <= 1000:  # the parser asks for a part's Content-Type once per line
            return _fetch_parse(name, value)
        return _parse_header(name, value)


# A MIME header of a type and plain parameters (tokens, or quoted printable ASCII without `"`, `\\`
# or `?`, so no encoded word), as most parts carry: every parser reads it alike, so it is returned
# as the text it is, as compat32 returns every header. The header registry's parse of it cost a
# sixth of parsing a mail; the rest (RFC 2231 and RFC 2047 parameters, comments) still take it.
# Such a header is a plain str: EmailMessage's is_attachment, get_body and iter_attachments, which
# read the registry's attributes, are not for mails parsed here (`intake.core.parts` reads them).
_MIME_HEADERS = frozenset({"content-type", "content-transfer-encoding", "content-disposition"})
# Tokens without `'` and `*`, where the registry ends an unquoted value (RFC 2231's marks).
_MIME_WORD = r"[!#$%&+.^`|~\w-]+"
_PLAIN_MIME_VALUE = re.compile(  # a parameter named `name*` is RFC 2231's: not plain
    rf"{_MIME_WORD}(?:/{_MIME_WORD})?(?:[ \t]*;[ \t]*[\w.-]+=(?:{_MIME_WORD}|\"[ !#->@-\[\]-~]*\"))*"
    r"[ \t]*\Z", re.ASCII)


def _unfold(value: str) -> str:
    return "".join(value.splitlines()) if "\n" in value or "\r" in value else value


@lru_cache(maxsize=256)
def _fetch_parse(name: str, value: str) -> str:
    # Parsed headers are read-only (str subclasses): one parse serves every read of it.
    return _parse_header(name, value)


def _parse_header(name: str, value: str) -> str:
    try:
        return EmailPolicy.header_fetch_parse(_POLICY, name, value)  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - the header parser's own bugs, on hostile input
        return "".join(value.splitlines())


_POLICY = _LenientPolicy()


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """An e-mail as the intake sees it."""

    sender: str  # the From address, lower-cased domain; "" when there is none
    sender_name: str
    subject: str
    message_id: str
    in_reply_to: tuple[str, ...]
    auto_reason: str | None
    attachments: tuple[Attachment, ...]
    body_text: str
    recipients_count: int
    defects: tuple[str, ...] = field(default_factory=tuple)
    # Mails attached as message/rfc822 (a forward "as attachment"): their From, Subject and text.
    forwarded_text: str = ""
    # Where it was sent: To, Cc, Delivered-To and X-Original-To, lower case (routing by alias).
    addressed_to: tuple[str, ...] = ()

    @property
    def is_automatic(self) -> bool:
        return self.auto_reason is not None

    def refers_to(self, domain: str) -> bool:
        """Whether the message answers one of ours (In-Reply-To or References on our domain)."""
        return any(ref.rstrip(">").lower().endswith("@" + domain.lower()) for ref in self.in_reply_to)


def parse_message(raw: bytes, ours: Ours) -> IncomingMessage:
    """Parse with policy.default's rules (decodes RFC 2047 and RFC 2231 file names); never raises on
    input."""
    # Some exporters prepend a byte-order mark, which would turn every header into body text.
    message = _parse(raw.removeprefix(b"\xef\xbb\xbf"))
    headers = _raw_headers(message, CLASSIFIER_HEADERS | {ours.loop_header.lower()})
    subject = normalise(header_text(message, "subject"))  # the one header that needs RFC 2047 here
    headers["subject"] = [subject]
    sender_name, sender = _sender(message)
    parts = [describe(p) for p in walk(message)]
    inner = inside_attached_mails(parts)
    attachments = tuple(attachments_of(parts))
    body = body_text([p for p in parts if id(p.part) not in inner])
    return IncomingMessage(
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        message_id=(headers.get("message-id") or [""])[0],
        in_reply_to=tuple(re.findall(r"<[^<>\s]+>", " ".join(
            headers.get("in-reply-to", []) + headers.get("references", [])))),
        auto_reason=auto_reason(
            headers, [p.content_type for p in parts], sender, ours, body=own_text(body),
            file_names=[p.filename for p in parts if p.filename],
            has_list=any(a.filename.lower().endswith(SPREADSHEET_EXTENSIONS) for a in attachments)),
        attachments=attachments,
        body_text=body,
        recipients_count=_count_recipients(_raw_headers(message, _RECIPIENTS)),
        defects=tuple(sorted({type(d).__name__ for p in parts for d in p.part.defects})),
        forwarded_text=forwarded_text(parts),
        addressed_to=_addressed_to(_raw_headers(message, _ADDRESSED)),
    )


def _parse(raw: bytes) -> Message:
    """The stdlib's parser reads every part's headers at about 0.35 ms a part and recurses on each
    level of nesting: what follows the first MAX_PARTS boundary lines is left unparsed (a 25 MB
    mail of tiny parts would take minutes), and a tree nested deeper than the stack is read as its
    header alone (it then holds no file; the sender is told how to send one)."""
    cut = -1
    for _ in range(MAX_PARTS):
        cut = raw.find(b"\n--", cut + 1)
        if cut < 0:
            break
    else:
        raw = raw[:cut + 1]
    try:
        return BytesParser(policy=_POLICY).parsebytes(raw)
    except RecursionError:
        return BytesParser(policy=_POLICY).parsebytes(raw, headersonly=True)


_RECIPIENTS = frozenset({"to", "cc"})
_ADDRESSED = frozenset({"to", "cc", "delivered-to", "x-original-to"})


def _addressed_to(headers: dict[str, list[str]]) -> tuple[str, ...]:
    values = [v for name in ("delivered-to", "x-original-to", "to", "cc")
              for v in headers.get(name, [])][:20]
    try:
        found = [address for _name, address in getaddresses(values)]
    except (RecursionError, ValueError, IndexError):
        found = _ANGLE_ADDRESS.findall(" ".join(values))
    return tuple(dict.fromkeys(a.strip().lower() for a in found if "@" in a))[:20]


def _count_recipients(headers: dict[str, list[str]]) -> int:
    values = headers.get("to", []) + headers.get("cc", [])
    try:
        return len(getaddresses(values))
    except (RecursionError, ValueError, IndexError):
        # The stdlib's address parser recurses on some hostile headers: count the commas instead.
        return sum(v.count(",") + 1 for v in values)


def _raw_headers(message: Message, wanted: frozenset[str]) -> dict[str, list[str]]:
    """The headers the classifier reads, undecoded and unfolded, by lower-case name.

    Raw on purpose: policy.default parses a header on every access, and these are ASCII tokens
    and message ids; only the subject needs decoding."""
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key in wanted:
            # One line of printable text: these values reach our database and reply headers.
            headers.setdefault(key, []).append(normalise(_from_8bit(str(value))))
    return headers


def _from_8bit(text: str) -> str:
    """Raw 8-bit header bytes (the parser keeps them as surrogate escapes) read as UTF-8 (RFC 6532)."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte: `normalise` drops it
        return text


def subject_topic(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes, for `Re: …` and for naming the institution."""
    return _SUBJECT_PREFIX.sub("", subject).strip()


def application_numbers(message: IncomingMessage) -> tuple[str, ...]:
    """The application numbers the sender names in the subject or in the lines they wrote: not
    in a quoted mail (our replies, with their numbers, are quoted in answers to them)."""
    text = f"{message.subject}\n{own_text(message.body_text)}"
    return tuple(dict.fromkeys(_APPLICATION_NUMBER.findall(text)))


def own_text(body: str) -> str:
    """The lines a mail's sender wrote: neither quoted (`>`) nor below a quoted mail's header."""
    lines = []
    for line in body.splitlines():
        if QUOTE_HEADER.match(line):
            break
        if not line.lstrip().startswith(">"):
            lines.append(line)
    return "\n".join(lines)


def _sender(message: Message) -> tuple[str, str]:
    raw = header_text(message, "from")
    try:
        header = message.get("from")
        addresses = getattr(header, "addresses", ())
        if addresses:
            first: Address = addresses[0]
            if first.username and first.domain:
                return (normalise(_from_8bit(first.display_name)),
                        _address(first.username, first.domain))
    except Exception:  # noqa: BLE001, S110 - fall back to the lenient parser below
        pass
    # `Name <a@b>` whose name the header parser refused (an encoded CR/LF, an unquoted `:`): the
    # address is in the last angle brackets, not wherever parseaddr's guess puts it.
    angles = list(_ANGLE_ADDRESS.finditer(raw))
    name, address = ((raw[:angles[-1].start()].strip(' "'), angles[-1].group(1)) if angles
                     else parseaddr(raw))
    if "@" not in address:
        return normalise(_from_8bit(name)), ""
    local, _, domain = address.partition("@")
    return normalise(_from_8bit(name)), _address(local, domain)


def _address(local: str, domain: str) -> str:
    """`local@domain`, or "" when it is no address a reply may go to (undecodable bytes, controls,
    a domain with specials). A local part with spaces or specials keeps its quotes: unquoted,
    `"a>,b"@skola.lv` would send our reply elsewhere (smtplib reads it as `<a>`)."""
    try:
        local, domain = (part.encode("utf-8", "surrogateescape").decode("utf-8")
                         for part in (local, domain.lower()))
    except UnicodeError:
        return ""
    if any(unicodedata.category(ch)[0] == "C" for ch in local + domain) or set(domain) & _NOT_IN_DOMAIN:
        return ""
    return Address(username=local, domain=domain).addr_spec
