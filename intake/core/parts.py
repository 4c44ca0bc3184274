"""A parsed mail's MIME parts -> what the intake reads in them: the files that may be participant
lists (winmail.dat opened, signature logos left out, names made safe) and the text its sender wrote
(the HTML part as text when there is no plain one), each within bounds on hostile mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser

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
MAX_PARTS = 2_000  # a 10,000-part tree is not an application; stop walking, do not stall


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Part:
    """A MIME part with its headers parsed once (policy.default parses on every access)."""

    part: Message
    content_type: str
    disposition: str
    filename: str


def describe(part: Message) -> Part:
    """A part with its type, disposition and safe file name read once, never raising."""
    try:
        content_type = part.get_content_type()
        if part.is_multipart():  # a container has neither a file name nor a disposition
            return Part(part, content_type, "", "")
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001 - a broken Content-Type is plain text, as RFC 2045 says
        content_type, disposition = "text/plain", ""
    return Part(part, content_type, disposition, _filename(part))


def walk(message: Message) -> Iterator[Message]:
    """The message and its parts, depth first, at most MAX_PARTS of them."""
    try:
        for count, part in enumerate(message.walk()):
            if count >= MAX_PARTS:
                return
            yield part
    except RecursionError:  # walk() recurses too: the parts reached are the parts we have
        return


def header_text(message: Message, name: str) -> str:
    """A header as text, "" when it is absent or the parser chokes on it."""
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


def attachments_of(parts: list[Part]) -> Iterator[Attachment]:
    """The files that may be lists, those inside a winmail.dat too."""
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


def _is_candidate(described: Part) -> bool:
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


def body_text(parts: list[Part]) -> str:
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


def inside_attached_mails(parts: list[Part]) -> set[int]:
    """The ids of the parts that belong to an attached mail, not to the message's own body."""
    inner: set[int] = set()
    for described in parts:
        if described.content_type == "message/rfc822" and id(described.part) not in inner:
            inner.update(id(p) for p in walk(described.part) if p is not described.part)
    return inner


def forwarded_text(parts: list[Part]) -> str:
    """The From, Subject and text of each mail attached as message/rfc822 (a forward as attachment)."""
    texts = []
    for described in parts:
        if described.content_type != "message/rfc822":
            continue
        payload = described.part.get_payload()
        attached = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(attached, Message):
            continue
        inside = [describe(p) for p in walk(attached)]
        deeper = inside_attached_mails(inside)
        texts.append(f"From: {header_text(attached, 'from')}\n"
                     f"Subject: {header_text(attached, 'subject')}\n\n"
                     + body_text([p for p in inside if id(p.part) not in deeper]))
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
