"""Exceptions raised by our own environment (never by a school's input).

IntakeError
 ├── ConfigError    configuration is missing, invalid or unsafe (exit status 2 / 78)
 ├── StoreError     the database cannot be reached or is inconsistent
 ├── MailboxError   the mailbox cannot be read (issue 3)
 └── OutboxError    a reply cannot be sent (issue 3)

A problem in a school's file is never an exception: it is a `Finding`.
"""

from __future__ import annotations


class IntakeError(Exception):
    """Base of every error the intake raises on purpose."""


class ConfigError(IntakeError):
    """The configuration cannot be used."""


class StoreError(IntakeError):
    """The database cannot be used."""


class MailboxError(IntakeError):
    """The mailbox cannot be read."""


class OutboxError(IntakeError):
    """A reply cannot be sent."""
