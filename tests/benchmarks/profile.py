"""Where the poll's time goes: py-spy's collapsed stacks (BENCH_PROFILE of tests.benchmarks.mailbox)
summed per function of ours, inclusive. Run:
    .venv/bin/python -m tests.benchmarks.profile FILE [TOP]
Prints a table; asserts nothing.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.+) \((?P<file>[^:()]+)(?::\d+)?\)$")


def main() -> None:
    path = Path(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        seen = set()
        for frame in stack.split(";"):
            match = _FRAME.match(frame)
            if not match or "intake/" not in match.group("file"):
                continue
            key = f"{match.group('name')} ({match.group('file')})"
            if key not in seen:
                seen.add(key)
                inclusive[key] += samples
    print(f"{total} samples in the poll process (idle waits included)")
    for key, samples in inclusive.most_common(top):
        print(f"{100 * samples / total:5.1f} %  {key}")


if __name__ == "__main__":
    main()
