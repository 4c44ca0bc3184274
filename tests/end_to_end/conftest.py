"""Runs `intake` as an operator would, against the real Dovecot, aiosmtpd and a database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

OUR_ADDRESS = "supervizija@ikvd.example.lv"
STAFF = "koordinators@ikvd.example.lv"  # given per test: with it, `intake run` mails a summary


@dataclass
class Intake:
    env: dict[str, str]
    cwd: Path
    database_url: str

    def __call__(self, *args: str, extra_env: dict[str, str] | None = None,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "intake", *args], capture_output=True,
                                text=True, env={**self.env, **(extra_env or {})}, cwd=self.cwd,
                                timeout=300)
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

    def start(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """`intake ARGS` in the background (the daemon); end it with `stop`."""
        return subprocess.Popen([sys.executable, "-m", "intake", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.cwd,
                                env={**self.env, **(extra_env or {})})

    @staticmethod
    def stop(process: subprocess.Popen[str]) -> int:
        """SIGTERM, as systemd stops the service; returns the exit status."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            _out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        assert "Traceback" not in err, err
        return process.returncode

    @staticmethod
    def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
        """Polls `condition` (what another process writes) until it holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "condition not reached in time"
            time.sleep(0.05)


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
