"""Benchmark: how soon a school's mail is answered, and what an idle daemon costs.

Starts Dovecot, an SMTP server and `intake run`; appends applications one by one (each after the
previous one was answered) and measures from the APPEND to our reply's arrival at the SMTP server:
with IMAP IDLE, and with IDLE off (polling only). Then leaves the daemon idle and reads its CPU
time from /proc. Run:
    .venv/bin/python -m tests.benchmarks.latency [N_IDLE] [N_POLLING] [IDLE_SECONDS]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from intake.config import resource_dir
from tests.benchmarks.mailbox import OUR_ADDRESS, ten_row_list
from tests.support.dovecot import start_dovecot
from tests.support.mail import make_email
from tests.support.smtp import start_smtp

POLLING_INTERVAL = 5  # seconds, for the run without IDLE


def cpu_seconds(pid: int) -> float:
    """User + system time of a process and its waited-for children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(server, smtp, folder: Path, *, idle: bool, count: int, idle_seconds: float,
        first: int) -> tuple[list[float], float | None]:
    config = folder / f"intake-{idle}.toml"
    interval = 60 if idle else POLLING_INTERVAL
    config.write_text(f'programmes_dir = "{resource_dir("config") / "programmes"}"\n[mail]\n'
                      f"poll_interval_seconds = {interval}\nidle = {'true' if idle else 'false'}\n",
                      encoding="utf-8")
    database = folder / f"latency-{idle}.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({
        "INTAKE_CONFIG": str(config), "INTAKE_STATE_DIR": str(folder),
        "INTAKE_MAILBOX_URL": server.url("intake"), "INTAKE_MAILBOX_PASSWORD": server.users["intake"],
        "INTAKE_SMTP_URL": smtp.url, "INTAKE_TLS_CA_FILE": str(server.ca_file),
        "INTAKE_FROM": OUR_ADDRESS, "INTAKE_DATABASE_URL": f"sqlite:///{database}",
    })
    subprocess.run([sys.executable, "-m", "intake", "db", "upgrade"], env=env, check=True,
                   capture_output=True)
    daemon = subprocess.Popen([sys.executable, "-m", "intake", "run"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = create_engine(f"sqlite:///{database}")
    try:
        while True:  # the first poll has run
            with engine.connect() as connection:
                if connection.execute(text(
                        "select count(*) from service where key = 'last_good_poll'")).scalar():
                    break
            time.sleep(0.1)
        mails = [make_email(style="outlook", sender=f"Sekretāre <s{n}@skola.example.lv>",
                            to=OUR_ADDRESS, subject=f"Pieteikums {n}", body="Labdien!", number=n,
                            attachment=("saraksts.xlsx", ten_row_list(n)))
                 for n in range(first, first + count)]
        latencies = []
        for raw in mails:
            before = len(smtp.inbox.messages)
            started = time.monotonic()
            server.append(raw)
            reply = smtp.inbox.wait_for(before + 1, timeout=interval + 60)[before]
            latencies.append(reply.at - started)
        idle_share = None
        if idle_seconds:
            time.sleep(5)  # let the last poll finish
            used = cpu_seconds(daemon.pid)
            time.sleep(idle_seconds)
            idle_share = (cpu_seconds(daemon.pid) - used) / idle_seconds
        return latencies, idle_share
    finally:
        engine.dispose()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)


def main() -> None:
    with_idle = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    polling = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    idle_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 120
    server = start_dovecot()
    smtp = start_smtp(server.ca_file, server.root / "key.pem")
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            fast, idle_share = run(server, smtp, folder, idle=True, count=with_idle,
                                   idle_seconds=idle_seconds, first=0)
            slow, _ = run(server, smtp, folder, idle=False, count=polling, idle_seconds=0,
                          first=100_000)
    finally:
        smtp.stop()
        server.stop()
    print(f"machine: {os.cpu_count()} cores")
    print(f"with IMAP IDLE, {len(fast)} applications one by one: arrival -> reply at SMTP "
          f"p50 {statistics.median(fast):.2f} s, p95 {percentile(fast, 0.95):.2f} s, "
          f"max {max(fast):.2f} s")
    print(f"without IDLE (poll every {POLLING_INTERVAL} s), {len(slow)} applications: "
          f"p50 {statistics.median(slow):.2f} s, p95 {percentile(slow, 0.95):.2f} s, "
          f"max {max(slow):.2f} s (bound: interval + 2 s = {POLLING_INTERVAL + 2} s)")
    if idle_share is not None:
        print(f"idle daemon (IDLE on, poll every 60 s) over {idle_seconds:.0f} s: "
              f"{100 * idle_share:.2f} % of one core")


if __name__ == "__main__":
    main()
