"""The `intake` command: loads configuration once, runs a command, maps errors to exit codes."""

from __future__ import annotations

import argparse
import contextlib
import csv
import email
import email.policy
import getpass
import json
import logging
import mailbox
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from tqdm import tqdm

from intake import LOG_FORMAT, daemon
from intake.config import Settings, load_settings
from intake.core.annotation import annotate_workbook
from intake.core.blank_list import make_blank_list
from intake.core.model import Decision
from intake.core.registry import InstitutionIndex, parse_viis_export
from intake.core.replies import ReplyItem, make_environment, render_reply
from intake.core.rules import Circumstances, decide
from intake.core.states import Verdict
from intake.core.workbook import read_participant_list
from intake.daemon import DailyJob, run_forever
from intake.errors import ConfigError, IntakeError, StoreError, UsageError
from intake.mail.idle import NewMailWatcher
from intake.mail.mailbox import MaildirSource, check_folders
from intake.poll.service import open_mailbox, open_smtp, poll_once, prepare_engine, read_status
from intake.samples import make_sample_emails
from intake.staff import commands as staff
from intake.staff.export import write_export
from intake.store.engine import open_engine, sqlite_file
from intake.store.registry import load_institution_index, replace_institutions, shipped_index
from intake.store.schema import current_revision, is_current, upgrade
from intake.systemd import notify

log = logging.getLogger("intake")

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
EXIT_UNHEALTHY = 1  # `intake status`: no good poll lately, or quarantined mail
# sysexits' EX_CONFIG for every command: a monitor tells a configuration mistake from "rejected" (1),
# "asked wrongly" (2) and "our failure" (3), and systemd's RestartPreventExitStatus stops the daemon.
EXIT_CONFIG = daemon.EXIT_CONFIG
PURGE_TIME = time(3, 30)  # the daily retention purge, local time: nobody is at work


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
        return EXIT_CONFIG if args.run is _run else EXIT_USAGE
    except (UsageError, staff.StaffError) as exc:  # asked for something that cannot be done
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

    validate = commands.add_parser("validate", help="check participant lists as a school's would be")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--programme", help="programme name (default: the configured default)")
    validate.add_argument("--json", action="store_true", help="one JSON object per file")
    validate.add_argument("--annotate", type=Path, metavar="DIR",
                          help="write an annotated copy of each file with findings into DIR")
    validate.add_argument("--force", action="store_true", help="replace annotated copies in DIR")
    validate.set_defaults(run=_validate)

    template = commands.add_parser("template", help="write the blank participant list (.xlsx)")
    template.add_argument("path", nargs="?", type=Path, default=Path("dalibnieku-saraksts.xlsx"))
    template.add_argument("--programme")
    template.add_argument("--force", action="store_true", help="replace an existing file")
    template.set_defaults(run=_template)

    institutions = commands.add_parser("institutions", help="the institution registry")
    registry = institutions.add_subparsers(required=True, metavar="ACTION")
    load = registry.add_parser("import", help="replace the registry with a VIIS export (CSV)")
    load.add_argument("file", type=Path)
    load.set_defaults(run=_import_institutions)

    poll = commands.add_parser("poll", help="one cycle: fetch, decide, store, send replies, move")
    poll.set_defaults(run=_poll)

    run = commands.add_parser("run", help="the daemon: poll every interval until SIGTERM")
    run.set_defaults(run=_run)

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

    summary = commands.add_parser("summary", help="the staff's daily summary, on demand")
    summary.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                         help="the day (default: yesterday, in the configured time zone)")
    output = summary.add_mutually_exclusive_group()
    output.add_argument("--send", action="store_true", help="mail it to the staff now")
    output.add_argument("--print", action="store_true", help="print the text (the default)")
    output.add_argument("--html", type=Path, metavar="FILE", help="write the HTML to FILE")
    summary.add_argument("--force", action="store_true", help="replace an existing FILE")
    summary.set_defaults(run=_summary)

    export = commands.add_parser("export", help="applications, groups and participants as xlsx")
    export.add_argument("path", nargs="?", type=Path, metavar="PATH",
                        help="default: pieteikumi-YYYY-MM-DD.xlsx in the working directory")
    export.add_argument("--from", dest="first", type=_date, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="last", type=_date, metavar="YYYY-MM-DD")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.set_defaults(run=_export)

    reprocess = commands.add_parser(
        "reprocess", help="decide stored mail again with the current rules and registry")
    which = reprocess.add_mutually_exclusive_group(required=True)
    which.add_argument("message", nargs="?", metavar="MESSAGE",
                       help="a message's number (as in the summary) or its Message-ID")
    which.add_argument("--quarantined", action="store_true",
                       help="every quarantined (and failed) message")
    reprocess.add_argument("--reply", action="store_true",
                           help="reply to the school where the outcome changed")
    reprocess.set_defaults(run=_reprocess)

    withdraw = commands.add_parser("withdraw", help="withdraw an accepted application (frees R5)")
    withdraw.add_argument("application", metavar="APPLICATION", help="e.g. SUP-2026-00042")
    withdraw.add_argument("--reason", required=True, help="why (kept with the application)")
    withdraw.add_argument("--by", default=None,
                          help="who decided (default: the user running the command)")
    withdraw.set_defaults(run=_withdraw)

    resend = commands.add_parser("resend", help="send held, failed or interrupted replies again")
    resend.add_argument("ids", nargs="+", type=int, metavar="OUTBOX_ID")
    resend.set_defaults(run=_resend)

    purge = commands.add_parser("purge", help="remove raw mail older than retention_days")
    purge.set_defaults(run=_purge)
    return parser


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _writable(path: Path, *, force: bool) -> Path:
    """A file a command may write: its folder exists, and it is new unless --force."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder: give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.exists() and not force:
        raise UsageError(f"{path} exists already; give --force to replace it")
    return path


def _write(path: Path, content: bytes, *, force: bool) -> None:
    try:
        _writable(path, force=force).write_bytes(content)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _summary(args: argparse.Namespace, settings: Settings) -> int:
    if args.html:
        _writable(args.html, force=args.force)
    engine = _database(args, settings)
    now = datetime.now(UTC)
    day = args.date or (now.astimezone(ZoneInfo(settings.timezone)).date() - timedelta(days=1))
    if args.send:
        queued = staff.queue_summary(settings, engine, day, now, once=False)
        delivery = staff.send_outbox(settings, engine, now)
        print(f"summary for {day}: {queued} mail(s) queued, {delivery.sent} sent")
        return EXIT_OK if delivery.sent >= queued else EXIT_FAILURE
    mail = staff.make_summary(settings, engine, day)
    if args.html:
        _write(args.html, mail.html.encode("utf-8"), force=args.force)
        print(args.html)
    else:
        print(f"Temats: {mail.subject}\n")
        print(mail.text)
    return EXIT_OK


def _export(args: argparse.Namespace, settings: Settings) -> int:
    zone = ZoneInfo(settings.timezone)
    today = datetime.now(zone).date()
    if args.first and args.first > (args.last or today):
        raise UsageError(f"--from {args.first} is after "
                         + (f"--to {args.last}" if args.last else f"today ({today})")
                         + ": the period would be empty")
    path = _writable(args.path or Path(f"pieteikumi-{today.isoformat()}.xlsx"), force=args.force)
    engine = _database(args, settings)
    with tqdm(desc="export", unit=" applications", disable=None) as bar:
        content = write_export(engine, zone, first=args.first, last=args.last, progress=bar.update)
    _write(path, content, force=args.force)
    print(path)
    return EXIT_OK


def _reprocess(args: argparse.Namespace, settings: Settings) -> int:
    engine = _database(args, settings)
    rows = staff.find_messages(engine, args.message, quarantined=args.quarantined)
    with tqdm(total=len(rows), desc="reprocess", unit=" messages", disable=None) as bar:
        results = staff.reprocess(settings, engine, rows, reply=args.reply,
                                  now=lambda: datetime.now(UTC), progress=bar.update)
    for result in results:
        change = f"{result.before} -> {result.after}" if result.changed else f"unchanged ({result.after})"
        extra = "; reply queued" if result.replied else ""
        print(f"message {result.message_row}: {change}{extra}{'; ' + result.note if result.note else ''}")
    if any(r.replied for r in results):
        delivery = staff.send_outbox(settings, engine, datetime.now(UTC))
        print(f"replies sent: {delivery.sent}")
    print(f"reprocessed {len(results)}, changed {sum(r.changed for r in results)}")
    return EXIT_OK


def _withdraw(args: argparse.Namespace, settings: Settings) -> int:
    engine = _database(args, settings)
    by = args.by or getpass.getuser()
    released = staff.withdraw(engine, args.application, by=by, reason=args.reason,
                              now=datetime.now(UTC))
    print(f"{args.application.strip().upper()}: withdrawn by {by}; {released} participant(s) "
          "free to apply again")
    return EXIT_OK


def _resend(args: argparse.Namespace, settings: Settings) -> int:
    engine = _database(args, settings)
    count = staff.resend(engine, args.ids, datetime.now(UTC))
    if count:
        delivery = staff.send_outbox(settings, engine, datetime.now(UTC))
        print(f"{count} repl(ies) released, {delivery.sent} sent")
    asked = len(set(args.ids))
    if count < asked:
        log.error("%d of %d outbox number(s) not released: each must be a reply's number "
                  "(«atbilde Nr.» in the summary) that is held, failed or interrupted",
                  asked - count, asked)
        return EXIT_USAGE
    return EXIT_OK


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    engine = _database(args, settings)
    purged = staff.purge(engine, datetime.now(UTC), settings.retention_days)
    print(f"purged raw mail of {purged.messages} message(s) and {purged.replies} unsent "
          f"reply(ies) older than {settings.retention_days} days")
    return EXIT_OK


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    programme = settings.programme(args.programme)
    if args.annotate:
        if args.annotate.exists() and not args.annotate.is_dir():
            raise UsageError(f"--annotate {args.annotate}: not a folder")
        if not args.annotate.parent.is_dir():  # DIR itself is made; a mistyped path above it is not
            raise UsageError(f"--annotate {args.annotate}: folder {args.annotate.parent} does not exist")
        for path in args.files if args.annotate.is_dir() else ():
            _writable(args.annotate / f"{path.stem}-piezimes.xlsx", force=args.force)
    registry = _registry(settings)
    environment = make_environment(settings.templates_dir)
    any_rejected = False
    for path in args.files:
        try:
            content = path.read_bytes()
        except OSError as exc:
            log.error("cannot read %s: %s", path, exc.strerror)
            return EXIT_USAGE
        plist = read_participant_list(content, path.name, limits=settings.limits)
        decision = decide(plist, Circumstances(programme, datetime.now(UTC).date(), registry=registry))
        any_rejected |= not decision.accepted
        annotated = None
        if args.annotate and decision.findings:
            annotated = annotate_workbook(content, decision, limits=settings.limits)
            if annotated is not None:
                try:
                    args.annotate.mkdir(exist_ok=True)
                except OSError as exc:
                    raise UsageError(f"cannot create {args.annotate}: {exc.strerror or exc}") from None
                _write(args.annotate / f"{path.stem}-piezimes.xlsx", annotated, force=args.force)
        if args.json:
            print(json.dumps(decision_as_json(decision), ensure_ascii=False))
        else:
            annotated_name = f"{path.stem}-piezimes.xlsx" if annotated is not None else None
            reply = render_reply([ReplyItem(decision, annotated=annotated_name)], environment,
                                 programme=programme)
            print(f"== {path} — {'pieņemts' if decision.accepted else 'noraidīts'} ==")
            print(f"Temats: {reply.subject}\n")
            print(reply.text)
    return EXIT_REJECTED if any_rejected else EXIT_OK


def decision_as_json(decision: Decision) -> dict[str, object]:
    return {
        "file": decision.file,
        "verdict": Verdict.of(decision.accepted),
        "institution": decision.institution,
        "programme": decision.programme,
        "groups": [
            {"kind": group.kind.value, "label": group.label, "participants": [
                {"row": p.row, "first_name": p.first_name, "last_name": p.last_name,
                 "position": p.position, "email": p.email, "role": p.role.value}
                for p in group.participants]}
            for group in decision.groups
        ],
        "findings": [
            {"severity": f.severity.value, "code": f.code, "sheet": f.sheet, "row": f.row,
             "column": f.column_letter, "column_title": f.column_title, "cell": f.cell,
             "value": f.value, "message": f.message, "hint": f.hint}
            for f in decision.findings
        ],
    }


def _registry(settings: Settings) -> InstitutionIndex | None:
    """The registry, read through a read-only connection. Validating never creates, migrates or
    writes a database: without one (or without its schema) the lists are checked against the
    registry that ships with the package and without earlier applications, and stderr says so."""
    path = sqlite_file(settings.database_url)
    missing = "no database file" if path is not None and not path.is_file() else None
    index = None
    if missing is None:
        engine = open_engine(settings.database_url, read_only=True)
        try:
            if current_revision(engine) is None:
                missing = "the database has no schema yet"
            else:
                index = load_institution_index(engine, read_only=True)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the database: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:300]}") from exc
        finally:
            engine.dispose()
    if missing is not None:
        log.warning("%s: lists are checked against the shipped institution registry and without "
                    "earlier applications (R5)", missing)
        index = shipped_index()
    return index


def _template(args: argparse.Namespace, settings: Settings) -> int:
    _writable(args.path, force=args.force)
    _write(args.path, make_blank_list(settings.programme(args.programme)), force=args.force)
    print(args.path)
    return EXIT_OK


def _import_institutions(args: argparse.Namespace, settings: Settings) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
        institutions = parse_viis_export(text)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        log.error("cannot import %s: %s", args.file, exc)
        return EXIT_USAGE
    engine = _database(args, settings)
    count = replace_institutions(engine, institutions)
    without = sum(1 for i in institutions if i.municipality is None)
    log.info("imported %d institutions (%d without a recognised municipality)", count, without)
    linked = staff.link_institutions(engine)
    if linked:
        log.info("%d application(s) now linked to the registry anew (R8)", linked)
    return EXIT_OK


def _database(args: argparse.Namespace, settings: Settings) -> Engine:
    """The migrated database, its connections closed when the command ends."""
    engine = prepare_engine(settings)
    args.resources.callback(engine.dispose)
    return engine


def _poll(args: argparse.Namespace, settings: Settings) -> int:
    engine = _database(args, settings)
    summary = poll_once(settings, engine)
    print(summary.line() if summary else "poll: skipped, another poller is at work")
    return EXIT_OK


def _run(args: argparse.Namespace, settings: Settings) -> int:
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
    engine = _database(args, settings)
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
    _database(args, settings)
    print("database schema is current")
    return EXIT_OK


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    """The pipeline end to end on a local Maildir, into SQLite and a Maildir of replies."""
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
    engine = _database(args, demo)
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
