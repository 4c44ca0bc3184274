"""Opens a workbook of any accepted format as sheets of rows, lazily and within limits."""

from __future__ import annotations

import csv
import io
import lzma
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING
from xml.etree.ElementTree import ParseError

import python_calamine

from intake.core.formats import Format, Limits

if TYPE_CHECKING:
    import openpyxl

Row = tuple[int, Sequence[object]]  # 1-based row number, values from column A


class MissingFormulaValue:
    """A formula cell saved without its computed value (written by a program that does not compute)."""

    __slots__ = ("formula",)

    def __init__(self, formula: str) -> None:
        self.formula = formula


@dataclass(slots=True)
class Sheet:
    name: str
    hidden: bool
    rows: Iterator[Row]


class UnreadableWorkbook(Exception):
    """The file passed `sniff` but its reader could not make sense of it."""

    def __init__(self, reason: str, *, encrypted: bool = False) -> None:
        super().__init__(reason)
        self.encrypted = encrypted


# What openpyxl and calamine raise on damaged input; both parse untrusted bytes.
_READ_ERRORS = (
    zipfile.BadZipFile, zlib.error, lzma.LZMAError, KeyError, ValueError, TypeError, IndexError,
    AttributeError, OSError, EOFError, ParseError, NotImplementedError, UnicodeDecodeError,
    LookupError, python_calamine.CalamineError, AssertionError, RecursionError, OverflowError,
    csv.Error, RuntimeError,  # zipfile's for a member flagged encrypted
)


def open_sheets(content: bytes, fmt: Format, *, has_formulas: bool, limits: Limits,
                far_cells: bool = False) -> list[Sheet]:
    """The workbook's sheets in order; each `rows` iterator stops at the row limit.

    calamine (Rust) reads values thirty times faster than openpyxl and runs nothing; openpyxl reads
    workbooks with formulas, because only it tells a formula saved without its value from a blank,
    and those with cells far beyond any list (`far_cells`), because it stops reading at the limits.
    """
    with _translated_errors(), warnings.catch_warnings():
        # openpyxl warns about extensions and validations it does not keep: not our concern.
        warnings.simplefilter("ignore")
        if fmt is Format.CSV:
            return [Sheet("CSV", False, guarded(_csv_rows(content, limits)))]
        if fmt is Format.XLSX and (has_formulas or far_cells):
            return _openpyxl_sheets(content, has_formulas=has_formulas, limits=limits)
    try:
        with _translated_errors():
            return _calamine_sheets(content, limits)
    except UnreadableWorkbook:
        if fmt is not Format.XLSX:
            raise
    with _translated_errors(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _openpyxl_sheets(content, has_formulas=False, limits=limits)


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Both readers parse untrusted bytes: whatever they raise on damage becomes one exception."""
    try:
        # openpyxl print()s about some damaged styles; stdout belongs to our command's output.
        with redirect_stdout(io.StringIO()):
            yield
    except python_calamine.PasswordError as exc:
        raise UnreadableWorkbook("encrypted", encrypted=True) from exc
    except _READ_ERRORS as exc:
        raise UnreadableWorkbook(type(exc).__name__) from exc
    except BaseException as exc:
        # calamine turns a Rust panic into pyo3's PanicException, which derives from BaseException.
        if type(exc).__name__ != "PanicException":
            raise
        raise UnreadableWorkbook("PanicException") from exc


def guarded(rows: Iterator[Row]) -> Iterator[Row]:
    """Rows are read lazily, so damage deep in a sheet surfaces while iterating: translate it."""
    while True:
        with _translated_errors(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                row = next(rows)
            except StopIteration:
                return
        yield row


def _load_openpyxl(content: bytes, *, data_only: bool) -> openpyxl.Workbook:
    import openpyxl  # here: most lists never need it (calamine reads them), nor does start-up

    return openpyxl.load_workbook(
        io.BytesIO(content), read_only=True, data_only=data_only, keep_links=False,
        keep_vba=False, rich_text=False,
    )


def _openpyxl_sheets(content: bytes, *, has_formulas: bool, limits: Limits) -> list[Sheet]:
    values = _load_openpyxl(content, data_only=True)
    formulas = _load_openpyxl(content, data_only=False) if has_formulas else None
    sheets = []
    for ws in values.worksheets:
        if not hasattr(ws, "iter_rows"):  # a chartsheet
            continue
        rows = _openpyxl_rows(ws, limits)
        if formulas is not None:
            rows = _with_missing_formula_values(rows, _openpyxl_rows(formulas[ws.title], limits))
        sheets.append(Sheet(ws.title, ws.sheet_state != "visible", guarded(rows)))
    return sheets


def _openpyxl_rows(ws: object, limits: Limits) -> Iterator[Row]:
    # An explicit max_row: a declared dimension of A1:AMJ1048576 must not make us pad empty rows.
    rows = ws.iter_rows(  # type: ignore[attr-defined]
        min_row=1, max_row=limits.max_rows + 1, max_col=limits.max_columns, values_only=True)
    yield from enumerate(rows, start=1)


def _with_missing_formula_values(values: Iterator[Row], formulas: Iterator[Row]) -> Iterator[Row]:
    for (number, data), (_, source) in zip(values, formulas, strict=False):
        if any(v is None and isinstance(f, str) and f.startswith("=")
               for v, f in zip(data, source, strict=False)):
            data = tuple(
                MissingFormulaValue(f) if v is None and isinstance(f, str) and f.startswith("=")
                else v
                for v, f in zip_longest(data, source)
            )
        yield number, data


def _calamine_sheets(content: bytes, limits: Limits) -> list[Sheet]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    sheets = []
    for meta in book.sheets_metadata:
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        hidden = meta.visible != python_calamine.SheetVisibleEnum.Visible
        sheets.append(Sheet(meta.name, hidden, guarded(_calamine_rows(book, meta.name, limits))))
    return sheets


def _calamine_rows(book: python_calamine.CalamineWorkbook, name: str, limits: Limits) -> Iterator[Row]:
    sheet = book.get_sheet_by_name(name)
    # skip_empty_area=False keeps row and column numbers as the school sees them.
    data = sheet.to_python(skip_empty_area=False, nrows=limits.max_rows + 1)
    for number, values in enumerate(data, start=1):
        yield number, tuple(values[: limits.max_columns])


def _csv_rows(content: bytes, limits: Limits) -> Iterator[Row]:
    text = _decode_text(content)
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    for number, values in enumerate(reader, start=1):
        if number > limits.max_rows + 1:
            return
        yield number, tuple(values[: limits.max_columns])


def _decode_text(content: bytes) -> str:
    # Excel on a Latvian Windows saves "CSV" in Windows-1257 unless told to use UTF-8.
    for encoding in ("utf-8-sig", "cp1257"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")
