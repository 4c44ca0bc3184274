"""Wires configuration to the pipeline: engine, templates, registry, mailbox and SMTP connections."""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from intake.config import Settings
from intake.core.replies import make_environment
from intake.errors import StoreError
from intake.mail.mailbox import open_source, with_retries
from intake.mail.oauth import token_source
from intake.mail.outbox import Transport, open_transport
from intake.mail.source import MailSource
from intake.poll.context import Context
from intake.poll.pipeline import PollSummary, poll
from intake.store import lease
from intake.store.engine import open_engine
from intake.store.registry import load_institution_index
from intake.store.schema import upgrade

log = logging.getLogger(__name__)


def prepare_engine(settings: Settings) -> Engine:
    engine = open_engine(settings.database_url)
    upgrade(engine)
    return engine


@dataclass
class _Failpoint:
    """Tests only: INTAKE_FAILPOINT=NAME kills at the first pass through that step, NAME:N at the
    Nth."""

    wanted: str
    passes: int  # left until the kill

    @classmethod
    def of(cls, setting: str | None) -> _Failpoint:
        wanted, _sep, nth = (setting or "").partition(":")
        return cls(wanted, int(nth) if nth.isdigit() else 1)

    def __call__(self, name: str) -> None:
        if name != self.wanted:
            return
        self.passes -= 1
        if self.passes <= 0:
            log.warning("failpoint %s: killing the process", name)
            os.kill(os.getpid(), signal.SIGKILL)


def make_context(settings: Settings, engine: Engine, **overrides: object) -> Context:
    """The context of a poll or a staff action; `overrides` replace its clock or hooks (tests)."""
    return Context(settings=settings, engine=engine,
                   environment=make_environment(settings.templates_dir),
                   registry=load_institution_index(engine),
                   failpoint=_Failpoint.of(settings.failpoint),
                   **overrides)  # type: ignore[arg-type]


def open_mailbox(settings: Settings) -> MailSource:
    mail = settings.mail
    tokens = token_source(settings) if mail.mailbox_auth == "xoauth2" else None
    return with_retries(lambda: open_source(mail.mailbox_url, password=mail.mailbox_password,
                                            ca_file=mail.tls_ca_file, timeout=mail.timeout_seconds,
                                            tokens=tokens))


def open_smtp(settings: Settings) -> Transport:
    mail = settings.mail
    tokens = token_source(settings) if mail.smtp_auth == "xoauth2" else None
    return open_transport(mail.smtp_url, password=mail.smtp_password, ca_file=mail.tls_ca_file,
                          timeout=mail.timeout_seconds, tokens=tokens)


def poll_once(settings: Settings, engine: Engine, **overrides: object) -> PollSummary | None:
    """One poll under the poll lock; None when another poller holds it (two daemons started by
    mistake against one database never work the same mailbox at once)."""
    try:
        with lease.poll_lock(engine) as held:
            if not held:
                log.info("another poller holds the lock; this poll is skipped")
                return None
            context = make_context(settings, engine, **overrides)
            source = open_mailbox(settings)
            transport = open_smtp(settings)
            try:
                return poll(context, source, transport)
            finally:
                transport.close()
                source.close()
    except SQLAlchemyError as exc:  # the database is out (the lock, the registry): one line
        raise StoreError(f"database unreachable: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:300]}") from exc
