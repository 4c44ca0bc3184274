"""The systemd unit verifies, and secrets reach the service the ways the unit hands them over."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from intake.config import load_settings
from intake.systemd import notify
from tests.conftest import _service_missing

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "intake.service"


def test_the_unit_file_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        _service_missing("systemd-analyze is not installed")
    intake = Path(sys.executable).with_name("intake")
    unit = tmp_path / "intake.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/intake/venv/bin/intake", str(intake)),
                    encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_unit_is_hardened_and_restarts_only_when_that_can_help():
    text = UNIT.read_text(encoding="utf-8")
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "RestartPreventExitStatus=78",
                 "DynamicUser=yes", "StateDirectory=intake", "ProtectSystem=strict", "ProtectHome=yes",
                 "PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                 "LoadCredential=mailbox-password:", "ExecStartPre=/opt/intake/venv/bin/intake db upgrade"):
        assert line in text, line


def test_passwords_come_from_systemd_credentials(tmp_path):
    (tmp_path / "mailbox-password").write_text("from-credential\n", encoding="utf-8")
    settings = load_settings({"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert settings.mail.mailbox_password == "from-credential"
    assert settings.mail.smtp_password is None


def test_the_environment_wins_over_a_credential(tmp_path):
    (tmp_path / "smtp-password").write_text("file", encoding="utf-8")
    settings = load_settings({"CREDENTIALS_DIRECTORY": str(tmp_path), "INTAKE_SMTP_PASSWORD": "env"})
    assert settings.mail.smtp_password == "env"


def test_notify_speaks_the_systemd_datagram_protocol(tmp_path):
    import socket

    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        assert notify(path, "READY=1")
        assert server.recv(100) == b"READY=1"
    assert not notify(None, "READY=1")
