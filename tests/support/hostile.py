"""Hostile files and mails, built in code: what the reader and the pipeline must survive."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.conftest import FILES, HEADER, make_workbook, person

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "xl/worksheets/sheet1.xml"


def rezip(content: bytes, changes: dict[str, Callable[[bytes], bytes]]) -> bytes:
    """The same package with some members rewritten (a member's name -> what to do to its bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            change = changes.get(item.filename)
            method = zipfile.ZIP_STORED if item.filename == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(item.filename, change(data) if change else data, compress_type=method)
    return buffer.getvalue()


def list_with_rows(extra: bytes) -> bytes:
    """A one-person list (openpyxl's .xlsx) with `extra` XML rows appended to its sheet."""
    return rezip(make_workbook([HEADER, person(1)]),
                 {SHEET: lambda xml: xml.replace(b"</sheetData>", extra + b"</sheetData>")})


def far_cell() -> bytes:
    """A1 … and XFD1048576: calamine would hold the whole sheet as one 17-billion-cell rectangle."""
    return list_with_rows(b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is>'
                          b"</c></row>")


def far_column() -> bytes:
    """A note in column XFD of row 200: read, the note beyond the columns a list has is ignored."""
    return list_with_rows(b'<row r="200"><c r="XFD200" t="inlineStr"><is><t>x</t></is></c></row>')


def unplaced_cells() -> bytes:
    """16,384 cells without references in row 1000: as far as XFD1000, with no `r=` to see it by."""
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
    return list_with_rows(b'<row r="1000">' + cell * 16_384 + b"</row>")


def long_sheet(rows: int, *, shared_strings: bool) -> bytes:
    """`rows` people under the header, written straight as XML (fast, unlike a spreadsheet library)."""
    content = make_workbook([HEADER])  # openpyxl writes its strings inline
    strings: dict[bytes, int] = {}
    body = []
    for n in range(2, rows + 2):
        texts = (b"Anna", b"Berzina%d" % n, b"skolotaja", b"d%d@skola.example.lv" % n)
        cells = [b'<c r="A%d"><v>%d</v></c>' % (n, n - 1)]
        for column, text in zip(b"BCDE", texts, strict=True):
            if shared_strings:
                index = strings.setdefault(text, len(strings))
                cells.append(b'<c r="%c%d" t="s"><v>%d</v></c>' % (column, n, index))
            else:
                cells.append(b'<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>' % (column, n, text))
        body.append(b'<row r="%d">%s</row>' % (n, b"".join(cells)))
    xml = b"".join(body)
    changes: dict[str, Callable[[bytes], bytes]] = {
        SHEET: lambda sheet: sheet.replace(b"</sheetData>", xml + b"</sheetData>")}
    if shared_strings:
        table = b"".join(b"<si><t>%s</t></si>" % text for text in strings)
        changes["xl/sharedStrings.xml"] = lambda _empty: (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
            % (len(strings), len(strings), table))
        content = _with_shared_strings_part(content)
    return rezip(content, changes)


def _with_shared_strings_part(content: bytes) -> bytes:
    """The package with an (empty) shared-strings part, declared where readers look for it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" '
                                    b'ContentType="application/vnd.openxmlformats-officedocument.'
                                    b'spreadsheetml.sharedStrings+xml"/></Types>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSst" Type="http://'
                                    b"schemas.openxmlformats.org/officeDocument/2006/relationships/"
                                    b'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            target.writestr(item.filename, data)
        target.writestr("xl/sharedStrings.xml", b"<sst/>")
    return buffer.getvalue()


def with_doctype(doctype: bytes) -> bytes:
    """A list whose sheet declares a DTD (entity expansion, XXE)."""
    def declare(xml: bytes) -> bytes:
        declaration, _, rest = xml.partition(b"?>")
        return declaration + b"?>" + doctype + rest
    return rezip(make_workbook([HEADER, person(1)]), {SHEET: declare})


BILLION_LAUGHS = (b'<!DOCTYPE worksheet [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b"]>")
XXE = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def encrypted() -> bytes:
    """What Excel writes for "Encrypt with password": an OLE container, not a zip."""
    return (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
            + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le"))


def flagged_encrypted() -> bytes:
    """A list whose styles part carries the zip "encrypted" flag (one flipped bit): zipfile then
    raises RuntimeError, which escaped the reader."""
    data = bytearray(make_workbook([HEADER, person(1)]))
    for signature, flags, name_length, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        at = data.find(signature)
        while at >= 0:
            length = int.from_bytes(data[at + name_length:at + name_length + 2], "little")
            if data[at + name_at:at + name_at + length] == b"xl/styles.xml":
                data[at + flags] |= 1
            at = data.find(signature, at + 1)
    return bytes(data)


def repeated_deflate(chunk: bytes, times: int) -> bytes:
    """A raw deflate stream of `chunk` repeated: each full flush empties the window, so every
    repetition compresses to the same bytes and a gigabyte costs a millisecond to build."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    assert again == block
    return block * times + packer.flush()


def raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand: (name, deflated bytes, the size it states, the CRC it states)."""
    body, directory = io.BytesIO(), io.BytesIO()
    for name, deflated, size, crc in members:
        encoded = name.encode()
        offset = body.tell()
        fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0, crc, len(deflated), size, len(encoded), 0)
        body.write(b"PK\x03\x04" + fields + encoded + deflated)
        directory.write(b"PK\x01\x02" + struct.pack("<H", 20) + fields
                        + struct.pack("<HHHII", 0, 0, 0, 0, offset) + encoded)
    count = len(members)
    end = struct.pack("<HHHHIIH", 0, 0, count, count, directory.tell(), body.tell(), 0)
    return body.getvalue() + directory.getvalue() + b"PK\x05\x06" + end


def _deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _package(sheet: tuple[bytes, int, int]) -> bytes:
    """A workbook package (the parts of openpyxl's) whose sheet is given already deflated."""
    with zipfile.ZipFile(io.BytesIO(make_workbook([HEADER, person(1)]))) as source:
        members = []
        for item in source.infolist():
            if item.filename == SHEET:
                members.append((SHEET, *sheet))
            else:
                data = source.read(item)
                members.append((item.filename, _deflated(data), len(data), zlib.crc32(data)))
    return raw_zip(members)


def zip_bomb() -> bytes:
    """A sheet of one gigabyte (the directory says so honestly) in one megabyte."""
    chunk = b"<row/>" * 174_763  # about 1 MiB
    return _package((repeated_deflate(chunk, 1024), len(chunk) * 1024, 0))


def lying_zip() -> bytes:
    """A sheet whose directory says 2,000 bytes (with their CRC) but whose stream inflates to
    300 MB: the directory checks pass, zipfile stops at the stated size, calamine would not."""
    chunk = b'<row r="2"><c r="A2"><v>1</v></c></row>' * 26_000  # about 1 MB
    head = make_workbook_sheet_head()
    stated = (head + chunk)[:2000]
    return _package((_deflated_prefix(head) + repeated_deflate(chunk, 300), len(stated),
                     zlib.crc32(stated)))


def make_workbook_sheet_head() -> bytes:
    with zipfile.ZipFile(io.BytesIO(make_workbook([HEADER, person(1)]))) as source:
        return source.read(SHEET).partition(b"</sheetData>")[0]


def _deflated_prefix(data: bytes) -> bytes:
    """`data` as non-final deflate blocks, so that another stream may follow it."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)


def damaged_xls() -> bytes:
    """LibreOffice's .xls with a header the fuzzer damaged (17 bytes of 0xFF, 188 of zeros over
    373): calamine sized a buffer from it, asked for 4 to 8 GB and aborted the process."""
    original = (FILES / "libreoffice-list.xls").read_bytes()
    return original[:39] + b"\xff" * 17 + bytes(188) + original[39 + 373:]


def damaged_dimensions_xls() -> bytes:
    """LibreOffice's .xls whose DIMENSIONS record says the sheet ends at row 1,827,471,431 (a
    fuzzed file said so): calamine reserved room for every cell of it and aborted."""
    data = bytearray((FILES / "libreoffice-list.xls").read_bytes())
    at = data.find(b"\x00\x02\x0e\x00")  # DIMENSIONS, 14 bytes: first row, last row + 1, columns
    data[at + 8:at + 12] = struct.pack("<I", 0x6CED0047)
    return bytes(data)


def far_xls() -> bytes:
    """LibreOffice's .xls with its last text cell moved to IV65536, the format's last cell: calamine
    held the sheet as a 65,536 x 256 rectangle, 1 GB."""
    data = bytearray((FILES / "libreoffice-list.xls").read_bytes())
    at = data.rfind(b"\xfd\x00\x0a\x00")  # the last LABELSST record: row, column, style, string
    data[at + 4:at + 8] = struct.pack("<HH", 65_535, 255)
    return bytes(data)


def far_ods() -> bytes:
    """LibreOffice's .ods with a value below a million repeated rows: calamine expands them."""
    rows = (b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell/>'
            b'</table:table-row><table:table-row><table:table-cell office:value-type="string">'
            b"<text:p>x</text:p></table:table-cell></table:table-row>")
    return rezip((FILES / "libreoffice-list.ods").read_bytes(),
                 {"content.xml": lambda xml: xml.replace(b"</table:table>", rows + b"</table:table>", 1)})


def far_xlsb(shared: Path) -> bytes:
    """A .xlsb of Excel's (from the corpus) with one more cell at XFD1048576."""
    def add_cell(sheet: bytes) -> bytes:
        def record(kind: int, payload: bytes) -> bytes:
            return bytes([kind, len(payload)]) + payload
        far = (record(0, struct.pack("<IIHHBI", 1_048_575, 0, 300, 0, 0, 0))
               + record(7, struct.pack("<IIi", 16_383, 0, 0)))
        end = sheet.index(b"\x92\x01\x00")  # BrtEndSheetData
        return sheet[:end] + far + sheet[end:]
    content = (shared / "corpus" / "sheets" / "xlsb" / "test_files" / "RkNumber.xlsb").read_bytes()
    return rezip(content, {"xl/worksheets/sheet1.bin": add_cell})


# --- mail ---------------------------------------------------------------------------------------

def attachment_part(name: str, content: bytes, content_type: str = XLSX) -> bytes:
    encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
    return (f"Content-Type: {content_type}\r\n"
            f"Content-Disposition: attachment; filename*=UTF-8''{name}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + encoded


def mail_head(sender: str, subject: str, number: int, to: str = "supervizija@ikvd.example.lv") -> bytes:
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <hostile-{number}@skola.example.lv>\r\n"
            "Date: Wed, 25 Nov 2026 09:00:00 +0200\r\nMIME-Version: 1.0\r\n").encode()


def many_parts(count: int, first: bytes) -> bytes:
    """A multipart/mixed mail of `count` text parts, after `first` (a part's bytes)."""
    parts = [b"--B\r\n" + first + b"\r\n"]
    parts += [b"--B\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % n for n in range(count)]
    return (mail_head("Anna <anna@skola.example.lv>", "Pieteikums", 1)
            + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + b"".join(parts) + b"--B--\r\n")


def nested(depth: int, innermost: bytes, number: int = 2) -> bytes:
    """A multipart tree `depth` levels deep with `innermost` (a part's bytes) at the bottom."""
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
                       for i in range(depth))
    closing = b"".join(b"\r\n--n%d--\r\n" % i for i in reversed(range(depth)))
    return (mail_head("Anna <anna@skola.example.lv>", "Pieteikums", number)
            + opening + innermost + closing)
