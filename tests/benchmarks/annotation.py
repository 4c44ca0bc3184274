"""Benchmark: milliseconds per annotated copy of a rejected 10-row list (two e-mail cells wrong),
edited in place and through openpyxl's load and save, for a list written by openpyxl, by
XlsxWriter and by either with a personal-code column (which takes the openpyxl path).

Run: .venv/bin/python -m tests.benchmarks.annotation [COPIES]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import date

from intake.core import annotation
from intake.core.formats import Limits
from tests.conftest import personal_code
from tests.support.lists import (
    LATVIAN_WITH_CODE,
    SIGNATURE_AND_DATE,
    list_sheet,
    members,
    read_and_decide,
    write,
)


def rejected_list(writer: str, *, with_codes: bool = False) -> bytes:
    people = members(10)
    if with_codes:
        people = [replace(m, personal_code=personal_code(date(1985, 4, 12), f"{100 + n}"))
                  for n, m in enumerate(people)]
    people[2] = replace(people[2], email=None)
    people[5] = replace(people[5], email="nav adreses")
    if with_codes:
        return write([list_sheet(people, header=LATVIAN_WITH_CODE, below=SIGNATURE_AND_DATE)],
                     writer=writer)
    return write([list_sheet(people, below=SIGNATURE_AND_DATE)], writer=writer)


def per_copy(content: bytes, copies: int, *, in_place: bool) -> float:
    _, decision = read_and_decide(content)
    limits = Limits()
    edit = annotation.edit_package
    if not in_place:
        annotation.edit_package = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        annotation.annotate_workbook(content, decision, limits=limits)
        start = time.perf_counter()
        for _ in range(copies):
            annotation.annotate_workbook(content, decision, limits=limits)
        return (time.perf_counter() - start) / copies * 1000
    finally:
        annotation.edit_package = edit


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for writer in ("openpyxl", "xlsxwriter"):
        for with_codes in (False, True):
            content = rejected_list(writer, with_codes=with_codes)
            edited = per_copy(content, copies, in_place=True)
            loaded = per_copy(content, copies, in_place=False)
            what = f"{writer}{', personal codes' if with_codes else ''}"
            print(f"{what:28} in place {edited:5.2f} ms/copy   openpyxl {loaded:5.2f} ms/copy")


if __name__ == "__main__":
    main()
