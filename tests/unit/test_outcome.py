"""What one message is, which programme it applies to, which institution it names, and its lists' fate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from email.message import EmailMessage

import pytest

from intake.config import load_settings
from intake.core.automail import Ours
from intake.core.formats import Limits
from intake.core.messages import IncomingMessage, parse_message
from intake.core.outcome import (
    OTHER_ACTIVITY,
    Preparation,
    choose_programme,
    classify_message,
    decide_lists,
    institution_hint,
    prepare_message,
    route_message,
)
from intake.core.programme import Programme
from intake.core.registry import FounderKind, Institution, InstitutionIndex
from intake.core.rules import person_keys
from intake.core.states import MessageState
from intake.samples import make_good_list
from tests.conftest import HEADER, make_workbook

OUR_DOMAIN = "intake.example.lv"
OURS = Ours(address=f"supervizija@{OUR_DOMAIN}", message_id_domain=OUR_DOMAIN)
SCHOOL = "Rīgas 12. vidusskola"
TODAY = date(2026, 11, 25)
# Anna Bērziņa as make_good_list() lists her.
ANNA = ("Anna", "Bērziņa", "anna.berzina@skola.example.lv")
REGISTRY = InstitutionIndex([
    Institution("4313900123", SCHOOL, "Vispārējās izglītības iestāde", FounderKind.MUNICIPAL, "Rīga"),
    Institution("4312900456", "Ogres tehnikums", "Profesionālās izglītības iestāde", FounderKind.STATE,
                "Ogres novads"),
])


def message(subject: str = "Pieteikums supervīzijai", body: str = "Labdien!", *,
            sender: str | None = "Sekretāre <sekretare@skola.lv>",
            lists: Sequence[tuple[str, bytes]] = (), **headers: str) -> IncomingMessage:
    """A mail as the mailbox hands it over, parsed the way the service parses it."""
    mail = EmailMessage()
    if sender is not None:
        mail["From"] = sender
    mail["To"] = OURS.address
    mail["Subject"] = subject
    mail["Message-ID"] = "<m-1@skola.lv>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    for filename, content in lists:
        mail.add_attachment(content, maintype="application",
                            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            filename=filename)
    return parse_message(mail.as_bytes(), OURS)


GOOD = ("dalībnieku saraksts.xlsx", make_good_list())


# --- classify_message -------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "expected"), [
    pytest.param({"Auto_Submitted": "auto-replied"}, (MessageState.AUTO, "auto-submitted"), id="auto-reply"),
    pytest.param({"subject": "Automātiskā atbilde: Pieteikums", "lists": [GOOD]},
                 (MessageState.AUTO, "subject"), id="auto-reply-quoting-a-list-is-still-auto"),
    pytest.param({"sender": None}, (MessageState.AUTO, "no-sender"), id="no-sender"),
    pytest.param({"sender": None, "lists": [GOOD]}, (MessageState.AUTO, "no-sender"),
                 id="no-sender-with-a-list"),
    pytest.param({"sender": "undisclosed-recipients:;"}, (MessageState.AUTO, "no-sender"),
                 id="sender-without-address"),
    pytest.param({"lists": [GOOD]}, (MessageState.APPLICATION, "1 attachment(s)"), id="one-list"),
    pytest.param({"lists": [GOOD, GOOD]}, (MessageState.APPLICATION, "2 attachment(s)"), id="two-lists"),
    pytest.param({"lists": [GOOD], "In_Reply_To": f"<reply-1@{OUR_DOMAIN}>"},
                 (MessageState.APPLICATION, "1 attachment(s)"), id="corrected-list-in-a-reply"),
    pytest.param({"subject": "Re: Pieteikums", "In_Reply_To": f"<reply-1@{OUR_DOMAIN}>"},
                 (MessageState.CORRESPONDENCE, "reply-without-list"), id="reply-to-us-without-list"),
    pytest.param({"subject": "Re: Pieteikums", "References": f"<m-0@skola.lv> <reply-1@{OUR_DOMAIN}>"},
                 (MessageState.CORRESPONDENCE, "reply-without-list"), id="references-us-without-list"),
    pytest.param({"subject": "Re: Pieteikums", "In_Reply_To": "<m-0@skola.lv>"},
                 (MessageState.NO_LIST, "no-attachment"), id="reply-to-someone-else"),
    pytest.param({"subject": "Kā pieteikties supervīzijai?"}, (MessageState.NO_LIST, "no-attachment"),
                 id="new-mail-without-list"),
])
def test_classify_message(kwargs, expected):
    assert classify_message(message(**kwargs), our_domain=OUR_DOMAIN) == expected


# --- choose_programme -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def programmes() -> Mapping[str, Programme]:
    return load_settings({}).programmes


@pytest.mark.parametrize(("subject", "expected"), [
    pytest.param("Pieteikums PuMPuRS", "pumpurs", id="programme-name"),
    pytest.param("Re: PUMPURS – Ogres tehnikums", "pumpurs", id="name-any-case-in-a-reply"),
    pytest.param("Projekts PuMPuRS: pieteikums", "pumpurs", id="programme-title"),
    pytest.param("Pieteikums supervīzijai", "national", id="no-programme-named"),
    pytest.param("PII Pumpuriņš – pieteikums", "national", id="a-word-that-only-starts-like-it"),
    pytest.param("", "national", id="empty-subject"),
])
def test_choose_programme_by_the_subject(programmes, subject, expected):
    assert choose_programme(message(subject), programmes, "national").name == expected


def test_choose_programme_falls_back_to_whichever_default_is_configured():
    programmes = {
        "national": Programme(name="national", title="Supervīzijas Latvijas pedagogiem"),
        "pumpurs": Programme(name="pumpurs", title="Projekts PuMPuRS"),
    }
    assert choose_programme(message("Pieteikums"), programmes, "pumpurs").name == "pumpurs"


# --- institution_hint -------------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "body", "expected"), [
    pytest.param(f"Pieteikums supervīzijai – {SCHOOL}", "Labdien!", SCHOOL, id="named-in-subject"),
    pytest.param(f"Re: Pieteikums supervīzijai – {SCHOOL}", "Labdien!", SCHOOL, id="named-in-reply-subject"),
    pytest.param("Pieteikums: Ogres tehnikums", "Labdien!", "Ogres tehnikums", id="after-a-colon"),
    pytest.param("Pieteikums supervīzijai", "Labdien!", None, id="generic-subject"),
    pytest.param("Re: Pieteikums supervīzijai", "", None, id="generic-reply-subject"),
    pytest.param("Pieteikums supervīzijai", "Labdien!\nIzglītības iestāde: Ogres tehnikums\nAr cieņu",
                 "Ogres tehnikums", id="body-line"),
    pytest.param("Pieteikums supervīzijai", "Skola - Ogres tehnikums", "Ogres tehnikums",
                 id="body-line-with-dash"),
    pytest.param(f"Pieteikums – {SCHOOL}", "Iestāde: Ogres tehnikums", "Ogres tehnikums",
                 id="an-explicit-line-before-the-subject"),
])
def test_institution_hint_without_a_registry(subject, body, expected):
    assert institution_hint(message(subject, body), None) == expected


@pytest.mark.parametrize(("subject", "body", "expected"), [
    pytest.param("Pieteikums supervīzijai – RĪGAS 12.VIDUSSKOLA", "Labdien!", SCHOOL, id="upper-case"),
    pytest.param("Re: Rigas 12 vsk", "Labdien!", SCHOOL, id="without-diacritics-abbreviated"),
    pytest.param("Pieteikums supervīzijai", "Izglītības iestāde: ogres tehnikums", "Ogres tehnikums",
                 id="body-line"),
    pytest.param("Pieteikums supervīzijai", "Labdien!\nReģ. nr. 4313900123", SCHOOL,
                 id="registration-number-in-body"),
    pytest.param("Pieteikums – Nezināmā skola", "Izglītības iestāde: Ogres tehnikums", "Ogres tehnikums",
                 id="registered-name-wins-over-an-unknown-one"),
    pytest.param("Pieteikums supervīzijai – Nezināmā skola", "Labdien!", "Nezināmā skola",
                 id="unknown-name-passed-on-for-the-rules-to-refuse"),
    pytest.param("Pieteikums supervīzijai", "Labdien!\nPielikumā saraksts.", None,
                 id="a-greeting-is-no-institution"),
])
def test_institution_hint_gives_the_registrys_name(subject, body, expected):
    assert institution_hint(message(subject, body), REGISTRY) == expected


# --- decide_lists -----------------------------------------------------------------------------

class Registered:
    """The store's R5 look-up over a fixed table, remembering what it was asked."""

    def __init__(self, known: Mapping[str, str], owners: Mapping[str, int] | None = None) -> None:
        self.known = known
        self.owners = owners or {}  # key -> the id of the application holding it
        self.asked: list[tuple[str, tuple[str, ...], int | None]] = []

    def __call__(self, programme: str, keys: Sequence[str],
                 amended: int | None) -> Mapping[str, str]:
        self.asked.append((programme, tuple(keys), amended))
        return {key: self.known[key] for key in keys
                if key in self.known and (amended is None or self.owners.get(key) != amended)}


def decide(mail: IncomingMessage, programme: Programme, limits, registered: Registered,
           amends=()):
    return decide_lists(mail, programme=programme, today=TODAY, limits=limits, registry=None,
                        registered=registered, amends=amends)


@pytest.mark.parametrize("kind", [0, 1], ids=["by-email", "by-name-at-the-institution"])
def test_a_person_registered_before_is_a_registered_duplicate(programme, limits, kind):
    key = person_keys(*ANNA, SCHOOL)[kind]
    registered = Registered({key: "SUP-2026-00001"})
    (outcome,) = decide(message(f"Pieteikums – {SCHOOL}", lists=[GOOD]), programme, limits, registered)
    duplicates = [f for f in outcome.decision.errors if f.code == "duplicate.registered"]
    assert [f.value for f in duplicates] == ["Anna Bērziņa"]
    assert "SUP-2026-00001" in duplicates[0].message
    assert not outcome.decision.accepted
    assert outcome.registration_keys == ()
    assert [programme_name for programme_name, _keys, _amended in registered.asked] == ["national"]
    assert key in registered.asked[0][1]


def test_an_accepted_list_carries_the_registration_keys_of_its_people(programme, limits):
    (outcome,) = decide(message(lists=[GOOD]), programme, limits, Registered({}))
    assert outcome.decision.accepted
    assert set(person_keys(*ANNA, SCHOOL)) <= set(outcome.registration_keys)
    assert len(outcome.registration_keys) == 2 * outcome.decision.participant_count


def test_a_programme_allowing_repeat_supervisions_does_not_look_up_registrations(limits):
    pumpurs = Programme(name="pumpurs", title="Projekts PuMPuRS", one_supervision_per_educator=False)
    registered = Registered({person_keys(*ANNA, SCHOOL)[0]: "SUP-2026-00001"})
    (outcome,) = decide(message(lists=[GOOD]), pumpurs, limits, registered)
    assert outcome.decision.accepted
    assert registered.asked == []


def test_a_person_in_two_lists_of_one_mail_is_a_duplicate_in_the_second(programme, limits):
    second = make_workbook([
        ("Izglītības iestāde:", SCHOOL),
        HEADER,
        (1, *ANNA[:2], "sākumskolas skolotāja", ANNA[2]),
        (2, "Pēteris", "Kalns", "fizikas skolotājs", "peteris.kalns@skola.example.lv"),
    ])
    first, other = decide(message(lists=[GOOD, ("otrs saraksts.xlsx", second)]), programme, limits,
                          Registered({}))
    assert first.decision.accepted and not other.decision.accepted
    duplicate = next(f for f in other.decision.findings if f.code == "duplicate.registered")
    assert f"«{GOOD[0]}»" in duplicate.message
    assert set(person_keys(*ANNA, SCHOOL)) <= set(first.registration_keys)
    assert other.registration_keys == ()


def test_the_same_list_attached_twice_registers_its_people_once(programme, limits):
    first, again = decide(message(lists=[GOOD, ("kopija.xlsx", GOOD[1])]), programme, limits, Registered({}))
    assert first.decision.accepted and first.registration_keys
    assert not again.decision.accepted and again.registration_keys == ()


def test_the_people_of_the_amended_application_count_only_against_the_other_lists(programme,
                                                                                   limits):
    key = person_keys(*ANNA, SCHOOL)[0]
    registered = Registered({key: "SUP-2026-00001"}, owners={key: 1})
    amending, other = decide(message(lists=[GOOD, ("cits.xlsx", GOOD[1])]), programme, limits,
                             registered, amends=[1, None])
    assert amending.decision.accepted  # Anna is in the application it amends
    assert [a for _p, _k, a in registered.asked] == [1, None]
    assert not other.decision.accepted  # she is registered: by that application, or by this mail


# --- routing by address and subject -------------------------------------------------------------

ROUTED = {
    "national": Programme(name="national", title="Supervīzijas Latvijas pedagogiem",
                          activity_words=("supervīzij",)),
    "pumpurs": Programme(name="pumpurs", title="Projekts PuMPuRS", tags=("pumpurs",),
                         activity_words=("supervīzij",)),
    "conference": Programme(name="conference", title="Reģionālā konference",
                            addresses=("konference@ikvd.example.lv",),
                            subject_words=("konferencei", "konference"),
                            activity_words=("konferenc",)),
}


@pytest.mark.parametrize(("headers", "subject", "expected"), [
    pytest.param({"X-Original-To": "supervizija+pumpurs@ikvd.example.lv"}, "Pieteikums", "pumpurs",
                 id="plus-tag"),
    pytest.param({"Delivered-To": "supervizija+PUMPURS@ikvd.example.lv"}, "Pieteikums", "pumpurs",
                 id="plus-tag-in-delivered-to"),
    pytest.param({"Cc": "Konference <KONFERENCE@ikvd.example.lv>"}, "Saraksts", "conference",
                 id="alias-in-cc"),
    pytest.param({}, "Pieteikums konferencei Valmierā", "conference", id="subject-word"),
    pytest.param({}, "Pieteikums supervīzijai", "national", id="the-default-activity"),
    pytest.param({}, "Saraksts", "national", id="nothing-named"),
    pytest.param({}, "Pieteikums darbnīcai par izdegšanu", None, id="another-activity-to-staff"),
    pytest.param({}, "Re: Konsultācijas pieteikums", None, id="a-consultation-to-staff"),
])
def test_routes_by_the_address_it_was_sent_to_then_by_the_subject(headers, subject, expected):
    routed = route_message(message(subject, **headers), ROUTED, "national")
    assert (routed.name if routed else None) == expected


def test_mail_naming_another_activity_goes_to_staff_not_to_the_default_programme():
    mail = EmailMessage()
    mail["From"] = "Sekretāre <sekretare@skola.lv>"
    mail["To"] = OURS.address
    mail["Subject"] = "Pieteikums semināram"
    mail["Message-ID"] = "<m-2@skola.lv>"
    mail.set_content("Labdien! Pielikumā saraksts.")
    mail.add_attachment(GOOD[1], maintype="application",
                        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        filename=GOOD[0])
    outcome, parsed = prepare_message(mail.as_bytes(), Preparation(
        OURS, ROUTED, "national", Limits(), None, TODAY))
    assert parsed.attachments
    assert (outcome.state, outcome.reason, outcome.lists) == (
        MessageState.CORRESPONDENCE, OTHER_ACTIVITY, ())
