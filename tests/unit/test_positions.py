"""Classifying a position (amats) or the template's category as a leader's or an educator's (R3)."""

from __future__ import annotations

import pytest

from intake.model import Role
from intake.positions import classify_category, classify_position


@pytest.mark.parametrize(
    "position",
    [
        "direktors",
        "direktore",
        "Direktore",
        "DIREKTORE",
        "direktora vietnieks",
        "direktora vietniece",
        "direktora vietniece izglītības jomā",
        "direktora vietniece informātikas jomā",
        "direktora vietnieks audzināšanas darbā",
        "Direktora vietniece mācību darbā",
        "metodiķis",
        "metodiķe",
        "metodikis",
        "izglītības metodiķe",
        "pirmsskolas iestādes vadītāja",
        "pirmsskolas izglītības iestādes vadītājs",
        "iestādes vadītāja",
    ],
)
def test_heads_deputies_and_methodologists_are_leaders(position: str) -> None:
    assert classify_position(position) is Role.LEADER


@pytest.mark.parametrize(
    "position",
    [
        "pulciņa vadītājs",
        "pulciņa vadītāja",
        "kolektīva vadītāja",
        "deju kolektīva vadītājs",
        "metodiskās komisijas vadītāja",
        "metodiskās apvienības vadītāja",
        "MK vadītāja",
        "kora vadītājs",
    ],
)
def test_a_club_ensemble_or_commission_head_is_a_teacher_not_a_leader(position: str) -> None:
    assert classify_position(position) is Role.EDUCATOR


@pytest.mark.parametrize(
    "position",
    [
        "skolotāja",
        "informātikas skolotāja",
        "skolotājs",
        "sākumskolas skolotāja",
        "matemātikas skolotājs",
        "SKOLOTĀJA",
        "skolotaja",
        "pirmsskolas skolotāja",
        "pedagoģe",
        "sociālā pedagoģe",
        "sociālais pedagogs",
        "speciālais pedagogs",
        "psiholoģe",
        "izglītības psiholoģe",
        "psihologs",
        "logopēde",
        "logopēds",
        "treneris",
        "trenere",
        "karjeras konsultante",
        "interešu izglītības skolotāja",
        "skolotāja-logopēde",
    ],
)
def test_teachers_and_specialists_are_educators(position: str) -> None:
    assert classify_position(position) is Role.EDUCATOR


@pytest.mark.parametrize(
    "position",
    [
        "bibliotekārs",
        "bibliotekāre",
        "sporta organizators",
        "direktora vietnieks saimnieciskajā darbā",
        "direktora vietniece saimnieciskajos jautājumos",
        "skolotāja palīgs",
        "skolotājas palīgs",
        "pedagoga palīgs",
        "lietvede",
        "medmāsa",
        "",
        "   ",
        "cits",
    ],
)
def test_unclear_titles_are_left_for_staff_review(position: str) -> None:
    assert classify_position(position) is Role.UNCLEAR


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("vadītājs", Role.LEADER),
        ("Vadītāja", Role.LEADER),
        ("VADITAJS", Role.LEADER),
        ("vadība", Role.LEADER),
        ("pedagogs", Role.EDUCATOR),
        ("Pedagoģe", Role.EDUCATOR),
        ("skolotājs", Role.EDUCATOR),
        ("cits", Role.UNCLEAR),
        ("", Role.UNCLEAR),
    ],
)
def test_category_dropdown_is_read_in_any_spelling(category: str, expected: Role) -> None:
    assert classify_category(category) is expected
