"""A list over several sheets is read whole; a sheet that cannot join it is named, never dropped
in silence."""

from __future__ import annotations

from dataclasses import replace

import pytest

from intake.core.blank_list import INSTITUTION_CELL, LIST_SHEET, make_blank_list
from intake.core.model import Decision, Field, GroupKind, ParticipantList, Severity
from tests.support.lists import (
    ENGLISH,
    LATVIAN_FULL,
    LATVIAN_GROUPED,
    PROGRAMME,
    SIGNATURE_AND_DATE,
    TITLE_ROWS,
    WRITERS,
    SheetSpec,
    leaders,
    list_sheet,
    members,
    openpyxl_book,
    read_and_decide,
    table,
    write,
)

decided = read_and_decide


def codes(decision: Decision) -> list[str]:
    return [f.code for f in decision.findings]


def not_read(plist: ParticipantList):
    (finding,) = [f for f in plist.findings if f.code == "list.sheets-not-read"]
    assert finding.severity is Severity.WARNING and finding.hint
    return finding


# --- one sheet per group ------------------------------------------------------------------------

@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("sheet_names", [
    ("1. grupa", "2. grupa"), ("Grupa 1", "Grupa 2", "Grupa 3"), ("Group 1", "Group 2"),
    ("1.grupa", "2.grupa"),
])
def test_one_sheet_per_group_keeps_the_schools_groups(sheet_names, writer):
    sheets = [list_sheet(members(6, start=10 * n), name=name, below=SIGNATURE_AND_DATE)
              for n, name in enumerate(sheet_names)]
    plist, decision = decided(write(sheets, writer=writer))
    assert decision.accepted and decision.findings == ()
    assert plist.sheet == sheet_names[0] and plist.sheets == sheet_names
    assert [g.label for g in decision.groups] == list(sheet_names)
    assert [len(g.participants) for g in decision.groups] == [6] * len(sheet_names)
    assert [p.sheet for p in decision.groups[1].participants] == [sheet_names[1]] * 6


def test_rows_remember_their_sheet_and_cells_name_theirs():
    plist, _ = decided(write([list_sheet(members(2), name="1. grupa"),
                              list_sheet(members(3, start=20), name="2. grupa", above=())]))
    assert [(r.sheet, r.row) for r in plist.rows] == [
        (None, 5), (None, 6), ("2. grupa", 2), ("2. grupa", 3), ("2. grupa", 4)]
    assert plist.rows[3].values[Field.EMAIL].sheet == "2. grupa"
    assert plist.rows[0].values[Field.EMAIL].sheet is None


def test_a_fault_on_the_second_sheet_is_reported_on_that_sheet():
    second = members(4, start=20)
    second[2] = replace(second[2], email="anna.bērziņa@skola.lv")
    _, decision = decided(write([list_sheet(members(4), name="1. grupa"),
                                 list_sheet(second, name="2. grupa")]))
    assert [(f.code, f.sheet, f.cell) for f in decision.errors] == [
        ("email.invalid", "2. grupa", "E7")]


def test_a_missing_cell_on_the_second_sheet_is_reported_on_that_sheet():
    second = members(4, start=20)
    second[0] = replace(second[0], position="")
    _, decision = decided(write([list_sheet(members(4), name="Grupa 1"),
                                 list_sheet(second, name="Grupa 2")]))
    assert [(f.code, f.sheet, f.cell) for f in decision.errors] == [
        ("field.missing", "Grupa 2", "D5")]


def test_a_group_sheet_with_too_many_is_refused_on_its_sheet():
    _, decision = decided(write([list_sheet(members(5), name="1. grupa"),
                                 list_sheet(members(11, start=20), name="2. grupa")]))
    (finding,) = decision.errors
    assert (finding.code, finding.sheet, finding.row) == ("group.too-large", "2. grupa", 15)


def test_a_leader_on_a_group_sheet_of_teachers_is_a_mixed_group():
    second = [*members(4, start=20), *leaders(1)]
    _, decision = decided(write([list_sheet(members(5), name="1. grupa"),
                                 list_sheet(second, name="2. grupa")]))
    assert [(f.code, f.sheet, f.row) for f in decision.errors] == [("group.mixed", "2. grupa", 9)]


def test_a_group_column_on_every_sheet_is_the_schools_grouping():
    first = [replace(m, group="1") for m in members(4)]
    second = [replace(m, group="2") for m in members(4, start=20)]
    _, decision = decided(write([list_sheet(first, name="1. grupa", header=LATVIAN_GROUPED),
                                 list_sheet(second, name="2. grupa", header=LATVIAN_GROUPED)]))
    assert decision.accepted
    assert [g.label for g in decision.groups] == ["1", "2"]


def test_the_same_person_on_two_sheets_is_a_duplicate_on_the_second():
    first = members(4)
    second = [*members(3, start=20), first[1]]
    _, decision = decided(write([list_sheet(first, name="1. grupa"),
                                 list_sheet(second, name="2. grupa")]))
    assert [(f.code, f.sheet, f.row) for f in decision.errors] == [("duplicate.in-list", "2. grupa", 8)]


# --- leaders and educators apart ----------------------------------------------------------------

@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize(("leaders_sheet", "educators_sheet"), [
    ("Vadītāji", "Pedagogi"), ("Administrācija", "Skolotāji"), ("Vadība", "Pedagogi")])
def test_leaders_and_educators_on_their_own_sheets_are_one_list_the_rules_split(
        leaders_sheet, educators_sheet, writer):
    sheets = [list_sheet(leaders(3), name=leaders_sheet, below=SIGNATURE_AND_DATE),
              list_sheet(members(14), name=educators_sheet, below=SIGNATURE_AND_DATE)]
    plist, decision = decided(write(sheets, writer=writer))
    assert decision.accepted and decision.findings == ()
    assert plist.sheets == (leaders_sheet, educators_sheet)
    assert [(g.kind, len(g.participants), g.label) for g in decision.groups] == [
        (GroupKind.LEADERS, 3, None), (GroupKind.EDUCATORS, 7, None), (GroupKind.EDUCATORS, 7, None)]


def test_an_english_header_on_a_second_sheet_with_the_same_columns_joins_the_list():
    sheets = [list_sheet(members(4), name="Latvian"),
              list_sheet(members(3, start=20), name="Foreign staff", header=ENGLISH)]
    plist, decision = decided(write(sheets))
    assert decision.accepted and decision.findings == ()
    assert plist.sheets == ("Latvian", "Foreign staff")


def test_sheets_in_the_default_names_are_one_list():
    sheets = [list_sheet(members(4), name="Sheet1"), list_sheet(members(4, start=20), name="Sheet2"),
              SheetSpec("Sheet3", ())]
    plist, decision = decided(write(sheets))
    assert decision.accepted and decision.findings == ()
    assert plist.sheets == ("Sheet1", "Sheet2") and decision.participant_count == 8


def test_a_header_only_sheet_beside_the_list_needs_no_warning():
    sheets = [list_sheet(members(4), name="1. grupa"), list_sheet([], name="2. grupa")]
    _, decision = decided(write(sheets))
    assert decision.accepted and decision.findings == ()


# --- sheets that cannot join the list -----------------------------------------------------------

def test_a_sheet_with_other_columns_is_named_not_dropped():
    sheets = [list_sheet(members(4), name="Skolotāji"),
              list_sheet(members(3, start=20), name="Vadītāji", header=LATVIAN_FULL)]
    plist, decision = decided(write(sheets))
    finding = not_read(plist)
    assert finding.sheet == "Vadītāji"
    assert "«Skolotāji»" in finding.message and "«Vadītāji»" in finding.message
    assert decision.accepted and decision.participant_count == 4
    assert codes(decision) == ["list.sheets-not-read"]


def test_a_hidden_sheet_with_people_is_named_not_dropped():
    sheets = [list_sheet(members(4)), list_sheet(members(3, start=20), name="Vecais", hidden=True)]
    plist, decision = decided(write(sheets))
    assert "paslēpta" in not_read(plist).message
    assert plist.sheets == ("Saraksts",) and decision.participant_count == 4


@pytest.mark.parametrize("writer", WRITERS)
def test_a_hidden_empty_sheet_needs_no_warning(writer):
    sheets = [list_sheet(members(4)), list_sheet([], name="Veidne", hidden=True)]
    _, decision = decided(write(sheets, writer=writer))
    assert decision.accepted and decision.findings == ()


@pytest.mark.parametrize("copy_name", ["Paraugs", "Piemērs", "Kopija", "Example"])
def test_an_example_or_a_copy_is_named_and_the_list_is_read(copy_name):
    sheets = [list_sheet(members(2, start=90), name=copy_name), list_sheet(members(5))]
    plist, decision = decided(write(sheets))
    assert plist.sheet == "Saraksts" and decision.participant_count == 5
    finding = not_read(plist)
    assert finding.sheet == copy_name and f"«{copy_name}»" in finding.message


def test_a_copied_template_sheet_with_other_people_is_read_as_the_lists_second_part():
    sheets = [list_sheet(members(8)), list_sheet(members(7, start=40), name="Saraksts (2)")]
    plist, decision = decided(write(sheets))
    assert plist.sheets == ("Saraksts", "Saraksts (2)")
    assert decision.accepted and decision.participant_count == 15 and decision.findings == ()


def test_a_sheet_repeating_the_same_people_is_a_copy():
    people = members(5)
    sheets = [list_sheet(people, name="Dalībnieki"), list_sheet(people[:4], name="Lapa2")]
    plist, decision = decided(write(sheets))
    assert "tie paši dalībnieki" in not_read(plist).message
    assert decision.accepted and decision.participant_count == 5


def test_people_on_a_sheet_without_a_header_are_named():
    loose = [(m.full_name, m.position, m.email) for m in members(3, start=20)]
    sheets = [list_sheet(members(4)), SheetSpec("Papildus", loose)]
    plist, _ = decided(write(sheets))
    finding = not_read(plist)
    assert finding.sheet == "Papildus" and "virsrakstu rindas" in finding.message


def test_several_unread_sheets_are_named_in_one_warning():
    sheets = [list_sheet(members(4)), list_sheet(members(3, start=20), name="Vecais", hidden=True),
              list_sheet(members(3, start=40), name="Citi", header=LATVIAN_FULL, above=())]
    plist, _ = decided(write(sheets))
    finding = not_read(plist)
    assert finding.sheet is None
    assert "«Vecais» (tā ir paslēpta)" in finding.message and "«Citi» (" in finding.message


def test_an_information_sheet_with_our_address_is_no_list():
    info = [("Jautājumus sūtiet uz supervizijas@ikvd.example.lv",), ("Paldies!",)]
    sheets = [list_sheet(members(4)), SheetSpec("Informācija", info)]
    _, decision = decided(write(sheets))
    assert decision.accepted and decision.findings == ()


def test_the_list_on_a_hidden_sheet_is_read_when_no_visible_sheet_has_one():
    sheets = [SheetSpec("Sveiciens", [("Paldies!",)]), list_sheet(members(3), hidden=True)]
    plist, decision = decided(write(sheets))
    assert plist.sheet == "Saraksts" and decision.accepted and decision.findings == ()


def test_the_best_header_leads_when_a_sheet_has_fewer_columns():
    summary = SheetSpec("Kopsavilkums", [("Vārds, uzvārds", "Amats"), ("Anna Ozola", "skolotāja")])
    plist, decision = decided(write([summary, list_sheet(members(4), name="Dalībnieki")]))
    assert plist.sheet == "Dalībnieki" and decision.participant_count == 4
    assert not_read(plist).sheet == "Kopsavilkums"


# --- the service's own blank list ---------------------------------------------------------------

def test_the_blank_list_filled_in_reads_without_a_warning():
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(make_blank_list(PROGRAMME)))
    sheet = book[LIST_SHEET]
    sheet[INSTITUTION_CELL] = "Rīgas 12. vidusskola"
    for row, member in enumerate([*members(6), *leaders(2)], start=5):
        category = "vadītājs" if member.position in ("direktore", "metodiķe") or "vietn" in \
            member.position else "pedagogs"
        for column, value in enumerate((member.first_name, member.last_name, member.position,
                                        category, member.email), start=2):
            sheet.cell(row, column, value)
    sheet.cell(46, 2, "Direktore")
    sheet.cell(46, 4, "I. Kalniņa")
    buffer = io.BytesIO()
    book.save(buffer)
    plist, decision = decided(buffer.getvalue())
    assert plist.sheets == (LIST_SHEET,)
    assert decision.accepted and decision.findings == ()
    assert decision.participant_count == 8


def test_the_blank_list_as_sent_empty_is_an_empty_list_without_a_sheet_warning():
    plist, decision = decided(make_blank_list(PROGRAMME))
    assert "list.sheets-not-read" not in codes(decision)
    assert plist.sheets == (LIST_SHEET,)


def test_title_rows_and_a_merged_title_on_each_group_sheet():
    sheets = [list_sheet(members(3), name="1. grupa", above=TITLE_ROWS),
              list_sheet(members(3, start=20), name="2. grupa", above=TITLE_ROWS)]
    content = openpyxl_book(sheets)
    plist, decision = decided(content)
    assert decision.accepted and decision.findings == ()
    assert plist.institution is not None and plist.institution.sheet is None
    assert [r.row for r in plist.rows] == [5, 6, 7, 5, 6, 7]
    assert table(members(1))[0][0] == "Nr."


# --- as LibreOffice Calc saves it ---------------------------------------------------------------

@pytest.mark.parametrize("to", ["xlsx", "ods"])
def test_group_sheets_with_closings_saved_by_libreoffice_read_whole(to):
    from tests.support.lists import CLOSINGS, libreoffice_convert

    below = (*CLOSINGS["total"], (), *CLOSINGS["signature-placeholder"], *CLOSINGS["date-cell"])
    sheets = [list_sheet(members(5), name="1. grupa", below=below),
              list_sheet(members(4, start=20), name="2. grupa", below=below),
              list_sheet(members(2, start=40), name="Vecais", hidden=True)]
    content = libreoffice_convert(write(sheets, writer="xlsxwriter"), to=to)
    plist, decision = decided(content, file=f"saraksts.{to}")
    assert plist.sheets == ("1. grupa", "2. grupa")
    assert decision.accepted and codes(decision) == ["list.sheets-not-read"]
    assert [(g.label, len(g.participants)) for g in decision.groups] == [("1. grupa", 5), ("2. grupa", 4)]
