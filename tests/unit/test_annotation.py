"""The annotated copy marks each finding on its own sheet and carries no personal code."""

from __future__ import annotations

import io
import random
import re
import zipfile
from dataclasses import replace
from datetime import date

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from intake.core import annotation
from intake.core.annotation import SUMMARY_SHEET, annotate_workbook
from intake.core.formats import Limits
from intake.core.model import Decision, Finding, Severity
from intake.core.programme import Programme
from intake.core.replies import number_findings
from intake.core.rules import Circumstances, decide
from intake.core.workbook import read_participant_list
from intake.core.xlsx_edit import Mark, edit_package
from intake.core.xlsx_parts import Summary
from tests.conftest import FILES, personal_code
from tests.support.lists import (
    LATVIAN_WITH_CODE,
    SIGNATURE_AND_DATE,
    libreoffice_convert,
    list_sheet,
    members,
    write,
)

PROGRAMME = Programme(name="national", title="Supervīzijas Latvijas pedagogiem")


def decided(content: bytes, file: str) -> Decision:
    plist = read_participant_list(content, file, limits=Limits())
    return decide(plist, Circumstances(PROGRAMME, date(2026, 12, 4)))


def annotated(content: bytes, file: str = "saraksts.xlsx") -> tuple[Decision, openpyxl.Workbook]:
    decision = decided(content, file)
    copy = annotate_workbook(content, decision, limits=Limits())
    assert copy is not None
    return decision, openpyxl.load_workbook(io.BytesIO(copy))


def commented(book: openpyxl.Workbook) -> dict[str, list[str]]:
    return {sheet.title: [c.coordinate for row in sheet.iter_rows() for c in row if c.comment]
            for sheet in book.worksheets if sheet.title != SUMMARY_SHEET}


def two_groups_with_faults() -> bytes:
    first = members(4)
    first[1] = replace(first[1], email=None)
    second = members(4, start=20)
    second[2] = replace(second[2], email="nav adreses")
    return write([list_sheet(first, name="1. grupa", below=SIGNATURE_AND_DATE),
                  list_sheet(second, name="2. grupa", below=SIGNATURE_AND_DATE)])


def test_each_finding_is_marked_on_its_own_sheet():
    decision, book = annotated(two_groups_with_faults())
    assert [(f.sheet, f.cell) for f in decision.errors] == [("1. grupa", "E6"), ("2. grupa", "E7")]
    assert commented(book) == {"1. grupa": ["E6"], "2. grupa": ["E7"]}
    summary = book[SUMMARY_SHEET]
    assert [summary.cell(r, 3).value for r in (4, 5)] == ["1. grupa", "2. grupa"]


@pytest.mark.parametrize("to", ["ods", "xls"])
def test_a_list_over_sheets_saved_by_libreoffice_is_copied_with_every_sheet_marked(to):
    content = libreoffice_convert(two_groups_with_faults(), to=to)
    decision, book = annotated(content, f"saraksts.{to}")
    assert [(f.sheet, f.cell) for f in decision.errors] == [("1. grupa", "E6"), ("2. grupa", "E7")]
    assert commented(book) == {"1. grupa": ["E6"], "2. grupa": ["E7"]}


@pytest.mark.parametrize("code", [personal_code(date(1985, 4, 12)), "120485-12345", "12048512345"])
def test_no_personal_code_under_its_header_reaches_the_copy(code):
    people = [replace(m, personal_code=code) for m in members(3)]
    people[0] = replace(people[0], email=None)
    content = write([list_sheet(people, header=LATVIAN_WITH_CODE)])
    _, book = annotated(content)
    texts = [str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row if c.value]
    assert not any(code in t or code.replace("-", "") in t for t in texts)
    assert book["Saraksts"]["D5"].value == "******-*****"


# The package edited in place: the same copy as openpyxl's load and save, without them.

def _via_openpyxl(content: bytes, decision: Decision, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(annotation, "edit_package", lambda *args, **kwargs: None)
        copy = annotate_workbook(content, decision, limits=Limits())
    assert copy is not None
    return copy


def _without_load(content: bytes, decision: Decision, monkeypatch: pytest.MonkeyPatch) -> bytes:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the package edit fell back to openpyxl")
    with monkeypatch.context() as patch:
        patch.setattr(annotation.openpyxl, "load_workbook", refused)
        copy = annotate_workbook(content, decision, limits=Limits())
    assert copy is not None
    return copy


def _what_a_school_sees(copy: bytes) -> dict[str, object]:
    book = openpyxl.load_workbook(io.BytesIO(copy))
    sheets = {}
    for sheet in book.worksheets:
        sheets[sheet.title] = (
            [[None if c.value == "" else c.value for c in row] for row in sheet.iter_rows()],
            {c.coordinate: (c.fill.fgColor.rgb, c.comment.text if c.comment else None)
             for row in sheet.iter_rows() for c in row if c.comment or c.fill.fill_type})
    return {"titles": book.sheetnames, "active": book.active.title, "sheets": sheets,
            "print": _print_setup(book[SUMMARY_SHEET])}


def _print_setup(sheet: Worksheet) -> dict[str, object]:
    """How the «Piezīmes» sheet prints, and the sizes that keep its text visible."""
    setup = sheet.page_setup
    return {"orientation": setup.orientation, "paper": str(setup.paperSize),
            "fit": (sheet.sheet_properties.pageSetUpPr.fitToPage, setup.fitToWidth,
                    setup.fitToHeight),
            "titles": sheet.print_title_rows, "grid": sheet.print_options.gridLines,
            "widths": [sheet.column_dimensions[letter].width for letter in "ABCDEFG"],
            "heights": [sheet.row_dimensions[row].height for row in range(4, sheet.max_row + 1)]}


def _faulty(writer: str) -> bytes:
    people = members(10)
    people[2] = replace(people[2], email=None)
    people[5] = replace(people[5], email="nav adreses")
    content = write([list_sheet(people, below=SIGNATURE_AND_DATE)],
                    writer="openpyxl" if writer == "libreoffice" else writer)
    return libreoffice_convert(content, to="xlsx") if writer == "libreoffice" else content


@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter", "libreoffice"])
def test_the_package_edit_gives_the_copy_openpyxl_gives(writer, monkeypatch):
    content = _faulty(writer)
    decision = decided(content, "saraksts.xlsx")
    assert len(decision.findings) >= 2
    edited = _what_a_school_sees(_without_load(content, decision, monkeypatch))
    assert edited == _what_a_school_sees(_via_openpyxl(content, decision, monkeypatch))
    marked = edited["sheets"]["Saraksts"][1]  # type: ignore[index]
    assert {rgb for rgb, _ in marked.values()} == {"00FFC7CE"}
    assert all(note for _, note in marked.values())
    original = openpyxl.load_workbook(io.BytesIO(content))["Saraksts"]
    assert edited["sheets"]["Saraksts"][0] == [  # type: ignore[index]
        [None if c.value == "" else c.value for c in row] for row in original.iter_rows()]


def test_the_package_edit_takes_a_list_over_sheets(monkeypatch):
    content = two_groups_with_faults()
    decision = decided(content, "saraksts.xlsx")
    copy = _without_load(content, decision, monkeypatch)
    assert _what_a_school_sees(copy) == _what_a_school_sees(
        _via_openpyxl(content, decision, monkeypatch))
    assert commented(openpyxl.load_workbook(io.BytesIO(copy))) == {"1. grupa": ["E6"],
                                                                  "2. grupa": ["E7"]}


def test_a_libreoffice_list_with_a_personal_code_column_takes_the_openpyxl_path(monkeypatch):
    content = (FILES / "libreoffice-list.xlsx").read_bytes()  # its header names «Personas kods»
    decision = decided(content, "saraksts.xlsx")
    with pytest.raises(AssertionError, match="fell back to openpyxl"):
        _without_load(content, decision, monkeypatch)
    copy = annotate_workbook(content, decision, limits=Limits())
    assert copy is not None
    assert openpyxl.load_workbook(io.BytesIO(copy)).sheetnames[0] == SUMMARY_SHEET


def test_personal_codes_take_the_openpyxl_path(monkeypatch):
    people = [replace(m, personal_code=personal_code(date(1985, 4, 12))) for m in members(3)]
    people[0] = replace(people[0], email=None)
    content = write([list_sheet(people, header=LATVIAN_WITH_CODE)])
    loads = []
    real = annotation.openpyxl.load_workbook
    monkeypatch.setattr(annotation.openpyxl, "load_workbook",
                        lambda *args, **kwargs: loads.append(1) or real(*args, **kwargs))
    annotated(content)
    assert loads == [1, 1]  # the copy's and the test's own


def test_a_copy_sent_back_again_takes_the_openpyxl_path_and_keeps_the_notes(monkeypatch):
    content = _faulty("openpyxl")
    decision = decided(content, "saraksts.xlsx")
    once = _without_load(content, decision, monkeypatch)
    twice = annotate_workbook(once, decided(once, "saraksts.xlsx"), limits=Limits())
    assert twice is not None
    book = openpyxl.load_workbook(io.BytesIO(twice))
    assert sorted(commented(book)["Saraksts"]) == sorted(commented(
        openpyxl.load_workbook(io.BytesIO(once)))["Saraksts"])


def test_libreoffice_opens_the_edited_copy(monkeypatch):
    content = _faulty("xlsxwriter")
    decision = decided(content, "saraksts.xlsx")
    copy = _without_load(content, decision, monkeypatch)
    reopened = openpyxl.load_workbook(io.BytesIO(libreoffice_convert(copy, to="xlsx")))
    assert reopened.sheetnames == [SUMMARY_SHEET, "Saraksts"]
    assert commented(reopened)["Saraksts"] == commented(
        openpyxl.load_workbook(io.BytesIO(copy)))["Saraksts"]
    assert reopened["Saraksts"]["E7"].fill.fgColor.rgb.endswith("FFC7CE")


def _edited(content: bytes, wanted: dict[str, str]) -> bytes:
    """`content` with the named parts replaced."""
    source, buffer = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in source.namelist():
            out.writestr(name, wanted.get(name, source.read(name)))
    return buffer.getvalue()


def _part(content: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(content)).read(name).decode()


_SUMMARY = Summary(SUMMARY_SHEET, "Saraksts nav pieņemts.", ("Nr.",), [])
_FILL_COLOURS = {Severity.ERROR: "00FFC7CE", Severity.WARNING: "00FFEB9C"}


def _edit(content: bytes, *cells: tuple[int, int]) -> bytes | None:
    marks = {"Saraksts": {cell: Mark(Severity.ERROR, "Kļūda: piezīme") for cell in cells}}
    return edit_package(content, marks, _SUMMARY, _FILL_COLOURS, "autors")


def _unusual(writer: str) -> dict[str, bytes]:
    content = write([list_sheet(members(3))], writer=writer)
    sheet = _part(content, "xl/worksheets/sheet1.xml")
    styles = _part(content, "xl/styles.xml")
    book = openpyxl.load_workbook(io.BytesIO(content))
    book["Saraksts"].merge_cells("D5:E5")
    merged = io.BytesIO()
    book.save(merged)
    return {
        "a DTD": _edited(content, {"xl/styles.xml": styles.replace(
            "<styleSheet", '<!DOCTYPE styleSheet [<!ENTITY a "b">]><styleSheet', 1)}),
        "a cell format past the list": _edited(content, {"xl/worksheets/sheet1.xml": re.sub(
            r'(<c r="E5")', r'\1 s="999"', sheet.replace('<c r="E5" s="', '<c r="E5" x="'))}),
        "a mark inside a merged range": merged.getvalue(),
        "a summary sheet already": _edited(content, {"xl/workbook.xml": _part(
            content, "xl/workbook.xml").replace('name="Saraksts"', f'name="{SUMMARY_SHEET}"')}),
        "cut XML": _edited(content, {"xl/worksheets/sheet1.xml": sheet[:len(sheet) // 2]}),
        "a macro-enabled workbook": _edited(content, {"[Content_Types].xml": _part(
            content, "[Content_Types].xml").replace("sheet.main+xml", "sheet.macroEnabled.main+xml")}),
    }


@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter"])
def test_a_package_the_edit_does_not_know_is_left_to_openpyxl(writer):
    content = write([list_sheet(members(3))], writer=writer)
    assert _edit(content, (5, 5), (9, 2), (5, 30)) is not None  # a cell, a row, a column to add
    assert _edit(_edited(content, {}), (5, 5)) is not None
    for what, unusual in _unusual(writer).items():
        assert _edit(unusual, (5, 5)) is None, what


def test_cells_added_for_marks_keep_the_sheet_in_order():
    content = write([list_sheet(members(3))], writer="xlsxwriter")
    copy = _edit(content, (5, 30), (40, 1), (2, 3))
    assert copy is not None
    sheet = openpyxl.load_workbook(io.BytesIO(copy))["Saraksts"]
    assert [sheet.cell(*at).fill.fgColor.rgb for at in ((5, 30), (40, 1), (2, 3))] == [
        "00FFC7CE"] * 3
    rows = re.findall(r'<row r="(\d+)"', _part(copy, "xl/worksheets/sheet1.xml"))
    assert rows == sorted(rows, key=int)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml",
                                  "[Content_Types].xml", "xl/_rels/workbook.xml.rels"])
def test_a_mangled_part_gives_a_copy_openpyxl_opens_or_none(part):
    content = write([list_sheet(members(3))], writer="xlsxwriter")
    text, chance = _part(content, part), random.Random(part)  # noqa: S311 - a seed, not a secret
    for _ in range(40):
        at = chance.randrange(len(text))
        mangled = _edited(content, {part: text[:at] + chance.choice('<>"/= a1') + text[at + 1:]})
        copy = _edit(mangled, (5, 5), (9, 2))
        if copy is None:
            continue
        try:
            openpyxl.load_workbook(io.BytesIO(mangled))
        except Exception:  # noqa: BLE001, S112 - openpyxl cannot open the source either
            continue
        assert openpyxl.load_workbook(io.BytesIO(copy)).sheetnames[0] == SUMMARY_SHEET


def _out_of_order(content: bytes) -> Decision:
    """Findings in the order rules find them: a whole-list one last, a warning between errors."""
    decision = decided(content, "saraksts.xlsx")
    found = (
        Finding(Severity.ERROR, "e", "Kļūda 7. rindā.", "Izlabojiet.", sheet="Saraksts", row=7,
                column=5, value="x"),
        Finding(Severity.WARNING, "w", "Pārbaudiet amatu.", sheet="Saraksts", row=6, column=4),
        Finding(Severity.ERROR, "e", "Kļūda 5. rindā.", sheet="Saraksts", row=5, column=2),
        Finding(Severity.ERROR, "i", "Iestāde nav atrasta.", sheet="Saraksts"),
    )
    return replace(decision, findings=found, groups=())


@pytest.mark.parametrize("path", ["package", "openpyxl"])
def test_notes_follow_the_sheet_and_carry_the_mail_s_numbers(path, monkeypatch):
    content = write([list_sheet(members(4))], writer="xlsxwriter")
    decision = _out_of_order(content)
    make = _without_load if path == "package" else _via_openpyxl
    book = openpyxl.load_workbook(io.BytesIO(make(content, decision, monkeypatch)))

    rows = list(book[SUMMARY_SHEET].iter_rows(min_row=4, values_only=True))
    numbered = number_findings(decision)
    assert [(row[0], row[3], row[5]) for row in rows] == [
        (1, "viss saraksts", "Iestāde nav atrasta."), (2, "B5", "Kļūda 5. rindā."),
        (3, "D6", "Pārbaudiet amatu."), (4, "E7", "Kļūda 7. rindā.")]
    assert [(row[0], row[5]) for row in rows] == [(n, f.message) for n, f in numbered]
    sheet = book["Saraksts"]
    assert sheet["B5"].comment.text.startswith("2. Kļūda: kļūda 5. rindā.")
    assert sheet["D6"].comment.text.startswith("3. Brīdinājums: pārbaudiet amatu.")
    assert sheet["E7"].comment.text == "4. Kļūda: kļūda 7. rindā.\n\nIzlabojiet."


def test_notes_print_one_page_wide_in_landscape_with_the_header_on_each_page(monkeypatch):
    content = _faulty("openpyxl")
    decision = decided(content, "saraksts.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(_without_load(content, decision, monkeypatch)))

    setup = _print_setup(book[SUMMARY_SHEET])
    assert setup["orientation"] == "landscape"
    assert setup["fit"] == (True, 1, 0)
    assert setup["titles"] == "$3:$3"
    assert all(height >= 30 for height in setup["heights"])  # type: ignore[attr-defined]
    assert sum(setup["widths"]) <= 170  # type: ignore[arg-type]
