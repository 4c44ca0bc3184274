"""The parts of an .xlsx the annotated copy adds or extends: styles.xml's fills, fonts and cell
formats, and the «Piezīmes» sheet written as XML; with the helpers the package edit shares."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from defusedxml.ElementTree import fromstring
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.cell import get_column_letter

from intake.core.model import Severity

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# The «Piezīmes» sheet's columns (Nr., Veids, Lapa, Šūna, Atrastā vērtība, Kas nav kārtībā, Kā
# labot), in character widths: about 160 together, one landscape A4 page wide at about 85 %.
COLUMN_WIDTHS = (5, 12, 12, 9, 20, 50, 55)
HEADER_ROW = 3
LINE_HEIGHT = 15.0  # points: one line of 11-point text
# Print setup: landscape A4, one page wide and as many long as it takes, the header row on each.
PAGE_MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6, "header": 0.3, "footer": 0.3}
A4 = 9


def row_height(values: Sequence[object], widths: Sequence[float] = COLUMN_WIDTHS) -> float:
    """The height a row of wrapped text needs, set explicitly: LibreOffice does not grow a row
    for wrapped text that openpyxl wrote, and lets the lines overlap the next row instead."""
    lines = 1
    for value, width in zip(values, widths, strict=False):
        text = "" if value is None else str(value)
        per_line = max(int(width * 1.1) - 1, 1)  # the characters of average text a width holds
        lines = max(lines, sum(max(-(-len(part) // per_line), 1) for part in text.split("\n")))
    return lines * LINE_HEIGHT + 3


class Unusual(Exception):
    """The package has something this edit does not handle."""


@dataclass(frozen=True, slots=True)
class Summary:
    """The «Piezīmes» sheet: its title, the verdict, the header row and a row per finding."""

    title: str
    verdict: str
    headers: Sequence[str]
    rows: Sequence[tuple[Severity, Sequence[object]]]


def q(tag: str, namespace: str = MAIN) -> str:
    return f"{{{namespace}}}{tag}"


def xml_text(value: object) -> str:
    text = str(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        raise Unusual("a character XML cannot carry")
    return escape(text)


def insert_before(xml: str, closing: str, addition: str) -> str:
    at = xml.rfind(closing)
    if at < 0:
        raise Unusual(f"no {closing}")
    return xml[:at] + addition + xml[at:]


def set_count(xml: str, tag: str, count: int) -> str:
    return re.sub(rf'(<{tag}\b[^>]*?\bcount=")\d+(")', rf"\g<1>{count}\g<2>", xml, count=1)


class Styles:
    """styles.xml with the fills, fonts and cell formats the copy adds."""

    def __init__(self, xml: str, fills: Mapping[Severity, str]) -> None:
        self.xml = xml
        root = fromstring(xml)
        self.counts = {}
        for tag in ("fills", "fonts", "cellXfs"):
            element = root.find(q(tag))
            if element is None or not len(element):
                raise Unusual(f"no {tag}")
            self.counts[tag] = len(element)
        self.xfs = list(root.iterfind(f"{q('cellXfs')}/{q('xf')}"))
        self.added: dict[str, list[str]] = {"fills": [], "fonts": [], "cellXfs": []}
        self.fill = {severity: self.add("fills", (
            f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/>'
            f'<bgColor rgb="{rgb}"/></patternFill></fill>')) for severity, rgb in fills.items()}
        self.clones: dict[tuple[int, Severity], int] = {}

    def add(self, tag: str, xml: str) -> int:
        self.added[tag].append(xml)
        return self.counts[tag] + len(self.added[tag]) - 1

    def marked(self, style: int, severity: Severity) -> int:
        """The cell format `style` with the severity's fill."""
        if (style, severity) not in self.clones:
            original = self.xfs[style]
            if any(name.startswith("{") for name in original.attrib) or any(
                    child.tag not in (q("alignment"), q("protection")) or
                    any(name.startswith("{") for name in child.attrib) for child in original):
                raise Unusual("a cell format this edit does not copy")
            attributes = {**original.attrib, "fillId": str(self.fill[severity]), "applyFill": "1"}
            children = "".join(
                f"<{child.tag.split('}')[1]}" + "".join(
                    f" {k}={quoteattr(v)}" for k, v in child.attrib.items()) + "/>"
                for child in original)
            self.clones[style, severity] = self.add("cellXfs", "<xf" + "".join(
                f" {k}={quoteattr(v)}" for k, v in attributes.items()) + f">{children}</xf>")
        return self.clones[style, severity]

    def cell_format(self, *, font: str | None = None, fill: Severity | None = None,
                    wrap: bool = False) -> int:
        font_id = self.add("fonts", font) if font else 0
        fill_id = self.fill[fill] if fill else 0
        alignment = '<alignment vertical="top" wrapText="1"/>' if wrap else ""
        applied = "".join(f' apply{name}="1"' for name, used in (
            ("Font", font), ("Fill", fill), ("Alignment", wrap)) if used)
        return self.add("cellXfs", (
            f'<xf numFmtId="0" fontId="{font_id}" fillId="{fill_id}" borderId="0" xfId="0"'
            f"{applied}>{alignment}</xf>"))

    def finished(self) -> str:
        xml = self.xml
        for tag, added in self.added.items():
            xml = insert_before(xml, f"</{tag}>", "".join(added))
            xml = set_count(xml, tag, self.counts[tag] + len(added))
        root = fromstring(xml)
        for tag, added in self.added.items():
            element = root.find(q(tag))
            if element is None or len(element) != self.counts[tag] + len(added):
                raise Unusual(f"{tag} did not take the additions")
        return xml


def summary_sheet(summary: Summary, styles: Styles) -> str:
    title = styles.cell_format(font='<font><b/><sz val="13"/></font>')
    header = styles.cell_format(font="<font><b/></font>")
    plain = styles.cell_format(wrap=True)
    by_severity = {severity: styles.cell_format(fill=severity, wrap=True)
                   for severity in styles.fill}

    def cell(ref: str, value: object, style: int) -> str:
        if value is None or value == "":
            return f'<c r="{ref}" s="{style}"/>'
        if isinstance(value, int):
            return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'
        return (f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
                f"{xml_text(value)}</t></is></c>")

    rows = [f'<row r="1">{cell("A1", summary.verdict, title)}</row>',
            f'<row r="{HEADER_ROW}">' + "".join(
                cell(f"{get_column_letter(n)}{HEADER_ROW}", text, header)
                for n, text in enumerate(summary.headers, start=1)) + "</row>"]
    for number, (severity, values) in enumerate(summary.rows, start=HEADER_ROW + 1):
        rows.append(f'<row r="{number}" ht="{row_height(values)}" customHeight="1">' + "".join(
            cell(f"{get_column_letter(n)}{number}", value,
                 by_severity[severity] if n == 2 else plain)
            for n, value in enumerate(values, start=1)) + "</row>")
    columns = "".join(f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>'
                      for n, w in enumerate(COLUMN_WIDTHS, start=1))
    margins = "".join(f' {side}="{inches}"' for side, inches in PAGE_MARGINS.items())
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN}" xmlns:r="{R}">'
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><sheetViews><sheetView workbookViewId="0">'
            f'<pane ySplit="{HEADER_ROW}" topLeftCell="A{HEADER_ROW + 1}" activePane="bottomLeft" '
            f'state="frozen"/><selection pane="bottomLeft" activeCell="A{HEADER_ROW + 1}" '
            f'sqref="A{HEADER_ROW + 1}"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols>'
            f'<sheetData>{"".join(rows)}</sheetData>'
            '<printOptions gridLines="1"/>'
            f"<pageMargins{margins}/>"
            f'<pageSetup paperSize="{A4}" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
            "</worksheet>")


def print_titles(title: str) -> str:
    """The defined name that repeats the header row on each printed page of the sheet `title`."""
    quoted = title.replace("'", "''")
    return f"'{quoted}'!${HEADER_ROW}:${HEADER_ROW}"
