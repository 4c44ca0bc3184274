"""Settings read once from TOML and the environment: types, ranges and unknown keys checked."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.config import FILE_TABLES, PROGRAMME_TABLES, load_settings, resource_dir
from intake.errors import ConfigError

EXTRA = 'name = "extra"\ntitle = "Extra"\n'


def write(tmp_path: Path, text: str, programme: str | None = None) -> dict[str, str]:
    shutil.copytree(resource_dir("config") / "programmes", tmp_path / "programmes")
    if programme is not None:
        (tmp_path / "programmes" / "extra.toml").write_text(programme, encoding="utf-8")
    (tmp_path / "intake.toml").write_text(text, encoding="utf-8")
    return {"INTAKE_CONFIG": str(tmp_path / "intake.toml"), "INTAKE_STATE_DIR": str(tmp_path / "state")}


def test_the_bundled_configuration_loads_with_its_documented_defaults():
    settings = load_settings({})
    assert settings.mail.batch_size == 50 and settings.mail.idle is True
    assert settings.summary_time == time(7, 0) and settings.retention_days == 90
    assert settings.limits.max_rows == 2000 and settings.mail.staff == ()


def test_settings_are_frozen():
    settings = load_settings({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.mail.batch_size = 5  # type: ignore[misc]


def test_values_of_the_right_type_are_taken(tmp_path):
    env = write(tmp_path, 'summary_time = 06:30:00\nretention_days = 0\n[limits]\nmax_rows = 500\n'
                          '[mail]\nstaff = ["koordinatore@ikvd.lv"]\ntimeout_seconds = 12.5\nidle = false\n'
                          '[mail.folders]\nauto = "Automatiskas"\n',
                programme=EXTRA + "open_from = 2026-09-01\nopen_until = 2026-12-18\nsplit_policy = \"fill\"")
    settings = load_settings(env)
    assert settings.summary_time == time(6, 30) and settings.retention_days == 0
    assert settings.limits.max_rows == 500
    assert settings.mail.staff == ("koordinatore@ikvd.lv",)
    assert settings.mail.timeout_seconds == 12.5 and settings.mail.idle is False
    assert settings.mail.folders.auto == "Automatiskas"
    extra = settings.programmes["extra"]
    assert (extra.open_from, extra.open_until, extra.split_policy) == (date(2026, 9, 1), date(2026, 12, 18),
                                                                       "fill")


def test_staff_from_the_environment_is_split_on_commas(tmp_path):
    env = write(tmp_path, "[mail]\nstaff = []\n")
    settings = load_settings({**env, "INTAKE_STAFF": "a@ikvd.lv, b@ikvd.lv,"})
    assert settings.mail.staff == ("a@ikvd.lv", "b@ikvd.lv")


@pytest.mark.parametrize(("text", "programme", "said"), [
    pytest.param('[mail]\nstaff = "one@school.lv"\n', None,
                 '[mail] staff = "one@school.lv": expected a list', id="a-string-is-not-a-list"),
    pytest.param("[mail]\nbatch_size = 10.0\n", None, "batch_size = 10.0: expected a whole number",
                 id="a-float-is-not-a-whole-number"),
    pytest.param("[mail]\nidle = 1\n", None, "idle = 1: expected true or false", id="one-is-not-true"),
    pytest.param('[mail]\naddress = ""\n', None, 'address = "": expected text that is not empty',
                 id="an-empty-address"),
    pytest.param("mail = 5\n", None, "mail = 5: expected a table", id="mail-is-not-a-table"),
    pytest.param("summary_time = 7\n", None, 'summary_time = 7: expected a time such as "07:00"',
                 id="a-number-is-not-a-time"),
    pytest.param("summary_time = 07:00:30\n", None, "expected a time on the minute",
                 id="a-time-with-seconds"),
    pytest.param("[mail]\ntls_ca_file = 5\n", None, "tls_ca_file = 5: expected a file name in quotes",
                 id="a-number-is-not-a-file"),
    pytest.param('[mail]\npassword = "x"\n', None, "must not hold secrets", id="a-secret-in-the-file"),
    pytest.param('[mail]\nbatch_size = "fifty"\nidle = "no"\n', None, 'idle = "no": expected true or false',
                 id="every-mistake-is-listed"),
    pytest.param("", 'name = 5\ntitle = "Extra"', "extra.toml: name = 5: expected text in quotes",
                 id="programme-name"),
    pytest.param("", 'name = "extra"\ntitle = ""', 'title = "": expected text that is not empty',
                 id="programme-empty-title"),
])
def test_a_wrong_value_names_the_file_the_key_the_value_and_what_is_expected(tmp_path, text, programme, said):
    env = write(tmp_path, text, programme)
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert said in str(raised.value)
    assert str(tmp_path) in str(raised.value)


def test_two_programme_files_may_not_share_a_name(tmp_path):
    env = write(tmp_path, "", programme=EXTRA)
    (tmp_path / "programmes" / "copy.toml").write_text('name = "extra"\ntitle = "Copy"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="another file names its programme so"):
        load_settings(env)


# --- whatever an operator writes, the answer is a ConfigError or settings, never a traceback -----

def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, date | time):
        return value.isoformat()
    return repr(value)


_VALUES = st.one_of(
    st.integers(-(10**12), 10**12), st.booleans(), st.floats(-1e9, 1e9, allow_nan=False),
    st.text(max_size=20), st.sampled_from(["", "no", "fifty", "07:00", "Europe/Riga", "a@b.lv", "-5"]),
    st.lists(st.one_of(st.text(max_size=8), st.integers(-5, 5)), max_size=3), st.dates(), st.times(),
)
_PLACES = st.sampled_from([(table, key) for table, keys in FILE_TABLES.items() for key in keys
                           if key not in ("mail", "limits", "folders")]
                          + [(("programme",), key) for key in PROGRAMME_TABLES[()]])


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(_PLACES, _VALUES), min_size=1, max_size=3))
def test_any_value_for_any_key_gives_settings_or_a_configuration_error(assignments):
    tables: dict[tuple[str, ...], dict[str, object]] = {}
    for (table, key), value in assignments:
        tables.setdefault(table, {})[key] = value
    programme = {"name": "extra", "title": "Extra", **tables.pop(("programme",), {})}
    with tempfile.TemporaryDirectory() as folder:
        text = "".join(f"{key} = {toml_value(value)}\n" for key, value in tables.pop((), {}).items())
        for table, values in sorted(tables.items()):
            text += f"[{'.'.join(table)}]\n" + "".join(
                f"{key} = {toml_value(value)}\n" for key, value in values.items())
        env = write(Path(folder), text, "".join(f"{k} = {toml_value(v)}\n" for k, v in programme.items()))
        try:
            load_settings(env)
        except ConfigError as exc:
            assert str(exc) and "\n" not in str(exc)


def test_a_templates_folder_that_does_not_exist_is_a_configuration_error(tmp_path):
    env = write(tmp_path, 'templates_dir = "no-such-templates"\n')
    with pytest.raises(ConfigError, match="templates_dir = 'no-such-templates': expected an existing"):
        load_settings(env)


def test_a_state_dir_that_is_a_file_is_a_configuration_error(tmp_path):
    env = write(tmp_path, "")
    Path(env["INTAKE_STATE_DIR"]).write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"state_dir = .*expected a folder, found a file"):
        load_settings(env)


def test_a_configuration_file_that_is_no_utf8_text_or_a_folder_is_one_error_line(tmp_path):
    env = write(tmp_path, "")
    Path(env["INTAKE_CONFIG"]).write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_settings(env)
    with pytest.raises(ConfigError, match="is a folder, not a TOML file"):
        load_settings({**env, "INTAKE_CONFIG": str(tmp_path)})


@pytest.mark.parametrize("url", ["mysql://x/db", "notaurl", "postgres://u@h/db", "sqlite.db"])
def test_a_database_url_of_no_supported_kind_is_a_configuration_error(tmp_path, url):
    env = write(tmp_path, "")
    with pytest.raises(ConfigError, match=r"INTAKE_DATABASE_URL = .*expected a database URL"):
        load_settings({**env, "INTAKE_DATABASE_URL": url})


def test_a_database_url_error_never_shows_a_password(tmp_path):
    env = write(tmp_path, 'database_url = "mysql://user:secret@db.example.lv/intake"\n')
    with pytest.raises(ConfigError, match="database_url") as raised:
        load_settings(env)
    assert "secret" not in str(raised.value)
