"""Recognises a file's format from its bytes and refuses what must not be opened (bombs, encryption)."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from enum import StrEnum

from intake.core.extents import (
    MAX_CELLS,
    ZIP_ERRORS,
    compound_file,
    has_far_cells,
    ods_extent,
    read_member,
    xls_extent,
    xlsb_extent,
)
from intake.core.model import Finding, Severity, column_letters

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# An encrypted OOXML file is an OLE container whose directory names these streams (UTF-16LE).
_ENCRYPTED_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)

SAVE_AS_XLSX = (
    "Lūdzu, atveriet failu Excel vai LibreOffice Calc, izvēlieties «Saglabāt kā» "
    "(«Save As»), faila tipu «Excel darbgrāmata (*.xlsx)» un nosūtiet saglabāto failu."
)


class Format(StrEnum):
    XLSX = "xlsx"  # also .xlsm: read as data, macros never run
    XLSB = "xlsb"
    ODS = "ods"
    XLS = "xls"
    CSV = "csv"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep a hostile file from costing more than a fair one."""

    max_file_bytes: int = 10 * 1024 * 1024
    max_unpacked_bytes: int = 50 * 1024 * 1024
    max_member_ratio: int = 200  # XML compresses well, but not a thousand times
    max_members: int = 2_000
    max_shared_strings_bytes: int = 8 * 1024 * 1024
    max_rows: int = 2_000  # a participant list is far shorter; a longer sheet is refused
    max_columns: int = 60
    header_search_rows: int = 30


@dataclass(frozen=True, slots=True)
class Sniffed:
    format: Format | None
    refusal: Finding | None = None
    has_formulas: bool = False
    far_cells: bool = False  # an .xlsx with cells far beyond any list: read it with openpyxl


def _refuse(file: str, code: str, message: str, hint: str = SAVE_AS_XLSX) -> Sniffed:
    return Sniffed(None, Finding(Severity.ERROR, code, message, hint, file=file))


def sniff(content: bytes, file: str, limits: Limits) -> Sniffed:
    """Which reader may open `content`, or the finding that refuses it. Never opens the workbook."""
    if not content:
        return _refuse(file, "file.empty", "Fails ir tukšs (0 baitu).",
                       "Lūdzu, pievienojiet aizpildīto dalībnieku sarakstu vēlreiz.")
    if len(content) > limits.max_file_bytes:
        return _refuse(
            file, "file.too-large",
            f"Fails ir {len(content) / 1_048_576:.1f} MB liels".replace(".", ",", 1)
            + f"; pieņemam failus līdz {limits.max_file_bytes // 1_048_576} MB.",
            "Lūdzu, nosūtiet tikai dalībnieku sarakstu bez attēliem un citām lapām.")
    head = content[:8]
    if head.startswith(ZIP_MAGIC):
        return _sniff_zip(content, file, limits)
    if head == OLE_MAGIC:
        if "WordDocument".encode("utf-16-le") in content:
            return _refuse(file, "file.word",
                           "Fails ir Word dokuments (.doc), nevis izklājlapa.",
                           "Lūdzu, ierakstiet dalībniekus pievienotajā Excel veidlapā (.xlsx) un "
                           "nosūtiet to.")
        if any(name in content for name in _ENCRYPTED_STREAMS):
            return _refuse(
                file, "file.encrypted",
                "Fails ir aizsargāts ar paroli (šifrēts), tāpēc to nevar atvērt.",
                "Lūdzu, noņemiet paroli (Excel: Fails → Informācija → Aizsargāt darbgrāmatu → "
                "Šifrēt ar paroli → izdzēsiet paroli), saglabājiet un nosūtiet failu vēlreiz.")
        compound = compound_file(content)
        extent = xls_extent(content, *compound) if compound is not None else None
        return _corrupt(file) if extent is None else _within_cells(Format.XLS, extent, file)
    if head.startswith(b"%PDF"):
        return _refuse(file, "file.pdf",
                       "Fails ir PDF dokuments; no tā nevar nolasīt dalībnieku sarakstu.",
                       "Lūdzu, nosūtiet sarakstu kā Excel failu (.xlsx), piemēram, aizpildot "
                       "pievienoto veidlapu.")
    if _is_image(head):
        return _refuse(file, "file.image",
                       "Fails ir attēls (piemēram, fotogrāfija vai ekrānuzņēmums); no tā nevar "
                       "nolasīt dalībnieku sarakstu.",
                       "Lūdzu, nosūtiet sarakstu kā Excel failu (.xlsx), aizpildot pievienoto "
                       "veidlapu.")
    if file.lower().endswith((".csv", ".txt")) and _looks_like_text(content):
        return Sniffed(Format.CSV)
    if file.lower().endswith((".doc", ".rtf")) or head.startswith(b"{\\rtf"):
        return _refuse(file, "file.word",
                       "Fails ir teksta dokuments (Word), nevis izklājlapa.",
                       "Lūdzu, ierakstiet dalībniekus pievienotajā Excel veidlapā (.xlsx) un "
                       "nosūtiet to.")
    return _refuse(file, "file.unknown-format",
                   "Faila formātu nevar atpazīt kā izklājlapu (gaidām .xlsx).")


def _sniff_zip(content: bytes, file: str, limits: Limits) -> Sniffed:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except ZIP_ERRORS:
        return _corrupt(file)
    with archive:
        names = {m.filename for m in members}
        refusal = _check_bomb(members, file, limits)
        if refusal:
            return refusal
        inspected = _inspect_parts(content, archive, members)
        if inspected is None:
            return _corrupt(file)
        declares_dtd, has_formulas, far_cells = inspected
        if declares_dtd:
            return _refuse(file, "file.xml-entities",
                           "Failā ir XML konstrukcijas (DTD un entītijas), ko izklājlapu programmas "
                           "neraksta; drošības dēļ failu neatvērām.")
        if "xl/workbook.bin" in names:
            return _within_cells(Format.XLSB, xlsb_extent(archive, members), file)
        if "xl/workbook.xml" in names:
            return Sniffed(Format.XLSX, has_formulas=has_formulas, far_cells=far_cells)
        if "mimetype" in names:
            mimetype = read_member(archive, "mimetype")
            if mimetype is None:
                return _corrupt(file)
            if b"opendocument.spreadsheet" in mimetype[:100]:
                return _within_cells(Format.ODS, ods_extent(archive), file)
        if "word/document.xml" in names:
            return _refuse(file, "file.word",
                           "Fails ir Word dokuments (.docx), nevis izklājlapa.",
                           "Lūdzu, ierakstiet dalībniekus pievienotajā Excel veidlapā (.xlsx) un "
                           "nosūtiet to.")
        if any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
            return _refuse(file, "file.numbers",
                           "Fails ir Apple Numbers dokuments, ko nevaram nolasīt.",
                           "Lūdzu, programmā Numbers izvēlieties Fails → Eksportēt uz → Excel un "
                           "nosūtiet iegūto .xlsx failu.")
    return _refuse(file, "file.unknown-format",
                   "Fails ir ZIP arhīvs, nevis Excel darbgrāmata.")


def _corrupt(file: str) -> Sniffed:
    return _refuse(file, "file.corrupt",
                   "Fails ir bojāts: to nevar atvērt kā Excel darbgrāmatu.",
                   "Lūdzu, atveriet failu savā datorā; ja tas atveras, saglabājiet to kā jaunu "
                   ".xlsx failu un nosūtiet vēlreiz.")


def _check_bomb(members: list[zipfile.ZipInfo], file: str, limits: Limits) -> Sniffed | None:
    """Refuse from the archive's directory alone, before anything is decompressed."""
    total = sum(m.file_size for m in members)
    worst = max(
        (m.file_size / max(m.compress_size, 1) for m in members if m.file_size > 1_000_000),
        default=0.0,
    )
    shared = sum(m.file_size for m in members if m.filename.lower().endswith("sharedstrings.xml"))
    if (len(members) > limits.max_members or total > limits.max_unpacked_bytes
            or worst > limits.max_member_ratio or shared > limits.max_shared_strings_bytes):
        return _refuse(
            file, "file.too-large-unpacked",
            f"Fails atspiestā veidā aizņemtu {total / 1_048_576:.0f} MB; tik liels dalībnieku "
            "saraksts nevar būt, tāpēc to neatvērām.",
            "Lūdzu, nosūtiet tikai dalībnieku sarakstu (vienu lapu) jaunā .xlsx failā.")
    return None


def _inflated(content: bytes, member: zipfile.ZipInfo) -> bytes | None:
    """A deflated member inflated straight from the file, at most one byte past its stated size:
    one longer than the directory says passes the checks above, and zipfile stops at the stated
    size, but calamine inflates it to its end (a 4 MB file held 2 GB). None for a member zipfile
    reads (stored, or its local header not where the directory says); b"" for damage, which the
    reader reports."""
    start = member.header_offset
    header = content[start:start + 30]
    if member.compress_type != zipfile.ZIP_DEFLATED or header[:4] != ZIP_MAGIC or len(header) < 30:
        return None
    start += 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    try:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(
            memoryview(content)[start:start + member.compress_size], member.file_size + 1)
    except zlib.error:
        return b""


def _inspect_parts(content: bytes, archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]
                   ) -> tuple[bool, bool, bool] | None:
    """(declares a DTD, has formulas, has far cells), or None for a member that inflates past its
    stated size: one pass over the members, already bounded in size, each inflated once."""
    declares_dtd = has_formulas = far_cells = False
    for member in members:
        data = _inflated(content, member)
        if data is not None and len(data) > member.file_size:
            return None
        if declares_dtd or not member.filename.endswith((".xml", ".rels")):
            continue
        data = read_member(archive, member) if data is None else data
        if not data:
            continue  # the reader reports the damage; a DTD in another part is still refused
        # No spreadsheet program writes a DTD: one is an entity-expansion or XXE attempt.
        if _DTD.search(data):
            declares_dtd = True
            continue
        if member.filename.startswith("xl/worksheets/") and _FORMULA_TAG.search(data):
            has_formulas = True
        if not far_cells and b"sheetData>" in data:  # a worksheet, wherever the package put it
            far_cells = has_far_cells(data)
    return (True, False, False) if declares_dtd else (declares_dtd, has_formulas, far_cells)


def _within_cells(fmt: Format, extent: tuple[int, int], file: str) -> Sniffed:
    """calamine's formats whose farthest cell would make its rectangle too large are refused."""
    rows, columns = extent
    if rows * columns <= MAX_CELLS:
        return Sniffed(fmt)
    return _refuse(
        file, "file.too-large-unpacked",
        f"Lapas aizpildītā daļa sniedzas līdz šūnai {column_letters(columns)}{rows}: to atverot, "
        f"būtu jāapstrādā vairāk nekā {MAX_CELLS:_} šūnu; tik liels dalībnieku saraksts nevar būt, "
        "tāpēc failu neatvērām.".replace("_", " "),
        "Lūdzu, nosūtiet tikai dalībnieku sarakstu (vienu lapu) jaunā .xlsx failā.")


def _is_image(head: bytes) -> bool:
    return head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")) or (
        head[:4] == b"RIFF")


def _looks_like_text(content: bytes) -> bool:
    return b"\x00" not in content[:4096]
