"""Runs `intake` as an operator would, against the real Dovecot, aiosmtpd and a database."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from intake import LOG_FORMAT
from intake.cli import main

OUR_ADDRESS = "supervizija@ikvd.example.lv"
STAFF = "koordinators@ikvd.example.lv"  # given per test: with it, `intake run` mails a summary
TEST_SERVER_LOGGERS = ("mail.log", "aiosmtpd", "tests.")
FAILED_POLL = re.compile(r"poll failed \((\d+) in a row\): (\w+): .*; next attempt in about (\d+) s")


def run_in_process(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`intake.cli.main(argv)` with this environment and working folder, its output and log
    captured as a process's would be; everything put back afterwards."""
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    # What the command logs, from any of its threads; not the test's own servers (aiosmtpd's
    # "mail.log"), which run in this process. Worker processes log to the real stderr: a check
    # of everything a command writes runs it with `process=True`.
    handler.addFilter(lambda record: not record.name.startswith(TEST_SERVER_LOGGERS))
    root = logging.getLogger()
    saved_env, saved_cwd, saved_level = dict(os.environ), Path.cwd(), root.level
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exc:  # argparse: a usage error or --help
                status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["intake", *argv], status, out.getvalue(), err.getvalue())


@dataclass
class Intake:
    env: dict[str, str]
    cwd: Path
    database_url: str

    def __call__(self, *args: str, extra_env: dict[str, str] | None = None,
                 check: bool = True, process: bool = False) -> subprocess.CompletedProcess[str]:
        """`intake ARGS`, called in this process as `python -m intake` would call it (environment,
        working folder, standard output and the log captured); in its own process where the
        process is the point (`process=True`, or a failpoint that kills it)."""
        env = {**self.env, **(extra_env or {})}
        if process or "INTAKE_FAILPOINT" in env:
            result = subprocess.run([sys.executable, "-m", "intake", *args], capture_output=True,
                                    text=True, env=env, cwd=self.cwd, timeout=300)
        else:
            result = run_in_process(list(args), env, self.cwd)
        if check and result.returncode != 0:
            raise AssertionError(f"intake {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def status(self, extra_env: dict[str, str] | None = None) -> dict[str, object]:
        return json.loads(self("status", "--json", check=False, extra_env=extra_env).stdout)

    def rows(self, query: str) -> list[tuple[object, ...]]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(query))]
        finally:
            engine.dispose()

    def execute(self, statement: str, **parameters: object) -> None:
        engine = create_engine(self.database_url)
        try:
            with engine.begin() as connection:
                connection.execute(text(statement), parameters)
        finally:
            engine.dispose()

    def start(self, *args: str, extra_env: dict[str, str] | None = None) -> Daemon:
        """`intake ARGS` in the background (the daemon), its log in a file; end it with `stop`."""
        log_path = self.cwd / "daemon.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "intake", *args], cwd=self.cwd,
                                       env={**self.env, **(extra_env or {})},
                                       stdout=subprocess.DEVNULL, stderr=log)
        return Daemon(process, log_path)

    @staticmethod
    def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
        """Polls `condition` (what another process writes) until it holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not reached in time"
            time.sleep(0.05)


@dataclass
class Daemon:
    """`intake run` with its log in a file, so a test can read it while it runs."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def failed_polls(self) -> list[tuple[int, str, int]]:
        """(failures in a row, error class, announced delay) of each failed poll so far."""
        return [(int(n), kind, int(delay)) for n, kind, delay in FAILED_POLL.findall(self.log())]

    def wait_for_failed_polls(self, count: int, timeout: float = 60.0) -> None:
        """Until `count` polls have failed; the daemon exiting meanwhile fails the test at once."""
        self.wait_for(lambda log: len(FAILED_POLL.findall(log)) >= count, timeout)

    def wait_for_log(self, *lines: str, timeout: float = 60.0) -> None:
        """Until each of `lines` is in the log (what the daemon says it has done)."""
        self.wait_for(lambda log: all(line in log for line in lines), timeout)

    def wait_for(self, condition: Callable[[str], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.log()):
            assert self.alive, f"the daemon exited ({self.process.returncode}):\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"not seen in time:\n{self.log()[-3000:]}"
            time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM, as systemd stops the service; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        assert "Traceback" not in self.log(), self.log()[-3000:]
        return status


@pytest.fixture
def intake(mailbox_server, smtp, tmp_path, database_url) -> Intake:
    """Parametrised over SQLite and PostgreSQL through `database_url`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({
        "INTAKE_STATE_DIR": str(tmp_path / "state"),
        "INTAKE_DATABASE_URL": database_url,
        "INTAKE_MAILBOX_URL": mailbox_server.url("intake"),
        "INTAKE_MAILBOX_PASSWORD": mailbox_server.users["intake"],
        "INTAKE_SMTP_URL": smtp.url,
        "INTAKE_TLS_CA_FILE": str(mailbox_server.ca_file),
        "INTAKE_FROM": OUR_ADDRESS,
    })
    return Intake(env, tmp_path, database_url)
