"""The blank participant list a school fills in: header, dropdowns, instructions in Latvian."""

from __future__ import annotations

import io
from functools import lru_cache

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from intake.core.programme import Programme
from intake.core.xlsx_parts import row_height
from intake.core.xlsx_print import set_print_setup

_HELP_WIDTH = (80,)  # one portrait A4 page wide even where fit-to-width is not applied

LIST_SHEET = "Saraksts"
HEADER_ROW = 4
INSTITUTION_CELL = "C2"  # where the school writes its name, right of the label in A2:B2
HEADERS = ("Nr.", "Vārds", "Uzvārds", "Amats", "Amata kategorija", "E-pasts", "Grupa")
CATEGORIES = ("pedagogs", "vadītājs")
ROWS = 40

_INSTRUCTIONS = (
    "Kā aizpildīt dalībnieku sarakstu",
    "",
    "1. Lapā «Saraksts» 2. rindā aiz vārdiem «Izglītības iestāde:» ierakstiet izglītības "
    "iestādes pilno nosaukumu (kā Valsts izglītības informācijas sistēmā) vai tās reģistrācijas "
    "numuru.",
    "2. Katru dalībnieku ierakstiet savā rindā: vārdu, uzvārdu, amatu un darba e-pasta adresi.",
    "3. Kolonnā «Amata kategorija» izvēlieties «vadītājs» (direktors, direktora vietnieks, "
    "metodiķis, pirmsskolas iestādes vadītājs) vai «pedagogs». Vadītāji un pedagogi supervīzijā "
    "nav vienā grupā.",
    "4. Kolonna «Grupa» nav obligāta. Ja to neaizpildāt, grupas (katrā ne vairāk kā {max} "
    "dalībnieku) izveidosim paši. Ja aizpildāt, ierakstiet grupas numuru katram dalībniekam.",
    "5. Personas kodus nenorādiet: supervīzijai tie nav vajadzīgi.",
    "6. Saglabājiet failu .xlsx formātā un nosūtiet to programmas e-pasta adresei, vēstules tematā "
    "norādot iestādes nosaukumu. Atbildi saņemsiet e-pastā.",
    "",
    "Programma: {title}",
)


def make_blank_list(programme: Programme) -> bytes:
    """The template as .xlsx bytes; filled in, it passes the reader and the rules. Made once per
    programme wording in a process (every rejection and every mail without a list carries it)."""
    return _blank_list(programme.title, programme.max_group_size,
                       (*programme.required_columns, *programme.optional_columns))


@lru_cache(maxsize=16)
def _blank_list(programme_title: str, max_group_size: int, own: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = LIST_SHEET
    sheet["A1"] = "Dalībnieku saraksts supervīzijai"
    sheet["A1"].font = Font(bold=True, size=14)
    # The label spans the narrow «Nr.» column and the next, so that all of it shows.
    sheet["A2"] = "Izglītības iestāde:"
    sheet["A2"].font = Font(bold=True)
    sheet["A2"].alignment = Alignment(vertical="center")
    sheet.merge_cells("A2:B2")
    sheet.merge_cells(f"{INSTITUTION_CELL}:F2")
    thin = Side(style="thin", color="999999")
    sheet[INSTITUTION_CELL].fill = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
    sheet.row_dimensions[2].height = 22
    for column, title in enumerate(HEADERS, start=1):
        cell = sheet.cell(HEADER_ROW, column, title)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
        cell.alignment = Alignment(horizontal="center")
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for column, title in enumerate(own, start=len(HEADERS) + 1):  # the programme's own columns
        cell = sheet.cell(HEADER_ROW, column, title)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        sheet.column_dimensions[get_column_letter(column)].width = 18
    for number in range(1, ROWS + 1):
        sheet.cell(HEADER_ROW + number, 1, number)
        for column in range(1, len(HEADERS) + 1):  # ruled, so that a printed copy can be filled in
            sheet.cell(HEADER_ROW + number, column).border = Border(
                top=thin, bottom=thin, left=thin, right=thin)
    first, last = HEADER_ROW + 1, HEADER_ROW + ROWS
    category = DataValidation(type="list", formula1=f'"{",".join(CATEGORIES)}"', allow_blank=True,
                              showErrorMessage=True, errorTitle="Amata kategorija",
                              error="Izvēlieties «pedagogs» vai «vadītājs».")
    category.add(f"E{first}:E{last}")
    groups = ",".join(str(n) for n in range(1, 21))
    group = DataValidation(type="list", formula1=f'"{groups}"', allow_blank=True,
                           showErrorMessage=True, errorTitle="Grupa",
                           error="Izvēlieties grupas numuru vai atstājiet tukšu.")
    group.add(f"G{first}:G{last}")
    sheet.add_data_validation(category)
    sheet.add_data_validation(group)
    for letter, width in zip("ABCDEFG", (5, 18, 22, 34, 18, 32, 8), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{first}"
    set_print_setup(sheet, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    sheet.print_area = f"A1:G{last}"
    help_sheet = book.create_sheet("Norādījumi")
    for row, line in enumerate(_INSTRUCTIONS, start=1):
        text = line.format(max=max_group_size, title=programme_title)
        cell = help_sheet.cell(row, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        # LibreOffice keeps the default height for wrapped text openpyxl wrote: the lines would
        # run over the next row.
        help_sheet.row_dimensions[row].height = row_height([text], _HELP_WIDTH) if text else 8
    help_sheet["A1"].font = Font(bold=True, size=13)
    help_sheet.row_dimensions[1].height = 22
    help_sheet.column_dimensions["A"].width = _HELP_WIDTH[0]
    set_print_setup(help_sheet, title_rows=None, landscape=False)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
