"""The README documents every command and every setting (a setting nobody can find is a bug)."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from intake.cli import build_parser
from intake.config.mail import MailSettings
from intake.core.formats import Limits
from intake.core.programme import Programme

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    parser = build_parser()
    names = []
    for action in parser._subparsers._group_actions:  # argparse keeps its subcommands here
        names.extend(action.choices)
    return names


@pytest.mark.parametrize("command", commands())
def test_every_command_is_documented(command):
    assert f"intake {command}" in README


@pytest.mark.parametrize("name", [f.name for f in fields(Programme)])
def test_every_programme_setting_is_documented(name):
    assert f"`{name}`" in README


@pytest.mark.parametrize("name", [f.name for f in fields(Limits)])
def test_every_limit_is_documented_and_in_the_example_config(name):
    assert f"`[limits] {name}`" in README
    example = tomllib.loads((ROOT / "config" / "intake.toml").read_text(encoding="utf-8"))
    assert name in example["limits"]


def test_every_top_level_setting_in_the_example_config_is_documented():
    text = (ROOT / "config" / "intake.toml").read_text(encoding="utf-8").split("\n[", 1)[0]
    keys = [line.lstrip("# ").split(" =")[0] for line in text.splitlines()
            if " = " in line and not line.startswith(("[", " "))]
    keys = [k for k in keys if k.isidentifier()]
    assert keys
    for key in keys:
        if key in {f.name for f in fields(Limits)}:
            continue
        assert f"`{key}`" in README, key


@pytest.mark.parametrize("path", sorted((ROOT / "config" / "programmes").glob("*.toml")))
def test_shipped_programmes_parse_and_are_always_open(path):
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert "open_from" not in raw and "open_until" not in raw
    assert raw["max_group_size"] == 10


SECRETS = ("mailbox_password", "smtp_password", "oauth_client_secret", "oauth_refresh_token")


@pytest.mark.parametrize("name", [f.name for f in fields(MailSettings)
                                  if f.name not in (*SECRETS, "folders")])
def test_every_mail_setting_is_documented_and_in_the_example_config(name):
    assert f"`[mail] {name}`" in README
    example = tomllib.loads((ROOT / "config" / "intake.toml").read_text(encoding="utf-8"))
    assert name in example["mail"] or f"# {name} =" in (ROOT / "config" / "intake.toml").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("variable", [
    "INTAKE_CONFIG", "INTAKE_MAILBOX_URL", "INTAKE_MAILBOX_PASSWORD", "INTAKE_SMTP_URL",
    "INTAKE_SMTP_PASSWORD", "INTAKE_DATABASE_URL", "INTAKE_FROM", "INTAKE_STAFF",
    "INTAKE_TLS_CA_FILE", "INTAKE_STATE_DIR", "INTAKE_OAUTH_CLIENT_SECRET",
    "INTAKE_OAUTH_REFRESH_TOKEN"])
def test_every_environment_variable_is_documented(variable):
    assert f"`{variable}`" in README


@pytest.mark.parametrize("name", SECRETS)
def test_secrets_are_refused_in_the_config_file_and_kept_out_of_repr(name):
    from intake.config import _SECRET_KEYS

    assert name in _SECRET_KEYS
    assert not next(f for f in fields(MailSettings) if f.name == name).repr
