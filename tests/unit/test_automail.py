"""Recognising mail that must never be answered: each check names its reason, a person's mail none."""

from __future__ import annotations

import pytest

from intake.automail import Ours, auto_reason

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
