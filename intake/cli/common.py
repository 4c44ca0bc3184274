"""What every `intake` command shares: the exit statuses, the files a command may write, and the
migrated database it works on (closed as the command ends)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy import Engine

from intake.config import Settings
from intake.errors import UsageError
from intake.poll.service import prepare_engine

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
EXIT_UNHEALTHY = 1  # `intake status`: no good poll lately, or quarantined mail
# And intake.errors.EXIT_CONFIG (78) for a configuration mistake, from every command.


def writable(path: Path, *, force: bool) -> Path:
    """A file a command may write: its folder exists, and it is new unless --force."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder: give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.exists() and not force:
        raise UsageError(f"{path} exists already; give --force to replace it")
    return path


def write(path: Path, content: bytes, *, force: bool) -> None:
    try:
        writable(path, force=force).write_bytes(content)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def database(args: argparse.Namespace, settings: Settings) -> Engine:
    """The migrated database, its connections closed when the command ends."""
    engine = prepare_engine(settings)
    args.resources.callback(engine.dispose)
    return engine
