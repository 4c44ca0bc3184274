"""The README names every command, docs/configuration.md every setting (a setting nobody can find is
a bug), and every link in the docs leads somewhere."""

from __future__ import annotations

import re
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
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def section(heading: str) -> str:
    """The text of one `## ` section of docs/configuration.md."""
    assert f"\n{heading}\n" in CONFIGURATION, heading
    return CONFIGURATION.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def documented_keys(heading: str) -> set[str]:
    """The keys a section's table documents: the first cell of each row."""
    return {line.split("|")[1].strip().strip("`") for line in section(heading).splitlines()
            if line.startswith("| `")}


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
    assert name in documented_keys("## Programme files (`programmes_dir/*.toml`)")


@pytest.mark.parametrize("name", [f.name for f in fields(Limits)])
def test_every_limit_is_documented_and_in_the_example_config(name):
    assert name in documented_keys("## `[limits]`")
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
        assert key in documented_keys("## Top level of `intake.toml`"), key


@pytest.mark.parametrize("path", sorted((ROOT / "config" / "programmes").glob("*.toml")))
def test_shipped_programmes_parse_and_are_always_open(path):
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert "open_from" not in raw and "open_until" not in raw
    if raw.get("activity", "supervīzija") == "supervīzija":  # R1 is a supervision's rule
        assert raw["max_group_size"] == 10
    else:  # the examples of other activities ship switched off
        assert raw["enabled"] is False


SECRETS = ("mailbox_password", "smtp_password", "oauth_client_secret", "oauth_refresh_token")


@pytest.mark.parametrize("name", [f.name for f in fields(MailSettings)
                                  if f.name not in (*SECRETS, "folders")])
def test_every_mail_setting_is_documented_and_in_the_example_config(name):
    assert name in documented_keys("## `[mail]`")
    example = tomllib.loads((ROOT / "config" / "intake.toml").read_text(encoding="utf-8"))
    assert name in example["mail"] or f"# {name} =" in (ROOT / "config" / "intake.toml").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("variable", [
    "INTAKE_CONFIG", "INTAKE_MAILBOX_URL", "INTAKE_MAILBOX_PASSWORD", "INTAKE_SMTP_URL",
    "INTAKE_SMTP_PASSWORD", "INTAKE_DATABASE_URL", "INTAKE_FROM", "INTAKE_STAFF",
    "INTAKE_TLS_CA_FILE", "INTAKE_STATE_DIR", "INTAKE_OAUTH_CLIENT_SECRET",
    "INTAKE_OAUTH_REFRESH_TOKEN"])
def test_every_environment_variable_is_documented(variable):
    assert f"`{variable}`" in section("## Environment")


@pytest.mark.parametrize("name", SECRETS)
def test_secrets_are_refused_in_the_config_file_and_kept_out_of_repr(name):
    from intake.config import _SECRET_KEYS

    assert name in _SECRET_KEYS
    assert not next(f for f in fields(MailSettings) if f.name == name).repr


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_leads_to_a_file_and_heading(document):
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        name, _, anchor = target.partition("#")
        linked = (document.parent / name).resolve() if name else document
        assert linked.is_file(), f"{document.name}: {target}"
        assert not anchor or anchor in anchors(linked), f"{document.name}: {target}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_no_document_sends_readers_outside_the_clone_or_to_an_issue(document):
    text = document.read_text(encoding="utf-8")
    assert "../shared" not in text and "/work/" not in text
    assert not re.search(r"\bissues? #?\d+|(?<![\w&])#\d+\b", text, re.IGNORECASE)


def test_the_link_check_can_fail():
    assert LINK.findall("[a](docs/none.md#part) and [b](https://example.org)") == [
        "docs/none.md#part", "https://example.org"]
    assert "exit-statuses" in anchors(ROOT / "docs" / "operating.md")
