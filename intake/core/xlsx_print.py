"""How a workbook we write prints: A4, one page wide and as many long as it takes, the header
rows on each page; for openpyxl sheets (the package edit writes the same as XML, `xlsx_parts`)."""

from __future__ import annotations

from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from intake.core.xlsx_parts import A4, PAGE_MARGINS


def set_print_setup(sheet: Worksheet | WriteOnlyWorksheet, *, title_rows: str | None, landscape: bool = True,
                    grid: bool = False) -> None:
    """Fit to one page wide (fitToWidth=1, fitToHeight=0), `title_rows` ("4:4") on each page."""
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_margins = PageMargins(**PAGE_MARGINS)
    if grid:
        sheet.print_options.gridLines = True
    if title_rows:
        sheet.print_title_rows = title_rows
