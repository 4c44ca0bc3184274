"""Hostile mail through the whole pipeline: Dovecot, `intake poll`, aiosmtpd.

What a school — or anyone — puts in a header, a name or a file never becomes a header of our
reply or markup in it; hostile files and MIME trees get a reply naming the problem; a mail too
large is refused from its size before a byte of its body is downloaded."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import openpyxl
import pytest

from intake.samples import make_good_list
from tests.conftest import HEADER
from tests.end_to_end.conftest import OUR_ADDRESS
from tests.support import hostile

SCHOOL = "sekretare@skola.example.lv"
REPLY_HEADERS = ["auto-submitted", "content-type", "date", "from", "in-reply-to", "message-id",
                 "mime-version", "references", "subject", "to", "x-auto-response-suppress",
                 "x-intake-loop"]


def multipart(head: bytes, *parts: bytes) -> bytes:
    body = b"".join(b"--B\r\n" + part + b"\r\n" for part in parts)
    return head + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + body + b"--B--\r\n"


TEXT = b"Content-Type: text/plain; charset=utf-8\r\n\r\nLabdien! Pielikum\xc4\x81 saraksts.\r\n"


def text_workbook(rows: list[tuple[object, ...]]) -> bytes:
    """A workbook whose every cell is what the school typed, as text (`=…` too, as Excel keeps
    what is typed after an apostrophe)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Saraksts"
    for row in rows:
        sheet.append(list(row))
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_crlf_and_markup_in_names_headers_and_file_names_never_reach_our_reply(
        intake, mailbox_server, smtp):
    hostile_list = text_workbook([("Izglītības iestāde: Skola <i>7</i>",), HEADER,
                                  (1, "<b>Anna</b>", "Bērziņa\r\nBcc: x@evil.example", "skolotāja",
                                   "anna@skola.example.lv"),
                                  (2, '=HYPERLINK("http://x")', "+Ozols", "-skolotājs",
                                   "@janis@skola.example.lv")])
    name = quote("saraksts\r\nBcc: x@evil.example<img src=x>.xlsx", safe="")
    head = (b"From: =?utf-8?q?Sekret=C4=81re_=3Cb=3E=0D=0ABcc:_x@evil.example?= <" + SCHOOL.encode()
            + b">\r\nTo: " + OUR_ADDRESS.encode()
            + b"".join(b", skolotajs%d@skola.example.lv" % n for n in range(299))
            + b"\r\nCc: " + b", ".join(b"Vec=?utf-8?q?=C4=81?=ks %d <vecaks%d@example.lv>" % (n, n)
                                      for n in range(200))
            + b"\r\nSubject: =?utf-8?q?Pieteikums_=3Cscript=3Ealert(1)=3C/script=3E=0D=0ABcc:_x@evil"
              b".example?=\r\nMessage-ID: <hostile-headers@skola.example.lv>\r\nMIME-Version: 1.0\r\n")
    mailbox_server.append(multipart(head, TEXT, hostile.attachment_part(name, hostile_list)))

    intake("poll")

    (received,) = smtp.inbox.wait_for(1)
    assert received.recipients == [SCHOOL]  # not one of the 500 in To and Cc, not the Bcc
    raw_head = received.raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^(bcc|cc):", raw_head, re.IGNORECASE | re.MULTILINE)
    reply = received.message
    assert sorted(k.lower() for k in reply) == REPLY_HEADERS
    assert [a.addr_spec for a in reply["To"].addresses] == [SCHOOL]
    assert reply["Subject"].startswith("Re: Pieteikums <script>alert(1)</script> Bcc: x@evil.example — ")
    names = [part.get_filename() for part in reply.iter_attachments()]
    assert names == ["saraksts Bcc: x@evil.example<img src=x>-piezimes.xlsx", "dalibnieku-saraksts.xlsx"]
    html = reply.get_body(("html",)).get_content()
    text = reply.get_body(("plain",)).get_content()
    for raw_markup in ("<script", "<b>", "<img", "<i>"):
        assert raw_markup not in html
    assert "&lt;b&gt;Anna&lt;/b&gt;" in html and "«<b>Anna</b>»" in text
    assert "&lt;img src=x&gt;" in html
    # The annotated copy keeps what the school typed as text: nothing in it is a formula.
    annotated = next(p for p in reply.iter_attachments() if p.get_filename().endswith("-piezimes.xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(annotated.get_content()))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    formula_like = {cell.value for cell in cells if str(cell.value)[:1] in "=+-@"}
    assert {'=HYPERLINK("http://x")', "+Ozols", "-skolotājs", "@janis@skola.example.lv"} <= formula_like
    ((sender, subject),) = intake.rows("select sender, subject from messages")
    assert (sender, subject) == (SCHOOL, "Pieteikums <script>alert(1)</script> Bcc: x@evil.example")


def test_hostile_files_and_mime_trees_each_get_a_reply_naming_the_problem(intake, mailbox_server, smtp):
    files = {
        "zip-bomb.xlsx": (hostile.zip_bomb(), "file.too-large-unpacked"),
        "lying-zip.xlsx": (hostile.lying_zip(), "file.corrupt"),
        "billion-laughs.xlsx": (hostile.with_doctype(hostile.BILLION_LAUGHS), "file.xml-entities"),
        "xxe.xlsx": (hostile.with_doctype(hostile.XXE), "file.xml-entities"),
        "encrypted.xlsx": (hostile.encrypted(), "file.encrypted"),
        "far-cell.xlsx": (hostile.far_cell(), "list.too-many-rows"),
        "damaged.xls": (hostile.damaged_xls(), "file.corrupt"),
        "far-rows.ods": (hostile.far_ods(), "file.too-large-unpacked"),
        "100000-rows.xlsx": (hostile.long_sheet(100_000, shared_strings=False), "list.too-many-rows"),
    }
    head = hostile.mail_head(f"Sekretāre <{SCHOOL}>", "Pieteikums", 101)
    mailbox_server.append(multipart(head, TEXT, *(hostile.attachment_part(name, content)
                                                  for name, (content, _code) in files.items())))
    good = hostile.attachment_part("saraksts.xlsx", make_good_list())
    mailbox_server.append(hostile.many_parts(10_000, good).replace(
        b"anna@skola.example.lv", b"daudz@skola.example.lv"))
    mailbox_server.append(hostile.nested(5_000, good, number=3).replace(
        b"anna@skola.example.lv", b"dzili@skola.example.lv"))

    intake("poll")

    assert sorted(intake.rows("select sender, state, reason from messages")) == [
        ("daudz@skola.example.lv", "application", "1 attachment(s)"),
        ("dzili@skola.example.lv", "no_list", "no-attachment"),  # too deep to read: how to apply
        (SCHOOL, "application", f"{len(files)} attachment(s)")]
    found = {(file, code) for file, code in intake.rows(
        "select a.attachment, f.code from applications a join findings f on f.application_id = a.id "
        "where f.severity = 'error'")}
    assert {(name, code) for name, (_content, code) in files.items()} <= found
    assert sorted(intake.rows("select verdict, count(*) from applications group by verdict")) == [
        ("accepted", 1), ("rejected", len(files))]
    replies = {r.recipients[0]: r.message for r in smtp.inbox.wait_for(3)}
    text = replies[SCHOOL].get_body(("plain",)).get_content()
    for name in files:
        assert f"«{name}»" in text
    for sentence in ("tik liels dalībnieku saraksts nevar būt",  # the bomb, the far rows
                     "Fails ir bojāts",  # the lying zip, the damaged .xls
                     "XML konstrukcijas (DTD un entītijas)",  # billion laughs, XXE
                     "aizsargāts ar paroli",
                     "ir vairāk nekā 2000 rindu"):  # the far cell, the 100,000 rows
        assert sentence in text, sentence
    assert "Pieteikuma numurs: SUP-" in replies["daudz@skola.example.lv"].get_body(("plain",)).get_content()
    assert replies["dzili@skola.example.lv"]["Subject"].startswith("Re: Pieteikums — ")


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
def test_a_30_mb_attachment_is_refused_from_its_size_before_download(intake, mailbox_server, smtp):
    big = make_good_list() + bytes(30 * 1024 * 1024)  # the default limit is 25 MiB
    raw = multipart(hostile.mail_head(f"Sekretāre <{SCHOOL}>", "Pieteikums", 102), TEXT,
                    hostile.attachment_part("liels.xlsx", big))
    # Dovecot logs each IMAP session's bytes (in: from the client, out: to it) when it ends.
    log = mailbox_server.root / "dovecot.log"

    def sessions(since: int) -> list[tuple[int, int]]:
        text = log.read_bytes()[since:].decode(errors="replace")
        return [(int(i), int(o)) for i, o in
                re.findall(r"imap\(intake\).*Logged out in=(\d+) out=(\d+)", text)]
    start = log.stat().st_size
    mailbox_server.append(raw)
    intake.wait_until(lambda: any(i > len(raw) for i, _o in sessions(start)))  # the upload, logged
    before = log.stat().st_size

    intake("poll")

    assert mailbox_server.folder_counts()["INBOX"] == 0  # one more session, logged after the poll's
    intake.wait_until(lambda: len(sessions(before)) >= 2)
    assert len(raw) > 40_000_000 and sum(o for _i, o in sessions(before)) < 200_000
    reply = smtp.inbox.wait_for(1)[0].message
    assert "Diemžēl tā ir lielāka par 25 MB, tāpēc to neatvērām" in reply.get_body(("plain",)).get_content()
    assert intake.rows("select state, reason, length(raw) < 10000 from messages") == [
        ("application", "too-large", 1)]
