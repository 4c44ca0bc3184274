"""The blank list is made once per programme wording and reused for every reply that carries it."""

from __future__ import annotations

import io
from dataclasses import replace

import openpyxl

from intake.core.blank_list import make_blank_list
from intake.core.programme import Programme

PROGRAMME = Programme(name="national", title="Supervīzijas Latvijas pedagogiem")


def test_the_blank_list_is_made_once_per_programme():
    first = make_blank_list(PROGRAMME)
    assert make_blank_list(replace(PROGRAMME, name="other")) is first  # the same wording
    assert make_blank_list(replace(PROGRAMME, max_group_size=8)) != first
    assert make_blank_list(replace(PROGRAMME, title="Cita programma")) != first


def test_the_blank_list_carries_the_programmes_own_columns():
    conference = Programme(name="conference", title="Reģionālā konference",
                           required_columns=("Reģions",), optional_columns=("Diena",))
    sheet = openpyxl.load_workbook(io.BytesIO(make_blank_list(conference)))["Saraksts"]
    header = [c.value for c in sheet[4]]
    assert header[-2:] == ["Reģions", "Diena"]
