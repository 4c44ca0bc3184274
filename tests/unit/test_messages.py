"""Parsing a raw e-mail: sender, ids, the list files in every way mail programs attach them."""

from __future__ import annotations

import base64
from email.message import EmailMessage

import pytest

from intake.core.automail import Ours
from intake.core.messages import (
    IncomingMessage,
    application_numbers,
    own_text,
    parse_message,
    subject_topic,
)
from intake.core.parts import html_text
from intake.samples import make_good_list

OURS = Ours(address="supervizija@intake.example.lv", message_id_domain="intake.example.lv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_NAME = "dalībnieku saraksts.xlsx"
GOOD_LIST = make_good_list()


def mail(subject: str = "Pieteikums supervīzijai", body: str = "Labdien! Pielikumā saraksts.",
         sender: str = "Sekretāre <sekretare@skola.lv>", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = OURS.address
    message["Subject"] = subject
    message["Message-ID"] = "<m-1@skola.lv>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def attach_list(message: EmailMessage, filename: str = LIST_NAME, content: bytes = GOOD_LIST,
                **options: str) -> EmailMessage:
    message.add_attachment(content, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           filename=filename, **options)
    return message


def parse(message: EmailMessage | bytes) -> IncomingMessage:
    return parse_message(message if isinstance(message, bytes) else message.as_bytes(), OURS)


def raw_mail_with_attachment(disposition: bytes, content: bytes = GOOD_LIST,
                             content_type: bytes = XLSX_TYPE.encode()) -> bytes:
    """A mail written byte by byte, so the attachment's headers are exactly as a mail program sent them."""
    return (
        b"From: Sekretare <sekretare@skola.lv>\r\n"
        b"To: supervizija@intake.example.lv\r\n"
        b"Subject: Pieteikums\r\n"
        b"Message-ID: <raw-1@skola.lv>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n'
        b"\r\n"
        b"--XYZ\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"Labdien!\r\n"
        b"--XYZ\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Disposition: " + disposition + b"\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n" + base64.encodebytes(content).replace(b"\n", b"\r\n") +
        b"--XYZ--\r\n"
    )


_ENCODED_WORD = "=?utf-8?b?" + base64.b64encode(LIST_NAME.encode()).decode() + "?="


@pytest.mark.parametrize("disposition", [
    pytest.param(b"attachment; filename*=UTF-8''dal%C4%ABbnieku%20saraksts.xlsx", id="rfc2231"),
    pytest.param(f'attachment; filename="{_ENCODED_WORD}"'.encode(), id="rfc2047-in-quotes-gmail-outlook"),
    pytest.param(f'attachment; filename="{LIST_NAME}"'.encode(), id="raw-utf8-bytes"),
    pytest.param(b'attachment; filename="=?windows-1257?Q?dal=EEbnieku_saraksts.xlsx?="',
                 id="rfc2047-baltic-code-page"),
    pytest.param(b"attachment; filename*=windows-1257''dal%EEbnieku%20saraksts.xlsx",
                 id="rfc2231-baltic-code-page"),
])
def test_finds_the_spreadsheet_with_its_file_name_decoded(disposition):
    message = parse(raw_mail_with_attachment(disposition))
    assert [(a.filename, a.content) for a in message.attachments] == [(LIST_NAME, GOOD_LIST)]


def test_takes_the_file_name_from_the_content_type_name_when_the_disposition_has_none():
    content_type = f'{XLSX_TYPE}; name="{LIST_NAME}"'.encode()
    message = parse(raw_mail_with_attachment(b"attachment", content_type=content_type))
    assert [a.filename for a in message.attachments] == [LIST_NAME]


def test_a_spreadsheet_without_a_file_name_gets_a_default_one():
    message = parse(raw_mail_with_attachment(b"attachment"))
    assert [(a.filename, a.content) for a in message.attachments] == [("saraksts.xlsx", GOOD_LIST)]


def test_finds_the_spreadsheet_inside_a_forwarded_message():
    forwarded = attach_list(mail("Pieteikums supervīzijai", sender="Direktore <direktore@skola.lv>"))
    outer = mail("Fwd: Pieteikums supervīzijai", "Pārsūtu direktores vēstuli.")
    outer.add_attachment(forwarded)
    message = parse(outer)
    assert [(a.filename, a.content) for a in message.attachments] == [(LIST_NAME, GOOD_LIST)]
    assert message.sender == "sekretare@skola.lv"


def test_finds_a_spreadsheet_sent_inline():
    message = parse(attach_list(mail(), disposition="inline"))
    assert [(a.filename, a.content) for a in message.attachments] == [(LIST_NAME, GOOD_LIST)]


@pytest.mark.parametrize(("filename", "maintype", "subtype", "disposition", "is_attachment"), [
    pytest.param("image001.png", "image", "png", "inline", False, id="inline-signature-logo"),
    pytest.param("logo.jpg", "image", "jpeg", "inline", False, id="inline-logo"),
    pytest.param("image001.png", "image", "png", "attachment", False, id="signature-name-attached"),
    pytest.param("foto.jpg", "image", "jpeg", "inline", False, id="inline-photo"),
    pytest.param("saraksts.jpg", "image", "jpeg", "attachment", True, id="photographed-list"),
    pytest.param("saraksts.pdf", "application", "pdf", "attachment", True, id="pdf"),
    pytest.param("saraksts.docx", "application",
                 "vnd.openxmlformats-officedocument.wordprocessingml.document", "attachment", True,
                 id="word-document"),
    pytest.param("saraksts.ods", "application", "vnd.oasis.opendocument.spreadsheet", "attachment", True,
                 id="opendocument-spreadsheet"),
    pytest.param("saraksts.xls", "application", "octet-stream", "attachment", True,
                 id="spreadsheet-by-extension-only"),
    pytest.param("uzaicinajums.ics", "text", "calendar", "attachment", False, id="calendar-invitation"),
])
def test_which_parts_are_attachments(filename, maintype, subtype, disposition, is_attachment):
    message = mail()
    payload = b"%PDF-1.7 or image bytes"
    if maintype == "text":
        message.add_attachment(payload.decode(), subtype=subtype, filename=filename, disposition=disposition)
    else:
        message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename,
                               disposition=disposition)
    names = [a.filename for a in parse(message).attachments]
    assert names == ([filename] if is_attachment else [])


def test_keeps_the_pdf_and_drops_the_signature_logo_of_one_mail():
    message = mail()
    message.add_attachment(b"\x89PNG logo", maintype="image", subtype="png", filename="image001.png",
                           disposition="inline", cid="<image001.png@01DA>")
    message.add_attachment(b"%PDF-1.7 list", maintype="application", subtype="pdf", filename="saraksts.pdf")
    assert [(a.filename, a.content) for a in parse(message).attachments] == [
        ("saraksts.pdf", b"%PDF-1.7 list")]


def test_finds_a_csv_by_its_content_type():
    csv = "Vārds;Uzvārds;Amats;E-pasts\r\nAnna;Bērziņa;skolotāja;anna@skola.lv\r\n"
    message = mail()
    message.add_attachment(csv, subtype="csv", disposition="attachment")
    attachments = parse(message).attachments
    assert [a.filename for a in attachments] == ["saraksts.csv"]
    assert attachments[0].content.decode("utf-8").replace("\r\n", "\n") == csv.replace("\r\n", "\n")


def test_a_long_file_name_is_shortened_but_keeps_its_extension():
    csv = "Vārds;Uzvārds;Amats;E-pasts\r\nAnna;Bērziņa;skolotāja;anna@skola.lv\r\n"
    message = mail()
    message.add_attachment(csv, subtype="csv", disposition="attachment", filename="a" * 300 + ".csv")
    (attachment,) = parse(message).attachments
    assert len(attachment.filename) == 200 and attachment.filename.endswith("a.csv")


@pytest.mark.parametrize(("disposition", "expected"), [
    pytest.param(b"attachment; filename*=UTF-8''..%2F..%2Fsaraksts%0D%0ABcc%3A%20x.xlsx",
                 ".. .. saraksts Bcc: x.xlsx", id="crlf-and-slashes"),
    pytest.param(b'attachment; filename="C:\\\\Users\\\\skola\\\\saraksts.xlsx"',
                 "C: Users skola saraksts.xlsx", id="windows-path"),
    pytest.param(b"attachment; filename*=UTF-8''saraksts%00.xlsx", "saraksts .xlsx", id="nul"),
])
def test_line_breaks_and_path_separators_are_removed_from_file_names(disposition, expected):
    (attachment,) = parse(raw_mail_with_attachment(disposition)).attachments
    assert attachment.filename == expected
    assert not set(attachment.filename) & set("\r\n\t/\\\x00")


def test_a_byte_order_mark_before_the_headers_is_tolerated():
    message = parse(b"\xef\xbb\xbf" + attach_list(mail()).as_bytes())
    assert message.sender == "sekretare@skola.lv"
    assert message.subject == "Pieteikums supervīzijai"
    assert [a.filename for a in message.attachments] == [LIST_NAME]


@pytest.mark.parametrize("header", [
    pytest.param(b"=?utf-8?q?Pieteikums_superv=C4=ABzijai?=", id="quoted-printable"),
    pytest.param(b"=?UTF-8?B?UGlldGVpa3VtcyBzdXBlcnbEq3ppamFp?=", id="base64"),
    pytest.param(b"=?utf-8?q?Pieteikums_?=\r\n =?utf-8?q?superv=C4=ABzijai?=", id="folded-two-words"),
    pytest.param(b"=?windows-1257?q?Pieteikums_superv=EEzijai?=", id="baltic-code-page"),
])
def test_decodes_an_encoded_subject(header):
    raw = b"From: anna@skola.lv\r\nSubject: " + header + b"\r\n\r\nLabdien!\r\n"
    assert parse(raw).subject == "Pieteikums supervīzijai"


def test_sender_keeps_its_name_and_a_lower_case_domain():
    message = parse(mail(sender="Sekretāre <Sekretare@Skola.LV>"))
    assert (message.sender_name, message.sender) == ("Sekretāre", "Sekretare@skola.lv")


def test_a_mail_without_from_has_no_sender():
    message = EmailMessage()
    message["To"] = OURS.address
    message["Subject"] = "Pieteikums"
    message.set_content("Labdien!")
    assert parse(message).sender == ""


def test_collects_in_reply_to_and_references():
    message = parse(mail("Re: Pieteikums", In_Reply_To="<reply-7@intake.example.lv>",
                         References="<m-0@skola.lv> <reply-7@intake.example.lv>"))
    assert message.in_reply_to == ("<reply-7@intake.example.lv>", "<m-0@skola.lv>",
                                   "<reply-7@intake.example.lv>")


@pytest.mark.parametrize(("headers", "domain", "refers"), [
    pytest.param({"In_Reply_To": "<reply-7@intake.example.lv>"}, "intake.example.lv", True,
                 id="in-reply-to-ours"),
    pytest.param({"References": "<m-0@skola.lv> <reply-7@intake.example.lv>"}, "intake.example.lv", True,
                 id="references-ours"),
    pytest.param({"In_Reply_To": "<reply-7@INTAKE.example.lv>"}, "intake.example.lv", True,
                 id="any-case"),
    pytest.param({"In_Reply_To": "<m-0@skola.lv>"}, "intake.example.lv", False, id="someone-elses"),
    pytest.param({"In_Reply_To": "<reply-7@notintake.example.lv>"}, "intake.example.lv", False,
                 id="domain-ending-like-ours"),
    pytest.param({}, "intake.example.lv", False, id="new-mail"),
    pytest.param({"In_Reply_To": "<reply-7@intake.example.lv>"}, "skola.lv", False, id="asked-of-another"),
])
def test_refers_to_is_true_only_for_our_domain(headers, domain, refers):
    assert parse(mail("Re: Pieteikums", **headers)).refers_to(domain) is refers


def test_counts_five_hundred_recipients_over_to_and_cc():
    message = mail()
    del message["To"]
    message["To"] = ", ".join(f"skolotajs{n}@skola.lv" for n in range(300))
    message["Cc"] = ", ".join(f"Vecāks {n} <vecaks{n}@example.lv>" for n in range(200))
    assert parse(message).recipients_count == 500


def test_a_mail_to_us_alone_has_one_recipient():
    assert parse(mail()).recipients_count == 1


@pytest.mark.parametrize("raw", [
    pytest.param(b"\x00\xff garbage\r\n\r\n", id="garbage-bytes"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe\x00", id="utf16-mark-only"),
    pytest.param(b"From: \r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--X\r\nabc",
                 id="empty-boundary"),
    pytest.param(b"From: <<<@@>>>\r\nTo: ,,,,@,\r\nSubject: =?utf-8?b?!!!?=\r\nContent-Type: ;;;\r\n\r\nbody",
                 id="garbage-headers"),
])
def test_malformed_mail_does_not_raise_and_yields_no_sender_or_files(raw):
    message = parse(raw)
    assert message.sender == ""
    assert message.attachments == ()


def test_a_broken_boundary_is_a_defect_not_an_error():
    raw = (b'From: anna@skola.lv\r\nContent-Type: multipart/mixed; boundary="A"\r\n\r\n'
           b"--B\r\nContent-Type: application/pdf\r\n\r\nxx\r\n")
    message = parse(raw)
    assert message.sender == "anna@skola.lv"
    assert message.attachments == ()
    assert "StartBoundaryNotFoundDefect" in message.defects


def test_an_unclosed_multipart_with_broken_base64_still_yields_its_file():
    raw = (b'From: anna@skola.lv\r\nContent-Type: multipart/mixed; boundary="A"\r\n\r\n'
           b"--A\r\nContent-Type: application/vnd.ms-excel\r\n"
           b"Content-Disposition: attachment; filename*=utf-8''%ZZ%%.xls\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n")
    message = parse(raw)
    assert [a.filename for a in message.attachments] == ["%ZZ%%.xls"]
    assert "CloseBoundaryNotFoundDefect" in message.defects


@pytest.mark.parametrize(("message", "reason"), [
    pytest.param(mail("Automātiskā atbilde: Pieteikums"), "subject", id="out-of-office-subject"),
    pytest.param(mail(Auto_Submitted="auto-replied"), "auto-submitted", id="auto-submitted-header"),
    pytest.param(mail(sender="MAILER-DAEMON@mx.skola.lv"), "sender", id="mailer-daemon"),
    pytest.param(mail(X_Intake_Loop="1"), "loop", id="our-loop-header"),
    pytest.param(mail(), None, id="a-person"),
])
def test_the_automatic_reason_comes_from_the_parsed_headers(message, reason):
    parsed = parse(message)
    assert parsed.auto_reason == reason
    assert parsed.is_automatic is (reason is not None)


def report_mail(sender: bytes, subject: bytes, report_type: bytes) -> bytes:
    return (
        b"From: " + sender + b"\r\nTo: supervizija@intake.example.lv\r\nSubject: " + subject + b"\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=' + report_type + b'; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/plain\r\n\r\nNotification.\r\n"
        b"--R\r\nContent-Type: message/" + report_type + b"\r\n\r\nReporting-MTA: dns; mx.skola.lv\r\n\r\n"
        b"--R--\r\n"
    )


@pytest.mark.parametrize("raw", [
    pytest.param(report_mail(b"Mail Delivery System <MAILER-DAEMON@mx.skola.lv>",
                             b"Undelivered Mail Returned to Sender", b"delivery-status"), id="bounce"),
    pytest.param(report_mail(b"Anna <anna@skola.lv>", b"Pieteikums", b"disposition-notification"),
                 id="read-receipt-from-a-person"),
])
def test_a_report_is_automatic_by_its_content_type(raw):
    assert parse(raw).auto_reason == "report"


def test_body_text_is_the_plain_text_part_not_the_attachment():
    message = parse(attach_list(mail(body="Labdien!\nIzglītības iestāde: Ogres tehnikums")))
    assert message.body_text.splitlines() == ["Labdien!", "Izglītības iestāde: Ogres tehnikums"]


def test_an_html_only_body_loses_its_tags():
    message = mail()
    message.set_content("<p>Labdien!</p><p>Sūtām <b>sarakstu</b></p>", subtype="html")
    assert parse(message).body_text.split() == ["Labdien!", "Sūtām", "sarakstu"]


@pytest.mark.parametrize(("markup", "lines"), [
    pytest.param("<p>Labdien!</p><p>Ogres 1. vidusskolas pedagogi</p>",
                 ["Labdien!", "", "Ogres 1. vidusskolas pedagogi"], id="paragraphs"),
    pytest.param("Labdien!<br>Ogres&nbsp;1.&nbsp;vidusskola<br/>Tālr. 65000000",
                 ["Labdien!", "Ogres 1. vidusskola", "Tālr. 65000000"], id="line-breaks-and-entities"),
    pytest.param("<div>Labdien!</div><div>Sūtām &laquo;sarakstu&raquo; &amp; citu</div>",
                 ["Labdien!", "", "Sūtām «sarakstu» & citu"], id="divs-and-named-entities"),
    pytest.param("<table><tr><td>Iestāde:</td><td>Ogres tehnikums</td></tr><tr><td>Tālr.</td>"
                 "<td>65000000</td></tr></table>",
                 ["Iestāde: Ogres tehnikums", "", "Tālr. 65000000"], id="table-rows"),
    pytest.param("<ul><li>Viens</li><li>Divi</li></ul>", ["Viens", "", "Divi"], id="list-items"),
    pytest.param("<html><head><title>Nosaukums</title><style>p {color: red}</style></head><body>"
                 "<script>var a = '<p>x</p>';</script><p>Teksts</p></body></html>",
                 ["Teksts"], id="head-style-script-dropped"),
    pytest.param("<p>Mans teksts</p><blockquote><p>Citēts teksts</p></blockquote>",
                 ["Mans teksts", "", "> Citēts teksts"], id="blockquote-marked-as-quoted"),
    pytest.param("<p>Nepabeigts <b>teksts", ["Nepabeigts teksts"], id="unclosed-tags"),
])
def test_html_becomes_text_with_its_line_breaks(markup, lines):
    assert html_text(markup).splitlines() == lines


def test_an_html_only_mail_keeps_its_lines_apart():
    message = mail()
    message.set_content("<div>Labdien!</div><div>Ogres 1. vidusskola</div>", subtype="html")
    assert parse(message).body_text.splitlines() == ["Labdien!", "", "Ogres 1. vidusskola"]


def test_a_mail_forwarded_as_an_attachment_is_its_own_text_not_the_body():
    forwarded = attach_list(mail("Pieteikums – Ogres tehnikums", "Labdien!\nOgres tehnikuma pedagogi.",
                                 sender="Direktore <direktore@ovt.lv>"))
    outer = mail("Fwd: Pieteikums supervīzijai", "Pārsūtu direktores vēstuli.")
    outer.add_attachment(forwarded)
    message = parse(outer)
    assert message.body_text.splitlines() == ["Pārsūtu direktores vēstuli."]
    assert message.forwarded_text.splitlines() == [
        "From: Direktore <direktore@ovt.lv>", "Subject: Pieteikums – Ogres tehnikums", "",
        "Labdien!", "Ogres tehnikuma pedagogi."]


def test_a_mail_without_a_forwarded_attachment_has_no_forwarded_text():
    assert parse(attach_list(mail())).forwarded_text == ""


@pytest.mark.parametrize("header", [
    "-----Original Message-----", "---------- Forwarded message ---------",
    "---------- Pārsūtīta ziņa ---------", "-------- Forwarded Message --------",
    "Begin forwarded message:", "No: Direktore <direktore@skola.lv>", "From: direktore@skola.lv",
    "On Mon, 30 Nov 2026 at 10:15, Direktore <d@skola.lv> wrote:",
    "2026. gada 30. novembrī 10:15 Direktore <d@skola.lv> rakstīja:",
    "-------- Исходное сообщение --------", "От: Директор <d@skola.lv>",
])
def test_own_text_stops_at_each_clients_quote_header(header):
    assert own_text(f"Mans teksts SUP-2026-00042\n{header}\nCitēts SUP-2026-00043") == \
        "Mans teksts SUP-2026-00042"


@pytest.mark.parametrize(("subject", "topic"), [
    ("Pieteikums supervīzijai", "Pieteikums supervīzijai"),
    ("Re: Pieteikums supervīzijai", "Pieteikums supervīzijai"),
    ("RE: Pieteikums", "Pieteikums"),
    ("Fwd: Pieteikums", "Pieteikums"),
    ("FW: Pieteikums", "Pieteikums"),
    ("AW: Pieteikums", "Pieteikums"),
    ("WG: Pieteikums", "Pieteikums"),
    ("Atb: Pieteikums", "Pieteikums"),
    ("Pārs: Pieteikums", "Pieteikums"),
    ("Re: Fwd: Atb: Pieteikums", "Pieteikums"),
    ("Re:Re:Pieteikums", "Pieteikums"),
    ("Re[2]: Pieteikums", "Pieteikums"),
    ("  Re :  Pieteikums  ", "Pieteikums"),
    ("Referāts: supervīzija", "Referāts: supervīzija"),
    ("Atbalsts: supervīzija", "Atbalsts: supervīzija"),
    ("Pieteikums (Re: iepriekšējā vēstule)", "Pieteikums (Re: iepriekšējā vēstule)"),
    ("", ""),
])
def test_subject_topic_strips_reply_and_forward_prefixes(subject, topic):
    assert subject_topic(subject) == topic


@pytest.mark.parametrize(("subject", "body", "numbers"), [
    pytest.param("Re: SUP-2026-00042 labojumi", "Labdien!", ("SUP-2026-00042",), id="in-subject"),
    pytest.param("Labojumi", "Pieteikums SUP-2026-00042 ir jālabo.", ("SUP-2026-00042",), id="in-body"),
    pytest.param("SUP-2026-00042", "SUP-2026-00043 un atkal SUP-2026-00042",
                 ("SUP-2026-00042", "SUP-2026-00043"), id="both-once-each-in-order"),
    pytest.param("SUP-2026-000421", "XSUP-2026-00042 un SUP-26-00042", (), id="not-a-whole-number"),
    pytest.param("Pieteikums", "Labdien!", (), id="none"),
    pytest.param("Grozījumi", "Lūdzu, grozīt sup-2026-00042.", (), id="our-spelling-only"),
    pytest.param("Re: Pieteikums", "Labots.\n\n> Pieteikuma numurs: SUP-2026-00042.", (),
                 id="not-in-a-quoted-reply"),
    pytest.param("Re: Pieteikums", "Labots.\n\nFrom: supervizija@ikvd.lv\nSUP-2026-00042", (),
                 id="not-below-an-outlook-quote-header"),
    pytest.param("Re: Pieteikums", "SUP-2026-00007\n\nOtrd., 2026. g. 24. nov., Ilze rakstīja:\n"
                 "SUP-2026-00042", ("SUP-2026-00007",), id="above-a-gmail-quote-header"),
    pytest.param("SUP-2026-123456", "", ("SUP-2026-123456",), id="six-digits"),
])
def test_application_numbers_are_found_in_subject_and_body(subject, body, numbers):
    assert application_numbers(parse(mail(subject, body))) == numbers


@pytest.mark.parametrize(("name", "value"), [
    ("Content-Type", 'multipart/mixed; boundary="----=_NextPart_000_0012_01DA1B2C.3D4E5F60"'),
    ("Content-Type", "multipart/alternative; boundary=000000000000a1b2c3d4e5f6"),
    ("Content-Type", 'text/plain; charset="utf-8"; format=flowed; delsp=yes'),
    ("Content-Type", "text/plain;\r\n\tcharset=iso-8859-13"),
    ("Content-Type", f'{XLSX_TYPE}; name="saraksts (1).xlsx"'),
    ("Content-Transfer-Encoding", "base64"),
    ("Content-Disposition", 'attachment; filename="Saraksts_2026.xlsx"; size=7245'),
    ("Content-Disposition", "inline"),
])
def test_a_plain_mime_header_reads_as_the_header_registry_reads_it(name, value):
    """Plain MIME headers skip the header registry's parse: what every reader of them gets (type,
    disposition, parameters, file name) must be what the registry's value gives."""
    from email.message import Message

    from intake.core.messages import _POLICY, _parse_header

    fast, registry = _POLICY.header_fetch_parse(name, value), str(_parse_header(name, value))
    assert type(fast) is str  # the fast path was taken

    def reads(header: str) -> tuple[object, ...]:
        message = Message()
        message[name] = header
        return (message.get_content_type(), message.get_content_disposition(),
                message.get_filename(), message.get_boundary(), message.get_content_charset(),
                message.get_params(header=name))

    assert reads(fast) == reads(registry)


@pytest.mark.parametrize("value", [
    f"{XLSX_TYPE}; name=\"=?utf-8?q?dal=C4=ABbnieku_saraksts=2Exlsx?=\"",  # RFC 2047 in a parameter
    f"{XLSX_TYPE}; name*=UTF-8''dal%C4%ABbnieku%20saraksts.xlsx",  # RFC 2231
    'text/plain; charset="utf-8" (a comment)',
    'text/plain; charset="utf\\"8"',  # an escape
    "text/plain; charset=utf-8;",  # a trailing separator
    "text/plain; a*",  # what the stdlib's own parser chokes on
    "multipart/mixed; boundary=ab'cd",  # the registry ends an unquoted value at `'` or `*`
    "text/csv; name=x*y.csv",
])
def test_any_other_mime_header_takes_the_header_registry(value):
    from intake.core.messages import _PLAIN_MIME_VALUE

    assert _PLAIN_MIME_VALUE.match(value) is None


def test_an_rfc_2047_file_name_in_a_quoted_parameter_is_still_decoded():
    encoded = b"=?utf-8?b?" + base64.b64encode(LIST_NAME.encode()) + b"?="
    raw = (b"From: sekretare@skola.lv\r\nSubject: Pieteikums\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nLabdien!\r\n--b1\r\n"
           b"Content-Type: " + XLSX_TYPE.encode() + b'; name="' + encoded + b'"\r\n'
           b'Content-Disposition: attachment; filename="' + encoded + b'"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(GOOD_LIST)
           + b"--b1--\r\n")
    assert [a.filename for a in parse_message(raw, OURS).attachments] == [LIST_NAME]
