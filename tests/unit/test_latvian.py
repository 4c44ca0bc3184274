"""Normalising, folding and tidying Latvian text; foreign letters; personal codes."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.core.latvian import (
    fold,
    fold_key,
    foreign_letters,
    is_personal_code,
    normalise,
    tidy_name,
    unify_dashes,
)

_WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def old_code(birth: str, century: int, serial: str) -> str:
    """A valid old-format code DDMMYY-CNNNZ: the check digit computed as the state registry does."""
    digits = f"{birth}{century}{serial}"
    total = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True))
    return f"{birth}-{century}{serial}{(1101 - total) % 11 % 10}"


def with_wrong_check_digit(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Anna   Bērziņa ", "Anna Bērziņa"),
        ("Anna\tBērziņa\n", "Anna Bērziņa"),
        ("Anna\u00a0Bērziņa", "Anna Bērziņa"),  # no-break space from Word
        ("Anna\u200bBērziņa", "Anna Bērziņa"),  # zero-width space (a format character)
        ("Anna\x00Bērziņa", "Anna Bērziņa"),
        ("Be\u0304rzin\u0327a", "Bērziņa"),  # decomposed ē and ņ, as macOS writes them
        ("", ""),
    ],
)
def test_normalise_gives_nfc_with_single_spaces_and_no_control_characters(text: str, expected: str) -> None:
    result = normalise(text)

    assert result == expected
    assert unicodedata.is_normalized("NFC", result)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vīķe - Freiberga", "vike freiberga"),
        ("ĀBOLIŅA", "abolina"),
        ("Kļaviņš", "klavins"),
        ("  Rīgas 12.vidusskola ", "rigas 12 vidusskola"),
        ("Vārds, uzvārds", "vards uzvards"),
        ("E-pasts", "e pasts"),
        ("Be\u0304rzin\u0327a", "berzina"),
        ("«Ēķe»", "eke"),
    ],
)
def test_fold_lowers_case_drops_diacritics_and_punctuation(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Vīķe - Freiberga", "VIKE-FREIBERGA"),
        ("Vīķe-Freiberga", "vike freiberga"),
        ("Anna Bērziņa", "anna berzina"),
        ("KĻAVIŅŠ", "Klavins"),
        ("Ēķe", "E\u0304k\u0327e"),  # decomposed
    ],
)
def test_fold_key_treats_spellings_of_one_name_alike(one: str, other: str) -> None:
    assert fold_key(one) == fold_key(other)


@pytest.mark.parametrize(("one", "other"), [("Ozola", "Ozols"), ("Anna", "Ance"), ("Liepa", "Liepiņa")])
def test_fold_key_keeps_different_names_apart(one: str, other: str) -> None:
    assert fold_key(one) != fold_key(other)


def test_fold_key_has_no_spaces_or_hyphens() -> None:
    assert fold_key(" Vīķe - Freiberga ") == "vikefreiberga"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ANNA BĒRZIŅA", "Anna Bērziņa"),
        ("ĒĶE", "Ēķe"),
        ("anna", "Anna"),
        ("anna marija", "Anna Marija"),
        ("Vīķe - Freiberga", "Vīķe-Freiberga"),
        ("Vīķe -Freiberga", "Vīķe-Freiberga"),
        ("Vīķe- Freiberga", "Vīķe-Freiberga"),
        ("Vīķe – Freiberga", "Vīķe-Freiberga"),  # en dash
        ("VĪĶE - FREIBERGA", "Vīķe-Freiberga"),
        ("ANNA-MARIJA", "Anna-Marija"),
        ("  Anna   Bērziņa ", "Anna Bērziņa"),
        ("McDonald", "McDonald"),  # mixed case is the writer's choice: left alone
        ("Bērziņa", "Bērziņa"),
        ("A", "A"),
    ],
)
def test_tidy_name_gives_one_spelling(text: str, expected: str) -> None:
    assert tidy_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Müller", "ü"),
        ("Wójcik", "wó"),
        ("Xavier Yeats", "xy"),
        ("ØSTERGÅRD", "øå"),
        ("Anna Bērziņa", ""),
        ("ĀČĒĢĪĶĻŅŠŪŽ āčēģīķļņšūž", ""),
        ("Vīķe-Freiberga", ""),
        ("Anna 2, Q.", "q"),
        ("Ööö Ü", "öü"),
    ],
)
def test_foreign_letters_lists_letters_outside_the_latvian_alphabet_once_in_order(
        text: str, expected: str) -> None:
    assert foreign_letters(text) == expected


@pytest.mark.parametrize(
    "code",
    [
        old_code("120390", 1, "234"),
        old_code("010100", 2, "000"),
        old_code("311299", 1, "987"),
        old_code("290200", 2, "456"),  # 2000 was a leap year
        old_code("150675", 1, "111"),
        old_code("020385", 0, "123"),  # century digit 0: the 1800s
    ],
)
def test_old_format_personal_code_with_valid_date_and_check_digit_is_recognised(code: str) -> None:
    assert is_personal_code(code)
    assert is_personal_code(code.replace("-", ""))
    assert is_personal_code(code.replace("-", " - "))
    assert is_personal_code(f"p.k. {code}, tālr. 29123456")


@pytest.mark.parametrize(
    "code",
    [
        old_code("120390", 1, "234"),
        old_code("010100", 2, "000"),
        old_code("290200", 2, "456"),
        old_code("150675", 1, "111"),
    ],
)
def test_old_format_personal_code_with_wrong_check_digit_is_rejected(code: str) -> None:
    assert not is_personal_code(with_wrong_check_digit(code))


@pytest.mark.parametrize(
    "code",
    [
        old_code("310290", 1, "234"),  # 31 February
        old_code("290201", 2, "234"),  # 29 February in a common year
        old_code("001090", 1, "234"),  # day 0
        old_code("011390", 1, "234"),  # month 13
        old_code("310490", 1, "234"),  # 31 April
        old_code("120390", 3, "234"),  # no century 3
    ],
)
def test_old_format_personal_code_with_impossible_date_is_rejected_even_with_right_check_digit(
        code: str) -> None:
    assert not is_personal_code(code)


@pytest.mark.parametrize("code", ["321234-56789", "32123456789", "399999-00000", "350000-00001",
                                  "Personas kods: 381111-22222"])
def test_new_format_personal_code_starting_32_to_39_is_recognised(code: str) -> None:
    assert is_personal_code(code)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Anna Bērziņa",
        "29123456",  # a phone number
        "12345",
        "4013900123",  # a 10-digit registration number
        "1234567890123",  # too long to be a code
        "90000012345",  # an 11-digit tax number: day 90
    ],
)
def test_text_without_a_personal_code_is_not_one(text: str) -> None:
    assert not is_personal_code(text)


def fold_key_as_stored(text: str) -> str:
    """The key registrations were stored with before names in other scripts kept their letters."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", "", plain)


LATVIAN_NAMES = ["Anna", "Bērziņa", "Vīķe - Freiberga", "KĻAVIŅŠ", "Ēķe", "Jānis Pēteris",
                 "O'Brien", "Šmite-Ozoliņa", "Džeina", "Ģirts", "Ūdre", "Žubure", "Čakste",
                 "J.", "Lāčplēsis", "Anna  Marija", "Be\u0304rzin\u0327a"]


@pytest.mark.parametrize("name", LATVIAN_NAMES)
def test_fold_key_of_a_latvian_name_is_the_key_registrations_are_stored_with(name: str) -> None:
    assert fold_key(name) == fold_key_as_stored(name)


@given(st.text(alphabet="aābcčdeēfgģhiījkķlļmnņoprsštuūvzžAĀBCČDEĒFGĢHIĪJKĶLĻMNŅOPRSŠTUŪVZŽ"
                        "qwxyQWXY -'’.", max_size=30))
def test_fold_key_of_any_text_in_the_latvian_alphabet_is_unchanged(text: str) -> None:
    assert fold_key(text) == fold_key_as_stored(text)


@pytest.mark.parametrize(
    ("one", "other"),
    [("Łukasz", "Lukasz"), ("Straße", "Strasse"), ("Øyvind", "Oyvind"), ("Đorđe", "Dorde"),
     ("Æsa", "Aesa"), ("Cœur", "Coeur"), ("İlker", "Ilker"), ("Müller", "Muller"),
     ("Wójcik", "Wojcik"), ("ΕΛΕΝΗ", "Ελένη"), ("ИВАН", "Иван"), ("Kalniņa–Liepiņa", "Kalnina-Liepina")],
)
def test_fold_key_folds_latin_letters_and_case_in_every_script(one: str, other: str) -> None:
    assert fold_key(one) == fold_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [("Иван", "Пётр"), ("Андрей", "Андреи"), ("Ελένη", "Μαρία"), ("王", "李"), ("ნინო", "თამარ"),
     ("Олена", "Olena"), ("सुनील", "सुनल")],
)
def test_fold_key_keeps_every_letter_of_other_scripts(one: str, other: str) -> None:
    assert fold_key(one) and fold_key(other)
    assert fold_key(one) != fold_key(other)


@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212",
                                  "\ufe58", "\ufe63", "\uff0d"])
def test_every_dash_in_a_double_surname_becomes_a_hyphen(dash: str) -> None:
    assert unify_dashes(f"Kalniņa{dash}Liepiņa") == "Kalniņa-Liepiņa"
    assert tidy_name(f"KALNIŅA {dash} LIEPIŅA") == "Kalniņa-Liepiņa"
