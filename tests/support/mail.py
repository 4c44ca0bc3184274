"""Mail as Outlook, Gmail and Thunderbird write it: their headers and their ways of naming files."""

from __future__ import annotations

import base64
from email.header import Header
from urllib.parse import quote

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _b64(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return "\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))


def _filename_params(name: str, style: str) -> tuple[str, str]:
    """(Content-Type name parameter, Content-Disposition filename parameter) in a client's style."""
    if style == "thunderbird":  # RFC 2231
        encoded = quote(name, safe="")
        return f"name*=UTF-8''{encoded}", f"filename*=UTF-8''{encoded}"
    # Outlook and Gmail put an RFC 2047 encoded word inside the quotes (not standard, common)
    word = Header(name, "utf-8").encode()
    return f'name="{word}"', f'filename="{word}"'


def make_email(*, style: str, sender: str, to: str, subject: str, body: str, number: int,
               attachment: tuple[str, bytes] | None = None, extra_headers: str = "") -> bytes:
    boundary = f"=_boundary_{style}_{number}"
    subject_header = Header(subject, "utf-8").encode()
    client_headers = {
        "outlook": "X-Mailer: Microsoft Outlook 16.0\r\nThread-Index: AdlBcdEFGH==\r\n"
                   "X-MS-Has-Attach: yes\r\nContent-Language: lv-LV\r\n",
        "gmail": "X-Gm-Message-State: AOJu0Yw\r\n",
        "thunderbird": "User-Agent: Mozilla Thunderbird\r\nContent-Language: lv\r\n",
    }[style]
    head = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject_header}\r\n"
            f"Date: Wed, 25 Nov 2026 09:{number % 60:02d}:00 +0200\r\n"
            f"Message-ID: <{style}-{number}@skola.example.lv>\r\nMIME-Version: 1.0\r\n"
            f"{client_headers}{extra_headers}")
    text = _b64(body.encode("utf-8"))
    html = _b64(f"<html><body><p>{body}</p></body></html>".encode())
    alternative = (f"--{boundary}-alt\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
                   f"Content-Transfer-Encoding: base64\r\n\r\n{text}\r\n"
                   f"--{boundary}-alt\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
                   f"Content-Transfer-Encoding: base64\r\n\r\n{html}\r\n--{boundary}-alt--\r\n")
    if attachment is None:
        return (head + f"Content-Type: multipart/alternative; boundary=\"{boundary}-alt\"\r\n\r\n"
                + alternative).encode()
    name, content = attachment
    type_param, disposition_param = _filename_params(name, style)
    return (head + f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\nContent-Type: multipart/alternative; boundary=\"{boundary}-alt\"\r\n\r\n"
            f"{alternative}\r\n"
            f"--{boundary}\r\nContent-Type: {XLSX}; {type_param}\r\n"
            f"Content-Disposition: attachment; {disposition_param}\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{_b64(content)}\r\n--{boundary}--\r\n").encode()
