"""Parses a raw e-mail into what the intake needs: sender, ids, automatic or not, the list files."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr
from functools import lru_cache
from html.parser import HTMLParser

from intake.core.automail import CLASSIFIER_HEADERS, Ours, auto_reason
from intake.core.latvian import normalise

SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv")
# Documents a school may send instead of a spreadsheet: the reader refuses them precisely.
DOCUMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".odt", ".rtf", ".numbers", ".txt")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".heic", ".tif", ".tiff", ".bmp")
SPREADSHEET_TYPES = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel", "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12",
    "application/vnd.oasis.opendocument.spreadsheet", "text/csv",
})
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_SIGNATURE_IMAGE = re.compile(r"^(image|img|logo|outlook)[-_]?\d*\.", re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|atb|pārs|pars|ats|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_MAX_PARTS = 2_000  # a 10,000-part tree is not an application; stop walking, do not stall
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
        if len(value) <= 1000:  # the parser asks for a part's Content-Type once per line
            return _fetch_parse(name, value)
        return _parse_header(name, value)


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
class Attachment:
    filename: str
    content: bytes


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
    subject = normalise(_header(message, "subject"))  # the one header that needs RFC 2047 here
    headers["subject"] = [subject]
    sender_name, sender = _sender(message)
    parts = [_describe(p) for p in _walk(message)]
    inner = _inside_attached_mails(parts)
    attachments = tuple(_attachments(parts))
    body = _body_text([p for p in parts if id(p.part) not in inner])
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
        forwarded_text=_forwarded_text(parts),
    )


def _parse(raw: bytes) -> Message:
    """The stdlib's parser reads every part's headers at about 0.35 ms a part and recurses on each
    level of nesting: what follows the first _MAX_PARTS boundary lines is left unparsed (a 25 MB
    mail of tiny parts would take minutes), and a tree nested deeper than the stack is read as its
    header alone (it then holds no file; the sender is told how to send one)."""
    cut = -1
    for _ in range(_MAX_PARTS):
        cut = raw.find(b"\n--", cut + 1)
        if cut < 0:
            break
    else:
        raw = raw[:cut + 1]
    try:
        return BytesParser(policy=_POLICY).parsebytes(raw)
    except RecursionError:
        return BytesParser(policy=_POLICY).parsebytes(raw, headersonly=True)


@dataclass(frozen=True, slots=True)
class _Part:
    """A MIME part with its headers parsed once (policy.default parses on every access)."""

    part: Message
    content_type: str
    disposition: str
    filename: str


def _describe(part: Message) -> _Part:
    try:
        content_type = part.get_content_type()
        if part.is_multipart():  # a container has neither a file name nor a disposition
            return _Part(part, content_type, "", "")
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001 - a broken Content-Type is plain text, as RFC 2045 says
        content_type, disposition = "text/plain", ""
    return _Part(part, content_type, disposition, _filename(part))


_RECIPIENTS = frozenset({"to", "cc"})


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


def _walk(message: Message) -> Iterator[Message]:
    try:
        for count, part in enumerate(message.walk()):
            if count >= _MAX_PARTS:
                return
            yield part
    except RecursionError:  # walk() recurses too: the parts reached are the parts we have
        return


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the parser chokes on is simply absent to us
        return ""
    return _text(value) if value is not None else ""


def _text(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - undecodable header bytes
        return ""


def _sender(message: Message) -> tuple[str, str]:
    raw = _header(message, "from")
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


def _attachments(parts: list[_Part]) -> Iterator[Attachment]:
    for described in parts:
        part = described.part
        if part.is_multipart():
            continue
        if described.content_type in TNEF_TYPES or described.filename.lower() == "winmail.dat":
            yield from _tnef_attachments(_payload(part))
            continue
        if _is_candidate(described):
            yield Attachment(described.filename or _default_name(described.content_type),
                             _payload(part))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a malformed RFC 2231 parameter
        name = ""
    return _safe_name(name)


def _safe_name(name: str) -> str:
    """One line, no folders, at most 200 characters, the extension kept; "" for no name."""
    # A name carrying CR/LF or path separators must not travel into replies or the file system.
    name = re.sub(r"[\r\n\t/\\\x00]+", " ", normalise(name)).strip()
    if len(name) <= 200:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and 0 < len(extension) <= 10:
        return f"{stem[:199 - len(extension)]}.{extension}"  # the extension says the format
    return name[:200]


def _is_candidate(described: _Part) -> bool:
    filename, content_type = described.filename, described.content_type
    lower = filename.lower()
    if lower.endswith(SPREADSHEET_EXTENSIONS) or content_type in SPREADSHEET_TYPES:
        return True
    if lower.endswith(DOCUMENT_EXTENSIONS) and content_type != "text/plain":
        return True
    if lower.endswith(DOCUMENT_EXTENSIONS[:-1]):
        return True
    # A photographed list is an attachment; a signature logo is an inline image.
    return (lower.endswith(IMAGE_EXTENSIONS) and described.disposition == "attachment"
            and not _SIGNATURE_IMAGE.match(filename))


def _default_name(content_type: str) -> str:
    return {"text/csv": "saraksts.csv"}.get(content_type, "saraksts.xlsx")


def _payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken transfer encoding: what we got is what we have
        payload = None
    return payload if isinstance(payload, bytes) else b""


def _tnef_attachments(data: bytes) -> Iterator[Attachment]:
    """Outlook's winmail.dat: the spreadsheet is inside."""
    from tnefparse import TNEF  # imported here: only Outlook's rich-text mail needs it

    try:
        tnef = TNEF(data)
        for item in tnef.attachments:
            name = _safe_name(item.long_filename() or item.name or "")
            if name.lower().endswith(SPREADSHEET_EXTENSIONS + DOCUMENT_EXTENSIONS[:-1]):
                yield Attachment(name, bytes(item.data))
    except Exception:  # noqa: BLE001 - a damaged winmail.dat holds nothing we can use
        return


_BODY_LIMIT = 20_000


def _body_text(parts: list[_Part]) -> str:
    """The first plain-text part that is not an attachment (else the HTML part as text)."""
    for wanted in ("text/plain", "text/html"):
        for described in parts:
            if described.content_type != wanted or described.disposition == "attachment":
                continue
            try:
                text = described.part.get_content()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001, S112 - undecodable body: no hint from it
                continue
            if isinstance(text, str):
                # Markup is mostly tags and styles: ten times the text's limit holds the text.
                return (html_text(text[:10 * _BODY_LIMIT]) if wanted == "text/html"
                        else text)[:_BODY_LIMIT]
    return ""


def _inside_attached_mails(parts: list[_Part]) -> set[int]:
    """The ids of the parts that belong to an attached mail, not to the message's own body."""
    inner: set[int] = set()
    for described in parts:
        if described.content_type == "message/rfc822" and id(described.part) not in inner:
            inner.update(id(p) for p in _walk(described.part) if p is not described.part)
    return inner


def _forwarded_text(parts: list[_Part]) -> str:
    texts = []
    for described in parts:
        if described.content_type != "message/rfc822":
            continue
        payload = described.part.get_payload()
        attached = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(attached, Message):
            continue
        inside = [_describe(p) for p in _walk(attached)]
        deeper = _inside_attached_mails(inside)
        texts.append(f"From: {_header(attached, 'from')}\nSubject: {_header(attached, 'subject')}\n\n"
                     + _body_text([p for p in inside if id(p.part) not in deeper]))
    return "\n\n".join(texts)[:_BODY_LIMIT]


class _HtmlText(HTMLParser):
    """HTML as the text a reader sees: a line per block, quoted blocks marked with `>`."""

    _BLOCKS = frozenset({"p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul",
                         "ol", "pre", "hr", "address", "section", "article", "header", "footer"})
    _HIDDEN = frozenset({"style", "script", "head", "title", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._hidden = 0
        self._quoted = 0

    def _break(self) -> None:
        text = " ".join("".join(self._line).split())
        self._line = []
        if text or (self.lines and self.lines[-1]):
            self.lines.append(("> " * self._quoted) + text if text else "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "br" or tag in self._BLOCKS:
            self._break()
        elif tag == "blockquote":
            self._break()
            self._quoted += 1
        elif tag in ("td", "th"):
            self._line.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self._break()
        elif tag == "blockquote":
            self._break()
            self._quoted = max(0, self._quoted - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._line.append(data)


def html_text(html: str) -> str:
    """An HTML body as plain text with its line breaks (<br>, <p>, <div>, <tr>, <li>), without
    styles, scripts or the head, entities unescaped."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001, S110 - the parser's bugs on hostile markup: what it read stays
        pass
    parser._break()
    return "\n".join(parser.lines).strip()
