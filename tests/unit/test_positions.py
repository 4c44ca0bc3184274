"""Classifying a position (amats) or the template's category as a leader's or an educator's (R3)."""

from __future__ import annotations

import pytest

from intake.core.model import Role
from intake.core.positions import classify_category, classify_position


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


L, E, U = Role.LEADER, Role.EDUCATOR, Role.UNCLEAR
# Positions as schools write them: masculine and feminine, ASCII, ALL CAPS, abbreviated, English.
POSITIONS = [
    # Heads and deputies, in full and written short
    ("Direktors", L), ("direktore", L), ("DIREKTORE", L), ("dir.", L), ("Dir", L),
    ("dir. vietn.", L), ("dir.vietn.", L), ("dir.vietniece", L), ("dir. vietniece izgl. jomā", L),
    ("direktora vietn. izgl. jomā", L), ("direktora v. mācību darbā", L), ("DVIJ", L), ("dvmd", L),
    ("DV", L), ("Direktora vietnieks audzināšanas darbā", L), ("DIREKTORA VIETNIECE IZGLĪTĪBAS JOMĀ", L),
    ("direktora vietniece izglitibas joma", L), ("skolotāja, direktora vietniece", L),
    ("vadītājas vietniece", L), ("vadītāja", L), ("Vaditajs", L), ("PII vadītāja", L),
    ("pirmsskolas izglītības iestādes vadītāja", L), ("metodiķe", L), ("METODIĶIS", L),
    ("metodike", L), ("pirmsskolas izglītības metodiķe", L), ("struktūrvienības vadītāja", L),
    ("rektors", L), ("dekāne", L),
    # English titles
    ("Principal", L), ("Director", L), ("Deputy head", L), ("Deputy Director", L), ("Head teacher", L),
    ("Headteacher", L), ("Headmistress", L), ("Vice principal", L), ("Methodologist", L),
    ("Teacher", E), ("English teacher", E), ("School psychologist", E), ("Speech therapist", E),
    ("Special education teacher", E), ("Pre-school teacher", E), ("Head of the science department", E),
    ("Choir leader", E), ("Teaching assistant", U), ("Librarian", U),
    # Ensemble, club and commission heads teach
    ("orķestra vadītājs", E), ("pūtēju orķestra vadītāja", E), ("kapelas vadītāja", E),
    ("kora vadītāja", E), ("KORA VADĪTĀJS", E), ("deju kolektīva vadītāja", E),
    ("tautas deju kolektīva vadītājs", E), ("pulciņa vadītājs", E), ("robotikas pulciņa vadītāja", E),
    ("teātra studijas vadītāja", E), ("vokālā ansambļa vadītāja", E), ("muzikālā vadītāja", E),
    ("interešu izglītības skolotāja", E), ("interešu izglītības pedagogs", E),
    ("metodiskās komisijas vadītāja", E), ("MA vadītāja", E), ("mk vaditaja", E),
    # Teachers and support staff
    ("skolotāja", E), ("sākumskolas skolotājs", E), ("pirmsskolas skolotāja", E),
    ("SPORTA SKOLOTĀJA", E), ("matematikas skolotajs", E), ("klases audzinātāja", E),
    ("psihologs", E), ("psiholoģe", E), ("izglītības psiholoģe", E), ("logopēds", E), ("logopēde", E),
    ("speciālais pedagogs", E), ("speciālā pedagoģe", E), ("sociālais pedagogs", E),
    ("sociālā pedagoģe", E), ("pedagoga asistents", E), ("karjeras konsultants", E),
    ("koncertmeistare", E), ("trenere", E), ("skolotāja-logopēde", E),
    # Household, kitchen and assistants: staff review
    ("saimniecības pārzine", U), ("saimniecības pārzinis", U), ("ēdnīcas vadītāja", U),
    ("ĒDNĪCAS VADĪTĀJS", U), ("noliktavas pārzinis", U), ("noliktavas pārzine", U),
    ("direktora vietnieks saimnieciskajā darbā", U), ("dir. vietn. saimn. darbā", U),
    ("direktora vietniece saimniecības jautājumos", U), ("virtuves vadītāja", U),
    ("ēdināšanas pārzine", U), ("skolotāja palīgs", U), ("skolotājas palīdze", U),
    ("pedagoga palīgs", U), ("auklīte", U), ("bibliotekāre", U), ("sporta organizators", U),
    ("lietvede", U), ("medmāsa", U), ("pavāre", U), ("galvenā grāmatvede", U), ("cits", U), ("", U),
]


@pytest.mark.parametrize(("position", "role"), POSITIONS, ids=[p or "empty" for p, _ in POSITIONS])
def test_positions_as_schools_write_them(position: str, role: Role) -> None:
    assert classify_position(position) is role


def test_the_table_of_positions_is_big_and_covers_every_role() -> None:
    assert len(POSITIONS) >= 50
    assert {role for _, role in POSITIONS} == {L, E, U}
