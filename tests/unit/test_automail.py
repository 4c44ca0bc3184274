"""Recognising mail that must never be answered: each check names its reason, a person's mail none."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from intake.core.automail import Ours, auto_reason
from intake.core.messages import parse_message
from intake.samples import make_good_list

OURS = Ours(address="supervizija@intake.example.lv", message_id_domain="intake.example.lv")
PERSON = "anna@skola.lv"
HUMAN_SUBJECT = "Pieteikums supervīzijai"


def reason(headers: dict[str, list[str]] | None = None, content_types: tuple[str, ...] = ("text/plain",),
           sender: str = PERSON) -> str | None:
    """The reason for a mail from a person with an ordinary subject, plus what the case adds."""
    merged = {"subject": [HUMAN_SUBJECT], "message-id": ["<a1b2c3@skola.lv>"], **(headers or {})}
    return auto_reason(merged, list(content_types), sender, OURS)


def test_ordinary_mail_from_a_person_is_not_automatic():
    assert auto_reason({"subject": [HUMAN_SUBJECT]}, ["text/plain"], PERSON, OURS) is None


def test_a_mail_without_any_headers_is_not_automatic():
    assert auto_reason({}, [], PERSON, OURS) is None


@pytest.mark.parametrize(("headers", "expected"), [
    pytest.param({"auto-submitted": ["auto-replied"]}, "auto-submitted", id="auto-submitted-auto-replied"),
    pytest.param({"auto-submitted": ["auto-generated"]}, "auto-submitted", id="auto-submitted-generated"),
    pytest.param({"auto-submitted": ["no"]}, None, id="auto-submitted-no-is-a-person"),
    pytest.param({"auto-submitted": ["No"]}, None, id="auto-submitted-no-any-case"),
    pytest.param({"x-autoreply": ["yes"]}, "x-autoreply", id="x-autoreply"),
    pytest.param({"x-autorespond": ["1"]}, "x-autoreply", id="x-autorespond"),
    pytest.param({"x-auto-response-suppress": ["All"]}, "x-auto-response-suppress",
                 id="x-auto-response-suppress-all"),
    pytest.param({"x-auto-response-suppress": ["DR, RN, NRN, OOF, AutoReply"]}, None,
                 id="outlook-suppress-list-on-ordinary-mail"),
    pytest.param({"x-auto-response-suppress": ["OOF"]}, None, id="outlook-suppress-oof-only"),
    pytest.param({"precedence": ["bulk"]}, "precedence", id="precedence-bulk"),
    pytest.param({"precedence": ["junk"]}, "precedence", id="precedence-junk"),
    pytest.param({"precedence": ["list"]}, "precedence", id="precedence-list"),
    pytest.param({"precedence": ["Bulk"]}, "precedence", id="precedence-any-case"),
    pytest.param({"precedence": ["normal"]}, None, id="precedence-normal-is-a-person"),
    pytest.param({"list-id": ["<skolotaji.lists.example.lv>"]}, "list", id="list-id"),
    pytest.param({"list-unsubscribe": ["<mailto:leave@lists.example.lv>"]}, "list", id="list-unsubscribe"),
    pytest.param({"return-path": ["<>"]}, "return-path-null", id="return-path-null"),
    pytest.param({"return-path": ["< >"]}, "return-path-null", id="return-path-null-with-space"),
    pytest.param({"return-path": ["<anna@skola.lv>"]}, None, id="return-path-of-a-person"),
    pytest.param({"x-failed-recipients": ["nav@skola.lv"]}, "failed-recipients", id="x-failed-recipients"),
])
def test_header_checks_return_their_reason(headers, expected):
    assert reason(headers) == expected


@pytest.mark.parametrize(("content_types", "expected"), [
    pytest.param(("multipart/report", "text/plain", "message/delivery-status"), "report", id="bounce"),
    pytest.param(("message/delivery-status",), "report", id="delivery-status-alone"),
    pytest.param(("multipart/report", "message/disposition-notification"), "report", id="read-receipt"),
    pytest.param(("multipart/mixed", "text/plain", "application/pdf"), None, id="ordinary-attachment"),
])
def test_report_content_types_are_automatic(content_types, expected):
    assert reason(content_types=content_types) == expected


@pytest.mark.parametrize(("sender", "expected"), [
    pytest.param("mailer-daemon@mx.skola.lv", "sender", id="mailer-daemon"),
    pytest.param("MAILER-DAEMON@mx.skola.lv", "sender", id="mailer-daemon-upper-case"),
    pytest.param("postmaster@skola.lv", "sender", id="postmaster"),
    pytest.param("no-reply@e-klase.lv", "sender", id="no-reply"),
    pytest.param("noreply@e-klase.lv", "sender", id="noreply"),
    pytest.param("anna@skola.lv", None, id="person"),
    pytest.param("reply.anna@skola.lv", None, id="person-whose-name-contains-reply"),
    pytest.param("", None, id="no-sender-is-not-decided-here"),
])
def test_automatic_senders(sender, expected):
    assert reason(sender=sender) == expected


@pytest.mark.parametrize(("headers", "sender", "expected"), [
    pytest.param({}, "supervizija@intake.example.lv", "own-address", id="our-address"),
    pytest.param({}, "Supervizija@INTAKE.example.lv", "own-address", id="our-address-any-case"),
    pytest.param({"message-id": ["<reply-7.1@intake.example.lv>"]}, PERSON, "own-message-id",
                 id="our-message-id-domain"),
    pytest.param({"message-id": ["<reply-7.1@INTAKE.EXAMPLE.LV>"]}, PERSON, "own-message-id",
                 id="our-message-id-domain-any-case"),
    pytest.param({"message-id": ["<reply-7.1@notintake.example.lv>"]}, PERSON, None,
                 id="a-domain-ending-like-ours-is-not-ours"),
    pytest.param({"x-intake-loop": ["1"]}, PERSON, "loop", id="our-loop-header"),
])
def test_our_own_mail_is_recognised(headers, sender, expected):
    assert reason(headers, sender=sender) == expected


@pytest.mark.parametrize("subject", [
    pytest.param("Automātiskā atbilde: Pieteikums supervīzijai", id="latvian-automatic-reply"),
    pytest.param("Prombūtnē: Pieteikums supervīzijai", id="latvian-away"),
    pytest.param("Out of Office: Pieteikums supervīzijai", id="english-out-of-office"),
    pytest.param("Automatic reply: Pieteikums supervīzijai", id="english-automatic-reply"),
    pytest.param("Автоматический ответ: Pieteikums supervīzijai", id="russian-automatic-reply"),
    pytest.param("Abwesenheitsnotiz: Pieteikums supervīzijai", id="german-absence-note"),
    pytest.param("Undeliverable: Pieteikums supervīzijai", id="undeliverable"),
    pytest.param("Fwd: Returned mail: see transcript for details", id="forwarded-returned-mail"),
    pytest.param("Re: Out of Office: Pieteikums supervīzijai", id="reply-to-out-of-office"),
    pytest.param("[AUTO GENERATED] Some subject", id="auto-generated-tag"),
    pytest.param("Automatic Reply: Pieteikums supervīzijai", id="outlook-english-capitals"),
])
def test_out_of_office_and_bounce_subjects_are_automatic(subject):
    assert reason({"subject": [subject]}) == "subject"


@pytest.mark.parametrize("subject", [
    pytest.param(HUMAN_SUBJECT, id="application"),
    pytest.param("Re: Pieteikums supervīzijai", id="reply"),
    pytest.param("Pieteikums – direktore šobrīd out of office", id="phrase-not-at-the-start"),
    pytest.param("", id="empty"),
])
def test_ordinary_subjects_are_not_automatic(subject):
    assert reason({"subject": [subject]}) is None


def test_checks_are_taken_in_order_so_our_loop_header_wins_over_a_bulk_precedence():
    assert reason({"x-intake-loop": ["1"], "precedence": ["bulk"]}) == "loop"


def test_a_configured_loop_header_name_is_looked_up_in_lower_case():
    ours = Ours("supervizija@intake.example.lv", "intake.example.lv", loop_header="X-Our-Loop")
    assert auto_reason({"x-our-loop": ["yes"]}, [], PERSON, ours) == "loop"
    assert auto_reason({"x-intake-loop": ["yes"]}, [], PERSON, ours) is None


# --- the same checks on whole mails, in the shapes real programs send -----------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def mail(subject: str, body: str, *, sender: str = "Sekretāre <sekretare@skola.lv>",
         headers: dict[str, str] | None = None, list_name: str | None = None,
         calendar: str | None = None) -> bytes:
    """A mail as a client or server writes it: headers, a body, perhaps a list or an invitation."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = OURS.address
    message["Subject"] = subject
    message["Message-ID"] = "<m-1@skola.lv>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if calendar is not None:
        message.add_alternative(calendar, subtype="calendar", params={"method": "REQUEST"})
    if list_name is not None:
        message.add_attachment(make_good_list(), maintype="application", subtype=XLSX.split("/")[1],
                               filename=list_name)
    return message.as_bytes()


def parsed_reason(raw: bytes) -> str | None:
    return parse_message(raw, OURS).auto_reason


INVITATION = ("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\n"
              "BEGIN:VEVENT\r\nSUMMARY:Supervīzijas plānošana\r\nDTSTART:20261201T090000Z\r\n"
              "END:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.mark.parametrize(("raw", "expected"), [
    pytest.param(mail("Arpus biroja atrasanas automatiska atbilde: Pieteikums supervīzijai",
                      "Labdien! Esmu atvaļinājumā līdz 5. janvārim."), "subject",
                 id="latvian-outlook-out-of-office-without-diacritics-or-headers"),
    pytest.param(mail("Ārpus biroja atrašanās automātiskā atbilde: Pieteikums",
                      "Paldies par vēstuli."), "subject", id="latvian-outlook-out-of-office"),
    pytest.param(mail("Automātiska atbilde: Pieteikums", "Šobrīd neatrodos birojā."), "subject",
                 id="latvian-automatic-reply-without-long-a"),
    pytest.param(mail("Prombūtnē: Re: Pieteikums", "Atgriezīšos 12. janvārī."), "subject",
                 id="latvian-away"),
    pytest.param(mail("Lasīts: Pieteikums supervīzijai", "Jūsu vēstule tika izlasīta."), "subject",
                 id="latvian-read-receipt-without-report-part"),
    pytest.param(mail("Nepiegādājams: Pieteikums", "Vēstuli nevarēja piegādāt."), "subject",
                 id="latvian-undeliverable"),
    pytest.param(mail("Автоответ: Pieteikums", "Я в отпуске до 10 января."), "subject",
                 id="russian-auto-reply"),
    pytest.param(mail("Нет на месте: Pieteikums", "Меня нет на месте."), "subject", id="russian-away"),
    pytest.param(mail("Прочитано: Pieteikums", "Ваше сообщение прочитано."), "subject",
                 id="russian-read-receipt"),
    pytest.param(mail("Autosvar: Pieteikums", "Jeg er på ferie."), "subject", id="scandinavian"),
    pytest.param(mail("Delivery Status Notification (Failure)", "Address not found"), "subject",
                 id="gmail-bounce-shape-from-a-relay"),
    pytest.param(mail("Mail delivery failed: returning message to sender",
                      "This message was created automatically by mail delivery software.",
                      sender="Mail Delivery System <MAILER-DAEMON@mx.skola.lv>"), "sender",
                 id="exim-bounce-without-dsn-part"),
    pytest.param(mail("Undelivered Mail Returned to Sender", "This is the mail system at host mx.",
                      sender="MAILER-DAEMON@mx.skola.lv (Mail Delivery System)"), "sender",
                 id="postfix-bounce-sender-in-old-style"),
    pytest.param(mail("Re: Pieteikums", "I'm sorry to have to inform you that your message could not"
                      " be delivered.", sender="Mail Delivery System <mail@mx.skola.lv>",
                      headers={"Return-Path": "<MAILER-DAEMON>"}), "bounce-path",
                 id="bounce-named-only-in-return-path"),
    pytest.param(mail("Pieteikums", "Saņemts.", headers={"Return-Path": "<>"}), "return-path-null",
                 id="null-return-path"),
    pytest.param(mail("Please confirm your message", "I use a challenge-response spam filter. Click the "
                      "link below to confirm you are not a robot.", sender="anna@skola.lv"), "challenge",
                 id="challenge-response-confirm"),
    pytest.param(mail("Re: Pieteikums", "Your message is being held. Verify you are human to have your "
                      "message delivered: https://verify.example.net/x", sender="anna@skola.lv"),
                 "challenge", id="challenge-response-in-the-body-only"),
    pytest.param(mail("Your message to anna@skola.lv is awaiting approval", "Boxbe has placed your "
                      "message in the guest list.", sender="Boxbe <notifications@boxbe.com>"),
                 "challenge", id="boxbe-guest-list"),
    pytest.param(mail("[SpamArrest] Please verify your email", "Click here to confirm your message.",
                      sender="anna@skola.lv"), "challenge", id="spamarrest"),
    pytest.param(mail("Re: Pieteikums", "Paldies!", headers={"X-Loop": OURS.address}), "loop",
                 id="x-loop-naming-our-address"),
    pytest.param(mail("Re: Pieteikums", "Paldies!", headers={"X-Loop": f"<{OURS.address.upper()}>"}),
                 "loop", id="x-loop-any-case-in-brackets"),
    pytest.param(mail("Uzaicinājums: Supervīzijas plānošana", "Sapulce", calendar=INVITATION), "calendar",
                 id="outlook-meeting-invitation"),
    pytest.param(mail("Jaunumi izglītībā", "Lasiet jaunumus.",
                      headers={"Feedback-ID": "12:34:newsletter:mailchimp"}), "notification",
                 id="newsletter-with-feedback-id"),
    pytest.param(mail("Paziņojums", "Jauns ieraksts e-klasē.",
                      headers={"List-Unsubscribe": "<https://e-klase.example.lv/atteikties>"}), "list",
                 id="notification-with-list-unsubscribe"),
    pytest.param(mail("Automātiskā atbilde: Pieteikums", "Esmu atvaļinājumā.", list_name="saraksts.xlsx"),
                 "subject", id="auto-reply-that-quotes-the-list-it-answers"),
])
def test_automatic_mail_is_recognised_by_every_sign_it_shows(raw, expected):
    assert parsed_reason(raw) == expected


@pytest.mark.parametrize("raw", [
    pytest.param(mail("Out of office tomorrow, here is our list", "Labdien! Rīt būšu ārpus biroja, "
                      "tāpēc sūtu sarakstu jau šodien.", list_name="Rīgas 12. vsk saraksts.xlsx"),
                 id="english-out-of-office-words-with-a-list"),
    pytest.param(mail("Pieteikums supervīzijai", "Labdien! No rītdienas esmu atvaļinājumā, tāpēc "
                      "pieteikumu sūtu šodien.", list_name="saraksts.xlsx"),
                 id="on-leave-in-the-body-with-a-list"),
    pytest.param(mail("Atvaļinājumā – sūtu sarakstu", "Šī nav automātiskā atbilde: sūtu sarakstu.",
                      list_name="saraksts.xls"), id="leave-in-the-subject-with-a-list"),
    pytest.param(mail("Re: Pieteikums", "Direktore ir ārpus biroja, saraksts sekos."),
                 id="one-weak-sign-alone"),
    pytest.param(mail("Pieteikums", "Vai jūsu vēstule tika izlasīta? Mēs to nesaņēmām."),
                 id="a-question-about-reading"),
    pytest.param(mail("Jautājums par apstiprinājumu", "Lūdzu, apstipriniet, ka saņēmāt sarakstu."),
                 id="a-person-asks-for-confirmation"),
    pytest.param(mail("Pieteikums", "Sūtu sarakstu.", headers={"X-Loop": "skola.lv"},
                      list_name="saraksts.xlsx"), id="x-loop-naming-someone-else"),
    pytest.param(mail("Pieteikums", "Sūtu sarakstu.", sender="Anna Bērziņa <postmaster.anna@skola.lv>",
                      list_name="saraksts.xlsx"), id="a-person-whose-name-starts-like-postmaster"),
    pytest.param(mail("Re: Read me: programme", "Labdien!", list_name="saraksts.ods"),
                 id="read-not-as-a-receipt-prefix"),
])
def test_a_person_s_mail_is_answered_even_with_words_an_auto_reply_uses(raw):
    assert parsed_reason(raw) is None


@pytest.mark.parametrize(("subject", "body", "has_list", "expected"), [
    pytest.param("Re: Pieteikums", "This is an automatic reply. I am out of the office.", False, "body",
                 id="two-phrases-in-the-body-add-up"),
    pytest.param("Re: Pieteikums", "Direktore ir ārpus biroja. Direktore ir ārpus biroja.", False,
                 None, id="one-phrase-twice-is-one-sign"),
    pytest.param("Re: Pieteikums", "I am out of the office until 15 December.", False, "body",
                 id="an-owner-away-without-a-list"),
    pytest.param("Re: Заявка", "Я в отпуске до 15 декабря.", False, "body",
                 id="an-owner-away-in-russian"),
    pytest.param("Atvalinajums", "Esmu atvalinajuma lidz 15.12.", False, "subject",
                 id="leave-without-diacritics"),
    pytest.param("Re: Pieteikums", "Labdien! Esmu atvaļinājumā līdz 15.12., saraksts pielikumā.", True,
                 None, id="an-owner-away-with-a-list-is-answered"),
    pytest.param("Lūdzu apstipriniet savu vēstuli", "Jūsu vēstule ir aizturēta.", False, "challenge",
                 id="latvian-challenge-without-a-comma"),
    pytest.param("Re: Pieteikums", "This is an automatic reply. I am out of the office.", True, None,
                 id="a-list-outweighs-two-phrases"),
    pytest.param("Out of office", "I am out of the office.", True, None,
                 id="a-list-outweighs-a-subject-without-a-prefix-and-one-phrase"),
    pytest.param("Out of Office: Pieteikums", "", True, "subject", id="a-program-s-prefix-outweighs-a-list"),
    pytest.param("Vacation", "", False, "subject", id="subject-alone-without-a-list"),
])
def test_weak_signs_count_only_together(subject, body, has_list, expected):
    assert auto_reason({"subject": [subject]}, ["text/plain"], PERSON, OURS, body=body,
                       has_list=has_list) == expected


def test_an_ics_file_is_a_calendar_invitation():
    assert auto_reason({"subject": ["Sapulce"]}, ["application/octet-stream"], PERSON, OURS,
                       file_names=["invite.ics"]) == "calendar"
