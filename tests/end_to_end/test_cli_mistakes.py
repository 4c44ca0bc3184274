"""A user's mistake gets one clear line and its documented exit status, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake import cli
from intake.config import resource_dir
from intake.core import blank_list
from intake.samples import make_faulty_list, make_good_list

USAGE, CONFIG, FAILURE = 2, 78, 3


@dataclass(frozen=True)
class Result:
    status: int
    out: str
    err: str  # standard error and the log, as the operator sees them


@pytest.fixture
def intake(tmp_path, monkeypatch, capsys, caplog) -> Callable[..., Result]:
    """`intake ARGS` in this process, in tmp_path, on a fresh SQLite state directory."""
    for name in os.environ:
        if name.startswith("INTAKE_") and name != "INTAKE_SHARED_DIR":
            monkeypatch.delenv(name)
    monkeypatch.setenv("INTAKE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        caplog.clear()
        status = cli.main(list(args))
        out, err = capsys.readouterr()
        return Result(status, out, err + caplog.text)
    return run


def prepare(tmp_path: Path) -> None:
    """Files the cases below point at."""
    (tmp_path / "labs.xlsx").write_bytes(make_good_list())
    (tmp_path / "kludains.xlsx").write_bytes(make_faulty_list())
    (tmp_path / "exists.xlsx").write_bytes(b"keep me")
    (tmp_path / "piezimes").mkdir()
    (tmp_path / "piezimes" / "kludains-piezimes.xlsx").write_bytes(b"keep me")
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "with-nul.csv").write_bytes(b'"Nosaukums"|"Adrese"\n"a\x00b"|"c"\n')
    (tmp_path / "other.csv").write_text("Vārds;Uzvārds\nAnna;Bērziņa\n", encoding="utf-8")


@pytest.mark.parametrize(("args", "said"), [
    pytest.param(("template", "/no/such/dir/x.xlsx"), "folder /no/such/dir does not exist",
                 id="template-into-a-missing-folder"),
    pytest.param(("template", "exists.xlsx"), "exists already; give --force", id="template-onto-a-file"),
    pytest.param(("template", "folder"), "is a folder", id="template-onto-a-folder"),
    pytest.param(("template", "x.xlsx", "--programme", "nope"), "unknown programme 'nope'",
                 id="template-of-an-unknown-programme"),
    pytest.param(("export", "/no/such/dir/x.xlsx"), "does not exist", id="export-into-a-missing-folder"),
    pytest.param(("export", "exists.xlsx"), "give --force", id="export-onto-a-file"),
    pytest.param(("export", "x.xlsx", "--from", "2026-12-01", "--to", "2026-11-01"),
                 "--from 2026-12-01 is after --to 2026-11-01", id="export-with-reversed-dates"),
    pytest.param(("export", "x.xlsx", "--from", "2999-01-01"), "is after today",
                 id="export-from-the-future"),
    pytest.param(("validate", "--annotate", "piezimes", "kludains.xlsx"),
                 "kludains-piezimes.xlsx exists already; give --force", id="annotate-onto-a-file"),
    pytest.param(("validate", "--annotate", "a-file", "kludains.xlsx"), "not a folder",
                 id="annotate-into-a-file"),
    pytest.param(("validate", "--annotate", "no/such/dir", "kludains.xlsx"), "does not exist",
                 id="annotate-under-a-missing-folder"),
    pytest.param(("validate", "missing.xlsx"), "cannot read missing.xlsx", id="validate-a-missing-file"),
    pytest.param(("validate", "folder"), "cannot read folder", id="validate-a-folder"),
    pytest.param(("validate", "--programme", "nope", "labs.xlsx"), "unknown programme",
                 id="validate-with-an-unknown-programme"),
    pytest.param(("institutions", "import", "labs.xlsx"), "cannot import labs.xlsx",
                 id="import-a-spreadsheet"),
    pytest.param(("institutions", "import", "other.csv"), "not a VIIS export", id="import-another-csv"),
    pytest.param(("institutions", "import", "with-nul.csv"), "cannot import", id="import-a-csv-with-nul"),
    pytest.param(("institutions", "import", "missing.csv"), "cannot import", id="import-a-missing-file"),
    pytest.param(("institutions", "import", "folder"), "cannot import", id="import-a-folder"),
    pytest.param(("resend", "999"), "1 of 1 outbox number(s) not released", id="resend-an-unknown-reply"),
    pytest.param(("resend", "998", "999"), "2 of 2 outbox number(s) not released",
                 id="resend-two-unknown-replies"),
    pytest.param(("withdraw", "SUP-2026-99999", "--reason", "x"), "no application SUP-2026-99999",
                 id="withdraw-an-unknown-application"),
    pytest.param(("reprocess", "999"), "no stored message 999", id="reprocess-an-unknown-message"),
    pytest.param(("summary", "--html", "/no/such/dir/s.html"), "does not exist",
                 id="summary-into-a-missing-folder"),
    pytest.param(("summary", "--html", "exists.xlsx"), "give --force", id="summary-onto-a-file"),
])
def test_a_user_mistake_gets_one_clear_line_and_exit_2(intake, tmp_path, args, said):
    prepare(tmp_path)
    result = intake(*args)
    assert result.status == USAGE, result
    assert said in result.err
    assert "Traceback" not in result.err
    assert (tmp_path / "exists.xlsx").read_bytes() == b"keep me"
    assert (tmp_path / "piezimes" / "kludains-piezimes.xlsx").read_bytes() == b"keep me"


@pytest.mark.parametrize("args", [
    pytest.param(("template", "exists.xlsx", "--force"), id="template"),
    pytest.param(("export", "exists.xlsx", "--force"), id="export"),
    pytest.param(("summary", "--html", "exists.xlsx", "--force"), id="summary"),
])
def test_force_replaces_an_existing_file(intake, tmp_path, args):
    prepare(tmp_path)
    result = intake(*args)
    assert result.status == 0, result
    assert (tmp_path / "exists.xlsx").read_bytes() != b"keep me"


@pytest.mark.databases("sqlite", "postgresql")  # the smoke test on PostgreSQL
def test_force_replaces_an_annotated_copy_and_validate_still_says_rejected(intake, tmp_path):
    prepare(tmp_path)
    result = intake("validate", "--annotate", "piezimes", "--force", "kludains.xlsx")
    assert result.status == 1  # rejected: the list's own verdict, not a mistake
    assert (tmp_path / "piezimes" / "kludains-piezimes.xlsx").read_bytes().startswith(b"PK")


def test_export_creates_a_new_file_and_a_template_its_own(intake, tmp_path):
    assert intake("template", "sub.xlsx").status == 0
    assert intake("export", "out.xlsx", "--from", "2026-01-01", "--to", "2026-01-01").status == 0
    assert (tmp_path / "sub.xlsx").read_bytes().startswith(b"PK")
    assert (tmp_path / "out.xlsx").read_bytes().startswith(b"PK")


# --- configuration: 78, naming the file, the key, what was given and what is expected ------------

def configure(tmp_path: Path, top: str = "", mail: str = "", programme: str = "") -> dict[str, str]:
    folder = tmp_path / "config"
    shutil.copytree(resource_dir("config") / "programmes", folder / "programmes")
    (folder / "intake.toml").write_text(f"{top}\n[mail]\n{mail}\n", encoding="utf-8")
    if programme:
        (folder / "programmes" / "extra.toml").write_text(
            f'name = "extra"\ntitle = "Extra"\n{programme}\n', encoding="utf-8")
    return {"INTAKE_CONFIG": str(folder / "intake.toml")}


@pytest.mark.parametrize(("top", "mail", "programme", "said"), [
    pytest.param("", 'batch_size = "fifty"', "", '[mail] batch_size = "fifty": expected a whole number',
                 id="a-quoted-number"),
    pytest.param("", "poll_interval_seconds = -5", "",
                 "[mail] poll_interval_seconds = -5: expected a number of at least 1",
                 id="a-negative-interval"),
    pytest.param("", 'idle = "no"', "", '[mail] idle = "no": expected true or false', id="a-quoted-boolean"),
    pytest.param("", 'staff = "one@school.lv"', "", '[mail] staff = "one@school.lv": expected a list',
                 id="a-string-for-a-list"),
    pytest.param("", 'staff = ["one@school.lv, two@school.lv"]', "", "expected one e-mail address",
                 id="two-addresses-in-one-string"),
    pytest.param("", "bach_size = 10", "", "[mail] unknown key 'bach_size'; did you mean 'batch_size'?",
                 id="a-typo"),
    pytest.param("", "retention_days = 30", "", "[mail] unknown key 'retention_days'; it belongs at the top",
                 id="a-top-level-key-under-mail"),
    pytest.param("max_rows = 10", "", "", "unknown key 'max_rows'; it belongs under [limits]",
                 id="a-limit-at-the-top"),
    pytest.param("[limits]\nmax_rows = 0", "", "", "[limits] max_rows = 0: expected a number of at least 1",
                 id="a-zero-limit"),
    pytest.param('summary_time = "7 o\'clock"', "", "", "expected a time such as", id="a-bad-time"),
    pytest.param('timezone = "Europe/Riiga"', "", "", "expected a time zone", id="an-unknown-time-zone"),
    pytest.param("retention_days = 1.5", "", "", "retention_days = 1.5: expected a whole number",
                 id="a-fraction-of-a-day"),
    pytest.param("", "timeout_seconds = 0", "", "timeout_seconds = 0: expected a number above 0",
                 id="a-zero-timeout"),
    pytest.param("", "", 'max_group_size = "10"',
                 'extra.toml: max_group_size = "10": expected a whole number', id="programme-quoted-number"),
    pytest.param("", "", "max_group_size = 500", "expected a number of at most 100",
                 id="programme-too-large"),
    pytest.param("", "", 'open_from = "2026-09-01"', "expected a date such as 2026-09-01, without quotes",
                 id="programme-quoted-date"),
    pytest.param("", "", 'split_policy = "even"', "expected 'balanced' or 'fill'",
                 id="programme-unknown-policy"),
    pytest.param("", "", "leaders_appart = true", "did you mean 'leaders_apart'?", id="programme-typo"),
    pytest.param("", "", "open_from = 2026-09-01\nopen_until = 2026-01-01", "on or before open_until",
                 id="programme-reversed-period"),
    pytest.param("", "", "min_group_size = 8\nmax_group_size = 5", "expected at most max_group_size",
                 id="programme-minimum-above-maximum"),
])
@pytest.mark.parametrize("command", [("validate", "x.xlsx"), ("status",), ("poll",)])
def test_a_configuration_mistake_exits_78_naming_file_key_value_and_expectation(
        intake, tmp_path, command, top, mail, programme, said):
    env = configure(tmp_path, top, mail, programme)
    result = intake(*command, env=env)
    assert result.status == CONFIG, result
    assert said in result.err
    assert str(tmp_path / "config") in result.err
    assert "Traceback" not in result.err


def test_a_missing_configuration_file_exits_78(intake, tmp_path):
    result = intake("status", env={"INTAKE_CONFIG": str(tmp_path / "nowhere.toml")})
    assert result.status == CONFIG
    assert "nowhere.toml does not exist" in result.err and "Traceback" not in result.err


def test_an_unexpected_error_exits_3_with_its_traceback_in_the_log(intake, tmp_path, monkeypatch):
    def broken(_programme: object) -> bytes:
        raise RuntimeError("a bug of ours")
    # Our own function, standing for any bug (imported by the command when it runs).
    monkeypatch.setattr(blank_list, "make_blank_list", broken)
    result = intake("template", "x.xlsx")
    assert result.status == FAILURE
    assert "unexpected error in `intake template x.xlsx` (our failure)" in result.err
    assert "Traceback" in result.err and "a bug of ours" in result.err


def test_a_real_process_exits_78_on_a_configuration_mistake(tmp_path):
    """The exit status a monitor or systemd sees, from a real process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(configure(tmp_path, mail='batch_size = "fifty"'), INTAKE_STATE_DIR=str(tmp_path / "state"))
    result = subprocess.run([sys.executable, "-m", "intake", "status"], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == CONFIG
    assert '[mail] batch_size = "fifty"' in result.stderr and "Traceback" not in result.stderr
