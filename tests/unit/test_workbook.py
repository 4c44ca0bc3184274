"""The reader: finding the list in what schools really send, cell by cell."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
import xlsxwriter

from intake.core.formats import Limits
from intake.core.model import Field, Severity
from intake.core.workbook import read_participant_list
from tests.conftest import FILES, HEADER, make_workbook, person, personal_code


def read(content: bytes, name: str = "saraksts.xlsx", limits: Limits | None = None):
    return read_participant_list(content, name, limits=limits or Limits())


def codes(plist) -> list[str]:
    return [f.code for f in plist.findings]


def test_finds_header_below_title_and_institution_line():
    content = make_workbook([
        ("Dalībnieku saraksts supervīzijai",),
        ("Izglītības iestāde: Rīgas 12. vidusskola",),
        (),
        HEADER,
        person(1),
    ])
    plist = read(content)
    assert plist.sheet == "Saraksts"
    assert plist.institution is not None
    assert (plist.institution.text, plist.institution.row) == ("Rīgas 12. vidusskola", 2)
    assert [r.row for r in plist.rows] == [5]
    assert plist.rows[0].values[Field.EMAIL].column == 5


def test_takes_institution_from_the_cell_beside_its_label():
    plist = read(make_workbook([("Izglītības iestāde:", "Ogres tehnikums"), HEADER, person(1)]))
    assert plist.institution is not None and plist.institution.text == "Ogres tehnikums"


@pytest.mark.parametrize(("header", "field"), [
    ("Vārds", Field.FIRST_NAME), ("VARDS", Field.FIRST_NAME), ("  vārds ", Field.FIRST_NAME),
    ("First name", Field.FIRST_NAME), ("Uzvārds", Field.LAST_NAME), ("Surname", Field.LAST_NAME),
    ("Vārds, uzvārds", Field.FULL_NAME), ("VĀRDS UN UZVĀRDS", Field.FULL_NAME),
    ("Name", Field.FULL_NAME), ("Uzvārds, vārds", Field.FULL_NAME_REVERSED),
    ("Amats", Field.POSITION), ("Ieņemamais amats", Field.POSITION), ("Position", Field.POSITION),
    ("E-pasts", Field.EMAIL), ("e-pasta adrese (darba)", Field.EMAIL), ("Email", Field.EMAIL),
    ("Grupa", Field.GROUP), ("Amata kategorija", Field.CATEGORY),
    ("Personas kods", Field.PERSONAL_CODE), ("Nr.p.k.", Field.NUMBER),
    ("Given name", Field.FIRST_NAME), ("Last name", Field.LAST_NAME), ("Family name", Field.LAST_NAME),
    ("Full name", Field.FULL_NAME), ("Surname, name", Field.FULL_NAME_REVERSED),
    ("Job title", Field.POSITION), ("Role", Field.POSITION), ("E-mail", Field.EMAIL),
    ("Email address", Field.EMAIL), ("Group", Field.GROUP), ("No.", Field.NUMBER), ("Nr", Field.NUMBER),
    ("Pers. kods", Field.PERSONAL_CODE), ("Personal code", Field.PERSONAL_CODE),
    ("VĀRDS", Field.FIRST_NAME), ("Vards", Field.FIRST_NAME), ("E-pasts", Field.EMAIL),
])
def test_recognises_header_synonyms(header, field):
    columns = {"first": ("Vārds", "Uzvārds")}  # a name column keeps the row a header candidate
    row = [header, "Vārds, uzvārds" if field is not Field.FULL_NAME else "Amats", "E-pasts"]
    plist = read(make_workbook([row, ("x", "Anna Bērziņa", "a@skola.example.lv")]))
    assert columns and plist.columns[0].field is field


def test_skips_blank_and_numbering_only_rows():
    plist = read(make_workbook([HEADER, person(1), (), (2,), ("3.",), person(4)]))
    assert [r.row for r in plist.rows] == [2, 6]


@pytest.mark.parametrize("footer", [
    [(None, "Direktore ____________ I. Kalniņa")],
    [(None, "Direktore", "____", "I. Kalniņa")],
    [(None, "Sagatavoja: J. Ozola, tālr. 67000000")],
    [("12.03.2026",)],
    [(None, "Datums:", "2026-03-12")],
])
def test_lines_under_the_list_are_neither_participants_nor_errors(footer):
    plist = read(make_workbook([HEADER, person(1), person(2), (), *footer]))
    assert [r.row for r in plist.rows] == [2, 3]
    assert plist.findings == ()


def test_a_participant_whose_position_is_director_is_not_a_footer():
    plist = read(make_workbook([HEADER, (1, "Ilze", "Kalniņa", "Direktore")]))
    assert [r.row for r in plist.rows] == [2]


def test_chooses_the_list_sheet_even_when_it_is_not_first():
    content = make_workbook([("Norādījumi",), ("Aizpildiet sarakstu",)],
                            extra_sheets=[("Dalībnieki", [HEADER, person(1)], "visible")])
    assert read(content).sheet == "Dalībnieki"


def test_skips_a_hidden_sheet_that_is_not_the_list():
    content = make_workbook([HEADER, person(1)], title="Saraksts",
                            extra_sheets=[("Vecais", [HEADER, person(1), person(2)], "hidden")])
    plist = read(content)
    assert plist.sheet == "Saraksts" and len(plist.rows) == 1


def test_reads_a_hidden_sheet_when_no_visible_sheet_holds_a_list():
    content = make_workbook([("Paldies!",)], title="Sveiciens",
                            extra_sheets=[("Saraksts", [HEADER, person(1)], "hidden")])
    assert read(content).sheet == "Saraksts"


def test_values_are_trimmed_and_nfc_normalised():
    decomposed = "Be\u0304rzin\u0327a"  # "Bērziņa" with combining marks
    plist = read(make_workbook([HEADER, (1, "  Anna  ", decomposed, "skolotāja", " a@b.lv ")]))
    values = plist.rows[0].values
    assert values[Field.FIRST_NAME].text == "Anna"
    assert values[Field.LAST_NAME].text == "Bērziņa"


def test_personal_codes_are_detected_and_never_kept():
    code = personal_code(date(1985, 4, 12))
    plist = read(make_workbook([(*HEADER, "Personas kods"), (*person(1), code)]))
    warning = next(f for f in plist.findings if f.code == "personal-code.present")
    assert warning.severity is Severity.WARNING and warning.column == 6
    assert code not in repr(plist)


def test_personal_code_typed_into_a_name_cell_is_masked():
    code = personal_code(date(1990, 1, 31))
    plist = read(make_workbook([HEADER, (1, "Anna", f"Bērziņa {code}", "skolotāja", "a@b.lv")]))
    assert code not in repr(plist)
    assert "******-*****" in plist.rows[0].values[Field.LAST_NAME].text


def test_formula_without_cached_value_is_a_finding_at_its_cell():
    # openpyxl writes formulas without computed values, as some generators do.
    plist = read(make_workbook([HEADER, (1, "Anna", "=UPPER(\"bērziņa\")", "skolotāja", "a@b.lv")]))
    finding = next(f for f in plist.findings if f.code == "cell.formula-without-value")
    assert (finding.cell, finding.value) == ("C2", '=UPPER("bērziņa")')


def test_formula_with_cached_value_uses_the_value(tmp_path):
    path = tmp_path / "xlsxwriter.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Saraksts")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, person(1))
    sheet.write_formula(2, 0, "=A2+1", None, 2)
    sheet.write_row(2, 1, ("Jānis", "Ozols", "skolotājs", "janis@skola.example.lv"))
    book.close()
    plist = read(path.read_bytes())
    assert [r.row for r in plist.rows] == [2, 3] and plist.findings == ()


def test_reads_xlsxwriter_inline_and_shared_strings(tmp_path):
    path = tmp_path / "constant.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})  # inline strings, streamed
    sheet = book.add_worksheet("Dalībnieki")
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, (1, "Līga", "Vīķe-Freiberga", "skolotāja", "liga@skola.example.lv"))
    book.close()
    plist = read(path.read_bytes())
    assert plist.rows[0].values[Field.LAST_NAME].text == "Vīķe-Freiberga"


@pytest.mark.parametrize("name", ["libreoffice-list.xlsx", "libreoffice-list.ods",
                                  "libreoffice-list.xls"])
def test_reads_lists_saved_by_libreoffice(name):
    plist = read((FILES / name).read_bytes(), name)
    assert plist.sheet == "Dalībnieki"
    assert plist.institution is not None
    assert plist.institution.text == "Liepājas Raiņa 6. vidusskola"
    assert plist.column_for(Field.FULL_NAME) is not None
    assert [r.row for r in plist.rows] == [5, 6, 7, 8, 9, 10]
    assert plist.findings == ()


def test_reads_csv_in_windows_1257():
    text = "Vārds;Uzvārds;Amats;E-pasts\r\nAnna;Bērziņa;skolotāja;anna@skola.example.lv\r\n"
    plist = read(text.encode("cp1257"), "saraksts.csv")
    assert plist.rows[0].values[Field.LAST_NAME].text == "Bērziņa"


@pytest.mark.parametrize(("content", "name", "code"), [
    (b"", "tukss.xlsx", "file.empty"),
    (b"%PDF-1.7\n...", "saraksts.pdf", "file.pdf"),
    (b"\x89PNG\r\n\x1a\n....", "foto.png", "file.image"),
    (b"\xff\xd8\xff\xe0....", "foto.jpg", "file.image"),
    (b"PK\x03\x04garbage", "bojats.xlsx", "file.corrupt"),
    (b"just some bytes", "kas.bin", "file.unknown-format"),
])
def test_refuses_what_is_not_a_spreadsheet_precisely(content, name, code):
    plist = read(content, name)
    assert codes(plist) == [code]
    assert plist.findings[0].hint


def test_refuses_a_word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    assert codes(read(buffer.getvalue(), "saraksts.docx")) == ["file.word"]


def test_refuses_an_encrypted_workbook_from_its_container():
    # An encrypted .xlsx is an OLE compound file carrying these streams, not a zip.
    content = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
               + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le"))
    assert codes(read(content)) == ["file.encrypted"]


def test_refuses_a_zip_bomb_before_unpacking_it():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    assert codes(read(buffer.getvalue())) == ["file.too-large-unpacked"]


def test_refuses_a_file_over_the_size_limit_unopened():
    plist = read(b"PK\x03\x04" + b"\0" * 2048, limits=Limits(max_file_bytes=1024))
    assert codes(plist) == ["file.too-large"]


def test_refuses_a_sheet_with_more_rows_than_any_list(tmp_path):
    path = tmp_path / "big.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Saraksts")
    sheet.write_row(0, 0, HEADER)
    for row in range(1, 3_000):
        sheet.write_row(row, 0, person(row))
    book.close()
    plist = read(path.read_bytes())
    assert codes(plist) == ["list.too-many-rows"]
    assert not plist.is_readable


def test_header_not_found_is_one_clear_finding():
    plist = read(make_workbook([("Sveiki!",), ("Mēs gribam pieteikties",)]))
    assert codes(plist) == ["list.header-not-found"]
    assert "«Vārds»" in plist.findings[0].message


@pytest.mark.parametrize("doctype", [
    # billion laughs, cut short: the refusal does not depend on the depth
    '<!DOCTYPE worksheet [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>',
    # external entity (XXE)
    '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
])
def test_xml_entity_declarations_are_refused_unparsed(doctype):
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_workbook([HEADER, person(1)]))) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                declaration, _, rest = data.partition(b"?>")
                data = declaration + b"?>" + doctype.encode() + rest
            target.writestr(item, data)
    assert codes(read(buffer.getvalue())) == ["file.xml-entities"]


def test_a_csv_field_longer_than_the_csv_module_allows_is_a_finding():
    text = "Vārds;Uzvārds;Amats;E-pasts\r\nAnna;" + "x" * 200_000 + ";skolotāja;a@b.lv\r\n"
    assert codes(read(text.encode(), "saraksts.csv")) == ["file.corrupt"]


def test_a_subheading_across_the_table_is_not_a_participant():
    plist = read(make_workbook([HEADER, (None, "Vadītāji"), person(1, "direktore"),
                                (None, "Pedagogi"), person(2)]))
    assert [r.row for r in plist.rows] == [3, 5]
    assert plist.findings == ()
