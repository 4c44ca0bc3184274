"""Where a mail names its institution: candidates from the whole mail, their ranks, the choice."""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest

from intake.core.automail import Ours
from intake.core.institution import (
    Candidate,
    InstitutionChoice,
    MailText,
    Rank,
    choose_institution,
    find_institution,
    names_written,
    split_body,
)
from intake.core.messages import parse_message
from intake.core.outcome import decide_lists, institution_choice
from intake.core.registry import FounderKind, Institution, InstitutionIndex, default_institutions
from tests.conftest import HEADER, make_workbook, person
from tests.support.clients import (
    Original,
    apple_mail_forward,
    attached_forward,
    gmail_forward,
    html_only_mail,
    outlook_mail,
    thunderbird_forward,
    thunderbird_reply,
)

OURS = Ours(address="supervizijas@programma.example.lv", message_id_domain="programma.example.lv")
TODAY = date(2026, 12, 1)
SIGNATURE = ("Ar cieņu\nIlze Kalniņa\nDaugavpils 12. vidusskolas direktora vietniece izglītības jomā\n"
             "Tālr. 65412345, mob. 29123456\nilze.kalnina@daugavpils.example.lv")
# Invented institutions, with the e-mail domains a VIIS export gives them.
INDEX = InstitutionIndex([
    Institution("4013900123", "Saulkalnes 12. vidusskola", "Vispārējās izglītības iestāde",
                FounderKind.MUNICIPAL, "Rīga", ("saulkalne12.lv",)),
    Institution("4313900189", "Ogres 1. vidusskola", "Vispārējās izglītības iestāde",
                FounderKind.MUNICIPAL, "Ogres novads", ("ogresnovads.example.lv",)),
    Institution("4313900190", "Ogres sākumskola", "Vispārējās izglītības iestāde",
                FounderKind.MUNICIPAL, "Ogres novads", ("ogresnovads.example.lv",)),
    Institution("4334002981", "Ogres tehnikums", "Profesionālās izglītības iestāde", FounderKind.STATE,
                "Ogres novads", ("ovt.example.lv", "gmail.com")),
    Institution("4010800456", '"Pūcīte" privātā pirmsskola', "Pirmsskolas izglītības iestāde",
                FounderKind.PRIVATE, "Ādažu novads", ()),
    Institution("2701903355", "Rīgas 5. pirmsskolas izglītības iestāde", "Pirmsskolas izglītības iestāde",
                FounderKind.MUNICIPAL, "Rīga", ()),
])


@cache
def shipped() -> InstitutionIndex:
    return InstitutionIndex(default_institutions(), imported=False)


def choose(subject: str = "Pieteikums supervīzijai", body: str = "Labdien!", *, forwarded: str = "",
           sender: str = "sekretare@inbox.lv", registry: InstitutionIndex | None = None) -> InstitutionChoice:
    return find_institution(MailText(subject=subject, body=body, forwarded=forwarded, sender=sender),
                            registry)


# --- what reads as an institution's name, without a registry -----------------------------------

@pytest.mark.parametrize(("subject", "body", "expected"), [
    pytest.param("Pieteikums supervīzijai – Ogres 1. vidusskola", "Labdien!", "Ogres 1. vidusskola",
                 id="subject"),
    pytest.param("Pieteikums", "Daugavpils 12. vidusskola piesaka pedagogu grupu supervīzijai.",
                 "Daugavpils 12. vidusskola", id="sentence-nominative"),
    pytest.param("Pieteikums", "Labdien!\nOgres 1. vidusskolas pedagogi piesakās supervīzijai.",
                 "Ogres 1. vidusskola", id="sentence-genitive"),
    pytest.param("Pieteikums", "Labdien Ogres 1. vidusskolas pedagogi piesakās", "Ogres 1. vidusskola",
                 id="greeting-without-punctuation-cut-away"),
    pytest.param("Pieteikums Jelgavas Valsts ģimnāzijai", "", "Jelgavas Valsts ģimnāzija", id="dative"),
    pytest.param("Pieteikums", "Rīgas Tehniskās koledžas pedagogi.", "Rīgas Tehniskā koledža",
                 id="genitive-adjective"),
    pytest.param("Pieteikums", "Ādažu brīvās Valdorfa skolas skolotāji", "Ādažu brīvā Valdorfa skola",
                 id="free-school"),
    pytest.param("Pieteikums", 'PII "Saulīte" pedagogi piesakās', 'PII "Saulīte"', id="pii-quoted"),
    pytest.param("Pieteikums", "Rīgas pirmsskolas izglītības iestādes «Ābelīte» darbinieki",
                 "Rīgas pirmsskolas izglītības iestāde «Ābelīte»", id="pre-school-genitive"),
    pytest.param("Ogres 1. vsk", "", "Ogres 1. vidusskola", id="abbreviation"),
    pytest.param("RĪGAS 12. VIDUSSKOLAS SARAKSTS", "", "RĪGAS 12. VIDUSSKOLA", id="upper-case"),
    pytest.param("Pieteikums", "Sveiki! Mēs, Cēsu 2. pamatskola, piesakāmies.", "Cēsu 2. pamatskola",
                 id="between-commas"),
    pytest.param("Pieteikums", "Cēsu Mūzikas skolas pedagogi", "Cēsu Mūzikas skola", id="music-school"),
    pytest.param("Pieteikums", "Rīgas Interešu izglītības centra pedagogi",
                 "Rīgas Interešu izglītības centrs", id="education-centre"),
    pytest.param("Pieteikums", "Izglītības iestāde: Ogres tehnikums", "Ogres tehnikums", id="explicit-line"),
    pytest.param("Pieteikums", "Skola - Ogres tehnikums", "Ogres tehnikums", id="explicit-line-dash"),
    pytest.param("Заявка на супервизию", "Добрый день!\nМы, Rīgas Klasiskā ģimnāzija, подаём заявку.",
                 "Rīgas Klasiskā ģimnāzija", id="russian-subject-name-in-body"),
])
def test_a_name_that_reads_as_an_institution_is_taken_without_a_registry(subject, body, expected):
    assert choose(subject, body).name == expected


@pytest.mark.parametrize(("subject", "body"), [
    pytest.param("Заявка на супервизию", "Добрый день!", id="russian-subject"),
    pytest.param("Labdien", "Labdien!", id="greeting"),
    pytest.param("Pieteikums", "Sveiki,\npielikumā saraksts.", id="application-word"),
    pytest.param("Application for supervision", "Hello,\nplease find the list attached.", id="english"),
    pytest.param("Saraksts 30.11.2026.", "Labdien!", id="date"),
    pytest.param("Pieteikums", "Pielikumā fails Ogres_1_vidusskola.xlsx", id="file-name"),
    pytest.param("Pieteikums", "Ar cieņu\nIlze Kalniņa\nTālr. 29123456", id="person-name"),
    pytest.param("Pieteikums", "Mūsu skolas pedagogi vēlas piedalīties.", id="our-school"),
    pytest.param("Pieteikums", "Izglītības iestāde:", id="empty-label"),
    pytest.param("Pieteikums", "Jauniešu centrs aicina", id="a-centre-that-is-no-school"),
])
def test_what_is_no_institutions_name_is_refused(subject, body):
    assert choose(subject, body) == InstitutionChoice()


# --- ranks ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "body", "expected", "rank"), [
    pytest.param("Pieteikums – Ogres tehnikums", "Izglītības iestāde: Ogres 1. vidusskola",
                 "Ogres 1. vidusskola", Rank.EXPLICIT, id="explicit-line-over-subject"),
    pytest.param("Pieteikums", "Ogres tehnikuma pedagogi piesakās.\n\nAr cieņu\nOgres tehnikums",
                 "Ogres tehnikums", Rank.OWN, id="sentence-and-signature-agree"),
    pytest.param("Pieteikums", f"Pielikumā saraksts.\n\n{SIGNATURE}", "Daugavpils 12. vidusskola",
                 Rank.SIGNATURE, id="signature-alone"),
    pytest.param("Pieteikums", "Pielikumā saraksts.\n--\nIlze Kalniņa\nCēsu 2. pamatskola",
                 "Cēsu 2. pamatskola", Rank.SIGNATURE, id="dash-dash-signature"),
    pytest.param("Pieteikums", "Pielikumā saraksts.\n\nIlze Kalniņa\nCēsu 2. pamatskolas skolotāja\n"
                 "+371 29123456", "Cēsu 2. pamatskola", Rank.SIGNATURE, id="signature-without-closing"),
    pytest.param("Fw: Pieteikums", "Pārsūtu.\n\n" + SIGNATURE + "\n\n-----Original Message-----\n"
                 "From: direktore@skola.lv\nSubject: Ogres tehnikuma pieteikums\n\nLabdien!",
                 "Daugavpils 12. vidusskola", Rank.SIGNATURE, id="signature-over-quoted"),
    pytest.param("Pieteikums – Ogres tehnikums", "Sūtu sarakstu.\n\nAr cieņu\nIlze\n"
                 "Iestāde: Cēsu 2. pamatskola", "Cēsu 2. pamatskola", Rank.EXPLICIT,
                 id="explicit-line-in-the-signature"),
    pytest.param("Pieteikums", "Sūtu.\n> Iestāde: Cēsu 2. pamatskola\n", "Cēsu 2. pamatskola",
                 Rank.QUOTED, id="explicit-line-quoted-is-quoted"),
])
def test_the_best_ranked_name_wins(subject, body, expected, rank):
    assert choose(subject, body) == InstitutionChoice(expected, rank)


@pytest.mark.parametrize("body", [
    f"Ogres tehnikuma pedagogi piesakās.\n\n{SIGNATURE}",
    "Labdien!\nSupervīzija notiks Valmieras Valsts ģimnāzijas telpās, jo tur ir zāle.\n\n"
    "Ar cieņu\nCēsu Valsts ģimnāzijas direktore\nI. Kalna",
    "Mūsu skolotāji iepriekš piedalījās Valmieras Valsts ģimnāzijas seminārā.\n\nAr cieņu\n"
    "Cēsu Valsts ģimnāzija direktore\nTālr. 64123456",
], ids=["applicant-sentence", "venue", "earlier-seminar"])
def test_a_sentence_and_the_signature_naming_two_institutions_are_asked_about(body):
    choice = choose("Pieteikums supervīzijai", body)
    assert choice.name is None and len(choice.conflict) == 2


def test_the_forwarded_attachment_is_read_when_the_mail_itself_names_none():
    forwarded = "From: direktore@skola.lv\nSubject: Pieteikums – Ogres tehnikums\n\nLabdien!"
    assert choose("Fw: pieteikums", "Pārsūtu.", forwarded=forwarded) == InstitutionChoice(
        "Ogres tehnikums", Rank.QUOTED)


@pytest.mark.parametrize(("subject", "body", "names"), [
    pytest.param("Ogres tehnikums", "Daugavpils 12. vidusskola piesaka pedagogus.",
                 ("Ogres tehnikums", "Daugavpils 12. vidusskola"), id="subject-and-sentence"),
    pytest.param("Pieteikums", "Iestāde: Cēsu 2. pamatskola\nIestāde: Ogres tehnikums",
                 ("Cēsu 2. pamatskola", "Ogres tehnikums"), id="two-explicit-lines"),
])
def test_two_different_names_at_the_best_rank_are_not_guessed_between(subject, body, names):
    choice = choose(subject, body)
    assert (choice.name, choice.conflict) == (None, names)


def test_one_name_in_several_case_forms_is_one_name():
    choice = choose("Pieteikums – Ogres 1. vidusskola", "Ogres 1. vidusskolas pedagogi piesakās.")
    assert choice == InstitutionChoice("Ogres 1. vidusskola", Rank.OWN)


def test_choose_an_institution_from_no_candidates_is_none():
    assert choose_institution([]) == InstitutionChoice()
    assert choose_institution([Candidate("A skola", Rank.QUOTED), Candidate("B skola", Rank.DOMAIN)]) \
        == InstitutionChoice("A skola", Rank.QUOTED)


def test_the_body_splits_into_own_lines_signature_and_quotes():
    own, signature, quoted = split_body("Labdien!\nSūtu sarakstu.\n\nAr cieņu\nIlze\n"
                                        "> citēts\nOn 1 Dec 2026, Jānis wrote:\n> vēl")
    assert own == ["Labdien!", "Sūtu sarakstu.", ""]
    assert signature == ["Ar cieņu", "Ilze"]
    assert quoted == ["> citēts", "On 1 Dec 2026, Jānis wrote:", "> vēl"]


# --- with a registry --------------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "body", "sender", "expected", "rank"), [
    pytest.param("Re: rigas saulkalnes 12 vsk", "", "a@inbox.lv", "Saulkalnes 12. vidusskola", Rank.OWN,
                 id="registry-spelling"),
    pytest.param("Pieteikums", "Pielikumā Ogres 1. vidusskolas saraksts.", "a@inbox.lv",
                 "Ogres 1. vidusskola", Rank.OWN, id="registry-name-in-a-sentence"),
    pytest.param("Pieteikums", "Reģ. nr. 4334002981", "a@inbox.lv", "Ogres tehnikums", Rank.OWN,
                 id="registration-number"),
    pytest.param("Pieteikums", "Rīgas 5. PII pedagogi", "a@inbox.lv",
                 "Rīgas 5. pirmsskolas izglītības iestāde", Rank.OWN, id="pii-abbreviation"),
    pytest.param("Pieteikums", 'Sūtām "Pūcītes" privātās pirmsskolas sarakstu', "a@inbox.lv",
                 '"Pūcīte" privātā pirmsskola', Rank.OWN, id="quoted-name-genitive"),
    pytest.param("Pieteikums", "Labdien!", "lietvede@saulkalne12.lv", "Saulkalnes 12. vidusskola",
                 Rank.DOMAIN, id="sender-domain"),
    pytest.param("Pieteikums", "Pārsūtu Ogres 1. vidusskolas pieteikumu.", "koordinatore@ovt.example.lv",
                 "Ogres 1. vidusskola", Rank.OWN, id="written-name-outranks-forwarders-domain"),
])
def test_the_registry_recognises_names_numbers_and_domains(subject, body, sender, expected, rank):
    assert choose(subject, body, sender=sender, registry=INDEX) == InstitutionChoice(expected, rank)


@pytest.mark.parametrize("sender", [
    pytest.param("sekretare@ogresnovads.example.lv", id="municipal-domain-shared"),
    pytest.param("ogrestehnikums@gmail.com", id="public-domain-even-if-registered"),
    pytest.param("x@unknown.example.lv", id="unknown-domain"),
    pytest.param("", id="no-sender"),
])
def test_no_guess_from_a_shared_public_or_unknown_domain(sender):
    assert choose(sender=sender, registry=INDEX) == InstitutionChoice()


def test_an_unknown_name_beside_a_registered_one_is_ambiguous():
    choice = choose("Pieteikums – Ogres tehnikums", "Cēsu 2. pamatskola piesaka.", registry=INDEX)
    assert choice.conflict == ("Ogres tehnikums", "Cēsu 2. pamatskola")


def test_an_unknown_name_is_passed_on_for_the_rules_to_refuse():
    assert choose("Pieteikums – Nezināmā skola", registry=INDEX).name == "Nezināmā skola"


# --- whole mails, as the clients write them, against the shipped registry ---------------------

ORIGINAL = Original(sender="Direktore <direktore@ovt.lv>", subject="Pieteikums supervīzijai",
                    body="Labdien!\nOgres tehnikuma pedagogi vēlas piedalīties supervīzijā.\n\n"
                         "Ar cieņu\nDirektore")


@pytest.mark.parametrize(("raw", "expected", "rank"), [
    pytest.param(outlook_mail(sender="Ilze Kalniņa <ilze@inbox.lv>", subject="Pieteikums supervīzijai",
                              body="Labdien!\n\nDaugavpils 12. vidusskola piesaka pedagogu grupu "
                                   "supervīzijai.\nSarakstu pievienoju."),
                 "Daugavpils 12. vidusskola", Rank.OWN, id="outlook-sentence"),
    pytest.param(outlook_mail(sender="ilze@inbox.lv", subject="Pieteikums", body="Labdien!\nPielikumā "
                              "Ogres 1. vidusskolas pedagogu saraksts."),
                 "Ogres 1. vidusskola", Rank.OWN, id="outlook-genitive"),
    pytest.param(outlook_mail(sender="ilze@inbox.lv", subject="Pieteikums", body="Labdien!\nPielikumā "
                              "saraksts.", signature=SIGNATURE),
                 "Daugavpils 12. vidusskola", Rank.SIGNATURE, id="outlook-signature-only"),
    pytest.param(outlook_mail(sender="ilze@inbox.lv", subject="FW: Pieteikums", body="Pārsūtu.",
                              quoted=ORIGINAL),
                 "Ogres tehnikums", Rank.QUOTED, id="outlook-forward-lv"),
    pytest.param(outlook_mail(sender="ilze@inbox.lv", subject="FW: Pieteikums", body="See below.",
                              quoted=ORIGINAL, language="en"),
                 "Ogres tehnikums", Rank.QUOTED, id="outlook-forward-en"),
    pytest.param(gmail_forward(sender="sekretare@gmail.com", subject="Fwd: Pieteikums", body="Pārsūtu.",
                               original=ORIGINAL),
                 "Ogres tehnikums", Rank.QUOTED, id="gmail-forward-lv"),
    pytest.param(gmail_forward(sender="sekretare@gmail.com", subject="Fwd: Pieteikums", body="FYI",
                               original=ORIGINAL, language="en"),
                 "Ogres tehnikums", Rank.QUOTED, id="gmail-forward-en"),
    pytest.param(apple_mail_forward(sender="sekretare@icloud.com", subject="Fwd: Pieteikums",
                                    body="Skatīt zemāk.", original=ORIGINAL),
                 "Ogres tehnikums", Rank.QUOTED, id="apple-mail-forward"),
    pytest.param(thunderbird_reply(sender="sekretare@inbox.lv", subject="Re: Pieteikums",
                                   body="Labdien, sūtu sarakstu.", original=ORIGINAL),
                 "Ogres tehnikums", Rank.QUOTED, id="thunderbird-reply"),
    pytest.param(thunderbird_reply(sender="sekretare@inbox.lv", subject="Re: Pieteikums",
                                   body="Sūtu sarakstu.", original=ORIGINAL, language="en"),
                 "Ogres tehnikums", Rank.QUOTED, id="thunderbird-reply-en"),
    pytest.param(thunderbird_forward(sender="sekretare@inbox.lv", subject="Fwd: Pieteikums",
                                     body="", original=ORIGINAL),
                 "Ogres tehnikums", Rank.QUOTED, id="thunderbird-forward"),
    pytest.param(html_only_mail(sender="x@gmail.com", subject="Заявка на супервизию",
                                markup="<div>Добрый день!</div><div>Rēzeknes&nbsp;Valsts&nbsp;1.&nbsp;"
                                       "ģimnāzijas pedagogi piesakās.</div>"),
                 "Rēzeknes Valsts 1. ģimnāzija", Rank.OWN, id="html-only-russian-subject"),
    pytest.param(attached_forward(sender="x@gmail.com", subject="Fw: pieteikums", body="Pārsūtu.",
                                  original=outlook_mail(sender="dir@ovt.lv", subject="Pieteikums – "
                                                        "Ogres tehnikums", body="Labdien!")),
                 "Ogres tehnikums", Rank.QUOTED, id="forwarded-as-attachment"),
    pytest.param(outlook_mail(sender="lietvede@ovt.lv", subject="Pieteikums supervīzijai",
                              body="Labdien!\nPielikumā saraksts."),
                 "Ogres tehnikums", Rank.DOMAIN, id="sender-domain-only"),
    pytest.param(gmail_forward(sender="koordinatore@ovt.lv", subject="Fwd: Pieteikums",
                               body="Pārsūtu Ogres 1. vidusskolas pieteikumu.",
                               original=Original(sender="x@ogresnovads.lv", subject="Pieteikums",
                                                 body="Labdien!")),
                 "Ogres 1. vidusskola", Rank.OWN, id="written-name-over-forwarders-domain"),
])
def test_each_clients_mail_names_its_institution(raw, expected, rank):
    message = parse_message(raw, OURS)
    assert institution_choice(message, shipped()) == InstitutionChoice(expected, rank)


def test_a_mail_naming_two_institutions_gets_an_ambiguity_error(programme, limits):
    raw = outlook_mail(sender="x@gmail.com", subject="Ogres tehnikums",
                       body="Labdien!\nDaugavpils 12. vidusskola piesaka pedagogus.",
                       attachments=[("saraksts.xlsx", make_workbook([HEADER, person(1), person(2)]))])
    (outcome,) = decide_lists(parse_message(raw, OURS), programme=programme, today=TODAY, limits=limits,
                              registry=shipped(), registered=lambda _p, _k, _a: {})
    assert [f.code for f in outcome.decision.errors] == ["institution.ambiguous"]
    message = outcome.decision.errors[0].message
    assert "divas izglītības iestādes: «Ogres tehnikums» un «Daugavpils 12. vidusskola»." in message
    assert "«Izglītības iestāde: …»" in outcome.decision.errors[0].hint
    assert outcome.decision.institution is None


def test_the_sheets_own_label_outranks_an_ambiguous_mail(programme, limits):
    sheet = make_workbook([("Izglītības iestāde: Ogres tehnikums",), HEADER, person(1), person(2)])
    raw = outlook_mail(sender="x@gmail.com", subject="Ogres 1. vidusskola",
                       body="Labdien!\nDaugavpils 12. vidusskola piesaka pedagogus.",
                       attachments=[("saraksts.xlsx", sheet)])
    (outcome,) = decide_lists(parse_message(raw, OURS), programme=programme, today=TODAY, limits=limits,
                              registry=shipped(), registered=lambda _p, _k, _a: {})
    assert outcome.decision.accepted
    assert outcome.decision.institution == "Ogres tehnikums"


def test_a_name_found_only_in_the_signature_is_the_lists_institution(programme, limits):
    raw = outlook_mail(sender="ilze@inbox.lv", subject="Pieteikums", body="Labdien!\nPielikumā saraksts.",
                       signature=SIGNATURE,
                       attachments=[("saraksts.xlsx", make_workbook([HEADER, person(1), person(2)]))])
    (outcome,) = decide_lists(parse_message(raw, OURS), programme=programme, today=TODAY, limits=limits,
                              registry=shipped(), registered=lambda _p, _k, _a: {})
    assert outcome.decision.accepted
    assert outcome.decision.institution == "Daugavpils 12. vidusskola"


@pytest.mark.parametrize(("imported", "codes", "institution"), [
    pytest.param(False, [], "Nezināmā vidusskola", id="shipped-registry-takes-it-as-given"),
    pytest.param(True, ["institution.unknown"], "Nezināmā vidusskola", id="imported-registry-refuses"),
])
def test_a_name_the_registry_lacks(programme, limits, imported, codes, institution):
    registry = InstitutionIndex(default_institutions(), imported=imported)
    raw = outlook_mail(sender="x@inbox.lv", subject="Pieteikums – Nezināmā vidusskola", body="Labdien!",
                       attachments=[("saraksts.xlsx", make_workbook([HEADER, person(1), person(2)]))])
    (outcome,) = decide_lists(parse_message(raw, OURS), programme=programme, today=TODAY, limits=limits,
                              registry=registry, registered=lambda _p, _k, _a: {})
    assert [f.code for f in outcome.decision.findings] == codes
    assert outcome.decision.institution == institution


@pytest.mark.parametrize("text", [
    pytest.param("Diagnostic: 550 5.7.1 [2 X 4 psk] rejected", id="abbreviation-in-a-log-line"),
    pytest.param("12. vidusskola", id="a-number-alone"),
    pytest.param("A. vidusskola", id="an-initial-alone"),
])
def test_a_head_word_without_a_name_is_no_institution(text):
    assert choose("Undeliverable", text) == InstitutionChoice()


@pytest.mark.parametrize(("title", "expected"), [
    ("Cēsu Valsts ģimnāzija", "Cēsu Valsts ģimnāzija"),
    ("Cēsu Valsts ģimnāzijas pedagogu saraksts supervīzijai", "Cēsu Valsts ģimnāzija"),
    ("Supervīzijas dalībnieku saraksts", None),
    ("Pielikums Nr. 1", None),
])
def test_a_title_row_is_read_for_the_institutions_name(title, expected):
    assert (names_written(title) or [None])[0] == expected


def test_a_state_gymnasium_written_short_is_recognised():
    from intake.store.registry import shipped_index

    choice = choose("Pieteikums - Cēsu VĢ", "Labdien!", registry=shipped_index())
    assert choice.name == "Cēsu Valsts ģimnāzija"
