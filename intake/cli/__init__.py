"""The `intake` command: loads configuration once, runs a command, maps errors to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence

from intake import LOG_FORMAT
from intake.cli import lists, service, staff
from intake.cli.common import EXIT_FAILURE, EXIT_USAGE
from intake.cli.lists import decision_as_json
from intake.config import load_settings
from intake.errors import EXIT_CONFIG, ConfigError, IntakeError, UsageError

log = logging.getLogger("intake")  # the commands' lines under one name, whichever module says them

__all__ = ["build_parser", "decision_as_json", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        log.error("configuration: %s", exc)
        return EXIT_CONFIG
    try:
        with contextlib.ExitStack() as args.resources:  # what a command opens, closed as it ends
            result: int = args.run(args, settings)
        return result
    except ConfigError as exc:  # a programme named on the command line, or the daemon's own check
        log.error("configuration: %s", exc)
        return EXIT_CONFIG if args.run is service.run_daemon else EXIT_USAGE
    except UsageError as exc:  # asked for something that cannot be done (a staff action too)
        log.error("%s", exc)
        return EXIT_USAGE
    except IntakeError as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        return EXIT_FAILURE
    except Exception:  # our own bug: 3 with its traceback in the log, never 1 ("rejected")
        log.exception("unexpected error in `intake %s` (our failure)", _command(argv))
        return EXIT_FAILURE


def _command(argv: Sequence[str] | None) -> str:
    words = list(sys.argv[1:] if argv is None else argv)
    return " ".join(w for w in words[:2] if not w.startswith("-"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intake", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    lists.add_parsers(commands)  # validate, template, institutions
    service.add_parsers(commands)  # poll, run, check, status, db, demo
    staff.add_parsers(commands)  # summary, export, reprocess, withdraw, resend, purge
    return parser
