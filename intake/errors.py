"""Exceptions raised by our own environment (never by a school's input).

IntakeError
 ├── ConfigError    configuration is missing, invalid or unsafe (exit status 78)
 ├── UsageError     a command asked for what cannot be done: a missing path, an existing
 │                  output file, reversed dates (exit status 2)
 ├── StoreError     the database cannot be reached or is inconsistent (exit status 3)
 ├── MailboxError   the mailbox cannot be read (exit status 3)
 └── OutboxError    a reply cannot be sent (exit status 3)

A problem in a school's file is never an exception: it is a `Finding`.
"""

from __future__ import annotations

# sysexits' EX_CONFIG, from every command: a monitor tells a configuration mistake from "rejected"
# (1), "asked wrongly" (2) and "our failure" (3), and systemd's RestartPreventExitStatus stops the
# daemon's restart loop.
EXIT_CONFIG = 78


class IntakeError(Exception):
    """Base of every error the intake raises on purpose."""


class ConfigError(IntakeError):
    """The configuration cannot be used."""


class UsageError(IntakeError):
    """A command cannot do what it was asked: the person running it can put it right."""


class StoreError(IntakeError):
    """The database cannot be used."""


class MailboxError(IntakeError):
    """The mailbox cannot be read."""


class OutboxError(IntakeError):
    """A reply cannot be sent."""
