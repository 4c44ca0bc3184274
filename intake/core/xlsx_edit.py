"""The annotated copy made by editing the school's .xlsx package in place, without openpyxl's full
load and save: the marked cells get a style with the severity's fill, each sheet with marks gets a
comments part (with its VML drawing), and the «Piezīmes» sheet is added first and made active.

Only the parts that change are parsed and rewritten, as text, and each edit is checked by parsing
its result again. Whatever this does not know (a personal code or its header anywhere, a workbook
at another path, macros, existing comments, a mark inside a merged range, an edit that does not
check out) returns None, and the caller takes the openpyxl path.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, tostring
from xml.sax.saxutils import quoteattr

from defusedxml.ElementTree import fromstring
from openpyxl.comments.comment_sheet import CommentRecord, CommentSheet
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from intake.core.columns import recognise_header
from intake.core.latvian import PERSONAL_CODE
from intake.core.model import Field, Severity
from intake.core.xlsx_parts import (
    MAIN,
    R,
    Styles,
    Summary,
    Unusual,
    insert_before,
    print_titles,
    q,
    summary_sheet,
    xml_text,
)

_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_WORKSHEET_REL = f"{R}/worksheet"
# Elements the schema puts after <legacyDrawing> in a worksheet.
_AFTER_LEGACY_DRAWING = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                         "webPublishItems", "tableParts", "extLst")
_VALUES = (f"{{{MAIN}}}t", f"{{{MAIN}}}v", f"{{{MAIN}}}f")


@dataclass(frozen=True, slots=True)
class Mark:
    """A cell to mark: its severity (the fill) and its note (the comment)."""

    severity: Severity
    note: str


def edit_package(content: bytes, marks: Mapping[str, Mapping[tuple[int, int], Mark]],
                 summary: Summary, fills: Mapping[Severity, str], author: str) -> bytes | None:
    """The annotated .xlsx, or None when the package is anything this edit does not know."""
    try:
        return _Package(content).annotated(marks, summary, fills, author)
    except (Unusual, ParseError, KeyError, ValueError, IndexError, zipfile.BadZipFile,
            UnicodeDecodeError, AttributeError, TypeError, zlib.error, EOFError, RuntimeError,
            NotImplementedError):
        return None


def _resolve(base: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(
        posixpath.join(posixpath.dirname(base), target))


def _rels_path(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


class _Package:
    def __init__(self, content: bytes) -> None:
        self.archive = zipfile.ZipFile(io.BytesIO(content))
        self.names = set(self.archive.namelist())
        self.changed: dict[str, bytes] = {}
        self.new_types = ""

    def xml(self, name: str) -> str:
        return self.archive.read(name).decode("utf-8")

    def unused(self, pattern: str) -> str:
        number = 1
        while pattern.format(number) in self.names or pattern.format(number) in self.changed:
            number += 1
        return pattern.format(number)

    def annotated(self, marks: Mapping[str, Mapping[tuple[int, int], Mark]], summary: Summary,
                  fills: Mapping[Severity, str], author: str) -> bytes:
        types_xml = self.xml("[Content_Types].xml")
        types = fromstring(types_xml)
        overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(q("Override", _CT))}
        if overrides.get("/xl/workbook.xml") != _SHEET_MAIN or any(
                "macroEnabled" in (kind or "") or "vbaProject" in (kind or "")
                for kind in overrides.values()):
            raise Unusual("not a plain workbook")
        book_xml = self.xml("xl/workbook.xml")
        if f'xmlns:r="{R}"' not in book_xml:
            raise Unusual("relationships under another prefix")
        book = fromstring(book_xml)
        if book.tag != q("workbook") or len(self.names) != len(self.archive.namelist()):
            raise Unusual("not a transitional workbook, or a part twice")
        rels_xml = self.xml("xl/_rels/workbook.xml.rels")
        rels = {r.get("Id"): r for r in fromstring(rels_xml).iter(q("Relationship", _PR))}
        sheets: dict[str, str] = {}
        for sheet in book.iter(q("sheet")):
            rel = rels[sheet.get(q("id", R))]
            if rel.get("Type") == _WORKSHEET_REL:
                sheets[sheet.get("name", "")] = _resolve("xl/workbook.xml", rel.get("Target", ""))
        titles = [s.get("name", "").casefold() for s in book.iter(q("sheet"))]
        if summary.title.casefold() in titles:
            raise Unusual("the summary's title is taken")
        for rel in rels.values():
            if rel.get("Type", "").endswith("/sharedStrings"):
                self.refuse_personal_codes(
                    fromstring(self.xml(_resolve("xl/workbook.xml", rel.get("Target", "")))))
        trees = {name: fromstring(self.xml(path)) for name, path in sheets.items()}
        for tree in trees.values():
            self.refuse_personal_codes(tree)
        styles = Styles(self.xml("xl/styles.xml"), fills)
        for name, cells in marks.items():
            if cells:
                self.mark_sheet(sheets[name], trees[name], cells, styles, author)
        self.add_summary(summary, styles, book_xml, rels_xml)
        self.changed["xl/styles.xml"] = styles.finished().encode()
        return self.written()

    def refuse_personal_codes(self, tree: Element) -> None:
        """Any personal code, or a personal-code header, anywhere: masking is the openpyxl path's."""
        for element in tree.iter():
            text = element.text
            if element.tag in _VALUES and text and (PERSONAL_CODE.search(text) or (
                    element.tag == q("t") and recognise_header(text) is Field.PERSONAL_CODE)):
                raise Unusual("a personal code to mask")

    def mark_sheet(self, path: str, tree: Element, cells: Mapping[tuple[int, int], Mark],
                   styles: Styles, author: str) -> None:
        rels_path = _rels_path(path)
        if tree.tag != q("worksheet"):
            raise Unusual("not a worksheet")
        if tree.find(q("legacyDrawing")) is not None:
            raise Unusual("the sheet has comments already")
        for merged in tree.iter(q("mergeCell")):
            cell_range = CellRange(merged.get("ref", ""))
            for row, column in cells:
                if (row, column) in cell_range.cells and (row, column) != (
                        cell_range.min_row, cell_range.min_col):
                    raise Unusual("a mark inside a merged range")
        existing = {}
        for row_element in tree.iter(q("row")):
            for cell in row_element.iter(q("c")):
                if cell.get("r") is None:
                    raise Unusual("a cell without its reference")
                existing[cell.get("r")] = cell
        if any(row.get("r") is None for row in tree.iter(q("row"))):
            raise Unusual("a row without its number")
        xml = self.xml(path)
        wanted = {}
        for (row, column), mark in cells.items():
            ref = f"{get_column_letter(column)}{row}"
            old = existing.get(ref)
            style = styles.marked(int(old.get("s", "0")) if old is not None else 0, mark.severity)
            wanted[ref] = str(style)
            xml = _styled_cell(xml, ref, row, column, style, old is not None)
        comments = self.unused("xl/comments/annotation{}.xml")
        vml = self.unused("xl/drawings/annotationDrawing{}.vml")
        rels_xml = self.xml(rels_path) if rels_path in self.names else (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PR}">'
            "</Relationships>")
        relationships = list(fromstring(rels_xml).iter(q("Relationship", _PR)))
        taken = {r.get("Id") for r in relationships}
        if any(r.get("Type", "").endswith(("/comments", "/vmlDrawing")) for r in relationships):
            raise Unusual("the sheet has comments already")
        free = (f"rIdNote{n}" for n in range(1, 1000) if f"rIdNote{n}" not in taken)
        comments_id, vml_id = next(free), next(free)
        xml = _with_legacy_drawing(xml, tree, vml_id)
        _check_marked(xml, tree, wanted)
        self.changed[path] = xml.encode()
        self.changed[rels_path] = insert_before(rels_xml, "</Relationships>", (
            f'<Relationship Id="{comments_id}" Type="{R}/comments" Target="/{comments}"/>'
            f'<Relationship Id="{vml_id}" Type="{R}/vmlDrawing" Target="/{vml}"/>')).encode()
        records = []
        for (row, column), mark in sorted(cells.items()):
            record = CommentRecord(ref=f"{get_column_letter(column)}{row}", author=author,
                                   height=160, width=360)
            xml_text(mark.note)  # refuses what XML cannot carry, as openpyxl would
            record.text.t = mark.note
            records.append(record)
        sheet = CommentSheet.from_comments(records)
        self.changed[comments] = tostring(sheet.to_tree())
        self.changed[vml] = sheet.write_shapes(None)
        self.new_types += (
            f'<Override PartName="/{comments}" ContentType="{_COMMENTS}"/>'
            f'<Override PartName="/{vml}" ContentType="{_VML}"/>')

    def add_summary(self, summary: Summary, styles: Styles, book_xml: str, rels_xml: str) -> None:
        path = self.unused("xl/worksheets/annotation{}.xml")
        taken = {r.get("Id") for r in fromstring(rels_xml).iter(q("Relationship", _PR))}
        rel_id = next(f"rIdNotes{n}" for n in range(1, 99) if f"rIdNotes{n}" not in taken)
        ids = [int(n) for n in re.findall(r'<sheet\b[^>]*?\bsheetId="(\d+)"', book_xml)]
        sheet_id = max(ids, default=0) + 1
        opening = re.search(r"<sheets\s*>", book_xml)
        if opening is None:
            raise Unusual("no <sheets>")
        book_xml = (book_xml[:opening.end()] +
                    f"<sheet name={quoteattr(summary.title)} sheetId=\"{sheet_id}\" r:id=\"{rel_id}\"/>"
                    + book_xml[opening.end():])
        book_xml = re.sub(r'\blocalSheetId="(\d+)"',
                          lambda m: f'localSheetId="{int(m.group(1)) + 1}"', book_xml)
        book_xml = re.sub(r'\b(activeTab|firstSheet)="\d+"', r'\1="0"', book_xml)
        book_xml = _with_print_titles(book_xml, summary.title)
        checked = fromstring(book_xml)
        if [s.get("name") for s in checked.iter(q("sheet"))][:1] != [summary.title]:
            raise Unusual("the workbook did not take the sheet")
        self.changed["xl/workbook.xml"] = book_xml.encode()
        self.changed["xl/_rels/workbook.xml.rels"] = insert_before(
            rels_xml, "</Relationships>",
            f'<Relationship Id="{rel_id}" Type="{_WORKSHEET_REL}" Target="/{path}"/>').encode()
        self.changed[path] = summary_sheet(summary, styles).encode()
        types_xml = insert_before(self.xml("[Content_Types].xml"), "</Types>",
            self.new_types + f'<Override PartName="/{path}" ContentType="{_WORKSHEET}"/>')
        fromstring(types_xml)
        self.changed["[Content_Types].xml"] = types_xml.encode()

    def written(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for info in self.archive.infolist():
                data = self.changed.pop(info.filename, None)
                out.writestr(info.filename, data if data is not None else
                             self.archive.read(info.filename))
            for name, data in self.changed.items():
                out.writestr(name, data)
        return buffer.getvalue()


def _styled_cell(xml: str, ref: str, row: int, column: int, style: int, exists: bool) -> str:
    if exists:
        found = re.search(rf'<c\b[^>]*?\br="{ref}"[^>]*?(/?)>', xml)
        if found is None:
            raise Unusual("a cell not where its reference says")
        tag = re.sub(r'\ss="\d*"', "", found.group(0))
        tag = tag[:2] + f' s="{style}"' + tag[2:]
        return xml[:found.start()] + tag + xml[found.end():]
    new = f'<c r="{ref}" s="{style}"/>'
    found = re.search(rf'<row\b[^>]*?\br="{row}"[^>]*?(/?)>', xml)
    if found is not None and found.group(1):  # <row .../>: open it
        opened = found.group(0)[:-2] + ">" + new + "</row>"
        return xml[:found.start()] + opened + xml[found.end():]
    if found is not None:
        end = xml.find("</row>", found.end())
        if end < 0:
            raise Unusual("a row without its end")
        at = end
        for cell in re.finditer(r'<c\b[^>]*?\br="([A-Z]+)\d+"', xml[found.end():end]):
            if column_index_from_string(cell.group(1)) > column:
                at = found.end() + cell.start()
                break
        # The row's spans are a hint of its columns; one it no longer tells the truth of goes.
        row_tag = re.sub(r'\sspans="[^"]*"', "", found.group(0))
        return xml[:found.start()] + row_tag + xml[found.end():at] + new + xml[at:]
    later = (other.start() for other in re.finditer(r'<row\b[^>]*?\br="(\d+)"', xml)
             if int(other.group(1)) > row)
    at = next(later, xml.find("</sheetData>"))
    if at < 0:
        raise Unusual("no <sheetData> to add a row to")
    return xml[:at] + f'<row r="{row}">{new}</row>' + xml[at:]


def _with_print_titles(book_xml: str, title: str) -> str:
    """workbook.xml with the summary's header row repeated on each printed page (the summary is
    the first sheet: localSheetId 0)."""
    name = (f'<definedName name="_xlnm.Print_Titles" localSheetId="0">'
            f"{xml_text(print_titles(title))}</definedName>")
    if re.search(r"<definedNames\s*/>", book_xml):
        return re.sub(r"<definedNames\s*/>", f"<definedNames>{name}</definedNames>", book_xml,
                      count=1)
    opening = re.search(r"<definedNames\s*>", book_xml)
    if opening is not None:
        return book_xml[:opening.end()] + name + book_xml[opening.end():]
    if re.search(r"<(functionGroups|externalReferences)\b", book_xml):
        raise Unusual("the defined names would go after parts this edit does not place")
    at = book_xml.find("</sheets>")
    if at < 0:
        raise Unusual("no </sheets>")
    at += len("</sheets>")
    return f"{book_xml[:at]}<definedNames>{name}</definedNames>{book_xml[at:]}"


def _with_legacy_drawing(xml: str, tree: Element, rel_id: str) -> str:
    root = re.search(r"<worksheet\b[^>]*>", xml)
    declared = root is not None and f'xmlns:r="{R}"' in root.group(0)
    element = f'<legacyDrawing{"" if declared else f" xmlns:r={quoteattr(R)}"} r:id="{rel_id}"/>'
    after = [child.tag.split("}")[-1] for child in tree
             if child.tag.split("}")[-1] in _AFTER_LEGACY_DRAWING]
    if not after:
        return insert_before(xml, "</worksheet>", element)
    first = after[0]
    at = xml.rfind(f"<{first}") if first == "extLst" else xml.find(f"<{first}")
    if at < 0:
        raise Unusual("the worksheet's elements are not where its tree says")
    return xml[:at] + element + xml[at:]


def _check_marked(xml: str, before: Element, wanted: Mapping[str, str]) -> None:
    """The edited sheet parses, its values are the original's, the marked cells carry their
    styles and the drawing stands before what the schema puts after it."""
    after = fromstring(xml)
    def values(tree: Element) -> dict[str | None, tuple[object, ...]]:
        return {c.get("r"): (c.get("t"), *((e.tag, e.text, e.tail, sorted(e.attrib.items()))
                                           for e in c.iter() if e is not c))
                for c in tree.iter(q("c"))}

    old, new = values(before), values(after)
    if {ref: v for ref, v in new.items() if ref not in old or v != old[ref]} != {
            ref: (None,) for ref in wanted if ref not in old}:
        raise Unusual("the edit changed a value")
    styles = {c.get("r"): c.get("s") for c in after.iter(q("c"))}
    if any(styles.get(ref) != style for ref, style in wanted.items()):
        raise Unusual("the edit missed a cell")
    order = [child.tag.split("}")[-1] for child in after]
    at = order.index("legacyDrawing")
    if order.count("legacyDrawing") != 1 or [c.tag.split("}")[-1] for c in before] != \
            order[:at] + order[at + 1:] or any(t in _AFTER_LEGACY_DRAWING for t in order[:at]) or \
            any(t not in _AFTER_LEGACY_DRAWING for t in order[at + 1:]):
        raise Unusual("the drawing is out of the schema's order")
