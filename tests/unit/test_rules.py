"""Deciding a participant list by the programme rules (R1, R3–R5, R9, R10, R12)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import pytest

from intake.core.groups import split
from intake.core.model import (
    CellText,
    Column,
    Decision,
    Field,
    Finding,
    GroupKind,
    ListRow,
    Participant,
    ParticipantList,
    Role,
    Severity,
)
from intake.core.programme import Programme, SplitPolicy
from intake.core.registry import FounderKind, Institution, InstitutionIndex
from intake.core.rules import Circumstances, decide, person_keys

TODAY = date(2026, 3, 2)
NATIONAL = Programme(name="national", title="T", one_supervision_per_educator=True)
HEADER_ROW = 4
# Column A holds the row number in the template, so the names start in column B.
COLUMNS = (
    Column(Field.FIRST_NAME, 2, "Vārds"),
    Column(Field.LAST_NAME, 3, "Uzvārds"),
    Column(Field.POSITION, 4, "Amats"),
    Column(Field.EMAIL, 5, "E-pasts"),
)
GROUP_COLUMNS = (*COLUMNS, Column(Field.GROUP, 6, "Grupa"))
FULL_NAME_COLUMNS = (
    Column(Field.FULL_NAME, 2, "Vārds, uzvārds"),
    Column(Field.POSITION, 3, "Amats"),
    Column(Field.EMAIL, 4, "E-pasts"),
)
REVERSED_COLUMNS = (Column(Field.FULL_NAME_REVERSED, 2, "Uzvārds, vārds"), *FULL_NAME_COLUMNS[1:])
SURNAMES = (
    "Ozola", "Kalna", "Liepa", "Bērziņa", "Kļaviņa", "Zariņa", "Eglīte", "Jansone", "Krūmiņa",
    "Šmite", "Āboliņa", "Ēķe", "Lāce", "Vītola", "Siliņa", "Sproģe", "Priede", "Rozīte", "Birzniece",
    "Dūmiņa", "Vilka", "Avotiņa", "Skuja", "Krasta",
)
REGISTRY = InstitutionIndex([
    Institution("4013900123", "Rīgas 12. vidusskola", "Vispārējās izglītības iestāde",
                FounderKind.MUNICIPAL, "Rīga"),
    Institution("4412900456", "Ogres tehnikums", "Profesionālās izglītības iestāde",
                FounderKind.STATE, "Ogres novads"),
])


def make_list(rows: Sequence[Sequence[str]], institution: str | None = None,
              columns: Sequence[Column] = COLUMNS) -> ParticipantList:
    """A list as the reader would give it: row values in column order, "" for an empty cell."""
    list_rows = []
    for offset, values in enumerate(rows, start=1):
        row = HEADER_ROW + offset
        cells = {column.field: CellText(text, row, column.index)
                 for column, text in zip(columns, values, strict=True) if text}
        list_rows.append(ListRow(row, cells))
    return ParticipantList(
        file="saraksts.xlsx",
        sheet="Saraksts",
        institution=CellText(institution, 2, 2) if institution else None,
        columns=tuple(columns),
        rows=tuple(list_rows),
    )


def educators(count: int, *, position: str = "skolotāja", group: str | None = None,
              start: int = 0) -> list[tuple[str, ...]]:
    rows = [("Anna", SURNAMES[i], position, f"dalibniece{i}@skola.lv") for i in range(start, start + count)]
    return [(*row, group) if group is not None else row for row in rows]


def judge(plist: ParticipantList, programme: Programme = NATIONAL, *, today: date = TODAY,
          registered: dict[str, str] | None = None, registry: InstitutionIndex | None = None,
          institution_hint: str | None = None, require_institution: bool = False) -> Decision:
    return decide(plist, Circumstances(
        programme, today, registered=registered, registry=registry,
        institution_hint=institution_hint, require_institution=require_institution))


def codes(decision: Decision) -> list[str]:
    return [f.code for f in decision.findings]


def only(decision: Decision, code: str) -> Finding:
    found = [f for f in decision.findings if f.code == code]
    assert len(found) == 1, decision.findings
    return found[0]


def group_sizes(decision: Decision) -> list[tuple[GroupKind, int]]:
    return [(g.kind, len(g.participants)) for g in decision.groups]


def people(count: int) -> list[Participant]:
    return [Participant(i, "Anna", f"Ozola{i}", "skolotāja", f"p{i}@skola.lv", Role.EDUCATOR)
            for i in range(count)]


# R1, R4: splitting


@pytest.mark.parametrize(
    ("count", "policy", "sizes"),
    [
        (23, SplitPolicy.BALANCED, [8, 8, 7]),
        (10, SplitPolicy.BALANCED, [10]),
        (11, SplitPolicy.BALANCED, [6, 5]),
        (20, SplitPolicy.BALANCED, [10, 10]),
        (21, SplitPolicy.BALANCED, [7, 7, 7]),
        (1, SplitPolicy.BALANCED, [1]),
        (0, SplitPolicy.BALANCED, []),
        (23, SplitPolicy.FILL, [10, 10, 3]),
        (10, SplitPolicy.FILL, [10]),
        (11, SplitPolicy.FILL, [10, 1]),
    ],
)
def test_split_gives_groups_of_at_most_ten(count: int, policy: SplitPolicy, sizes: list[int]) -> None:
    everyone = people(count)

    chunks = split(everyone, 10, policy)

    assert [len(c) for c in chunks] == sizes
    assert [p for chunk in chunks for p in chunk] == everyone  # order kept, nobody lost


def test_split_respects_a_smaller_limit() -> None:
    assert [len(c) for c in split(people(7), 3)] == [3, 2, 2]


@pytest.mark.parametrize(
    ("policy", "sizes"),
    [(SplitPolicy.BALANCED, [8, 8, 7]), (SplitPolicy.FILL, [10, 10, 3])],
)
def test_splits_long_list_by_the_programme_policy(policy: SplitPolicy, sizes: list[int]) -> None:
    decision = judge(make_list(educators(23)), replace(NATIONAL, split_policy=policy))

    assert decision.accepted
    assert [len(g.participants) for g in decision.groups] == sizes
    assert all(g.kind is GroupKind.EDUCATORS for g in decision.groups)


# R3: leaders apart


def test_splits_mixed_list_into_leaders_and_educators() -> None:
    rows = [
        ("Ilze", "Kalniņa", "direktore", "ilze@skola.lv"),
        ("Māris", "Ozoliņš", "direktora vietnieks izglītības jomā", "maris@skola.lv"),
        ("Dace", "Liepiņa", "metodiķe", "dace@skola.lv"),
        *educators(12),
    ]

    decision = judge(make_list(rows))

    assert decision.accepted
    assert group_sizes(decision) == [(GroupKind.LEADERS, 3), (GroupKind.EDUCATORS, 6),
                                     (GroupKind.EDUCATORS, 6)]
    assert {p.last_name for p in decision.groups[0].participants} == {"Kalniņa", "Ozoliņš", "Liepiņa"}
    assert all(p.role is Role.EDUCATOR for g in decision.groups[1:] for p in g.participants)


def test_keeps_leaders_with_educators_when_the_programme_allows() -> None:
    rows = [("Ilze", "Kalniņa", "direktore", "ilze@skola.lv"), *educators(4)]

    decision = judge(make_list(rows), replace(NATIONAL, leaders_apart=False))

    assert decision.accepted
    assert group_sizes(decision) == [(GroupKind.EDUCATORS, 5)]


def test_category_column_overrides_the_position() -> None:
    columns = (*COLUMNS, Column(Field.CATEGORY, 6, "Amata kategorija"))
    rows = [("Ilze", "Kalniņa", "koordinatore", "ilze@skola.lv", "vadītājs"),
            *[(*row, "pedagogs") for row in educators(2)]]

    decision = judge(make_list(rows, columns=columns))

    assert decision.accepted
    assert group_sizes(decision) == [(GroupKind.LEADERS, 1), (GroupKind.EDUCATORS, 2)]
    assert "position.unclear" not in codes(decision)


def test_leaders_only_list_forms_a_leaders_group() -> None:
    rows = [("Ilze", "Kalniņa", "direktore", "ilze@skola.lv"),
            ("Dace", "Liepiņa", "metodiķe", "dace@skola.lv")]

    decision = judge(make_list(rows))

    assert group_sizes(decision) == [(GroupKind.LEADERS, 2)]


def test_warns_when_a_group_is_smaller_than_the_programme_minimum() -> None:
    rows = [("Ilze", "Kalniņa", "direktore", "ilze@skola.lv"), *educators(5)]

    decision = judge(make_list(rows), replace(NATIONAL, min_group_size=3))

    assert decision.accepted
    finding = only(decision, "group.too-small")
    assert finding.severity is Severity.WARNING
    assert finding.row == HEADER_ROW + 1


# R4: groups the school assigned itself


def test_keeps_groups_the_school_assigned() -> None:
    rows = [("Ilze", "Kalniņa", "direktore", "ilze@skola.lv", "1"),
            *educators(3, group="2"), *educators(2, group="2. grupa", start=3),
            *educators(2, group="Grupa 3", start=5)]

    decision = judge(make_list(rows, columns=GROUP_COLUMNS))

    assert decision.accepted
    assert group_sizes(decision) == [(GroupKind.LEADERS, 1), (GroupKind.EDUCATORS, 5),
                                     (GroupKind.EDUCATORS, 2)]
    assert [g.label for g in decision.groups] == ["1", "2", "Grupa 3"]


def test_rejects_a_school_group_larger_than_ten() -> None:
    decision = judge(make_list(educators(11, group="1"), columns=GROUP_COLUMNS))

    assert not decision.accepted
    finding = only(decision, "group.too-large")
    assert finding.severity is Severity.ERROR
    assert finding.row == HEADER_ROW + 11  # the eleventh member
    assert finding.column == 6
    assert finding.value == "1"
    assert "11" in finding.message


def test_rejects_a_school_group_mixing_leaders_and_educators() -> None:
    rows = [*educators(2, group="1"), ("Ilze", "Kalniņa", "direktore", "ilze@skola.lv", "1")]

    decision = judge(make_list(rows, columns=GROUP_COLUMNS))

    assert not decision.accepted
    finding = only(decision, "group.mixed")
    assert finding.severity is Severity.ERROR
    assert finding.row == HEADER_ROW + 3  # the leader's row
    assert finding.column == 6


def test_mixed_school_group_is_allowed_when_leaders_need_not_be_apart() -> None:
    rows = [*educators(2, group="1"), ("Ilze", "Kalniņa", "direktore", "ilze@skola.lv", "1")]

    decision = judge(make_list(rows, columns=GROUP_COLUMNS), replace(NATIONAL, leaders_apart=False))

    assert decision.accepted
    assert "group.mixed" not in codes(decision)


def test_rejects_a_row_without_a_group_when_others_have_one() -> None:
    rows = [*educators(2, group="1"), *educators(1, group="", start=2)]

    decision = judge(make_list(rows, columns=GROUP_COLUMNS))

    assert not decision.accepted
    finding = only(decision, "group.missing")
    assert (finding.row, finding.column, finding.column_title) == (HEADER_ROW + 3, 6, "Grupa")


def test_empty_group_column_means_we_split() -> None:
    decision = judge(make_list(educators(12, group=""), columns=GROUP_COLUMNS))

    assert decision.accepted
    assert [len(g.participants) for g in decision.groups] == [6, 6]
    assert all(g.label is None for g in decision.groups)


# R5: one supervision per educator


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("ANNA", "BĒRZIŅA", "skolotāja", "anna1@skola.lv"),
         ("Anna", "Berzina", "skolotāja", "anna2@skola.lv")),
        (("Vaira", "Vīķe - Freiberga", "skolotāja", "v1@skola.lv"),
         ("vaira", "vike-freiberga", "logopēde", "v2@skola.lv")),
        (("Jānis", "Ozols", "skolotājs", "janis@skola.lv"),
         ("Ozols", "Jānis", "skolotājs", "JANIS@skola.lv")),
        (("Łukasz", "Nowak", "skolotājs", "l1@skola.lv"),
         ("Lukasz", "NOWAK", "skolotājs", "l2@skola.lv")),
        (("Иван", "Петров", "skolotājs", "i1@skola.lv"),
         ("ИВАН", "ПЕТРОВ", "skolotājs", "i2@skola.lv")),
        (("Inga", "Kalniņa–Liepiņa", "skolotāja", "i1@skola.lv"),
         ("Inga", "Kalniņa-Liepiņa", "skolotāja", "i2@skola.lv")),
    ],
    ids=["folded-name", "double-surname", "same-email-names-swapped", "stroked-l", "cyrillic-caps",
         "en-dash"],
)
def test_rejects_a_person_twice_in_the_list(first: tuple[str, ...], second: tuple[str, ...]) -> None:
    decision = judge(make_list([first, ("Līga", "Liepa", "skolotāja", "liga@skola.lv"), second],
                               institution="Rīgas 12. vidusskola"))

    assert not decision.accepted
    finding = only(decision, "duplicate.in-list")
    assert finding.severity is Severity.ERROR
    assert finding.row == HEADER_ROW + 3
    assert f"{HEADER_ROW + 1}. rindā" in finding.message


def test_different_people_with_one_first_name_are_not_duplicates() -> None:
    decision = judge(make_list(educators(5)))

    assert decision.accepted
    assert codes(decision) == []


REGISTERED = person_keys("Anna", "Bērziņa", "anna.berzina@skola.lv", "Rīgas 12. vidusskola")


@pytest.mark.parametrize(
    ("key", "row", "institution"),
    [
        (REGISTERED[1], ("ANNA", "BERZINA", "skolotāja", "cita.adrese@skola.lv"), "RĪGAS 12.VIDUSSKOLA"),
        (REGISTERED[1], ("Anna", "Bērziņa", "skolotāja", "cita.adrese@skola.lv"), "Rīgas 12. vidusskola"),
        (REGISTERED[0], ("Anna", "Berzina", "skolotāja", "Anna.Berzina@skola.lv"), "Ogres tehnikums"),
        (REGISTERED[0], ("Bērziņa", "Anna", "skolotāja", "anna.berzina@skola.lv"), None),
    ],
    ids=["name-other-spelling", "same-name", "same-email-and-name", "same-email-names-swapped"],
)
def test_rejects_a_person_registered_in_an_earlier_application(
        key: str, row: tuple[str, ...], institution: str | None) -> None:
    decision = judge(make_list([row], institution=institution), registered={key: "SUP-2026-00042"})

    assert not decision.accepted
    finding = only(decision, "duplicate.registered")
    assert finding.severity is Severity.ERROR
    assert "SUP-2026-00042" in finding.message
    assert finding.row == HEADER_ROW + 1


def test_same_name_at_another_institution_is_not_registered() -> None:
    decision = judge(make_list([("Anna", "Bērziņa", "skolotāja", "cita@skola.lv")],
                               institution="Ogres tehnikums"),
                     registered={REGISTERED[1]: "SUP-2026-00042"})

    assert decision.accepted
    assert "duplicate.registered" not in codes(decision)


def test_earlier_applications_are_not_checked_when_the_programme_allows_repeats() -> None:
    pumpurs = replace(NATIONAL, name="pumpurs", one_supervision_per_educator=False)

    decision = judge(make_list([("Anna", "Bērziņa", "skolotāja", "anna.berzina@skola.lv")],
                               institution="Rīgas 12. vidusskola"),
                     pumpurs, registered={k: "SUP-2026-00042" for k in REGISTERED})

    assert decision.accepted
    assert codes(decision) == []


# R9: required columns and values


@pytest.mark.parametrize(
    ("missing", "label"),
    [(Field.FIRST_NAME, "Vārds"), (Field.LAST_NAME, "Uzvārds"), (Field.POSITION, "Amats"),
     (Field.EMAIL, "E-pasts")],
)
def test_rejects_a_list_without_a_required_column(missing: Field, label: str) -> None:
    columns = tuple(c for c in COLUMNS if c.field is not missing)
    row = tuple(value for column, value in zip(COLUMNS, educators(1)[0], strict=True)
                if column.field is not missing)

    decision = judge(make_list([row], columns=columns))

    assert not decision.accepted
    finding = only(decision, "column.missing")
    assert finding.severity is Severity.ERROR
    assert f"«{label}»" in finding.message


def test_a_full_name_column_stands_for_first_and_last_name_columns() -> None:
    decision = judge(make_list([("Anna Bērziņa", "skolotāja", "anna@skola.lv")], columns=FULL_NAME_COLUMNS))

    assert "column.missing" not in codes(decision)
    assert decision.accepted


@pytest.mark.parametrize(
    ("empty", "column", "title"),
    [(0, 2, "Vārds"), (1, 3, "Uzvārds"), (2, 4, "Amats"), (3, 5, "E-pasts")],
)
def test_rejects_an_empty_required_cell_naming_its_row_and_column(
        empty: int, column: int, title: str) -> None:
    row = list(educators(1, start=1)[0])
    row[empty] = ""

    decision = judge(make_list([educators(1)[0], tuple(row)]))

    assert not decision.accepted
    finding = only(decision, "field.missing")
    assert finding.severity is Severity.ERROR
    assert (finding.row, finding.column, finding.column_title) == (HEADER_ROW + 2, column, title)
    assert finding.cell == f"{'ABCDE'[column - 1]}{HEADER_ROW + 2}"
    assert f"«{title}»" in finding.message


@pytest.mark.parametrize(
    ("first", "last", "code", "column"),
    [
        ("Jānis2", "Ozols", "name.digits", 2),
        ("Jānis", "Ozols 1985", "name.digits", 3),
        ("Pēteris!", "Ozols", "name.symbols", 2),
        ("Anna", "Ozola (Liepa)", "name.symbols", 3),
        ("Anna_Marija", "Ozola", "name.symbols", 2),
        ("Anna", "Ozola/Liepa", "name.symbols", 3),
    ],
)
def test_rejects_names_with_digits_or_symbols(first: str, last: str, code: str, column: int) -> None:
    decision = judge(make_list([(first, last, "skolotāja", "anna@skola.lv")]))

    assert not decision.accepted
    finding = only(decision, code)
    assert finding.severity is Severity.ERROR
    assert (finding.row, finding.column) == (HEADER_ROW + 1, column)
    assert finding.value in (first, last)


@pytest.mark.parametrize(
    ("first", "last", "letters"),
    [("Hans", "Müller", "ü"), ("Agnieszka", "Wójcik", "wó"), ("Xavier", "Ozols", "x")],
)
def test_accepts_foreign_letters_with_a_warning(first: str, last: str, letters: str) -> None:
    decision = judge(make_list([(first, last, "skolotāja", "hans@skola.lv")]))

    assert decision.accepted
    finding = only(decision, "name.foreign-letters")
    assert finding.severity is Severity.WARNING
    assert all(letter in finding.message for letter in letters)
    assert decision.groups[0].participants[0].last_name == last


@pytest.mark.parametrize(
    ("first", "last", "tidy_first", "tidy_last"),
    [
        ("ANNA", "BĒRZIŅA", "Anna", "Bērziņa"),
        ("Vaira", "Vīķe - Freiberga", "Vaira", "Vīķe-Freiberga"),
        ("Anna Marija", "Ozola", "Anna Marija", "Ozola"),
        ("Shane", "O'Brien", "Shane", "O'Brien"),
    ],
)
def test_accepts_names_and_tidies_their_spelling(
        first: str, last: str, tidy_first: str, tidy_last: str) -> None:
    decision = judge(make_list([(first, last, "skolotāja", "anna@skola.lv")]))

    assert decision.accepted
    person = decision.groups[0].participants[0]
    assert (person.first_name, person.last_name) == (tidy_first, tidy_last)


@pytest.mark.parametrize(
    ("email", "hint"),
    [
        ("anna@@skola.lv", "tikai viena zīme «@»"),
        ("anna.skola.lv", "nav zīmes «@»"),
        ("anna@skola", "domēnam ar punktu"),
        ("anna berzina@skola.lv", "atstarpju"),
        ("anna@skola.lv; janis@skola.lv", "tikai viena adrese"),
        ("anna..berzina@skola.lv", "divu punktu"),
        ("anna.bērziņa@skola.lv", "garumzīmju"),
    ],
)
def test_rejects_an_invalid_email_quoting_it_with_a_hint(email: str, hint: str) -> None:
    decision = judge(make_list([("Anna", "Bērziņa", "skolotāja", email)]))

    assert not decision.accepted
    finding = only(decision, "email.invalid")
    assert finding.severity is Severity.ERROR
    assert f"«{email}»" in finding.message
    assert hint in finding.hint
    assert (finding.row, finding.column, finding.value) == (HEADER_ROW + 1, 5, email)


def test_accepts_an_unclear_position_with_a_warning_among_educators() -> None:
    rows = [("Ilze", "Kalniņa", "direktore", "ilze@skola.lv"),
            ("Edgars", "Zariņš", "bibliotekārs", "edgars@skola.lv")]

    decision = judge(make_list(rows))

    assert decision.accepted
    finding = only(decision, "position.unclear")
    assert finding.severity is Severity.WARNING
    assert (finding.row, finding.column, finding.value) == (HEADER_ROW + 2, 4, "bibliotekārs")
    assert group_sizes(decision) == [(GroupKind.LEADERS, 1), (GroupKind.EDUCATORS, 1)]


def test_rejects_an_empty_list() -> None:
    decision = judge(make_list([]))

    assert not decision.accepted
    assert codes(decision) == ["list.empty"]


def test_a_list_the_reader_could_not_read_keeps_its_findings() -> None:
    unreadable = ParticipantList("saraksts.xlsx", findings=(
        Finding(Severity.ERROR, "file.unreadable", "Failu nevar atvērt."),))

    decision = judge(unreadable)

    assert not decision.accepted
    assert codes(decision) == ["file.unreadable"]


# Full-name columns


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("Anna Bērziņa", "Anna", "Bērziņa"),
        ("ANNA BĒRZIŅA", "Anna", "Bērziņa"),
        ("Anna Marija Bērziņa", "Anna Marija", "Bērziņa"),
        ("Vaira Vīķe - Freiberga", "Vaira", "Vīķe-Freiberga"),
        ("Bērziņa, Anna", "Anna", "Bērziņa"),
    ],
)
def test_splits_a_full_name_into_first_and_last_name(text: str, first: str, last: str) -> None:
    decision = judge(make_list([(text, "skolotāja", "anna@skola.lv")], columns=FULL_NAME_COLUMNS))

    assert decision.accepted
    person = decision.groups[0].participants[0]
    assert (person.first_name, person.last_name) == (first, last)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("Bērziņa Anna", "Anna", "Bērziņa"),
        ("BĒRZIŅA ANNA MARIJA", "Anna Marija", "Bērziņa"),
        ("Vīķe - Freiberga Vaira", "Vaira", "Vīķe-Freiberga"),
    ],
)
def test_reversed_full_name_puts_the_surname_first(text: str, first: str, last: str) -> None:
    decision = judge(make_list([(text, "skolotāja", "anna@skola.lv")], columns=REVERSED_COLUMNS))

    assert decision.accepted
    person = decision.groups[0].participants[0]
    assert (person.first_name, person.last_name) == (first, last)


@pytest.mark.parametrize("columns", [FULL_NAME_COLUMNS, REVERSED_COLUMNS], ids=["full", "reversed"])
def test_rejects_a_full_name_of_one_word(columns: tuple[Column, ...]) -> None:
    decision = judge(make_list([("Anna Bērziņa", "skolotāja", "anna@skola.lv"),
                                ("Anna", "skolotāja", "anna2@skola.lv")], columns=columns))

    assert not decision.accepted
    finding = only(decision, "name.incomplete")
    assert (finding.row, finding.column, finding.value) == (HEADER_ROW + 2, 2, "Anna")
    assert f"«{columns[0].title}»" in finding.message


def test_rejects_an_empty_full_name_cell() -> None:
    decision = judge(make_list([("", "skolotāja", "anna@skola.lv")], columns=FULL_NAME_COLUMNS))

    finding = only(decision, "field.missing")
    assert (finding.row, finding.column, finding.column_title) == (HEADER_ROW + 1, 2, "Vārds, uzvārds")


# R10: the institution


@pytest.mark.parametrize(
    ("written", "registered"),
    [
        ("RĪGAS 12.VIDUSSKOLA", "Rīgas 12. vidusskola"),
        ("«Rīgas 12. vidusskola»", "Rīgas 12. vidusskola"),
        ("Rigas 12 vsk", "Rīgas 12. vidusskola"),
        ("4013900123", "Rīgas 12. vidusskola"),
        ("OGRES TEHNIKUMS", "Ogres tehnikums"),
    ],
)
def test_recognises_the_institution_in_another_spelling_and_uses_the_registry_name(
        written: str, registered: str) -> None:
    decision = judge(make_list(educators(2), institution=written), registry=REGISTRY)

    assert decision.accepted
    assert decision.institution == registered
    assert "institution.unknown" not in codes(decision)


def test_recognises_the_institution_named_in_the_mail_when_the_sheet_names_none() -> None:
    decision = judge(make_list(educators(2)), registry=REGISTRY, institution_hint="Rīgas 12. vsk")

    assert decision.accepted
    assert decision.institution == "Rīgas 12. vidusskola"


@pytest.mark.parametrize(
    ("required", "severity", "accepted"),
    [(True, Severity.ERROR, False), (False, Severity.WARNING, True)],
)
def test_unknown_institution_is_an_error_only_when_a_match_is_required(
        required: bool, severity: Severity, accepted: bool) -> None:
    programme = replace(NATIONAL, registry_match_required=required)

    decision = judge(make_list(educators(2), institution="Ogres 9. vidusskola"), programme, registry=REGISTRY)

    assert decision.accepted is accepted
    finding = only(decision, "institution.unknown")
    assert finding.severity is severity
    assert (finding.row, finding.column, finding.value) == (2, 2, "Ogres 9. vidusskola")
    assert "«Ogres 9. vidusskola»" in finding.message
    assert decision.institution == "Ogres 9. vidusskola"


def test_without_a_registry_the_institution_is_taken_as_given() -> None:
    decision = judge(make_list(educators(2), institution="Ogres 9. vidusskola"))

    assert decision.accepted
    assert decision.institution == "Ogres 9. vidusskola"
    assert codes(decision) == []


def test_rejects_an_application_naming_no_institution_when_one_is_required() -> None:
    decision = judge(make_list(educators(2)), require_institution=True)

    assert not decision.accepted
    assert codes(decision) == ["institution.missing"]
    assert decision.institution is None


def test_an_institution_is_optional_unless_required() -> None:
    decision = judge(make_list(educators(2)))

    assert decision.accepted
    assert decision.institution is None


# R12: the open period


OPEN_2026 = replace(NATIONAL, open_from=date(2026, 1, 5), open_until=date(2026, 12, 18))


@pytest.mark.parametrize("today", [date(2026, 1, 4), date(2026, 12, 19), date(2025, 6, 1)])
def test_refuses_applications_outside_the_open_period(today: date) -> None:
    decision = judge(make_list(educators(2)), OPEN_2026, today=today)

    assert not decision.accepted
    finding = only(decision, "programme.closed")
    assert finding.severity is Severity.ERROR
    assert "05.01.2026." in finding.message
    assert "18.12.2026." in finding.message


@pytest.mark.parametrize("today", [date(2026, 1, 5), date(2026, 6, 1), date(2026, 12, 18)])
def test_accepts_applications_inside_the_open_period(today: date) -> None:
    decision = judge(make_list(educators(2)), OPEN_2026, today=today)

    assert decision.accepted
    assert codes(decision) == []


def test_decision_carries_file_sheet_and_programme() -> None:
    decision = judge(make_list(educators(1)))

    assert (decision.file, decision.sheet, decision.programme) == ("saraksts.xlsx", "Saraksts", "national")
    assert decision.participant_count == 1


# Names in any script, written as people write them


@pytest.mark.parametrize("dash", ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212",
                                  "\uff0d", " \u2013 ", " - ", "\u2014 "])
def test_a_double_surname_with_any_dash_is_a_hyphenated_name(dash: str) -> None:
    decision = judge(make_list([("Inga", f"Kalniņa{dash}Liepiņa", "skolotāja", "inga@skola.lv")]))

    assert decision.accepted, decision.findings
    assert codes(decision) == []
    assert decision.groups[0].participants[0].last_name == "Kalniņa-Liepiņa"


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Shane", "O’Brien"),
        ("Charles", "d'Artagnan"),
        ("Sinead", "O‘Connor"),
        ("Shane", "O`Brien"),
        ("Anna J.", "Bērziņa"),
        ("J.", "Ozols"),
        ("Jean-Luc", "Picard"),
    ],
)
def test_apostrophes_and_middle_initials_are_part_of_a_name(first: str, last: str) -> None:
    decision = judge(make_list([(first, last, "skolotāja", "vards@skola.lv")]))

    assert decision.accepted, decision.findings
    assert not {"name.symbols", "name.digits"} & set(codes(decision))


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [("Anna J. Bērziņa", "Anna J.", "Bērziņa"), ("Inga Kalniņa – Liepiņa", "Inga", "Kalniņa-Liepiņa"),
     ("Inga Kalniņa—Liepiņa", "Inga", "Kalniņa-Liepiņa")],
)
def test_a_full_name_column_takes_dashes_and_initials(text: str, first: str, last: str) -> None:
    decision = judge(make_list([(text, "skolotāja", "vards@skola.lv")], columns=FULL_NAME_COLUMNS))

    assert decision.accepted, decision.findings
    person = decision.groups[0].participants[0]
    assert (person.first_name, person.last_name) == (first, last)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("Иван", "Петров"), ("Пётр", "Сидоров")),
        (("Андрей", "Иванов"), ("Андреи", "Иванов")),
        (("Ελένη", "Παπαδοπούλου"), ("Μαρία", "Νικολάου")),
        (("伟", "王"), ("芳", "李")),
        (("ნინო", "ბერიძე"), ("თამარ", "ბერიძე")),
        (("Олена", "Шевченко"), ("Olena", "Shevchenko")),
    ],
    ids=["cyrillic", "cyrillic-short-i", "greek", "chinese", "georgian", "cyrillic-and-latin"],
)
def test_people_named_in_other_scripts_are_different_people(
        one: tuple[str, str], other: tuple[str, str]) -> None:
    rows = [(*one, "skolotāja", "pirmais@skola.lv"), (*other, "skolotāja", "otrais@skola.lv")]
    registered = dict.fromkeys(person_keys(*one, "pirmais@skola.lv", "Rīgas 12. vidusskola"),
                               "SUP-2026-00001")

    within = judge(make_list(rows, institution="Rīgas 12. vidusskola"))
    across = judge(make_list(rows[1:], institution="Rīgas 12. vidusskola"), registered=registered)

    assert within.accepted and across.accepted
    assert not {"duplicate.in-list", "duplicate.registered", "name.symbols"} & set(
        codes(within) + codes(across))


@pytest.mark.parametrize(
    ("one", "other"),
    [(("Иван", "Петров"), ("ИВАН", "ПЕТРОВ")), (("Łukasz", "Żółć"), ("Lukasz", "Zolc")),
     (("Søren", "Ærø"), ("Soren", "Aero")), (("Ελένη", "Παππά"), ("ΕΛΕΝΗ", "ΠΑΠΠΑ"))],
    ids=["cyrillic-caps", "polish", "danish", "greek-caps"],
)
def test_one_person_in_another_script_registered_earlier_is_found(
        one: tuple[str, str], other: tuple[str, str]) -> None:
    registered = dict.fromkeys(person_keys(*one, "a@skola.lv", "Rīgas 12. vidusskola"), "SUP-2026-00007")

    decision = judge(make_list([(*other, "skolotāja", "b@skola.lv")], institution="Rīgas 12. vidusskola"),
                     registered=registered)

    assert "SUP-2026-00007" in only(decision, "duplicate.registered").message


# R5: one mailbox, several people


@pytest.mark.parametrize("second_address", ["grupa.zilite@pii.lv", "GRUPA.Zilite@pii.lv"])
def test_two_people_on_one_email_are_a_shared_mailbox_for_staff_to_see(second_address: str) -> None:
    rows = [("Ilze", "Kalniņa", "pirmsskolas skolotāja", "grupa.zilite@pii.lv"),
            ("Līga", "Ozola", "skolotāja", "liga@pii.lv"),
            ("Dace", "Liepa", "pirmsskolas skolotāja", second_address)]

    decision = judge(make_list(rows, institution="PII «Zīlīte»"))

    assert decision.accepted
    finding = only(decision, "email.shared")
    assert finding.severity is Severity.WARNING
    assert (finding.row, finding.column, finding.column_title) == (HEADER_ROW + 3, 5, "E-pasts")
    assert f"{HEADER_ROW + 1}. rindā" in finding.message and f"{HEADER_ROW + 3}. rindā" in finding.message
    assert "«Ilze Kalniņa»" in finding.message and "«Dace Liepa»" in finding.message
    assert "duplicate.in-list" not in codes(decision)


def test_three_people_on_one_email_each_name_the_first_row() -> None:
    rows = [(name, surname, "skolotāja", "pii@pii.lv")
            for name, surname in (("Ilze", "Kalniņa"), ("Dace", "Liepa"), ("Anna", "Ozola"))]

    decision = judge(make_list(rows))

    shared = [f for f in decision.findings if f.code == "email.shared"]
    assert [f.row for f in shared] == [HEADER_ROW + 2, HEADER_ROW + 3]
    assert all(f"{HEADER_ROW + 1}. rindā" in f.message for f in shared)
    assert decision.accepted


def test_the_same_person_twice_on_one_email_is_a_duplicate_not_a_shared_mailbox() -> None:
    rows = [("Ilze", "Kalniņa", "skolotāja", "ilze@pii.lv"), ("ILZE", "KALNINA", "skolotāja", "ilze@pii.lv")]

    decision = judge(make_list(rows))

    assert codes(decision) == ["duplicate.in-list"]


@pytest.mark.parametrize("institution", ["Rīgas 12. vidusskola", "Ogres tehnikums", None])
def test_someone_else_on_a_registered_email_is_not_registered(institution: str | None) -> None:
    registered = dict.fromkeys(REGISTERED, "SUP-2026-00042")

    decision = judge(make_list([("Ilze", "Kalniņa", "skolotāja", "anna.berzina@skola.lv")],
                               institution=institution), registered=registered)

    assert decision.accepted
    assert "duplicate.registered" not in codes(decision)


def test_person_keys_of_latvian_names_are_as_stored() -> None:
    assert person_keys("Anna", "Vīķe - Freiberga", "Anna.V@Skola.lv", "Rīgas 12. vidusskola") == (
        "email:anna.v@skola.lv|anna|vikefreiberga", "name:anna|vikefreiberga|rigas 12 vidusskola")
    assert person_keys("Jānis", "Ozols", "", None) == ()


def test_duplicate_findings_speak_of_a_person_whatever_the_sex() -> None:
    rows = [("Ilze", "Kalniņa", "skolotāja", "ilze@pii.lv"), ("Ilze", "Kalniņa", "skolotāja", "i@pii.lv"),
            ("Jānis", "Ozols", "skolotājs", "janis@pii.lv")]
    registered = dict.fromkeys(person_keys("Jānis", "Ozols", "janis@pii.lv", None), "SUP-2026-00001")

    decision = judge(make_list(rows), registered=registered)

    assert only(decision, "duplicate.in-list").message.startswith("Persona «Ilze Kalniņa» sarakstā")
    assert only(decision, "duplicate.registered").message.startswith(
        "Persona «Jānis Ozols» jau ir pieteikta pieteikumā SUP-2026-00001")


# All findings at once: one corrected list is accepted


GOOD_ROWS = [("Ilze", "Kalniņa", "skolotāja", "ilze@skola.lv"),
             ("Jānis", "Ozols", "skolotājs", "janis@skola.lv"),
             ("Dace", "Liepa", "logopēde", "dace@skola.lv"),
             ("Anna", "Bērziņa", "skolotāja", "anna.berzina@skola.lv")]
# Each: the row it spoils, the spoiled row, the finding it brings.
ERRORS = {
    "email": (0, ("Ilze", "Kalniņa", "skolotāja", "ilze@skola,lv"), "email.invalid"),
    "name": (1, ("Jānis2", "Ozols", "skolotājs", "janis@skola.lv"), "name.digits"),
    "position": (2, ("Dace", "Liepa", "", "dace@skola.lv"), "field.missing"),
}


def spoiled(which: Sequence[str]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = list(GOOD_ROWS)
    for name in which:
        index, row, _code = ERRORS[name]
        rows[index] = row
    return rows


def test_every_error_in_every_row_is_reported_at_once() -> None:
    decision = judge(make_list(spoiled(list(ERRORS)), institution="Rīgas 12. vidusskola"))

    assert sorted((f.row, f.code) for f in decision.errors) == [
        (HEADER_ROW + 1, "email.invalid"), (HEADER_ROW + 2, "name.digits"),
        (HEADER_ROW + 3, "field.missing")]


def test_the_corrected_list_is_accepted() -> None:
    assert judge(make_list(spoiled([]), institution="Rīgas 12. vidusskola")).accepted


@pytest.mark.parametrize("fixed", list(ERRORS))
def test_fixing_one_error_leaves_exactly_the_others(fixed: str) -> None:
    left = [name for name in ERRORS if name != fixed]

    decision = judge(make_list(spoiled(left), institution="Rīgas 12. vidusskola"))

    assert sorted(f.code for f in decision.errors) == sorted(ERRORS[name][2] for name in left)


@pytest.mark.parametrize("spoil", ["email", "position"])
def test_a_row_with_another_error_is_still_checked_for_earlier_registration(spoil: str) -> None:
    registered = dict.fromkeys(person_keys(*GOOD_ROWS[ERRORS[spoil][0]][:2], "x@skola.lv",
                                           "Rīgas 12. vidusskola"), "SUP-2026-00003")

    decision = judge(make_list(spoiled([spoil]), institution="Rīgas 12. vidusskola"),
                     registered=registered)

    assert sorted(f.code for f in decision.errors) == sorted(
        ["duplicate.registered", ERRORS[spoil][2]])


def test_a_row_with_a_bad_email_is_still_checked_for_being_in_the_list_twice() -> None:
    rows = [*GOOD_ROWS, ("ILZE", "KALNIŅA", "skolotāja", "ilze(at)skola.lv")]

    decision = judge(make_list(rows))

    assert sorted((f.row, f.code) for f in decision.errors) == [
        (HEADER_ROW + 5, "duplicate.in-list"), (HEADER_ROW + 5, "email.invalid")]


def test_a_repeated_registered_row_is_reported_once_as_registered() -> None:
    rows = [GOOD_ROWS[3], GOOD_ROWS[0], GOOD_ROWS[3]]

    decision = judge(make_list(rows, institution="Rīgas 12. vidusskola"),
                     registered=dict.fromkeys(REGISTERED, "SUP-2026-00042"))

    assert sorted((f.row, f.code) for f in decision.errors) == [
        (HEADER_ROW + 1, "duplicate.registered"), (HEADER_ROW + 3, "duplicate.in-list")]


# E-mail findings that name the real cause


@pytest.mark.parametrize(
    ("email", "said", "not_said"),
    [
        ("anna@example.com", "piemēriem", "garumzīm"),
        ("anna@EXAMPLE.org", "piemēriem", "garumzīm"),
        ("anna@skola.test", "piemēriem", "garumzīm"),
        ("anna@skola.invalid", "piemēriem", "garumzīm"),
        ("anna@skola.local", "piemēriem", "garumzīm"),
        ("anna@localhost", "piemēriem", "garumzīm"),
        ("xena@skola", "«skola» tāds nav", "garumzīm"),
        ("anna@gmail.con", "«anna@gmail.com»", "garumzīm"),
        ("anna@gmial.com", "«anna@gmail.com»", "garumzīm"),
        ("anna@gmail.co", "«anna@gmail.com»", "garumzīm"),
        ("anna@inbox.lvv", "«anna@inbox.lv»", "garumzīm"),
        ("anna@imbox.lv", "«anna@inbox.lv»", "garumzīm"),
        ("anna@skola,lv", "«anna@skola.lv»", "garumzīm"),
        ("anna@rigas12.vl", "«anna@rigas12.lv»", "garumzīm"),
        ("bērziņa@skola.lv", "«berzina@skola.lv»", "piemēriem"),
        ("anna.bērziņa@skola.lv", "garumzīm", "piemēriem"),
        ("анна@skola.lv", "latīņu burti", "piemēriem"),
    ],
)
def test_an_email_finding_names_the_real_cause(email: str, said: str, not_said: str) -> None:
    decision = judge(make_list([("Anna", "Bērziņa", "skolotāja", email)]))

    finding = only(decision, "email.invalid")
    assert finding.severity is Severity.ERROR
    assert f"«{email}»" in finding.message
    assert said in finding.message + finding.hint
    assert not_said not in finding.message + finding.hint
    assert (finding.row, finding.column) == (HEADER_ROW + 1, 5)


@pytest.mark.parametrize("email", ["anna@inbox.lt", "anna@gmail.com", "a.b@e-apollo.lv",
                                   "anna+supervizija@outlook.com", "vards@rigas12.edu.lv",
                                   "x@skola.co", "anna@mail.ru"])
def test_real_addresses_are_taken(email: str) -> None:
    assert judge(make_list([("Anna", "Bērziņa", "skolotāja", email)])).accepted


@pytest.mark.parametrize("text", ["******-*****", "32123456789", "Kods: ******-*****"])
def test_a_personal_code_in_the_email_cell_is_to_be_removed_from_that_cell(text: str) -> None:
    decision = judge(make_list([("Anna", "Bērziņa", "skolotāja", text)]))

    finding = only(decision, "email.invalid")
    assert "personas kod" in finding.message
    assert "no šīs šūnas" in finding.hint
    assert "izdzēsiet šo kolonnu" not in finding.hint
    assert "32123456789" not in f"{finding.message}{finding.hint}{finding.value}"


def test_personal_codes_found_in_the_email_column_keep_the_column() -> None:
    reader_says = Finding(Severity.WARNING, "personal-code.present", "Kolonnā ir personas kodi (1).",
                          "Turpmāk personas kodus, lūdzu, nesūtiet; izdzēsiet šo kolonnu no saraksta.",
                          file="saraksts.xlsx", sheet="Saraksts", column=5, column_title="E-pasts")
    in_a_code_column = replace(reader_says, column=7, column_title="Personas kods")
    plist = replace(make_list(GOOD_ROWS), findings=(reader_says, in_a_code_column))

    hints = [f.hint for f in judge(plist).findings if f.code == "personal-code.present"]

    assert "no šīs kolonnas šūnām" in hints[0] and "kolonnu atstājiet" in hints[0]
    assert hints[1] == in_a_code_column.hint


# R3: unclear positions where leaders and educators are kept apart


def test_an_unclear_position_is_not_a_warning_where_leaders_and_educators_may_share_a_group() -> None:
    together = replace(NATIONAL, leaders_apart=False)
    rows = [("Ilze", "Kalniņa", "bibliotekāre", "ilze@skola.lv"), GOOD_ROWS[1]]

    assert codes(judge(make_list(rows), together)) == []
    assert codes(judge(make_list(rows))) == ["position.unclear"]


@pytest.mark.parametrize("written", [
    "mailto:anna.ozola@skola.lv", "MAILTO:ANNA.OZOLA@SKOLA.LV", "Anna Ozola <anna.ozola@skola.lv>",
    "<anna.ozola@skola.lv>", " mailto: anna.ozola@skola.lv ",
])
def test_an_address_pasted_with_its_mail_program_wrapping_is_the_address(written):
    decision = judge(make_list([("Anna", "Ozola", "skolotāja", written)]))
    assert decision.accepted and codes(decision) == []
    assert decision.groups[0].participants[0].email.casefold() == "anna.ozola@skola.lv"


def test_a_personal_code_in_the_email_cell_is_never_echoed_whatever_its_checksum():
    decision = judge(make_list([("Anna", "Ozola", "skolotāja", "120380-12345")]))
    finding = only(decision, "email.invalid")
    assert "12345" not in finding.message + finding.hint + (finding.value or "")
    assert "personas kods" in finding.message


def test_a_person_repeated_on_another_sheet_is_reported_naming_the_first_sheet():
    first = CellText("Anna", 6, 2, None)
    rows = (ListRow(6, {Field.FIRST_NAME: first, Field.LAST_NAME: CellText("Ozola", 6, 3),
                        Field.POSITION: CellText("skolotāja", 6, 4),
                        Field.EMAIL: CellText("anna@skola.lv", 6, 5)}),
            ListRow(2, {Field.FIRST_NAME: CellText("Anna", 2, 2, "2. grupa"),
                        Field.LAST_NAME: CellText("Ozola", 2, 3, "2. grupa"),
                        Field.POSITION: CellText("skolotāja", 2, 4, "2. grupa"),
                        Field.EMAIL: CellText("anna@skola.lv", 2, 5, "2. grupa")}, "2. grupa"))
    plist = replace(make_list([]), sheet="1. grupa", rows=rows)
    finding = only(judge(plist), "duplicate.in-list")
    assert finding.sheet == "2. grupa" and finding.row == 2
    assert "lapā «1. grupa», 6. rindā" in finding.message
