"""Mail in the shapes real clients write it: Outlook, Gmail, Apple Mail, Thunderbird, HTML-only, and a
mail forwarded as an attachment; each builder returns the raw bytes a mailbox would hold."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from itertools import count

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TO = "supervizijas@programma.example.lv"
_numbers = count(1)


@dataclass(frozen=True, slots=True)
class Original:
    """The mail being forwarded or answered: who wrote it, when, to whom and what."""

    sender: str  # `Vārds Uzvārds <adrese@skola.lv>` or a bare address
    subject: str
    body: str
    date: str = "pirmdiena, 2026. gada 30. novembris 10:15"
    to: str = "direktore@skola.example.lv"


def _b64(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def _head(*, sender: str, subject: str, to: str, extra: str, domain: str) -> str:
    number = next(_numbers)
    return (f"From: {_address_header(sender)}\r\nTo: {to}\r\n"
            f"Subject: {Header(subject, 'utf-8').encode()}\r\n"
            f"Date: Tue, 01 Dec 2026 09:{number % 60:02d}:00 +0200\r\n"
            f"Message-ID: <client-{number}@{domain}>\r\nMIME-Version: 1.0\r\n{extra}")


def _address_header(sender: str) -> str:
    name, _, address = sender.rpartition("<")
    if not name.strip():
        return sender
    return f"{Header(name.strip().strip(chr(34)), 'utf-8').encode()} <{address}"


def _domain(sender: str) -> str:
    return sender.rstrip(">").rpartition("@")[2] or "example.lv"


def _text_part(text: str, subtype: str = "plain", extra: str = "") -> str:
    return (f"Content-Type: text/{subtype}; charset=\"utf-8\"{extra}\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{_b64(text.encode('utf-8'))}\r\n")


def _mixed(head: str, body_part: str, attachments: Sequence[tuple[str, bytes]], boundary: str) -> bytes:
    if not attachments:
        return (head + body_part).encode()
    parts = [f"--{boundary}\r\n{body_part}"]
    for name, content in attachments:
        word = Header(name, "utf-8").encode()
        parts.append(f"--{boundary}\r\nContent-Type: {XLSX}; name=\"{word}\"\r\n"
                     f"Content-Disposition: attachment; filename=\"{word}\"\r\n"
                     f"Content-Transfer-Encoding: base64\r\n\r\n{_b64(content)}\r\n")
    return (head + f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
            + "".join(parts) + f"--{boundary}--\r\n").encode()


def _alternative(text: str, markup: str, boundary: str) -> str:
    return (f"Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\n{_text_part(text)}--{boundary}\r\n{_text_part(markup, 'html')}"
            f"--{boundary}--\r\n")


def _paragraphs(text: str, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return "".join(f"<p{attribute}>{html.escape(line) or '&nbsp;'}</p>\r\n" for line in text.splitlines())


def outlook_mail(*, sender: str, subject: str, body: str, signature: str = "",
                 attachments: Sequence[tuple[str, bytes]] = (), quoted: Original | None = None,
                 language: str = "lv", to: str = TO) -> bytes:
    """Outlook for Windows: text and HTML alternatives (Word's `MsoNormal` paragraphs), a reply or
    forward below a «No: / Nosūtīts: / Kam: / Tēma:» block (English: From / Sent / To / Subject)."""
    labels = {"lv": ("No", "Nosūtīts", "Kam", "Tēma"), "en": ("From", "Sent", "To", "Subject"),
              "ru": ("От", "Отправлено", "Кому", "Тема")}[language]
    text = body + (f"\r\n\r\n{signature}" if signature else "")
    markup = _paragraphs(text, "MsoNormal")
    if quoted is not None:
        block = [f"{labels[0]}: {quoted.sender}", f"{labels[1]}: {quoted.date}",
                 f"{labels[2]}: {quoted.to}", f"{labels[3]}: {quoted.subject}"]
        text += "\r\n\r\n" + "\r\n".join(block) + "\r\n\r\n" + quoted.body
        markup += ("<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\">"
                   + "".join(f"<p class=\"MsoNormal\"><b>{html.escape(line.split(':')[0])}:</b>"
                             f"{html.escape(line.partition(':')[2])}</p>" for line in block)
                   + "</div>" + _paragraphs(quoted.body, "MsoNormal"))
    page = ("<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><head>"
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
            "<style><!-- p.MsoNormal {margin:0cm; font-family:\"Calibri\",sans-serif;} --></style>"
            f"</head><body lang=\"LV\"><div class=\"WordSection1\">{markup}</div></body></html>")
    head = _head(sender=sender, subject=subject, to=to, domain=_domain(sender),
                 extra="X-Mailer: Microsoft Outlook 16.0\r\nThread-Index: AdlBcdEFGH==\r\n"
                       "Content-Language: lv-LV\r\n")
    boundary = f"----=_NextPart_000_{next(_numbers):04d}"
    return _mixed(head, _alternative(text, page, boundary + "_alt"), attachments, boundary)


def gmail_forward(*, sender: str, subject: str, body: str, original: Original,
                  attachments: Sequence[tuple[str, bytes]] = (), language: str = "lv") -> bytes:
    """Gmail's «Pārsūtīt»: the forwarder's lines, then the original under a dashed header."""
    title, labels = {
        "lv": ("---------- Pārsūtīta ziņa ---------", ("No", "Date", "Subject", "To")),
        "en": ("---------- Forwarded message ---------", ("From", "Date", "Subject", "To")),
    }[language]
    block = [title, f"{labels[0]}: {original.sender}", f"{labels[1]}: {original.date}",
             f"{labels[2]}: {original.subject}", f"{labels[3]}: {original.to}"]
    text = f"{body}\r\n\r\n" + "\r\n".join(block) + "\r\n\r\n\r\n" + original.body + "\r\n"
    markup = (f"<div dir=\"ltr\">{'<br>'.join(html.escape(line) for line in body.splitlines())}<br><br>"
              f"<div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">"
              f"{'<br>'.join(html.escape(line) for line in block)}<br></div><br><br>"
              f"<div dir=\"ltr\">{'<br>'.join(html.escape(line) for line in original.body.splitlines())}"
              "</div></div></div>")
    head = _head(sender=sender, subject=subject, to=TO, domain="mail.gmail.com",
                 extra="X-Gm-Message-State: AOJu0Yw\r\n")
    boundary = f"000000000000{next(_numbers):012x}"
    return _mixed(head, _alternative(text, markup, boundary + "a"), attachments, boundary)


def apple_mail_forward(*, sender: str, subject: str, body: str, original: Original,
                       attachments: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """Apple Mail's forward: «Begin forwarded message:» and the original's headers in bold."""
    text = (f"{body}\r\n\r\nBegin forwarded message:\r\n\r\nFrom: {original.sender}\r\n"
            f"Subject: {original.subject}\r\nDate: {original.date}\r\nTo: {original.to}\r\n\r\n"
            f"{original.body}\r\n")
    head = _head(sender=sender, subject=subject, to=TO, domain=_domain(sender),
                 extra="X-Mailer: Apple Mail (2.3774.200.91.1.1)\r\n")
    boundary = f"Apple-Mail={next(_numbers):08X}-ABCD-4E5F"
    return _mixed(head, _text_part(text, extra="; format=flowed"), attachments, boundary)


def thunderbird_reply(*, sender: str, subject: str, body: str, original: Original,
                      attachments: Sequence[tuple[str, bytes]] = (), language: str = "lv") -> bytes:
    """Thunderbird's reply: the sender's lines above «… rakstīja:» («On … wrote:») and `> ` quotes."""
    attribution = (f"{original.date}, {original.sender} rakstīja:" if language == "lv"
                   else f"On {original.date}, {original.sender} wrote:")
    quoted = "\r\n".join(f"> {line}" if line else ">" for line in original.body.splitlines())
    text = f"{body}\r\n\r\n{attribution}\r\n{quoted}\r\n"
    head = _head(sender=sender, subject=subject, to=TO, domain=_domain(sender),
                 extra="User-Agent: Mozilla Thunderbird\r\nContent-Language: lv\r\n")
    boundary = f"------------{next(_numbers):024d}"
    return _mixed(head, _text_part(text, extra="; format=flowed"), attachments, boundary)


def thunderbird_forward(*, sender: str, subject: str, body: str, original: Original,
                        attachments: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """Thunderbird's inline forward: «-------- Forwarded Message --------» and a header table."""
    text = (f"{body}\r\n\r\n-------- Forwarded Message --------\r\nSubject: \t{original.subject}\r\n"
            f"Date: \t{original.date}\r\nFrom: \t{original.sender}\r\nTo: \t{original.to}\r\n\r\n"
            f"{original.body}\r\n")
    head = _head(sender=sender, subject=subject, to=TO, domain=_domain(sender),
                 extra="User-Agent: Mozilla Thunderbird\r\n")
    boundary = f"------------{next(_numbers):024d}"
    return _mixed(head, _text_part(text), attachments, boundary)


def html_only_mail(*, sender: str, subject: str, markup: str,
                   attachments: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """A web mail or a mass-mail tool that sends HTML alone: `markup` is the body's inner HTML."""
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Pieteikums</title>"
            "<style>body { font-family: Arial; } .x { color: #333; }</style>"
            "<script>var tracking = 'Nezināmā vidusskola';</script></head>"
            f"<body>{markup}</body></html>")
    head = _head(sender=sender, subject=subject, to=TO, domain=_domain(sender), extra="")
    boundary = f"=_html_{next(_numbers)}"
    return _mixed(head, _text_part(page, "html"), attachments, boundary)


def attached_forward(*, sender: str, subject: str, body: str, original: bytes,
                     attachments: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """«Pārsūtīt kā pielikumu» (Outlook, Thunderbird): the whole original mail as message/rfc822."""
    boundary = f"=_forward_{next(_numbers)}"
    head = _head(sender=sender, subject=subject, to=TO, domain=_domain(sender),
                 extra="X-Mailer: Microsoft Outlook 16.0\r\n")
    parts = [f"--{boundary}\r\n{_text_part(body)}",
             f"--{boundary}\r\nContent-Type: message/rfc822\r\n"
             f"Content-Disposition: attachment; filename=\"Pieteikums.eml\"\r\n\r\n"
             + original.decode("utf-8", "surrogateescape").replace("\r\n", "\n").replace("\n", "\r\n")
             + "\r\n"]
    for name, content in attachments:
        word = Header(name, "utf-8").encode()
        parts.append(f"--{boundary}\r\nContent-Type: {XLSX}; name=\"{word}\"\r\n"
                     f"Content-Disposition: attachment; filename=\"{word}\"\r\n"
                     f"Content-Transfer-Encoding: base64\r\n\r\n{_b64(content)}\r\n")
    return (head + f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
            + "".join(parts) + f"--{boundary}--\r\n").encode("utf-8", "surrogateescape")
