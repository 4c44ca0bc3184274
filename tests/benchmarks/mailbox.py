"""Benchmark: `intake poll` end to end over N applications in Dovecot, against the floor.

The floor is what any intake must do: batched FETCH BODY.PEEK[] + MIME parse (policy.default) +
openpyxl read of each attachment, nothing else. Run:
    .venv/bin/python -m tests.benchmarks.mailbox [--rounds R] [N ...]   # e.g. 1000 10000
Each N is measured in R rounds (3 by default), each a fresh mailbox: the floor, then the poll, so
that both see the machine in the same state; the ratio reported is the median round's (this kind
of machine's speed drifts by a third from minute to minute). Memory growth compares the first N
with the last. Prints figures; asserts nothing. BENCH_PROFILE=FILE records the poll's stacks with
py-spy (on PATH) for `python -m tests.benchmarks.profile FILE`.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import openpyxl

from tests.benchmarks import stages
from tests.support.dovecot import start_dovecot
from tests.support.mail import make_email
from tests.support.smtp import start_smtp

OUR_ADDRESS = "supervizija@ikvd.example.lv"


def ten_row_list(number: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Saraksts"
    sheet.append([f"Izglītības iestāde: Skola {number}"])
    sheet.append(["Nr.", "Vārds", "Uzvārds", "Amats", "E-pasts"])
    for i in range(1, 11):
        role = "direktore" if i == 1 else "skolotāja"
        sheet.append([i, "Anna", f"Bērziņa{chr(97 + i)}", role, f"s{number}p{i}@skola.example.lv"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def append_all(server, mails: Iterable[bytes]) -> None:
    """The mails into the intake's INBOX, a hundred to an APPEND."""
    client = server.client("intake")
    try:
        batch = []
        for raw in mails:
            batch.append(raw)
            if len(batch) == 100:
                client.multiappend("INBOX", batch)
                batch = []
        if batch:
            client.multiappend("INBOX", batch)
    finally:
        client.logout()


def fill(server, count: int) -> None:
    append_all(server, (make_email(
        style=("outlook", "gmail", "thunderbird")[number % 3],
        sender=f"Sekretāre <s{number}@skola.example.lv>", to=OUR_ADDRESS,
        subject=f"Pieteikums {number}", body="Labdien! Pielikumā saraksts.", number=number,
        attachment=("dalībnieku saraksts.xlsx", ten_row_list(number))) for number in range(count)))


def floor(server) -> float:
    started = time.perf_counter()
    client = server.client("intake")
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    for start in range(0, len(uids), 100):
        for data in client.fetch(uids[start:start + 100], ["BODY.PEEK[]"]).values():
            message = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
            for part in message.iter_attachments():
                if (part.get_filename() or "").endswith(".xlsx"):
                    book = openpyxl.load_workbook(io.BytesIO(part.get_content()), read_only=True)
                    for sheet in book.worksheets:
                        for _row in sheet.iter_rows(values_only=True):
                            pass
    client.logout()
    return time.perf_counter() - started


POLL = """
import json, os, resource, time
from pathlib import Path
from intake.config import load_settings
from intake.poll.service import poll_once, prepare_engine

def high_water_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

def idle_s():  # the machine's idle time, all cores
    fields = Path("/proc/stat").read_text().split(maxsplit=11)
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")

settings = load_settings()
engine = prepare_engine(settings)
started, idle = time.perf_counter(), idle_s()
summary = poll_once(settings, engine)
idle = idle_s() - idle
assert summary is not None
# The workers are forked from the fork server: stopped and reaped, their usage counts as ours.
from multiprocessing import forkserver
forkserver._forkserver._stop()
own = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
import sys
timed = sys.modules.get("tests.benchmarks.stages")  # the stages' figures, when they are timed
print(json.dumps({"seconds": time.perf_counter() - started, "rss_mb": high_water_mb(),
                  "idle_s": idle,
                  "stages": timed.totals if timed else {},
                  "cpu_s": own.ru_utime + own.ru_stime,
                  "workers_cpu_s": workers.ru_utime + workers.ru_stime,
                  "workers_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "line": summary.line()}))
"""


def measure(count: int, *, filler: Callable[[object, int], None] | None = None,
            timed_stages: bool = False) -> dict[str, Any]:
    """One backlog of `count` in a fresh Dovecot: the floor, then one `intake poll` over it.
    `filler` appends the backlog (10-row lists, all accepted, by default); `timed_stages` adds
    the time of each stage of the poll (`tests.benchmarks.stages`) to the figures."""
    server = start_dovecot()
    smtp = start_smtp(server.ca_file, server.root / "key.pem")
    try:
        (filler or fill)(server, count)
        floor_seconds = floor(server)
        with tempfile.TemporaryDirectory() as folder:
            env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
            env.update({
                "INTAKE_STATE_DIR": folder, "INTAKE_MAILBOX_URL": server.url("intake"),
                "INTAKE_MAILBOX_PASSWORD": server.users["intake"], "INTAKE_SMTP_URL": smtp.url,
                "INTAKE_TLS_CA_FILE": str(server.ca_file), "INTAKE_FROM": OUR_ADDRESS,
                "INTAKE_DATABASE_URL": os.environ.get(
                    "BENCH_DATABASE_URL", f"sqlite:///{Path(folder) / 'bench.sqlite3'}"),
            })
            if timed_stages:
                env.update(stages.environment(Path(folder)))
            command = [sys.executable, "-c", POLL]
            if profile := os.environ.get("BENCH_PROFILE"):  # collapsed stacks of the poll (py-spy)
                command = ["py-spy", "record", "--subprocesses", "--format", "raw", "--rate",
                           "200", "--output", profile, "--", *command]
            server_cpu, command_started = time.process_time(), time.perf_counter()
            result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            command_seconds = time.perf_counter() - command_started
            server_cpu = time.process_time() - server_cpu  # this process: the SMTP server's thread
            figures = json.loads(next(line for line in result.stdout.splitlines()
                                      if line.startswith("{")))
            if timed_stages:
                figures["worker_stages"] = stages.workers_totals(Path(folder) / "stages")
        smtp.inbox.wait_for(count, timeout=120)
        smtp.inbox.clear()
        return {**figures, "floor": floor_seconds, "smtp_cpu_s": server_cpu,
                "command_seconds": command_seconds}
    finally:
        smtp.stop()
        server.stop()


def report(counts: list[int], rounds: int, measure_one: Callable[[int], dict[str, Any]],
           details: Callable[[dict[str, Any]], list[str]] = lambda _median: []) -> None:
    """Each N measured in `rounds` rounds; the median round's figures printed, then `details`
    of it, and the poll process's peak RSS growth from the first N to the last."""
    peaks = []
    for count in counts:
        print(f"N = {count}")
        results = []
        for number in range(1, rounds + 1):
            figures = measure_one(count)
            results.append(figures)
            print(f"  round {number}: floor {figures['floor']:.2f} s, poll {figures['seconds']:.2f}"
                  f" s, ratio {figures['floor'] / figures['seconds']:.2f}; CPU poll process "
                  f"{figures['cpu_s']:.1f} s, workers {figures['workers_cpu_s']:.1f} s", flush=True)
        results.sort(key=lambda f: f["floor"] / f["seconds"])
        median = results[len(results) // 2]
        print(f"  floor: {median['floor']:.2f} s = {count / median['floor']:,.0f} msg/s; poll: "
              f"{median['seconds']:.2f} s = {count / median['seconds']:,.0f} msg/s; ratio floor / "
              f"poll {median['floor'] / median['seconds']:.2f} (median round; rounds from "
              f"{results[0]['floor'] / results[0]['seconds']:.2f} to "
              f"{results[-1]['floor'] / results[-1]['seconds']:.2f}; 1.00 or more: at the floor)")
        print(f"  the whole command, start-up included: {median['command_seconds']:.2f} s, ratio "
              f"{median['floor'] / median['command_seconds']:.2f}")
        print(f"  CPU: poll process {median['cpu_s']:.1f} s, worker processes "
              f"{median['workers_cpu_s']:.1f} s, the test SMTP server {median['smtp_cpu_s']:.1f} s"
              f" (median round); the machine idle {median['idle_s']:.1f} core-seconds of "
              f"{median['seconds'] * (os.cpu_count() or 1):.1f} during the poll")
        peak = max(f["rss_mb"] for f in results)
        peaks.append(peak)
        print(f"  peak RSS: poll process {peak:.0f} MB, largest worker process "
              f"{max(f['workers_rss_mb'] for f in results):.0f} MB")
        for line in details(median):
            print(line)
        print(f"  {median['line']}")
    if len(peaks) > 1:
        print(f"peak RSS growth from N = {counts[0]} to N = {counts[-1]}: "
              f"{100 * (peaks[-1] - peaks[0]) / peaks[0]:+.1f} % (poll process)")


def main() -> None:
    args = sys.argv[1:]
    rounds = 3
    if args[:1] == ["--rounds"]:
        rounds, args = int(args[1]), args[2:]
    counts = [int(arg) for arg in args] or [1000]
    print(f"{os.cpu_count()} cores; Dovecot on loopback; SQLite; 10-row xlsx per application, all "
          f"accepted; {rounds} round(s) per N")
    report(counts, rounds, measure)


if __name__ == "__main__":
    main()
