"""Property tests (hypothesis): hostile headers, file names, automatic-mail signals, workbooks and
whole mails never raise, and what reaches a reply stays one clean line.

Derandomised, so CI sees the same examples every run; `INTAKE_FUZZ_SCALE=50` multiplies every
budget and draws fresh examples, for a long run by hand."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import struct
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import compat32
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest
import xlsxwriter
import xlsxwriter.exceptions
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from intake.core.automail import CLASSIFIER_HEADERS, Ours, auto_reason
from intake.core.formats import Limits
from intake.core.latvian import normalise
from intake.core.messages import IncomingMessage, parse_message
from intake.core.model import Field, ParticipantList, Severity
from intake.core.outcome import TOO_LARGE, Preparation, prepare_message
from intake.core.parts import SPREADSHEET_EXTENSIONS
from intake.core.programme import Programme
from intake.core.replies import Envelope, FileAttachment, Rendered, compose_email, reply_subject
from intake.core.states import MessageState
from intake.core.workbook import read_participant_list
from intake.samples import make_faulty_list, make_good_list, make_sample_emails
from tests.conftest import FILES, HEADER, make_workbook, person
from tests.support.mail import make_email

_SCALE = int(os.environ.get("INTAKE_FUZZ_SCALE", "1"))
_BASE = settings(
    deadline=None, derandomize=_SCALE == 1, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)


def budget(examples: int) -> settings:
    return settings(_BASE, max_examples=examples * _SCALE)


OURS = Ours(address="supervizija@intake.example.lv", message_id_domain="intake.example.lv")
PREPARATION = Preparation(
    ours=OURS,
    programmes={
        "national": Programme(name="national", title="Supervīzijas Latvijas pedagogiem",
                              one_supervision_per_educator=True),
        "pumpurs": Programme(name="pumpurs", title="PuMPuRS"),
    },
    default_programme="national", limits=Limits(), registry=None, today=date(2026, 11, 25))
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REASONS = frozenset({
    "loop", "own-address", "own-message-id", "auto-submitted", "x-autoreply",
    "x-auto-response-suppress", "precedence", "list", "return-path-null", "report",
    "failed-recipients", "sender", "complaint", "subject", "bounce-path", "challenge", "notification",
    "calendar", "body",
})


def is_clean_line(text: str) -> bool:
    """One line of printable text: no CR/LF, NUL, other controls or undecodable bytes."""
    return isinstance(text, str) and not any(unicodedata.category(ch)[0] == "C" for ch in text)


def is_safe_file_name(name: str) -> bool:
    return (bool(name.strip()) and is_clean_line(name) and "/" not in name and "\\" not in name
            and len(name) <= 200)


def assert_reply_safe(message: IncomingMessage) -> None:
    """What may reach a reply's headers (To, Subject, In-Reply-To, References, file names)."""
    for name in ("sender", "sender_name", "subject", "message_id"):
        value = getattr(message, name)
        assert is_clean_line(value), (name, value)
    assert all(is_clean_line(ref) and " " not in ref for ref in message.in_reply_to), message.in_reply_to
    assert all(is_safe_file_name(a.filename) for a in message.attachments), [
        a.filename for a in message.attachments]


# --- header decoding ---------------------------------------------------------------------------

_CHARSETS = ("utf-8", "UTF-8", "iso-8859-13", "windows-1257", "koi8-r", "utf-16", "utf-7", "x-unknown",
             "")


@st.composite
def encoded_words(draw: st.DrawFn) -> bytes:
    """An RFC 2047 encoded word, well formed or not: unknown charsets, bytes the charset cannot
    decode, broken base64, an unknown encoding letter."""
    charset = draw(st.sampled_from(_CHARSETS))
    try:
        data = draw(st.text(max_size=20)).encode(charset or "ascii", "replace")
    except LookupError:
        data = draw(st.binary(max_size=20))
    if draw(st.booleans()):
        data = draw(st.binary(max_size=20))
    letter = draw(st.sampled_from("BbQqX"))
    if letter in "Bb":
        payload = base64.b64encode(data)
        payload = payload[:draw(st.integers(0, len(payload)))]
    else:
        payload = b"".join(bytes([b]) if 33 <= b < 127 and b not in b"=?_" else b"=%02X" % b for b in data)
    return b"=?" + charset.encode() + b"?" + letter.encode() + b"?" + payload + b"?="


_FRAGMENTS = (b"\r\n", b"\n", b"\r", b"\x00", b"\r\n ", b"\r\n\t", b"\r\n\r\n", b"<", b">", b"@", b'"',
              b"\\", b",", b";", b":", b"=?", b"?=", b"(", b")", b"\x7f", b"\xc4\x81", b"\xff\xfe",
              b"\x1b[31m", b"Bcc: victim@example.lv")


@st.composite
def header_values(draw: st.DrawFn) -> bytes:
    """Encoded words, text, raw 8-bit bytes, CR/LF and NUL, folding, and sometimes a very long run."""
    pieces = draw(st.lists(st.one_of(
        encoded_words(), st.sampled_from(_FRAGMENTS), st.binary(max_size=12),
        st.text(max_size=20).map(str.encode),
        st.from_regex(r"[a-z.]{1,10}@[a-z]{1,8}\.lv", fullmatch=True).map(str.encode),
    ), max_size=8))
    if draw(st.integers(0, 9)) == 0:
        pieces.append(draw(st.sampled_from([b"x", b"a ", b"=?utf-8?q?a?= ", b"\r\n "]))
                      * draw(st.integers(100, 5000)))
    return b"".join(pieces)


_HEADER_NAMES = ("From", "Subject", "Message-ID", "In-Reply-To", "References", "To", "Cc", "Sender",
                 "Reply-To", "Content-Type", "Content-Disposition", "Content-Transfer-Encoding",
                 "MIME-Version", "Auto-Submitted", "Return-Path", "Precedence", "List-Id", "X-Intake-Loop",
                 "SUBJECT", "from", "message-id")


@st.composite
def raw_mails(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(st.sampled_from(_HEADER_NAMES), header_values()), max_size=10))
    head = b"".join(name.encode() + b":" + draw(st.sampled_from([b" ", b"", b"\r\n "])) + value + b"\r\n"
                    for name, value in headers)
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"From sender@skola.lv Wed Nov 25 09:00:00 2026\n"]))
    return prefix + head + b"\r\n" + draw(st.binary(max_size=200))


@budget(200)
@given(raw_mails())
@example(b"From: Sekretare <sekretare@skola.lv>\r\nContent-Type: text/plain; a*\r\n\r\nLabdien")
@example(b"From: J\xc4\x81nis <j\xc4\x81nis@skola.lv>\r\nMessage-ID: <\xc4\x81\x00@skola.lv>\r\n"
         b"In-Reply-To: <\xff@x>\r\n\r\n")
@example(b"From: a\x00b@skola.lv\r\nSubject: =?utf-8?q?a=0D=0ABcc:_x?=\r\nMessage-ID: \x08\r\n\r\n")
def test_any_headers_parse_into_clean_single_lines(raw: bytes) -> None:
    message = parse_message(raw, OURS)
    assert_reply_safe(message)
    assert message.auto_reason is None or message.auto_reason in REASONS
    assert message.recipients_count >= 0


@budget(100)
@given(raw_mails())
@example(b"From: J\xc4\x81nis <j\xc4\x81nis@skola.lv>\r\nSubject: \xc4\x81\xff\r\n"
         b"Message-ID: <\xc4\x81@skola.lv>\r\nReferences: <a\x00b@x> <\xff@x>\r\n\r\n")
def test_a_reply_to_any_mail_carries_only_our_headers(raw: bytes) -> None:
    """The reply as the pipeline builds it from the parsed mail: no header of the school's becomes
    one of ours, and the subject and file names arrive as they were read."""
    message = parse_message(raw, OURS)
    subject = reply_subject(message.subject) or "Atbilde"
    in_reply_to = message.message_id if message.message_id.startswith("<") else ""
    names = [f"{a.filename}-piezimes.xlsx" for a in message.attachments]
    reply = compose_email(
        Rendered(subject, "Labdien!", "<p>Labdien!</p>"),
        Envelope(sender=OURS.address, recipient=message.sender or "nav@skola.lv",
                 message_id="<r-1@intake.example.lv>", date=datetime(2026, 11, 25, 9, tzinfo=UTC),
                 in_reply_to=in_reply_to, references=message.in_reply_to),
        [FileAttachment(name, b"PK\x03\x04") for name in names])
    parsed = message_from_bytes(reply, policy=compat32)
    expected = {"content-type", "mime-version", "from", "to", "subject", "date", "message-id",
                "auto-submitted", "x-auto-response-suppress", "x-intake-loop"}
    if in_reply_to:
        expected |= {"in-reply-to", "references"}
    assert sorted(k.lower() for k in parsed) == sorted(expected)
    assert str(make_header(decode_header(parsed["Subject"]))) == subject
    got = [part.get_filename() for part in parsed.walk() if part.get_content_disposition() == "attachment"]
    assert got == names


def test_a_content_type_parameter_without_a_value_does_not_stop_the_parser():
    """Found by the fuzzer: the stdlib raised IndexError from inside BytesParser."""
    message = parse_message(
        b"From: Sekretare <sekretare@skola.lv>\r\nSubject: Pieteikums\r\n"
        b"Content-Type: text/plain; a*\r\n\r\nLabdien!", OURS)
    assert (message.sender, message.subject, message.body_text) == (
        "sekretare@skola.lv", "Pieteikums", "Labdien!")


def test_raw_utf8_in_address_and_ids_is_read_as_utf8_and_controls_never_pass():
    """Found by the fuzzer: raw 8-bit bytes came through as surrogates and NUL as itself, into the
    database and the reply's To and In-Reply-To."""
    message = parse_message(
        b"From: J\xc4\x81nis <j\xc4\x81nis@skola.lv>\r\nMessage-ID: <\xc4\x81@skola.lv>\r\n"
        b"In-Reply-To: <r\x00@intake.example.lv> <r-2@intake.example.lv>\r\n\r\n", OURS)
    assert (message.sender_name, message.sender, message.message_id) == (
        "Jānis", "jānis@skola.lv", "<ā@skola.lv>")
    assert message.in_reply_to == ("<r-2@intake.example.lv>",)
    assert parse_message(b"From: a\x00b@skola.lv\r\n\r\n", OURS).sender == ""
    assert parse_message(b"From: \xff\xfe@skola.lv\r\n\r\n", OURS).sender == ""


# --- attachment file names ---------------------------------------------------------------------

def _mail_with_disposition(disposition: bytes, content_type: bytes = XLSX_TYPE.encode(),
                           content: bytes = b"PK\x03\x04") -> bytes:
    return (b"From: Sekretare <sekretare@skola.lv>\r\nSubject: Pieteikums\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
            b"--B\r\nContent-Type: text/plain\r\n\r\nLabdien!\r\n"
            b"--B\r\nContent-Type: " + content_type + b"\r\nContent-Disposition: " + disposition
            + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(content)
            + b"--B--\r\n")


def _rfc2231(name: str) -> bytes:
    return b"attachment; filename*=UTF-8''" + quote(name, safe="").encode()


def _rfc2231_continued(name: str) -> bytes:
    """RFC 2231 continuations (filename*0*, filename*1* ...), never splitting a %XX escape."""
    encoded, chunks = quote(name, safe=""), []
    while encoded:
        cut = min(30, len(encoded))
        while "%" in encoded[max(cut - 2, 0):cut] and cut < len(encoded):
            cut += 1
        chunks.append(encoded[:cut])
        encoded = encoded[cut:]
    chunks = chunks or [""]
    params = [f"filename*0*=UTF-8''{chunks[0]}", *(f"filename*{i}*={c}" for i, c in enumerate(chunks[1:], 1))]
    return ("attachment;\r\n " + ";\r\n ".join(params)).encode()


def _rfc2047(name: str) -> bytes:
    return b'attachment; filename="=?utf-8?b?' + base64.b64encode(name.encode()) + b'?="'


def _tnef(name: bytes, content: bytes) -> bytes:
    """A winmail.dat holding one attachment: its title attribute and its data."""
    def attribute(level: int, attribute_id: int, data: bytes) -> bytes:
        checksum = struct.pack("<H", sum(data) % 65536)
        return struct.pack("<BII", level, attribute_id, len(data)) + data + checksum
    return (struct.pack("<IH", 0x223E9F78, 1) + attribute(1, 0x00089006, struct.pack("<I", 0x00010000))
            + attribute(2, 0x00069002, bytes(14)) + attribute(2, 0x00018010, name + b"\x00")
            + attribute(2, 0x0006800F, content))


def _winmail(name: str) -> bytes:
    return _mail_with_disposition(b'attachment; filename="winmail.dat"', b"application/ms-tnef",
                                  _tnef(name.encode(), b"PK\x03\x04" + bytes(20)))


_HOSTILE_STEMS = st.one_of(
    st.text(max_size=40),
    st.text(max_size=3).map(lambda text: text * 150),  # far beyond 200 characters
    st.sampled_from(["../../etc/passwd", "..\\..\\boot", "C:\\Users\\x\\saraksts", "a\r\nBcc: x@y.lv", "\x00",
                     "", ".", "..", " ", "/", "\t\t", "dalībnieku saraksts", "<script>", "\u202egnp"]),
)


@budget(300)
@given(_HOSTILE_STEMS, st.sampled_from(SPREADSHEET_EXTENSIONS),
       st.sampled_from([_rfc2231, _rfc2231_continued, _rfc2047, "tnef"]))
@example("../" * 80 + "saraksts", ".xlsx", "tnef")
@example("a" * 300, ".xlsx", "tnef")
def test_any_file_name_becomes_a_safe_name_that_keeps_its_extension(stem, extension, encoding):
    name = stem + extension
    raw = _winmail(name) if encoding == "tnef" else _mail_with_disposition(encoding(name))
    found = [a.filename for a in parse_message(raw, OURS).attachments]
    note(repr(found))
    assert len(found) == 1
    assert is_safe_file_name(found[0])
    assert found[0].endswith(extension)


_PLAIN_NAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"],
                  exclude_characters="/\\"),
    min_size=1, max_size=60).map(normalise).filter(bool)


@budget(150)
@given(_PLAIN_NAMES, st.sampled_from(SPREADSHEET_EXTENSIONS),
       st.sampled_from(["outlook", "gmail", "thunderbird"]))
def test_a_plain_file_name_arrives_exactly_as_each_mail_program_encodes_it(stem, extension, style):
    name = stem + extension
    raw = make_email(style=style, sender="Sekretāre <sekretare@skola.lv>", to=OURS.address,
                     subject="Pieteikums", body="Labdien!", number=1, attachment=(name, make_good_list()))
    assert [a.filename for a in parse_message(raw, OURS).attachments] == [
        unicodedata.normalize("NFC", name)]


_PARAMETER_TOKENS = st.sampled_from([
    b"filename", b"filename*", b"filename*0", b"filename*0*", b"filename*1*", b"name", b"name*", b"=", b'"',
    b"'", b"''", b";", b"\\", b"%", b"%C4%AB", b"%ZZ", b"UTF-8", b"x-unknown", b"windows-1257", b"utf-16",
    b"=?utf-8?b?", b"=?x-unknown?q?", b"?=", b"\r\n ", b"\x00", b"/", b"..", b".xlsx", b".csv", b"\xc4\xab",
    b"\xff", b" ", b"(", b")",
])
_PARAMETERS = st.lists(st.one_of(_PARAMETER_TOKENS, st.binary(max_size=6)), max_size=20).map(b"".join)


@budget(300)
@given(_PARAMETERS, _PARAMETERS, st.sampled_from([XLSX_TYPE, "application/octet-stream", "text/csv",
                                                  "application/ms-tnef", "", "application/pdf"]))
@example(b"", b"filename*", XLSX_TYPE)
def test_broken_file_name_parameters_never_raise_and_give_safe_names(disposition, type_parameters,
                                                                     content_type):
    raw = _mail_with_disposition(b"attachment; " + disposition,
                                 content_type.encode() + b"; " + type_parameters)
    message = parse_message(raw, OURS)
    assert_reply_safe(message)


# --- the auto-mail classifier ------------------------------------------------------------------

_ANY_HEADER_NAME = st.one_of(st.sampled_from(sorted(CLASSIFIER_HEADERS | {"x-intake-loop"})),
                             st.text(max_size=10))
_ANY_HEADERS = st.dictionaries(_ANY_HEADER_NAME, st.lists(st.text(max_size=30), max_size=3), max_size=8)
_ANY_TYPES = st.lists(st.one_of(st.sampled_from(["text/plain", "multipart/report", "message/rfc822",
                                                 "message/delivery-status"]), st.text(max_size=20)),
                      max_size=5)
_HUMAN_SENDERS = st.builds("{}{}@{}".format, st.sampled_from(["sekretare", "anna.berzina", "direktore",
                                                               "info", "skola", "replyto.anna"]),
                           st.integers(0, 999).map(lambda n: str(n) if n else ""),
                           st.sampled_from(["skola.lv", "rigas12.edu.lv", "inbox.lv", "gmail.com"]))
_HUMAN_SUBJECTS = st.builds("{} {}".format, st.sampled_from([
    "Pieteikums", "Re: Pieteikums", "Fwd: Dalībnieku saraksts", "Supervīzija", "Jautājums", "FW: saraksts",
]), st.text(max_size=30))


@budget(300)
@given(_ANY_HEADERS, _ANY_TYPES, st.text(max_size=30))
def test_the_classifier_never_raises_and_names_a_known_reason(headers, content_types, sender):
    assert auto_reason(headers, content_types, sender, OURS) in REASONS | {None}


# Each documented signal, as a change to (headers, content types, sender) that must make mail automatic.
Signal = Callable[[dict[str, list[str]], list[str], str], str]


def _header_signal(name: str, value: str) -> Signal:
    def apply(headers: dict[str, list[str]], _types: list[str], sender: str) -> str:
        headers[name] = [value, *headers.get(name, [])[1:]]
        return sender
    return apply


def _type_signal(content_type: str) -> Signal:
    def apply(_headers: dict[str, list[str]], types: list[str], sender: str) -> str:
        types.append(content_type)
        return sender
    return apply


def _sender_signal(address: str) -> Signal:
    def apply(_headers: dict[str, list[str]], _types: list[str], _sender: str) -> str:
        return address
    return apply


_NOT_NO = st.text(min_size=1, max_size=20).filter(lambda v: v.strip().lower() not in ("", "no"))
_SIGNALS = st.one_of(
    _NOT_NO.map(lambda v: _header_signal("auto-submitted", v)),
    st.sampled_from(["bulk", "Junk", "LIST", "auto_reply", "auto-reply"]).map(
        lambda v: _header_signal("precedence", v)),
    st.tuples(st.sampled_from(["list-id", "list-unsubscribe", "list-post", "mailing-list", "x-ml-name",
                               "x-mlserver", "x-mailing-list"]),
              st.text(min_size=1, max_size=20).filter(str.strip)).map(lambda pair: _header_signal(*pair)),
    st.tuples(st.sampled_from(["x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated"]),
              st.sampled_from(["yes", "1", "true"])).map(lambda pair: _header_signal(*pair)),
    st.sampled_from(["<>", "< >", " <> "]).map(lambda v: _header_signal("return-path", v)),
    st.sampled_from(["All", "all", "ALL"]).map(lambda v: _header_signal("x-auto-response-suppress", v)),
    st.sampled_from(["nav@skola.lv"]).map(lambda v: _header_signal("x-failed-recipients", v)),
    st.sampled_from(["1", "supervision-intake"]).map(lambda v: _header_signal("x-intake-loop", v)),
    st.sampled_from(["supervizija@intake.example.lv", "<Supervizija@Intake.Example.LV>"]).map(
        lambda v: _header_signal("x-loop", v)),
    st.sampled_from(["<MAILER-DAEMON>", "postmaster@mx.skola.lv", "<mailer-daemon@mx.skola.lv>"]).map(
        lambda v: _header_signal("return-path", v)),
    st.sampled_from(["1:campaign:ses", "12345:67:mailchimp"]).map(lambda v: _header_signal("feedback-id", v)),
    st.sampled_from(["multipart/report", "message/delivery-status", "message/disposition-notification",
                     "message/feedback-report"]).map(_type_signal),
    st.sampled_from(["mailer-daemon@mx.skola.lv", "postmaster@skola.lv", "no-reply@e-klase.lv",
                     "Supervizija@Intake.Example.LV"]).map(_sender_signal),
)


@budget(300)
@given(_ANY_HEADERS, _ANY_TYPES, _HUMAN_SENDERS, _SIGNALS)
def test_each_documented_signal_makes_mail_automatic_whatever_else_it_carries(headers, content_types,
                                                                              sender, signal):
    sender = signal(headers, content_types, sender)
    assert auto_reason(headers, content_types, sender, OURS) is not None


@budget(300)
@given(_HUMAN_SUBJECTS, _HUMAN_SENDERS, st.from_regex(r"<[a-z0-9.]{1,20}@skola\.lv>", fullmatch=True),
       st.lists(st.sampled_from(["text/plain", "text/html", "multipart/mixed", "multipart/alternative",
                                 XLSX_TYPE, "application/pdf", "image/png", "message/rfc822"]), max_size=5),
       st.fixed_dictionaries({}, optional={
           "auto-submitted": st.sampled_from([["no"], ["No"], [" no "]]),
           "precedence": st.sampled_from([["normal"], ["first-class"], ["urgent"]]),
           "x-auto-response-suppress": st.sampled_from([["DR, RN, NRN, OOF, AutoReply"], ["OOF"]]),
           "return-path": st.sampled_from([["<anna@skola.lv>"], ["anna@skola.lv"]]),
           "in-reply-to": st.sampled_from([["<r-1@intake.example.lv>"], ["<a@skola.lv>"]]),
       }))
def test_a_person_s_mail_without_any_signal_is_never_automatic(subject, sender, message_id, content_types,
                                                               extra):
    headers = {"subject": [subject], "message-id": [message_id], **extra}
    assert auto_reason(headers, content_types, sender, OURS) is None


# The same signals as a real mail carries them: raw header lines, any case, folded or not.
_RAW_SIGNALS: dict[str, tuple[st.SearchStrategy[str], Callable[[str], bool]]] = {
    "Auto-Submitted": (st.sampled_from(["no", "No", "NO", "auto-replied", "Auto-Generated",
                                        "auto-notified; owner-email=x@skola.lv", "yes"]),
                       lambda v: v.strip().lower() != "no"),
    "Precedence": (st.sampled_from(["bulk", "Junk", "list", "auto_reply", "normal", "first-class"]),
                   lambda v: v.lower() in {"bulk", "junk", "list", "auto_reply", "auto-reply"}),
    "X-Auto-Response-Suppress": (st.sampled_from(["All", "ALL", "DR, RN, NRN, OOF, AutoReply", "OOF"]),
                                 lambda v: v.lower() == "all"),
    "X-Autoreply": (st.just("yes"), lambda _v: True),
    "List-Id": (st.just("<skolotaji.lists.example.lv>"), lambda _v: True),
    "List-Unsubscribe": (st.just("<mailto:leave@lists.example.lv>"), lambda _v: True),
    "Return-Path": (st.sampled_from(["<>", "< >", "<anna@skola.lv>"]), lambda v: v.replace(" ", "") == "<>"),
    "X-Failed-Recipients": (st.just("nav@skola.lv"), lambda _v: True),
}


@st.composite
def mails_with_signals(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A person's mail plus any set of signal headers; whether it must be automatic."""
    chosen = draw(st.dictionaries(st.sampled_from(sorted(_RAW_SIGNALS)),
                                  st.sampled_from([str.lower, str.upper, str.title, str]), max_size=4))
    lines, automatic = [], False
    for name, case in chosen.items():
        strategy, is_automatic = _RAW_SIGNALS[name]
        value = draw(strategy)
        automatic = automatic or is_automatic(value)
        separator = draw(st.sampled_from([" ", "", "\r\n ", "\r\n\t", "  "]))
        lines.append(f"{case(name)}:{separator}{value}")
    report = draw(st.sampled_from(["", "delivery-status", "disposition-notification", "feedback-report"]))
    automatic = automatic or bool(report)
    sender = draw(_HUMAN_SENDERS)
    head = "\r\n".join([f"From: Sekretāre <{sender}>", f"To: {OURS.address}",
                        f"Subject: {normalise(draw(_HUMAN_SUBJECTS))}", "Message-ID: <m-1@skola.lv>",
                        "MIME-Version: 1.0", *draw(st.permutations(lines))])
    if report:
        body = (f'Content-Type: multipart/report; report-type={report}; boundary="R"\r\n\r\n'
                "--R\r\nContent-Type: text/plain\r\n\r\nZiņojums\r\n"
                f"--R\r\nContent-Type: message/{report}\r\n\r\nReporting-MTA: dns; mx.skola.lv\r\n--R--\r\n")
    else:
        body = "Content-Type: text/plain; charset=utf-8\r\n\r\nLabdien!\r\n"
    return (head + "\r\n" + body).encode(), automatic


@budget(300)
@given(mails_with_signals())
def test_signals_are_seen_in_raw_mail_exactly_when_present(mail):
    raw, automatic = mail
    message = parse_message(raw, OURS)
    note(repr(message.auto_reason))
    assert (message.auto_reason is not None) is automatic


# --- the workbook reader -----------------------------------------------------------------------

SMALL = Limits(max_rows=60, header_search_rows=10)
_HEADER_WORDS = ["Nr.", "Vārds", "Uzvārds", "Amats", "E-pasts", "Grupa", "Personas kods", "Vārds, uzvārds",
                 "Izglītības iestāde:", "Sagatavoja: I. Kalniņa", "Pedagogi", "Amata kategorija"]
_CELL_TEXT = st.one_of(
    st.text(max_size=30), st.sampled_from(_HEADER_WORDS), st.text(max_size=2).map(lambda t: t * 16_000),
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.lv", fullmatch=True), st.just("010203-12345"), st.just("___"),
    st.text(st.characters(codec="ascii", categories=["Cc"]), min_size=1, max_size=5),
)
_FORMULAS = st.sampled_from(["=A1", "=1/0", "=SUM(A1:A3)", '="x"&B2', "=NOW()", "=BADFUNC(", "=" + "(" * 40,
                             '=HYPERLINK("http://x","y")', "=A1048577"])
_NUMBERS = st.one_of(st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False),
                     st.booleans(), st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 1, 1)),
                     st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)))
_CELLS = st.one_of(st.none(), _CELL_TEXT, _NUMBERS,
                   st.tuples(_FORMULAS, st.one_of(st.none(), _CELL_TEXT, st.integers(0, 9))))
_SHEETS = st.tuples(
    st.lists(st.lists(_CELLS, max_size=8), max_size=14),
    st.sampled_from(["visible", "hidden"]),
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 7), st.integers(0, 3), st.integers(0, 3)),
             max_size=2),
)


def _xlsxwriter_book(sheets: list[tuple[list[list[object]], str, list[tuple[int, int, int, int]]]]) -> bytes:
    """A workbook as XlsxWriter writes it: formulas with or without a saved value, merged ranges,
    hidden sheets, control characters, 32,767-character strings."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    for number, (rows, state, merges) in enumerate(sheets or [([], "visible", [])]):
        sheet = book.add_worksheet(f"S{number}")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, tuple):
                    sheet.write_formula(r, c, value[0], None, "" if value[1] is None else value[1])
                elif isinstance(value, str):
                    sheet.write_string(r, c, value[:32_767])
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, value, date_format)
                elif value is not None:
                    sheet.write(r, c, value)
        for r, c, height, width in merges:
            if height or width:
                with contextlib.suppress(xlsxwriter.exceptions.OverlappingRange):
                    sheet.merge_range(r, c, r + height, c + width, "Saraksts")
        if state == "hidden" and number:
            sheet.hide()
    book.close()
    return buffer.getvalue()


def assert_well_formed(plist: ParticipantList, file: str, limits: Limits) -> None:
    """A list read, or findings that say why not; every value a clean, trimmed, NFC cell text."""
    assert isinstance(plist, ParticipantList)
    assert plist.file == file
    assert plist.sheet is not None or plist.findings
    for finding in plist.findings:
        assert finding.severity in Severity and finding.code and finding.message
    texts = [cell for row in plist.rows for cell in row.values.values()]
    if plist.institution is not None:
        texts.append(plist.institution)
    for cell in texts:
        assert cell.text and cell.text == cell.text.strip() and is_clean_line(cell.text), cell
        assert unicodedata.is_normalized("NFC", cell.text)
        assert 1 <= cell.row <= limits.max_rows and 1 <= cell.column <= limits.max_columns
    for row in plist.rows:
        assert all(cell.row == row.row for cell in row.values.values())


@budget(120)
@given(st.lists(_SHEETS, max_size=3),
       st.sampled_from(["saraksts.xlsx", "saraksts.xlsm", "saraksts", "a.csv"]))
def test_any_cells_are_read_or_refused_with_findings(sheets, file):
    plist = read_participant_list(_xlsxwriter_book(sheets), file, limits=SMALL)
    assert_well_formed(plist, file, SMALL)


@budget(60)
@given(st.integers(0, SMALL.header_search_rows - 1), st.integers(0, 3),
       st.lists(st.lists(st.one_of(st.none(), _NUMBERS), max_size=7), max_size=20))
def test_a_header_is_found_whatever_numbers_and_dates_stand_around_it(header_row, column, rows):
    grid: list[list[object]] = [list(row) for row in rows]
    while len(grid) <= header_row:
        grid.append([])
    grid.insert(header_row, [None] * column + list(HEADER))
    plist = read_participant_list(_xlsxwriter_book([(grid, "visible", [])]), "s.xlsx", limits=SMALL)
    assert_well_formed(plist, "s.xlsx", SMALL)
    assert plist.sheet == "S0"
    required = {Field.FIRST_NAME, Field.LAST_NAME, Field.POSITION, Field.EMAIL}
    assert required <= {c.field for c in plist.columns}
    assert all(row.row > header_row + 1 for row in plist.rows)


@cache
def _seed_files() -> dict[str, bytes]:
    """Real workbooks of every format to damage: LibreOffice's, openpyxl's, XlsxWriter's, a CSV."""
    files = {path.name: path.read_bytes() for path in sorted(FILES.iterdir())}
    files["good.xlsx"] = make_good_list()
    files["faulty.xlsx"] = make_faulty_list()
    files["formulas.xlsx"] = make_workbook([HEADER, ("=1+1", "Anna", "=B2", "skolotāja", "a@skola.lv")])
    files["xlsxwriter.xlsx"] = _xlsxwriter_book([([list(HEADER), list(person(1))], "visible", [])])
    files["list.csv"] = "Vārds;Uzvārds;Amats;E-pasts\nAnna;Bērziņa;skolotāja;a@skola.lv\n".encode()
    return files


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Byte flips, truncation, zeroed runs, duplicated runs, hostile fragments: (kind, where in
    1/10,000 of the length, how much)."""
    kinds = st.sampled_from(["flip", "truncate", "zero", "duplicate", "delete", "insert"])
    steps = st.tuples(kinds, st.integers(0, 10_000), st.integers(0, 255))
    return draw(st.lists(steps, min_size=1, max_size=6))


_INSERTS = (b"\r\n", b"\r\n\r\n", b"\x00", b"--", b"; a*", b"=?utf-8?b?", b"\r\n ", b"\xff",
            b"Content-Type: multipart/mixed; boundary=x\r\n", b"PK\x03\x04", b"<!DOCTYPE x>")


def mutate(data: bytes, plan: list[tuple[str, int, int]]) -> bytes:
    buffer = bytearray(data)
    for kind, where, amount in plan:
        at = len(buffer) * where // 10_001
        if kind == "flip" and buffer:
            buffer[at] ^= 1 << (amount % 8)
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "zero":
            buffer[at:at + amount] = bytes(len(buffer[at:at + amount]))
        elif kind == "duplicate":
            buffer[at:at] = buffer[at:at + amount * 4]
        elif kind == "delete":
            del buffer[at:at + amount]
        elif kind == "insert":
            buffer[at:at] = _INSERTS[amount % len(_INSERTS)]
    return bytes(buffer)


@st.composite
def rezipped(draw: st.DrawFn) -> bytes:
    """A real workbook whose parts are damaged, dropped or compressed otherwise, in a zip whose
    checksums are right; then perhaps a few bits of the archive flipped."""
    name = draw(st.sampled_from(sorted(n for n in _seed_files() if n.endswith((".xlsx", ".ods")))))
    source = zipfile.ZipFile(io.BytesIO(_seed_files()[name]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "damage", "replace"]))
            if action == "drop":
                continue
            if action == "damage":
                data = mutate(data, draw(mutations()))
            elif action == "replace":
                data = draw(st.binary(max_size=200))
            archive.writestr(info.filename, data, compress_type=draw(st.sampled_from(
                [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])))
    flips = draw(st.lists(st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 7)), max_size=3))
    return mutate(buffer.getvalue(), flips)


_MAGIC = (b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF-1.4", b"\x89PNG", b"{\\rtf1",
          b"\xef\xbb\xbf")


@budget(250)
@given(st.one_of(
    st.tuples(st.sampled_from(sorted(_seed_files())), mutations()).map(
        lambda pair: mutate(_seed_files()[pair[0]], pair[1])),
    rezipped(),
    st.tuples(st.sampled_from(_MAGIC), st.binary(max_size=600)).map(b"".join),
), st.sampled_from(["saraksts.xlsx", "saraksts.xls", "saraksts.ods", "saraksts.csv", "saraksts"]))
def test_damaged_and_random_files_are_refused_with_findings_never_an_exception(content, file):
    assert_well_formed(read_participant_list(content, file, limits=Limits()), file, Limits())


@budget(150)
@given(st.lists(st.one_of(st.sampled_from(["Vārds", "Uzvārds", "Amats", "E-pasts", ";", ",", "\t", "|",
                                            '"', "\n", "\r\n", "\r", "\x00", "a@skola.lv", "=1+2", "\u2028",
                                            "\ufeff"]),
                          st.text(max_size=10)), max_size=200).map("".join),
       st.sampled_from(["utf-8", "cp1257", "utf-16"]))
def test_any_text_as_csv_is_read_or_refused(text, encoding):
    content = text.encode(encoding, "replace")
    assert_well_formed(read_participant_list(content, "saraksts.csv", limits=SMALL), "saraksts.csv", SMALL)


def _rezip(content: bytes, change: Callable[[str, bytes], tuple[bytes, int]]) -> bytes:
    """The workbook with each part as `change(name, data)` returns it: (data, compression)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data, method = change(info.filename, source.read(info))
            archive.writestr(info.filename, data, compress_type=method)
    return buffer.getvalue()


def _damage_streams(content: bytes, damaged: dict[str, int]) -> bytes:
    """The workbook with each named part compressed by the given method and the start of its
    stream made nonsense (for LZMA the filter properties after zipfile's 4-byte header): a broken
    stream, or for a stored part a bad CRC."""
    rezipped_book = _rezip(content, lambda name, data: (data, damaged.get(name, zipfile.ZIP_DEFLATED)))
    archive, result = zipfile.ZipFile(io.BytesIO(rezipped_book)), bytearray(rezipped_book)
    for member, method in damaged.items():
        info = archive.getinfo(member)
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        start += 4 if method == zipfile.ZIP_LZMA else 0
        result[start:start + 8] = b"\xff" * 8
    return bytes(result)


def codes(plist: ParticipantList) -> list[str]:
    return [f.code for f in plist.findings]


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA], ids=["deflate", "lzma"])
def test_a_damaged_compressed_part_is_a_corrupt_file(method):
    """Found by the fuzzer: zlib.error and LZMAError escaped the reader."""
    content = _damage_streams(make_good_list(), {"xl/workbook.xml": method})
    assert codes(read_participant_list(content, "s.xlsx", limits=Limits())) == ["file.corrupt"]


_GOOD_PARTS = ('docProps/app.xml', 'docProps/core.xml', 'xl/theme/theme1.xml', 'xl/worksheets/sheet1.xml',
               'xl/styles.xml', '_rels/.rels', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels',
               '[Content_Types].xml')


@budget(60)
@given(st.sampled_from(_GOOD_PARTS), st.dictionaries(st.sampled_from(_GOOD_PARTS), st.sampled_from(
    [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA]), max_size=4))
def test_a_dtd_in_any_part_is_refused_whatever_else_is_damaged(target, damaged):
    """Bad CRCs and broken streams in other parts must not hide a DTD (entity expansion, XXE)."""
    damaged.pop(target, None)
    book = _rezip(make_good_list(), lambda name, data: (
        b'<!DOCTYPE x [<!ENTITY a "b">]>' + data if name == target else data, zipfile.ZIP_DEFLATED))
    content = _damage_streams(book, damaged)
    assert codes(read_participant_list(content, "s.xlsx", limits=Limits())) == ["file.xml-entities"]


def test_a_dtd_is_refused_even_beside_a_damaged_part():
    """Found while fixing the fuzzer's zlib.error: one part with a bad CRC ended the DTD check, so
    a DTD in a later part reached calamine and the list was read without a finding."""
    book = _rezip(make_good_list(), lambda name, data: (
        b'<!DOCTYPE x [<!ENTITY a "b">]>' + data if name == "xl/worksheets/sheet1.xml" else data,
        zipfile.ZIP_DEFLATED))
    names = [info.filename for info in zipfile.ZipFile(io.BytesIO(book)).infolist()]
    assert names.index("docProps/app.xml") < names.index("xl/worksheets/sheet1.xml")
    content = _damage_streams(book, {"docProps/app.xml": zipfile.ZIP_STORED})  # a bad CRC
    assert codes(read_participant_list(content, "s.xlsx", limits=Limits())) == ["file.xml-entities"]


def test_an_ods_with_an_unreadable_mimetype_is_a_corrupt_file():
    """Found by the fuzzer: BadZipFile escaped from reading the mimetype member."""
    source = zipfile.ZipFile(FILES / "libreoffice-list.ods")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # mimetype last: the file still starts as a zip
        for info in sorted(source.infolist(), key=lambda info: info.filename == "mimetype"):
            archive.writestr(info, source.read(info))
    content = bytearray(buffer.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(content))).getinfo("mimetype")
    content[info.header_offset:info.header_offset + 4] = b"PK\x09\x09"  # its local header's magic
    assert codes(read_participant_list(bytes(content), "s.ods", limits=Limits())) == ["file.corrupt"]


def test_a_zip_of_an_unknown_version_is_a_corrupt_file():
    """Found by the fuzzer: zipfile raised NotImplementedError("zip file version 12.7")."""
    content = bytearray(make_good_list())
    directory = content.index(b"PK\x01\x02")
    content[directory + 6:directory + 8] = struct.pack("<H", 127)  # version needed to extract
    assert codes(read_participant_list(bytes(content), "s.xlsx", limits=Limits())) == ["file.corrupt"]


def test_an_xml_part_in_an_unknown_encoding_is_a_corrupt_file():
    """Found by the fuzzer: expat's LookupError escaped openpyxl (a workbook with formulas)."""
    content = _rezip(make_workbook([HEADER, ("=1+1", "Anna", "Bērziņa", "skolotāja", "a@skola.lv")]),
                     lambda name, data: (b'<?xml version="1.0" encoding="TTF-8"?>' + data
                                         if name == "[Content_Types].xml" else data, zipfile.ZIP_DEFLATED))
    assert codes(read_participant_list(content, "s.xlsx", limits=Limits())) == ["file.corrupt"]


# --- the per-message boundary ------------------------------------------------------------------

def assert_prepared(raw: bytes) -> None:
    """prepare_message decides any bytes: a state, a reason, a decision per attachment."""
    outcome, message = prepare_message(raw, PREPARATION)
    assert outcome.state in MessageState and outcome.reason
    assert outcome.programme in PREPARATION.programmes.values()
    if outcome.state is MessageState.APPLICATION and outcome.reason != TOO_LARGE:
        assert len(outcome.lists) == len(message.attachments)
    else:
        assert outcome.lists == ()
    assert_reply_safe(message)


@cache
def _seed_mails() -> tuple[bytes, ...]:
    mails = [raw for _name, raw in make_sample_emails(OURS.address)]
    for number, style in enumerate(["outlook", "gmail", "thunderbird"]):
        mails.append(make_email(style=style, sender="Sekretāre <sekretare@skola.lv>", to=OURS.address,
                                subject="Pieteikums supervīzijai – Rīgas 12. vidusskola", body="Labdien!",
                                number=number, attachment=("dalībnieku saraksts.xlsx", make_faulty_list())))
    mails.append(_winmail("dalībnieku saraksts.xlsx"))
    return tuple(mails)


@budget(150)
@given(st.one_of(
    st.binary(max_size=2000),
    raw_mails(),
    st.tuples(st.integers(0, len(_seed_mails()) - 1), mutations()).map(
        lambda pair: mutate(_seed_mails()[pair[0]], pair[1])),
))
@example(b"From: a@skola.lv\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
         b"--B\r\nContent-Type: application/vnd.ms-excel; name*\r\n\r\nabc\r\n--B--\r\n")
def test_prepare_message_decides_any_bytes_without_raising(raw):
    assert_prepared(raw)


@cache
def _corpus(root: Path) -> tuple[tuple[str, bytes], ...]:
    return tuple((str(path.relative_to(root)), path.read_bytes())
                 for path in sorted(root.rglob("*")) if path.is_file())


def _every_mail(root: Path, plan: list[tuple[str, int, int]]) -> Iterator[tuple[str, bytes]]:
    for name, raw in _corpus(root):
        yield name, mutate(raw, plan)


@st.composite
def corpus_plans(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Damage throughout the mail, then perhaps a truncation (which alone would hide the rest)."""
    kinds = st.sampled_from(["flip", "flip", "zero", "duplicate", "delete", "insert"])
    steps = st.tuples(kinds, st.integers(0, 10_000), st.integers(0, 255))
    plan = draw(st.lists(steps, min_size=1, max_size=8))
    cut = draw(st.one_of(st.none(), st.integers(0, 10_000)))
    return plan if cut is None else [*plan, ("truncate", cut, 0)]


@budget(3)
@given(plan=corpus_plans())
def test_every_corpus_mail_mutated_is_decided_without_raising(shared_dir, plan):
    """Each example applies one mutation plan (flips, truncation ... at the same relative places)
    to every real-world mail of ../shared/corpus/emails."""
    root = shared_dir / "corpus" / "emails"
    mails = list(_every_mail(root, plan))
    assert len(mails) > 900
    for name, raw in mails:
        try:
            assert_prepared(raw)
        except Exception as exc:
            raise AssertionError(f"{name} mutated by {plan}: {type(exc).__name__}: {exc}") from exc
