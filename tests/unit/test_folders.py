"""Configured folder paths and the names servers give them: delimiters, namespace prefixes, the
older dotted form, Maildir++ directories, and the errors an operator reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.config import load_settings, resource_dir
from intake.config.mail import Folders, folder_path, parse_folder
from intake.errors import ConfigError
from intake.mail.folders import Layout, maildir_name

DOT, SLASH = Layout(".", ""), Layout("/", "")
COURIER, INBOX_SLASH, FLAT = Layout(".", "INBOX."), Layout("/", "INBOX/"), Layout(None, "")


@pytest.mark.parametrize(("text", "parts", "path"), [
    ("Intake/Applications", ("Intake", "Applications"), "Intake/Applications"),
    ("Intake.Applications", ("Intake", "Applications"), "Intake/Applications"),  # the older form
    ("Pieteikumi/Apstrādāti", ("Pieteikumi", "Apstrādāti"), "Pieteikumi/Apstrādāti"),
    ("Intake/Pieteikumi 2.0", ("Intake", "Pieteikumi 2.0"), "Intake/Pieteikumi 2.0"),
    ("/Pieteikumi 2.0", ("Pieteikumi 2.0",), "/Pieteikumi 2.0"),  # a leading "/" keeps it whole
    ("/Intake/Applications", ("Intake", "Applications"), "Intake/Applications"),
    ("Intake", ("Intake",), "Intake"),
    ("INBOX.Intake.NoList", ("INBOX", "Intake", "NoList"), "INBOX/Intake/NoList"),
    ("Skola [2026]", ("Skola [2026]",), "Skola [2026]"),
])
def test_paths_and_the_older_dotted_form(text, parts, path):
    assert parse_folder(text) == parts
    assert folder_path(text) == path
    assert parse_folder(folder_path(text)) == parts  # the canonical form reads back the same


@pytest.mark.parametrize(("text", "said"), [
    ("", "needs a name"),
    ("   ", "needs a name"),
    ("Intake//Applications", "empty part"),
    ("Intake/", "empty part"),
    ("Intake..NoList", "empty part"),
    (".Intake", "empty part"),
    ("Intake/ Applications", "starts or ends with a space"),
    ("Intake/Appl*", "'*'"),
    ("Intake/100%", "'%'"),
    ("Intake/A\tB", "'\\t'"),
])
def test_paths_no_server_can_take_are_refused_saying_why(text, said):
    with pytest.raises(ConfigError) as raised:
        parse_folder(text)
    assert said in str(raised.value) and repr(text) in str(raised.value)


@pytest.mark.parametrize(("layout", "folder", "name"), [
    (DOT, "Intake/Applications", "Intake.Applications"),
    (SLASH, "Intake/Applications", "Intake/Applications"),
    (SLASH, "Intake.Applications", "Intake/Applications"),
    (COURIER, "Intake/Applications", "INBOX.Intake.Applications"),
    (INBOX_SLASH, "Intake/Applications", "INBOX/Intake/Applications"),
    # Written with the prefix already: not prefixed twice (INBOX in any case).
    (COURIER, "INBOX.Intake.Applications", "INBOX.Intake.Applications"),
    (COURIER, "inbox/Intake/Applications", "INBOX.Intake.Applications"),
    (INBOX_SLASH, "INBOX/Intake", "INBOX/Intake"),
    (Layout("/", "Mail/"), "Mail/Intake", "Mail/Intake"),
    (Layout("/", "Mail/"), "Intake", "Mail/Intake"),
    (SLASH, "Intake/Pieteikumi 2.0", "Intake/Pieteikumi 2.0"),
    (SLASH, "Pieteikumi/Apstrādāti", "Pieteikumi/Apstrādāti"),  # UTF-7 is imapclient's work
    (FLAT, "Intake-Applications", "Intake-Applications"),
    (DOT, "INBOX", "INBOX"),
    (COURIER, "Inbox", "INBOX"),
])
def test_server_names(layout, folder, name):
    assert layout.server_name(folder) == name


@pytest.mark.parametrize(("layout", "folder", "part"), [
    (DOT, "Intake/Pieteikumi 2.0", "Pieteikumi 2.0"),
    (COURIER, "/Skola 1.0", "Skola 1.0"),
    (Layout("^", ""), "Intake/a^b", "a^b"),
])
def test_a_part_holding_the_delimiter_says_which_part_delimiter_and_prefix(layout, folder, part):
    with pytest.raises(ConfigError) as raised:
        layout.server_name(folder)
    said = str(raised.value)
    assert repr(folder) in said and repr(part) in said
    assert f"hierarchy delimiter {layout.delimiter!r}" in said
    assert f"prefix {layout.prefix!r}" in said


def test_a_flat_server_takes_single_names_only():
    with pytest.raises(ConfigError, match="no folder hierarchy"):
        FLAT.server_name("Intake/Applications")
    assert "none (a flat server)" in FLAT.describe()


@pytest.mark.parametrize(("folder", "directory"), [
    ("Intake/Applications", ".Intake.Applications"),
    ("Intake.Applications", ".Intake.Applications"),
    ("Pieteikumi/Apstrādāti", ".Pieteikumi.Apstr&AQE-d&AQE-ti"),
    ("Skola & Co", ".Skola &- Co"),
])
def test_maildir_directories_are_maildir_plus_plus_in_modified_utf7(folder, directory):
    assert maildir_name(folder) == directory


def test_a_maildir_name_cannot_hold_a_dot():
    with pytest.raises(ConfigError, match=r"'v1\.2'"):
        maildir_name("Intake/v1.2")


# --- configuration ----------------------------------------------------------------------------

def settings_with(tmp_path: Path, folders: str):
    config = tmp_path / "intake.toml"
    config.write_text(f'programmes_dir = "{resource_dir("config") / "programmes"}"\n'
                      f"[mail.folders]\n{folders}\n", encoding="utf-8")
    return load_settings({"INTAKE_CONFIG": str(config), "INTAKE_STATE_DIR": str(tmp_path)})


def test_the_shipped_configuration_names_paths(tmp_path):
    settings = load_settings({"INTAKE_STATE_DIR": str(tmp_path)})
    assert settings.mail.folders == Folders()
    assert settings.mail.folders.application == "Intake/Applications"


def test_an_existing_dotted_configuration_reads_as_paths(tmp_path):
    settings = settings_with(tmp_path, 'application = "Intake.Applications"\n'
                                       'quarantined = "Pieteikumi/Karantīna"')
    assert settings.mail.folders.application == "Intake/Applications"
    assert settings.mail.folders.quarantined == "Pieteikumi/Karantīna"
    assert settings.mail.folders.no_list == "Intake/NoList"


@pytest.mark.parametrize(("line", "said"), [
    ('application = "Intake//Applications"', "[mail.folders] application: folder"),
    ("auto = 7", "[mail.folders] auto = 7: expected text in quotes"),
    ('archive = "Arhīvs"', "archive"),
])
def test_a_folder_setting_that_cannot_work_is_refused_at_start(tmp_path, line, said):
    with pytest.raises(ConfigError) as raised:
        settings_with(tmp_path, line)
    assert said in str(raised.value)
