"""The migrations' files and the revision start-up compares the database with."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from intake.store import schema

VERSIONS = Path(schema.__file__).parent / "migrations" / "versions"


def test_each_migration_is_named_after_its_revision_and_follows_the_one_before() -> None:
    files = sorted(VERSIONS.glob("[0-9]*_*.py"))
    assert files, "no migrations found"
    previous = None
    for path in files:
        text = path.read_text(encoding="utf-8")
        revision = re.search(r"^revision = [\"']([^\"']+)[\"']", text, re.M)
        down = re.search(r"^down_revision = (?:None|[\"']([^\"']+)[\"'])", text, re.M)
        assert revision and down, path.name
        assert revision.group(1) == path.name.split("_", 1)[0], path.name
        assert down.group(1) == previous, path.name
        previous = revision.group(1)


def test_the_head_start_up_compares_with_is_alembics() -> None:
    config = Config()
    config.set_main_option("script_location", str(VERSIONS.parent))
    assert schema.head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_the_poll_command_does_not_import_what_only_other_commands_need() -> None:
    """`intake poll` starts in a backlog's critical path: Alembic (a database at its revision),
    openpyxl (calamine reads the lists), APScheduler (the daemon's) and the staff commands' modules
    are imported only by the commands that use them."""
    code = ("import sys, intake.cli, intake.poll.service; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'alembic', 'openpyxl', 'apscheduler', 'tqdm'} or m.startswith('intake.staff'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    assert loaded == []
