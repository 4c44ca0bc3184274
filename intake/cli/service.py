"""The commands that run the service and look after it: one `poll`, the daemon (`run`), the
pre-flight `check`, `status` for people and monitors, `db upgrade`, and the `demo` on sample mail."""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import logging
import mailbox
import shutil
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from intake.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_UNHEALTHY, database
from intake.config import Settings
from intake.errors import ConfigError, IntakeError, StoreError
from intake.mail.idle import NewMailWatcher
from intake.mail.maildir import MaildirSource
from intake.mail.source import check_folders
from intake.poll.service import open_mailbox, open_smtp, poll_once
from intake.store.engine import open_engine, sqlite_file
from intake.store.schema import is_current, upgrade
from intake.store.status import read_status

log = logging.getLogger("intake")

PURGE_TIME = time(3, 30)  # the daily retention purge, local time: nobody is at work


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    poll = commands.add_parser("poll", help="one cycle: fetch, decide, store, send replies, move")
    poll.set_defaults(run=_poll)

    run = commands.add_parser("run", help="the daemon: poll every interval until SIGTERM")
    run.set_defaults(run=run_daemon)

    check = commands.add_parser("check", help="check configuration, mailbox, SMTP and database")
    check.set_defaults(run=_check)

    status = commands.add_parser("status", help="messages per state, outbox, last good poll")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=_status)

    db = commands.add_parser("db", help="the database schema")
    db_actions = db.add_subparsers(required=True, metavar="ACTION")
    db_upgrade = db_actions.add_parser("upgrade", help="apply migrations (safe to repeat)")
    db_upgrade.set_defaults(run=_db_upgrade)

    demo = commands.add_parser("demo", help="the whole pipeline on sample mail, no server needed")
    demo.set_defaults(run=_demo)


def _poll(args: argparse.Namespace, settings: Settings) -> int:
    engine = database(args, settings)
    summary = poll_once(settings, engine)
    print(summary.line() if summary else "poll: skipped, another poller is at work")
    return EXIT_OK


def run_daemon(args: argparse.Namespace, settings: Settings) -> int:
    from intake.daemon import DailyJob, run_forever
    from intake.staff import commands as staff
    from intake.systemd import notify

    engine = open_engine(settings.database_url)
    args.resources.callback(engine.dispose)
    migrated = [False]
    try:
        upgrade(engine)
        migrated[0] = True
    except StoreError as exc:  # the database is out: the daemon starts anyway, its polls retry
        log.error("%s; polls will try again", str(exc).splitlines()[0])

    folders_ready = [False]

    def once(should_stop: Callable[[], bool]) -> None:
        if not migrated[0]:
            upgrade(engine)
            migrated[0] = True
        if not folders_ready[0]:  # before the first poll; a mailbox that is out: tried again
            _folders_ready(settings)
            folders_ready[0] = True
        summary = poll_once(settings, engine, should_stop=should_stop)
        if summary is not None:
            log.info("%s", summary.line())
        if settings.mail.staff:
            try:  # a summary the daily job could not send goes out after the next good poll
                staff.send_due_summary(settings, engine, datetime.now(UTC))
            except (IntakeError, SQLAlchemyError) as exc:
                log.warning("daily summary not sent yet: %s", type(exc).__name__)

    zone = ZoneInfo(settings.timezone)
    daily = [DailyJob("daily summary", settings.summary_time, zone,
                      lambda: staff.send_due_summary(settings, engine, datetime.now(UTC)))]
    if settings.retention_days:
        daily.append(DailyJob("retention purge", PURGE_TIME, zone, lambda: staff.purge(
            engine, datetime.now(UTC), settings.retention_days)))
    watcher = None
    if settings.mail.idle and settings.mail.mailbox_url.startswith(("imap://", "imaps://")):
        def watcher(wake: Callable[[], None]) -> NewMailWatcher:
            return NewMailWatcher(lambda: open_mailbox(settings), wake)
    return run_forever(once, interval_seconds=settings.mail.poll_interval_seconds,
                       notify=lambda state: notify(settings.notify_socket, state), daily=daily,
                       watcher=watcher)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    """Pre-flight: every dependency reached once, every folder created; the exit status is the
    health (a folder the configuration cannot name: EXIT_USAGE, one the server refuses: 3)."""
    engine = database(args, settings)
    status = read_status(engine)
    print(f"database: ok ({engine.dialect.name})")
    source = open_mailbox(settings)
    try:
        print(f"mailbox: ok ({len(source.list_new())} message(s) waiting)")
        print(f"folders: Maildir++ directories in {source.root}" if isinstance(
            source, MaildirSource) else f"folders: the server's {source.layout().describe()}")
        checks = check_folders(source, asdict(settings.mail.folders))
    finally:
        source.close()
    for folder in checks:
        print(f"  {folder.line()}")
    if status.not_moved:
        print(f"not moved: {status.not_moved} message(s) decided and answered wait in the mailbox "
              f"since {status.not_moved_since} ({status.move_error}); the next poll moves them "
              "if every folder above is fine")
    transport = open_smtp(settings)
    transport.check()
    print("smtp: ok")
    if any(folder.config for folder in checks):
        raise ConfigError("; ".join(f.problem or "" for f in checks if f.config))
    return EXIT_FAILURE if any(folder.problem for folder in checks) else EXIT_OK


def _folders_ready(settings: Settings) -> None:
    """The daemon's start: `intake check`'s folders, in the log. A folder the configuration
    cannot name stops it (ConfigError); one the server refuses is an ERROR, and polls go on."""
    source = open_mailbox(settings)
    try:
        layout = source.layout().describe()
        checks = check_folders(source, asdict(settings.mail.folders))
    finally:
        source.close()
    if any(folder.config for folder in checks):
        raise ConfigError("; ".join(f.problem or "" for f in checks if f.config))
    for folder in checks:
        if folder.problem:
            log.error("folder %s; mail for it stays in the mailbox until the server takes the "
                      "folder (the server's %s)", folder.line(), layout)
    log.info("folders: %s (the server's %s)", ", ".join(
        f"{f.folder!r} {'created' if f.created else 'ok'}" for f in checks if not f.problem),
        layout)


def _status(args: argparse.Namespace, settings: Settings) -> int:
    """Counts for people, and an exit status for monitors: non-zero when something needs a human."""
    engine = _status_engine(settings.database_url)
    args.resources.callback(engine.dispose)
    status = read_status(engine)
    problems = status.problems(datetime.now(UTC), settings.mail.poll_interval_seconds)
    if args.json:
        print(json.dumps({**status.as_json(), "problems": problems}, ensure_ascii=False))
    else:
        print("messages: " + (", ".join(f"{k} {v}" for k, v in sorted(status.messages.items()))
                              or "none"))
        print("applications: " + (", ".join(f"{k} {v}" for k, v in
                                            sorted(status.applications.items())) or "none"))
        print("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(status.outbox.items()))
                            or "empty"))
        print(f"registered participants: {status.registered_participants}")
        print("lists sent again: " + (", ".join(f"{k} {v}" for k, v in
                                                sorted(status.resubmissions.items())) or "none")
              + f"; applications amended: {status.amended}; rejections corrected: "
              f"{status.corrections}" + (f" (median {status.median_hours_to_fix} h)"
                                         if status.median_hours_to_fix is not None else ""))
        print(f"quarantined: {status.quarantined}")
        print(f"last good poll: {status.last_good_poll or 'never'}")
        for problem in problems:
            print(f"ALERT: {problem}")
    return EXIT_UNHEALTHY if problems else EXIT_OK


def _status_engine(url: str) -> Engine:
    """A read-only engine (a monitor may have read rights only) on a current schema: a new or
    older database is migrated first, as by any command, under the migration lock."""
    path = sqlite_file(url)
    reader = open_engine(url, read_only=True) if path is None or path.is_file() else None
    try:
        if reader is not None and is_current(reader):
            return reader
    except SQLAlchemyError as exc:  # a monitor's exit status 3, one line
        raise StoreError(f"database unreachable: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc
    writer = open_engine(url)
    try:
        upgrade(writer)
    except StoreError as exc:
        if isinstance(exc.__cause__, OperationalError | InterfaceError):
            raise StoreError(f"database unreachable: {str(exc).splitlines()[0][:300]}") from exc
        raise
    finally:
        writer.dispose()
    return reader or open_engine(url, read_only=True)


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    database(args, settings)
    print("database schema is current")
    return EXIT_OK


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    """The pipeline end to end on a local Maildir, into SQLite and a Maildir of replies."""
    from intake.samples import make_sample_emails

    folder = settings.state_dir / "demo"
    if folder.exists():
        shutil.rmtree(folder)  # ours alone: each demo starts from the same mailbox
    inbox, sent = folder / "inbox", folder / "sent"
    demo = replace(settings, database_url=f"sqlite:///{folder / 'demo.sqlite3'}",
                   mail=replace(settings.mail, mailbox_url=f"maildir:{inbox}",
                                smtp_url=f"maildir:{sent}", address="supervizija@ikvd.example.lv"))
    folder.mkdir(parents=True)
    incoming = mailbox.Maildir(inbox, create=True)
    for _name, raw in make_sample_emails(demo.mail.address):
        incoming.add(raw)
    engine = database(args, demo)
    summary = poll_once(demo, engine)
    assert summary is not None  # the demo's own database: nobody else polls it
    print(summary.line())
    replies = sorted((sent / "new").iterdir())
    for path in replies:
        reply = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        names = [part.get_filename() for part in reply.iter_attachments()]
        print(f"reply to {reply['To']}: {reply['Subject']}" + (
            f" (attached: {', '.join(n for n in names if n)})" if names else ""))
    status = read_status(engine)
    print("messages by state: " + ", ".join(f"{k} {v}" for k, v in sorted(status.messages.items())))
    print(f"Replies (one file per mail): {sent / 'new'}")
    print(f"Handled mail by outcome (Maildir++ folders): {inbox}")
    print(f"Database: {folder / 'demo.sqlite3'}")
    return EXIT_OK
