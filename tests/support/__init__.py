"""Builders and servers for the tests: lists and mail as real programs write them, Dovecot (IMAP),
aiosmtpd (SMTP), PostgreSQL databases, and whether a missing one fails the run."""

import os


def in_ci() -> bool:
    """Under CI (`CI=true`, as `.ci/run` sets unless told otherwise) a missing service or folder
    fails the run; elsewhere the test says what is missing and skips."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
