"""The blank list is made once per programme wording and reused for every reply that carries it."""

from __future__ import annotations

import io
from dataclasses import replace

import openpyxl
import pytest
from openpyxl.utils.cell import get_column_letter

from intake.core.blank_list import HEADER_ROW, HEADERS, LIST_SHEET, make_blank_list
from intake.core.programme import Programme

PROGRAMME = Programme(name="national", title="Supervīzijas Latvijas pedagogiem")


def test_the_blank_list_is_made_once_per_programme():
    first = make_blank_list(PROGRAMME)
    assert make_blank_list(replace(PROGRAMME, name="other")) is first  # the same wording
    assert make_blank_list(replace(PROGRAMME, max_group_size=8)) != first
    assert make_blank_list(replace(PROGRAMME, title="Cita programma")) != first


def test_every_label_of_the_blank_list_is_visible():
    book = openpyxl.load_workbook(io.BytesIO(make_blank_list(PROGRAMME)))
    sheet = book[LIST_SHEET]

    label = next(r for r in sheet.merged_cells.ranges if r.coord.startswith("A2"))
    shown = sum(sheet.column_dimensions[get_column_letter(c)].width
                for c in range(label.min_col, label.max_col + 1))
    assert sheet["A2"].value == "Izglītības iestāde:"
    assert shown >= len("Izglītības iestāde:") * 1.1  # bold text is wider than the digits widths count
    for column, title in enumerate(HEADERS, start=1):
        assert sheet.column_dimensions[get_column_letter(column)].width >= len(title) * 1.1


@pytest.mark.parametrize("name", [LIST_SHEET, "Norādījumi"])
def test_the_blank_list_prints_one_page_wide(name):
    sheet = openpyxl.load_workbook(io.BytesIO(make_blank_list(PROGRAMME)))[name]

    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    if name == LIST_SHEET:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"


def test_the_instructions_rows_are_tall_enough_for_their_wrapped_text():
    sheet = openpyxl.load_workbook(io.BytesIO(make_blank_list(PROGRAMME)))["Norādījumi"]
    width = sheet.column_dimensions["A"].width

    for row in sheet.iter_rows(min_row=2):
        cell = row[0]
        if not cell.value:
            continue
        lines = -(-len(cell.value) // int(width * 1.1))  # average characters are narrower than digits
        assert cell.alignment.wrap_text
        assert sheet.row_dimensions[cell.row].height >= 14 * lines, cell.value


def test_the_blank_list_carries_the_programmes_own_columns():
    conference = Programme(name="conference", title="Reģionālā konference",
                           required_columns=("Reģions",), optional_columns=("Diena",))
    sheet = openpyxl.load_workbook(io.BytesIO(make_blank_list(conference)))["Saraksts"]
    header = [c.value for c in sheet[HEADER_ROW]]
    assert header[-2:] == ["Reģions", "Diena"]
