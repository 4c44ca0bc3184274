"""What a school writes besides its list reaches the coordinator: stored with the application,
in the export's applications sheet, and its questions in the staff summary."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from tests.conftest import HEADER, make_workbook
from tests.end_to_end.conftest import OUR_ADDRESS
from tests.end_to_end.test_staff import today
from tests.support.mail import make_email

OUTLOOK_BODY = """Labdien!

Pielikumā Skolas 41 pedagogu saraksts supervīzijai. Vai var notikt klātienē?
Mums vislabāk derētu otrdienās vai ceturtdienās pēc plkst. 14:00.

Ar cieņu
Anna Bērziņa
direktora vietniece izglītības jomā
Tālr. +371 29 123 456
"""


def remarks_list(number: int) -> bytes:
    rows = [(i, "Ilze", f"Kļaviņa{chr(97 + i)}{chr(97 + number % 20)}", "skolotāja",
             f"d{number}p{i}@skola.example.lv",
             "Vai supervizors var atbraukt uz Valmieru?" if i == 1 else None)
            for i in range(1, 4)]
    return make_workbook([(f"Izglītības iestāde: Skola {number}",),
                          ("Kontaktpersona: Laura Liepa, tālr. 67 123 456",),
                          (*HEADER, "Piezīmes"), *rows])


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
def test_details_are_stored_exported_and_the_question_goes_to_staff(intake, mailbox_server, smtp):
    mailbox_server.append(make_email(
        style="outlook", sender="Sekretāre <sekretare41@skola.example.lv>", to=OUR_ADDRESS,
        subject="Pieteikums supervīzijai", body=OUTLOOK_BODY, number=41,
        attachment=("saraksts.xlsx", remarks_list(41))))
    mailbox_server.append(make_email(
        style="gmail", sender="Jānis Kalniņš <janis42@skola.example.lv>", to=OUR_ADDRESS,
        subject="Pieteikums", number=42, attachment=("saraksts.xlsx", remarks_list(42)),
        body="Sveiki,\nsūtu sarakstu. Supervīziju vēlamies attālināti (Zoom), piektdienās.\n\n"
             "--\nJānis Kalniņš\nmetodiķis\nmob. 26 12 34 56\n"))

    intake("poll")

    replies = smtp.inbox.wait_for(2)
    assert all("ir pārbaudīts un pieņemts" in r.message.get_body(("plain",)).get_content()
               for r in replies)  # a question does not stop the decision
    rows = intake.rows("select number, contact_name, contact_position, contact_phone, "
                       "contact_email, preferred_times, mode, questions from applications "
                       "order by id")
    (first, second) = rows
    assert first[1:] == (
        "Anna Bērziņa", "direktora vietniece izglītības jomā", "+371 29123456",
        "sekretare41@skola.example.lv",
        "Mums vislabāk derētu otrdienās vai ceturtdienās pēc plkst. 14:00.", "in_person",
        "Vai var notikt klātienē?\nVai supervizors var atbraukt uz Valmieru?")
    assert second[1:] == ("Jānis Kalniņš", "metodiķis", "+371 26123456", "janis42@skola.example.lv",
                          "Supervīziju vēlamies attālināti (Zoom), piektdienās.", "remote",
                          "Vai supervizors var atbraukt uz Valmieru?")

    summary = intake("summary", "--date", today()).stdout
    assert "JAUTĀJUMI PIETEIKUMOS" in summary
    assert f"{first[0]}, Skola 41 (sekretare41@skola.example.lv): «Vai var notikt klātienē?»" in summary
    assert f"{second[0]}, Skola 42 (janis42@skola.example.lv): «Vai supervizors var atbraukt uz " \
           "Valmieru?»" in summary

    path = intake.cwd / "export.xlsx"
    intake("export", str(path), "--from", today(), "--to", today())
    sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))["Pieteikumi"]
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["Kontaktpersona"] == "Anna Bērziņa"
    assert values["Tālrunis"] == "29123456"  # as dialled in Latvia; never a formula
    assert values["Norise"] == "klātienē"
    assert values["Jautājumi"] == "Vai var notikt klātienē?; Vai supervizors var atbraukt uz Valmieru?"


def test_validate_json_gains_the_lists_details_and_keeps_its_keys(intake):
    path = intake.cwd / "saraksts.xlsx"
    path.write_bytes(remarks_list(43))

    result = intake("validate", "--json", str(path))

    found = json.loads(result.stdout)
    assert set(found) == {"file", "verdict", "institution", "programme", "groups", "findings",
                          "details"}
    assert found["details"]["contact"] == {"name": "Laura Liepa", "position": None,
                                           "phone": "+371 67123456", "email": None}
    assert found["details"]["questions"] == ["Vai supervizors var atbraukt uz Valmieru?"]
