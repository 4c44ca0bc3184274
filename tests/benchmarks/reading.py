"""Benchmark: lists/second for read + decide of a 10-row list; cost of refusing a 100,000-row sheet.

Run: .venv/bin/python -m tests.benchmarks.reading
Prints figures; asserts nothing (timed tests lie on shared machines).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import xlsxwriter

from intake.core.formats import Limits
from intake.core.programme import Programme
from intake.core.rules import Circumstances, decide
from intake.core.workbook import read_participant_list

HEADER = ("Nr.", "Vārds", "Uzvārds", "Amats", "E-pasts")


def ten_row_list() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.xlsx"
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("Saraksts")
        sheet.write(0, 0, "Izglītības iestāde: Rīgas 12. vidusskola")
        sheet.write_row(2, 0, HEADER)
        for n in range(1, 11):
            role = "direktore" if n == 1 else "skolotāja"
            sheet.write_row(2 + n, 0, (n, "Anna", f"Bērziņa{chr(96 + n)}", role, f"a{n}@skola.lv"))
        book.close()
        return path.read_bytes()


def big_sheet(path: Path, rows: int, *, shared_strings: bool) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": not shared_strings})
    sheet = book.add_worksheet("Saraksts")
    sheet.write_row(0, 0, HEADER)
    for n in range(1, rows + 1):
        sheet.write_row(n, 0, (n, "Anna", f"Bērziņa{n}", "skolotāja", f"dalibnieks{n}@skola.lv"))
    book.close()


def lists_per_second(content: bytes, seconds: float = 3.0) -> tuple[float, int]:
    programme = Programme(name="national", title="T", one_supervision_per_educator=True)
    circumstances = Circumstances(programme, date(2026, 11, 25))
    limits = Limits()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        decision = decide(read_participant_list(content, "list.xlsx", limits=limits), circumstances)
        assert decision.accepted
        count += 1
    return count / (time.perf_counter() - started), count


def refuse_in_child(path: Path) -> dict[str, object]:
    """Refuse one big file in a fresh interpreter, so peak RSS belongs to that refusal alone."""
    code = f"""
import json, time
from pathlib import Path
from intake.core.formats import Limits
from intake.core.workbook import read_participant_list

def high_water_mb():
    # VmHWM: this process's peak resident set; unlike ru_maxrss it starts anew at exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

content = Path({str(path)!r}).read_bytes()
before = high_water_mb()
started = time.perf_counter()
plist = read_participant_list(content, "big.xlsx", limits=Limits())
elapsed = time.perf_counter() - started
print(json.dumps({{"seconds": elapsed, "rss_peak_mb": high_water_mb(), "rss_before_mb": before,
                  "codes": [f.code for f in plist.findings]}}))
"""
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(output.stdout)
    return result


def main() -> None:
    content = ten_row_list()
    rate, count = lists_per_second(content)
    print(f"read + decide, 10-row list ({len(content)} bytes): {rate:,.0f} lists/s ({count} runs)")
    with tempfile.TemporaryDirectory() as folder:
        for shared in (False, True):
            path = Path(folder) / f"big-{shared}.xlsx"
            big_sheet(path, 100_000, shared_strings=shared)
            figures = refuse_in_child(path)
            kind = "shared strings" if shared else "inline strings"
            print(f"refuse 100,000-row sheet ({kind}, {path.stat().st_size / 2**20:.1f} MB): "
                  f"{figures['seconds']:.3f} s, peak RSS {figures['rss_peak_mb']:.0f} MB "
                  f"(after imports {figures['rss_before_mb']:.0f} MB), findings {figures['codes']}")


if __name__ == "__main__":
    main()
