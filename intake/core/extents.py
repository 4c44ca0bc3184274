"""How far a workbook's cells reach, measured from the file's own records (worksheet XML, .xlsb
records, ODS content, an .xls compound file) before any reader opens it: `formats` refuses, or hands
to openpyxl, a sheet too large to hold as one rectangle and a file whose stated sizes cannot be true."""

from __future__ import annotations

import io
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from xml.etree.ElementTree import ParseError, iterparse

# calamine holds a sheet as one dense rectangle from A1 to its farthest cell: two cells, at A1 and
# XFD1048576, make it ask for 512 GB and abort the process. Such an .xlsx (and one whose cells carry
# no reference) is read by openpyxl, which stops at the limits. Only a sheet with a cell at row
# 10,000 or beyond, or in column CA or beyond, is measured exactly.
_FAR_CELL = re.compile(rb'\sr="(?:[A-Z]{0,3}[0-9]{5}|[A-Z]{3}|[C-Z][A-Z])')
_UNPLACED_CELL = re.compile(rb'<(?:\w+:)?(?:c|row)(?=[\s/>])(?![^>]*\sr=")')
# Rows x columns up to a sheet's farthest cell (64 MB for calamine): more is read by openpyxl (.xlsx)
# or refused (.xlsb, .ods). A list's sheet is 2,000 x 60 at most.
MAX_CELLS = 2_000_000
_ROW_NUMBER = re.compile(rb'\sr="[A-Z]{0,3}([0-9]{1,7})"')
_COLUMN_LETTERS = re.compile(rb'\sr="([A-Z]{1,3})[0-9]')
# What zipfile raises on a damaged archive or member, whichever compression method it names.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, ValueError, EOFError,
              NotImplementedError, RuntimeError)  # RuntimeError: a member flagged encrypted


def read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo | str) -> bytes | None:
    try:
        return archive.read(member)
    except ZIP_ERRORS:
        return None


def has_far_cells(sheet: bytes) -> bool:
    if _UNPLACED_CELL.search(sheet):
        return True
    if not _FAR_CELL.search(sheet):
        return False
    rows = max(map(int, _ROW_NUMBER.findall(sheet)), default=0)
    columns = max(map(_column_number, set(_COLUMN_LETTERS.findall(sheet))), default=0)
    return rows * columns > MAX_CELLS


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


# .xlsb records: BrtRowHdr (0) starts with its row; cell records (1-11) start with their column.
_XLSB_ROW, _XLSB_CELLS = 0, range(1, 12)


def xlsb_extent(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> tuple[int, int]:
    """(rows, columns) up to the farthest cell of the largest worksheet, from its records."""
    worst = (0, 0)
    for member in members:
        if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".bin")):
            continue
        data = read_member(archive, member) or b""
        row = rows = columns = position = 0
        while position < len(data):
            kind, position = _varint(data, position, 2)
            size, position = _varint(data, position, 4)
            if kind == _XLSB_ROW and size >= 4:
                row = int.from_bytes(data[position:position + 4], "little") + 1
            elif kind in _XLSB_CELLS and size >= 4:
                rows = max(rows, row)
                columns = max(columns, int.from_bytes(data[position:position + 4], "little") + 1)
            position += size
        worst = max(worst, (rows, columns), key=lambda extent: extent[0] * extent[1])
    return worst


def _varint(data: bytes, position: int, most: int) -> tuple[int, int]:
    value = 0
    for shift in range(most):
        byte = data[position] if position < len(data) else 0
        position += 1
        value |= (byte & 0x7F) << (7 * shift)
        if not byte & 0x80:
            break
    return value, position


_ODS = "{urn:oasis:names:tc:opendocument:xmlns:%s:1.0}"
_ODS_TABLE, _ODS_ROW = _ODS % "table" + "table", _ODS % "table" + "table-row"
_ODS_CELLS = (_ODS % "table" + "table-cell", _ODS % "table" + "covered-table-cell")
_ODS_ROWS_REPEATED, _ODS_COLUMNS_REPEATED = (_ODS % "table" + "number-rows-repeated",
                                             _ODS % "table" + "number-columns-repeated")
_ODS_VALUE_TYPE = _ODS % "office" + "value-type"


def ods_extent(archive: zipfile.ZipFile) -> tuple[int, int]:
    """(rows, columns) up to the farthest cell holding a value, in the largest sheet of
    content.xml: a row or cell repeated a million times is one element."""
    names = archive.namelist()
    content = read_member(archive, "content.xml") if "content.xml" in names else None
    worst = (0, 0)
    if content is None:
        return worst  # the reader reports the damage
    rows = columns = row = 0
    try:
        # Safe with the stdlib: a part declaring a DTD was refused before (no entities to expand).
        for event, element in iterparse(io.BytesIO(content), events=("start", "end")):  # noqa: S314
            if element.tag == _ODS_TABLE:
                if event == "start":
                    rows = columns = row = 0
                else:
                    worst = max(worst, (rows, columns), key=lambda extent: extent[0] * extent[1])
            elif element.tag == _ODS_ROW and event == "end":
                column = last = 0
                for cell in element:
                    if cell.tag in _ODS_CELLS:
                        column += _repeated(cell.get(_ODS_COLUMNS_REPEATED))
                        if cell.get(_ODS_VALUE_TYPE) or len(cell):
                            last = column
                row += _repeated(element.get(_ODS_ROWS_REPEATED))
                if last:
                    rows, columns = row, max(columns, last)
                element.clear()
    except ParseError:  # the reader reports the damage; what was read so far still counts
        return max(worst, (rows, columns), key=lambda extent: extent[0] * extent[1])
    return worst


def _repeated(value: str | None) -> int:
    # Nine digits are enough to know a repeat is absurd; a thousand would be slow to convert.
    return int(value[:9]) if value and value.isascii() and value.isdigit() else 1


_SPECIAL_SECTOR = 0xFFFFFFFA  # and above: end of chain, free, FAT or DIFAT sector


def compound_file(content: bytes) -> tuple[list[int], list[bytes]] | None:
    """The FAT and the directory's sectors of an OLE compound file, or None when it does not fit.

    calamine trusts its sector numbers and sizes: one past the end makes it grow a buffer to that
    offset (a damaged .xls asked for 8 GB and aborted the process, or was killed for memory).
    Every sector a header, DIFAT, FAT or directory names, and every stream size, must lie within
    the file; the tables are small (a 10 MB file has 20,000 sectors)."""
    if len(content) < 512:
        return None
    shift = int.from_bytes(content[30:32], "little")
    if shift not in (9, 12):
        return None
    size = 1 << shift
    count = (len(content) - 1) // size  # sectors after the header's

    def sector(number: int) -> list[int]:
        data = content[(number + 1) * size:(number + 2) * size]
        return list(struct.unpack(f"<{len(data) // 4}I", data[:len(data) // 4 * 4]))

    def fits(numbers: Iterable[int]) -> bool:
        return all(n < count or n >= _SPECIAL_SECTOR for n in numbers)

    (dir_len, fat_len, dir_start, _, _, minifat_start, minifat_len, difat_start,
     difat_len) = struct.unpack_from("<9I", content, 40)
    if max(dir_len, fat_len, minifat_len, difat_len) > count or not fits(
            (dir_start, minifat_start, difat_start)):
        return None
    difat = list(struct.unpack_from("<109I", content, 76))
    following = difat_start
    for _ in range(difat_len):
        if following >= count:
            break
        block = sector(following) or [_SPECIAL_SECTOR]
        difat, following = difat + block[:-1], block[-1]
    if not fits(difat):
        return None
    fat = [n for number in difat if number < count for n in sector(number)]
    if not fits(fat):
        return None
    following, entries = dir_start, []
    for _ in range(count):  # a chain never visits more sectors than the file has
        if following >= min(count, len(fat)):
            break
        entries.append(content[(following + 1) * size:(following + 2) * size])
        following = fat[following]
    wide = shift == 12  # version 4 stores 64-bit stream sizes
    # A stream starts at a sector or, when small, at a 64-byte mini sector: either lies in the file.
    fits_in_file = all(
        int.from_bytes(block[at + 120:at + (128 if wide else 124)], "little") <= len(content)
        and not len(content) // 64 <= int.from_bytes(block[at + 116:at + 120], "little")
        < _SPECIAL_SECTOR
        for block in entries for at in range(0, len(block) - 127, 128))
    return (fat, entries) if fits_in_file else None


# BIFF cell records (FORMULA, MULRK, RSTRING, LABELSST, NUMBER, LABEL, BOOLERR, RK): row, column
# first; MULRK ends with its last column. BOF starts each sheet's records.
_XLS_CELLS = frozenset({0x06, 0xBD, 0xD6, 0xFD, 0x203, 0x204, 0x205, 0x27E})
_XLS_MULRK, _XLS_BOF, _XLS_FILEPASS = 0xBD, 0x809, 0x2F  # FILEPASS: the rest is encrypted
_XLS_DIMENSIONS, _XLS_SST = 0x200, 0xFC


def xls_extent(content: bytes, fat: list[int], directory: list[bytes]) -> tuple[int, int] | None:
    """(rows, columns) up to the farthest cell of the largest sheet of an .xls, from the cell
    records of its Workbook stream: 65,536 x 256 held as one rectangle took calamine 1 GB. None
    when a count calamine sizes a buffer by cannot be true: a DIMENSIONS record ending before it
    starts or past the format's 65,536 x 256 (a damaged one asked for 8 PB and aborted), a string
    table promising more strings than the stream has bytes for."""
    size = 1 << int.from_bytes(content[30:32], "little")
    entries = [block[at:at + 128] for block in directory for at in range(0, len(block) - 127, 128)]

    def chain(first: int, table: list[int], read: Callable[[int], bytes]) -> bytes:
        parts, number = [], first
        for _ in range(len(table)):  # a chain never has more links than its table
            if number >= len(table):
                break
            parts.append(read(number))
            number = table[number]
        return b"".join(parts)

    def regular(number: int) -> bytes:
        return content[(number + 1) * size:(number + 2) * size]

    def named(entry: bytes) -> str:
        return entry[:min(int.from_bytes(entry[64:66], "little"), 64)].decode("utf-16-le", "replace")

    book = next((e for e in entries if named(e).rstrip("\0") in ("Workbook", "Book")), None)
    if book is None:
        return 0, 0  # the reader reports it
    start, length = int.from_bytes(book[116:120], "little"), int.from_bytes(book[120:124], "little")
    if length >= int.from_bytes(content[56:60], "little"):  # the mini stream's cutoff, 4096
        data = chain(start, fat, regular)[:length]
    else:
        mini = chain(int.from_bytes(entries[0][116:120], "little"), fat, regular)
        table = chain(int.from_bytes(content[60:64], "little"), fat, regular)
        minifat = list(struct.unpack(f"<{len(table) // 4}I", table[:len(table) // 4 * 4]))
        data = chain(start, minifat, lambda number: mini[number * 64:(number + 1) * 64])[:length]
    worst: tuple[int, int] = (0, 0)
    rows = columns = position = 0
    while position + 4 <= len(data):
        kind, body = struct.unpack_from("<HH", data, position)
        position += 4
        if kind == _XLS_FILEPASS:
            break  # calamine reports the password
        if kind == _XLS_BOF:
            worst, rows, columns = max(worst, (rows, columns), key=lambda e: e[0] * e[1]), 0, 0
        elif kind == _XLS_DIMENSIONS and body in (10, 14) and position + body <= len(data):
            wide = body == 14  # BIFF8: 32-bit rows
            first_row, last_row = struct.unpack_from("<II" if wide else "<HH", data, position)
            first_column, last_column = struct.unpack_from("<HH", data, position + (8 if wide else 4))
            if last_row and last_column and (first_row >= last_row or first_column >= last_column
                                             or last_row > 65_536 or last_column > 256):
                return None
        elif kind == _XLS_SST and body >= 8 and position + 8 <= len(data):
            if not 0 <= int.from_bytes(data[position + 4:position + 8], "little", signed=True) \
                    <= len(data) // 3:
                return None
        elif kind in _XLS_CELLS and body >= 4 and position + body <= len(data):
            row, column = struct.unpack_from("<HH", data, position)
            if kind == _XLS_MULRK and body >= 6:
                column = int.from_bytes(data[position + body - 2:position + body], "little")
            rows, columns = max(rows, row + 1), max(columns, column + 1)
        position += body
    return max(worst, (rows, columns), key=lambda extent: extent[0] * extent[1])
