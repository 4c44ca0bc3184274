"""The application's details: the contact person, preferred times, mode, questions and remarks,
from mail as schools write it (Outlook, Gmail, Apple Mail signatures) and from a list's extras."""

from __future__ import annotations

import time

import pytest

from intake.core.details import Details, Mode, extract_details, phone_number

OUTLOOK = """Labdien!

Pielikumā Rīgas 12. vidusskolas pedagogu saraksts supervīzijai. Vai var notikt klātienē?
Mums vislabāk derētu otrdienās vai ceturtdienās pēc plkst. 14:00.

Ar cieņu
Anna Bērziņa
direktora vietniece izglītības jomā
Rīgas 12. vidusskola
Tālr. +371 29 123 456
anna.berzina@r12vsk.lv
"""

GMAIL = """Sveiki,
sūtu sarakstu. Supervīziju vēlamies attālināti (Zoom), piektdienās no 13.00 līdz 16.00.
Kontaktpersona: Jānis Kalniņš, metodiķis, tālr. 67 123 456

--
Jānis Kalniņš
Cēsu Valsts ģimnāzija
"""

ONE_LINE = """Labdien, pielikumā saraksts.
Ar cieņu, Ilze Ozola, direktore, 26123456"""

APPLE = """Labdien,

nosūtām pieteikumu. Jautājums: cik ilgi jāgaida uz supervizoru
Der abi varianti – gan klātienē, gan attālināti.

Paldies!

Laura Liepa
Lietvede
Tel.: 00371 2612 3456
"""


@pytest.mark.parametrize(("body", "sender_name", "expected"), [
    (OUTLOOK, "Sekretāre", Details(
        contact_name="Anna Bērziņa", contact_position="direktora vietniece izglītības jomā",
        contact_phone="+371 29123456", contact_email="anna.berzina@r12vsk.lv",
        times=("Mums vislabāk derētu otrdienās vai ceturtdienās pēc plkst. 14:00.",),
        mode=Mode.IN_PERSON, questions=("Vai var notikt klātienē?",))),
    (GMAIL, "", Details(
        contact_name="Jānis Kalniņš", contact_position="metodiķis", contact_phone="+371 67123456",
        contact_email="skola@skola.example.lv",
        times=("Supervīziju vēlamies attālināti (Zoom), piektdienās no 13.00 līdz 16.00.",),
        mode=Mode.REMOTE)),
    (ONE_LINE, "", Details(contact_name="Ilze Ozola", contact_position="direktore",
                           contact_phone="+371 26123456", contact_email="skola@skola.example.lv")),
    (APPLE, "", Details(contact_name="Laura Liepa", contact_position="Lietvede",
                        contact_phone="+371 26123456", contact_email="skola@skola.example.lv",
                        mode=Mode.EITHER,
                        questions=("cik ilgi jāgaida uz supervizoru",))),
    ("Labdien! Pielikumā saraksts.", "Marta Kļaviņa", Details(
        contact_name="Marta Kļaviņa", contact_email="skola@skola.example.lv")),
    ("Labdien! Pielikumā saraksts.", "Rīgas 12. vidusskola", Details(
        contact_email="skola@skola.example.lv")),
])
def test_reads_contact_times_mode_and_questions_from_mail(body, sender_name, expected):
    assert extract_details(sender_name=sender_name, sender="skola@skola.example.lv",
                           body=body) == expected


@pytest.mark.parametrize(("text", "number"), [
    ("tālr. 29123456", "+371 29123456"),
    ("+371 29 123 456", "+371 29123456"),
    ("+37129123456", "+371 29123456"),
    ("00371 6712 3456", "+371 67123456"),
    ("67 12 34 56", "+371 67123456"),
    ("29-123-456", "+371 29123456"),
    ("Reģ. nr. 90000012345", None),  # a registration number is no phone
    ("2026. gada 3. decembrī", None),
    ("120345-12345", None),
])
def test_reads_latvian_phone_numbers_in_every_shape(text, number):
    assert phone_number(text) == number


def test_a_number_in_running_text_is_no_phone_without_a_label():
    details = extract_details(body="Sarakstā 29123456 dalībnieki no 2026. gada.")
    assert details.contact_phone is None


@pytest.mark.parametrize(("sentence", "mode"), [
    ("Vēlamies klātienē.", Mode.IN_PERSON),
    ("Varētu notikt mūsu skolā.", Mode.IN_PERSON),
    ("Lūdzam tiešsaistē (MS Teams).", Mode.REMOTE),
    ("Attālināti, lūdzu.", Mode.REMOTE),
    ("Mums der abi varianti.", Mode.EITHER),
    ("Nevaram klātienē, tikai attālināti.", Mode.REMOTE),
    ("Pielikumā saraksts.", None),
])
def test_tells_in_person_from_remote(sentence, mode):
    assert extract_details(body=sentence).mode is mode


@pytest.mark.parametrize("written", [
    "Mums der pirmdienās pēc 15:00.", "Vēlams otrdien, 12.01., no 14.00 līdz 17.00.",
    "Iespējams trešdienās plkst. 13", "Labāk janvāra otrajā pusē.",
    "Ceturtdienu pēcpusdienas mums ir brīvas.",
])
def test_reads_days_and_times_written_in_several_ways(written):
    assert extract_details(body=written).times == (written,)


def test_reads_the_lists_remarks_column_and_lines_around_it():
    details = extract_details(extras=[
        ("", "Rīgas 12. vidusskola"),
        ("", "Kontaktpersona: Laura Liepa, 2 9 1 2 3 4 5 6"),
        ("Piezīmes", "Vai supervīzija var notikt skolā? Lūdzam pēc 15:00."),
        ("Vēlamā diena", "trešdiena"),
        ("Reģions", "Vidzeme"),
        ("", "Piezīme: zvanīt pēc pusdienām"),
    ], wanted_columns=["regions"])
    assert details == Details(
        contact_name="Laura Liepa", contact_phone="+371 29123456", times=("trešdiena",),
        mode=Mode.IN_PERSON, questions=("Vai supervīzija var notikt skolā?",),
        remarks=("Lūdzam pēc 15:00.", "zvanīt pēc pusdienām"), columns=(("Reģions", "Vidzeme"),))


def test_quoted_text_is_not_the_schools_own():
    # The caller passes the mail's own text; a question in our quoted reply is not the school's.
    details = extract_details(body="Paldies!\n")
    assert details.questions == ()


def test_keeps_at_most_a_few_short_items():
    body = " ".join(f"Jautājums numur {n}?" for n in range(20)) + " " + "Vai " + "ļoti " * 200 + "?"
    details = extract_details(body=body)
    assert len(details.questions) == 5
    assert all(len(q) <= 300 for q in details.questions)


def test_extraction_is_fast_enough_for_a_backlog():
    started = time.perf_counter()
    for _ in range(1000):
        extract_details(sender_name="Anna Bērziņa", sender="a@skola.lv", body=OUTLOOK,
                        extras=[("Piezīmes", "Vai var notikt klātienē?")])
    assert time.perf_counter() - started < 2.0  # about 0.1 ms each here: a rounding error per mail


def test_details_as_json_keep_their_shape():
    assert Details(mode=Mode.REMOTE, questions=("Kad?",)).as_json() == {
        "contact": {"name": None, "position": None, "phone": None, "email": None},
        "times": [], "mode": "remote", "questions": ["Kad?"], "remarks": [], "columns": {}}
