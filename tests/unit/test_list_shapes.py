"""Lists as schools make them: signatures, dates, totals and titles around a list are nobody;
a participant with a fault is still reported at its cell; headers in English and Latvian."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from intake.core.formats import Limits
from intake.core.model import Decision, Field, Severity
from intake.core.workbook import read_participant_list
from tests.conftest import personal_code
from tests.support.lists import (
    ANNEX_TITLE_ROWS,
    CLOSINGS,
    ENGLISH,
    ENGLISH_FIRST_LAST,
    ENGLISH_FULL,
    ENGLISH_GIVEN_FAMILY,
    ENGLISH_NAME_ONLY,
    ENGLISH_SURNAME_FIRST,
    FOREIGN_MEMBERS,
    LATVIAN,
    LATVIAN_ASCII,
    LATVIAN_CAPS,
    LATVIAN_FULL,
    LATVIAN_REVERSED,
    LATVIAN_VARDS_COMBINED,
    LATVIAN_WITH_CODE,
    SIGNATURE_AND_DATE,
    TITLE_ROWS,
    WRITERS,
    Header,
    Member,
    SheetSpec,
    first_member_row,
    members,
    participant_list,
    read_and_decide,
    table,
    write,
)

decided = read_and_decide


def errors(decision: Decision) -> list[tuple[str, str | None]]:
    return [(f.code, f.cell) for f in decision.errors]


def names(decision: Decision) -> list[str]:
    return [f"{p.first_name} {p.last_name}" for g in decision.groups for p in g.participants]


# --- what is not a participant ------------------------------------------------------------------

@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("closing", sorted(CLOSINGS))
@pytest.mark.parametrize("gap", [0, 1, 3])
def test_closing_lines_under_a_list_are_neither_participants_nor_errors(closing, gap, writer):
    people = members(6)
    plist, decision = decided(participant_list(people, writer=writer, below=CLOSINGS[closing], gap=gap))
    assert decision.accepted, errors(decision)
    assert decision.findings == ()
    assert names(decision) == [m.full_name for m in people]
    assert [r.row for r in plist.rows] == list(range(5, 11))


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("closing", sorted(CLOSINGS))
def test_closing_lines_above_the_header_change_nothing(closing, writer):
    above = (*TITLE_ROWS, *CLOSINGS[closing], ())
    plist, decision = decided(participant_list(members(4), writer=writer, above=above))
    assert decision.accepted and decision.findings == ()
    assert plist.rows[0].row == first_member_row(above)


def test_a_whole_closing_page_under_the_list_is_nobody():
    below = (*CLOSINGS["total"], (), *CLOSINGS["note"], (), *CLOSINGS["signature-placeholder"],
             *CLOSINGS["stamp"], (), *CLOSINGS["place-date"], (), *CLOSINGS["prepared-by-cells"],
             *CLOSINGS["contact"])
    _, decision = decided(participant_list(members(8), below=below, gap=0))
    assert decision.accepted and decision.findings == ()
    assert decision.participant_count == 8


def test_approval_block_above_and_signature_below_in_an_annexed_list():
    above = (*CLOSINGS["approval-titled"], (), *ANNEX_TITLE_ROWS)
    plist, decision = decided(participant_list(members(5), above=above, below=SIGNATURE_AND_DATE))
    assert decision.accepted and decision.findings == ()
    assert plist.institution is not None
    assert plist.institution.text == "Valmieras Viestura vidusskola"


def test_title_rows_and_subheadings_within_the_table_are_nobody():
    rows = [*table(members(3)), (None, "Dalībnieku saraksts supervīzijai"), (None, "Pedagogi"),
            *table(members(3, start=10))[1:], (None, None, None, "Pielikums Nr. 1")]
    _, decision = decided(write([SheetSpec("Saraksts", rows)]))
    assert decision.accepted and decision.findings == ()
    assert decision.participant_count == 6


def test_the_header_repeated_for_a_second_table_and_the_column_numbers_are_nobody():
    rows = [*table(members(3)), (1, 2, 3, 4, 5), (), ("2. grupa",), *table(members(3, start=20))]
    _, decision = decided(write([SheetSpec("Saraksts", rows)]))
    assert decision.accepted and decision.findings == ()
    assert decision.participant_count == 6


# --- a flawed participant is still one ----------------------------------------------------------

@pytest.mark.parametrize("below", [
    pytest.param(CLOSINGS["signature-placeholder"], id="signature"),
    pytest.param(SIGNATURE_AND_DATE, id="signature-gap-date"),
    pytest.param(CLOSINGS["date-long"], id="date"),
    pytest.param(CLOSINGS["total"], id="total"),
    pytest.param((), id="nothing"),
])
@pytest.mark.parametrize("gap", [0, 2])
def test_the_last_participant_without_an_e_mail_is_reported_at_the_cell(below, gap):
    people = members(6)
    people[-1] = replace(people[-1], email=None)
    _, decision = decided(participant_list(people, below=below, gap=gap))
    assert errors(decision) == [("field.missing", "E10")]


@pytest.mark.parametrize("below", [(), SIGNATURE_AND_DATE, CLOSINGS["signature-under-position"]])
def test_a_director_without_an_e_mail_at_the_end_is_a_participant_not_a_signature(below):
    people = [*members(4), Member("Ilze", "Kalniņa", "direktore")]
    _, decision = decided(participant_list(people, below=below))
    assert errors(decision) == [("field.missing", "E9")]


def test_a_participant_without_an_e_mail_in_the_middle_is_reported():
    people = members(5)
    people[2] = replace(people[2], email=None)
    _, decision = decided(participant_list(people, below=SIGNATURE_AND_DATE))
    assert errors(decision) == [("field.missing", "E7")]


def test_a_row_with_only_a_position_among_participants_is_reported_cell_by_cell():
    people = [*members(2), Member("", "", "skolotāja"), *members(2, start=5)]
    _, decision = decided(participant_list(people, below=SIGNATURE_AND_DATE))
    assert errors(decision) == [("field.missing", "B7"), ("field.missing", "C7"),
                                ("field.missing", "E7")]


@pytest.mark.parametrize("placeholder", ["__________", "..........", "……"])
def test_a_placeholder_e_mail_cell_is_an_empty_one(placeholder):
    people = members(3)
    people[1] = replace(people[1], email=placeholder)
    _, decision = decided(participant_list(people, below=SIGNATURE_AND_DATE))
    assert errors(decision) == [("field.missing", "E6")]


def test_participants_added_after_a_blank_row_are_participants():
    late = [replace(m, email=None) for m in members(2, start=40)]
    rows = [*table(members(4)), (), *table(late, start_number=5)[1:]]
    _, decision = decided(write([SheetSpec("Saraksts", rows)]))
    assert errors(decision) == [("field.missing", "E7"), ("field.missing", "E8")]


def test_a_teacher_written_after_a_gap_above_the_date_is_still_a_participant():
    late = replace(members(1, start=40)[0], email=None)
    rows = [*table(members(4)), (), *table([late], start_number=5)[1:], *CLOSINGS["date-long"]]
    _, decision = decided(write([SheetSpec("Saraksts", rows)]))
    assert errors(decision) == [("field.missing", "E7")]


def test_a_signature_written_in_the_table_columns_after_a_gap_with_a_date_is_nobody():
    below = ((None, "Ilze", "Kalniņa", "direktore"), *CLOSINGS["date-dotted"])
    _, decision = decided(participant_list(members(4), below=below))
    assert decision.accepted and decision.findings == ()


def test_a_participant_missing_a_first_name_at_the_end_is_reported():
    people = [*members(3), Member("", "Ozola", "skolotāja")]
    _, decision = decided(participant_list(people, below=SIGNATURE_AND_DATE))
    assert errors(decision) == [("field.missing", "B8"), ("field.missing", "E8")]


def test_names_in_other_scripts_and_en_dashed_surnames_are_participants():
    people = [*members(2), *FOREIGN_MEMBERS]
    plist, decision = decided(participant_list(people, below=SIGNATURE_AND_DATE))
    assert len(plist.rows) == 6
    last_names = [r.values[Field.LAST_NAME].text for r in plist.rows]
    assert last_names[2:] == ["Петров", "Wójcik", "Παπαδόπουλος", "Kalniņa-Liepiņa"]
    assert ("name.symbols", "C8") not in errors(decision)
    assert {f.code for f in decision.warnings} == {"name.foreign-letters"}


# --- headers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [
    pytest.param(LATVIAN, id="latvian"), pytest.param(LATVIAN_CAPS, id="caps"),
    pytest.param(LATVIAN_ASCII, id="ascii"), pytest.param(LATVIAN_FULL, id="combined"),
    pytest.param(LATVIAN_REVERSED, id="reversed"),
    pytest.param(LATVIAN_VARDS_COMBINED, id="vards-over-whole-names"),
    pytest.param(ENGLISH, id="name-surname"), pytest.param(ENGLISH_FIRST_LAST, id="first-last"),
    pytest.param(ENGLISH_GIVEN_FAMILY, id="given-family"),
    pytest.param(ENGLISH_SURNAME_FIRST, id="surname-name"),
    pytest.param(ENGLISH_FULL, id="full-name"), pytest.param(ENGLISH_NAME_ONLY, id="name-alone"),
])
@pytest.mark.parametrize("writer", WRITERS)
def test_every_header_spelling_reads_the_same_participants(header, writer):
    people = [*members(4), Member("Līga", "Vīķe-Freiberga", "direktore", "liga@skola.example.lv")]
    _, decision = decided(participant_list(people, header=header, writer=writer,
                                           below=SIGNATURE_AND_DATE))
    assert decision.accepted, errors(decision)
    assert decision.findings == ()
    assert sorted(names(decision)) == sorted(m.full_name for m in people)


@pytest.mark.parametrize(("titles", "fields"), [
    (("Name", "Surname"), (Field.FIRST_NAME, Field.LAST_NAME)),
    (("Surname", "Name"), (Field.LAST_NAME, Field.FIRST_NAME)),
    (("Name", "Last name"), (Field.FIRST_NAME, Field.LAST_NAME)),
    (("Name", "Family name"), (Field.FIRST_NAME, Field.LAST_NAME)),
    (("Vārds", "Uzvārds"), (Field.FIRST_NAME, Field.LAST_NAME)),
    (("Full name", "Surname"), (Field.FULL_NAME, Field.LAST_NAME)),
    (("Name",), (Field.FULL_NAME,)),
    (("Vārds, uzvārds",), (Field.FULL_NAME,)),
])
def test_a_bare_name_header_beside_a_surname_is_the_first_name(titles, fields):
    header = Header((*titles, "Position", "Email"), ("first",) * len(titles) + ("position", "email"))
    plist = read_participant_list(write([SheetSpec("S", [header.titles])]), "s.xlsx", limits=Limits())
    assert tuple(c.field for c in plist.columns[:len(titles)]) == fields


def test_vards_over_single_words_without_a_surname_column_asks_for_the_surname():
    header = Header(("Nr.", "Vārds", "Amats", "E-pasts"), ("nr", "first", "position", "email"))
    plist, decision = decided(participant_list(members(3), header=header))
    assert plist.column_for(Field.FIRST_NAME) is not None
    assert [(f.code, f.message) for f in decision.errors] == [
        ("column.missing", "Sarakstā nav kolonnas «Uzvārds».")]


def test_vards_over_whole_names_is_the_combined_name_even_with_a_signature_under_it():
    plist, decision = decided(participant_list(members(3), header=LATVIAN_VARDS_COMBINED,
                                               below=SIGNATURE_AND_DATE))
    assert plist.column_for(Field.FULL_NAME) is not None
    assert decision.accepted and decision.findings == ()


def test_first_name_header_keeps_double_first_names_as_first_names():
    people = [Member("Anna Marija", "Ozola", email="anna@skola.example.lv"),
              Member("Jānis Pēteris", "Liepa", email="janis@skola.example.lv")]
    header = Header(("First name", "Position", "Email"), ("first", "position", "email"))
    plist = read_participant_list(participant_list(people, header=header), "s.xlsx", limits=Limits())
    assert plist.column_for(Field.FIRST_NAME) is not None


# --- personal codes (R11) -----------------------------------------------------------------------

@pytest.mark.parametrize("title", ["Personas kods", "Pers. kods", "Personal code", "PERSONAS KODS"])
@pytest.mark.parametrize("code", [
    pytest.param(personal_code(date(1985, 4, 12)), id="valid"),
    pytest.param("120485-12345", id="bad-checksum"),
    pytest.param("12048512345", id="no-dash"),
    pytest.param("320000-1234", id="short"),
])
def test_a_value_under_a_personal_code_header_is_never_kept(title, code):
    header = Header(tuple(title if t == "Personas kods" else t for t in LATVIAN_WITH_CODE.titles),
                    LATVIAN_WITH_CODE.kinds)
    people = [replace(m, personal_code=code) for m in members(3)]
    plist, decision = decided(participant_list(people, header=header, below=SIGNATURE_AND_DATE))
    assert code not in repr(plist) and code not in repr(decision)
    (warning,) = [f for f in decision.findings if f.code == "personal-code.present"]
    assert warning.severity is Severity.WARNING and warning.column == 4
    assert "(3)" in warning.message
    assert decision.accepted
