"""What became of a message and of each list in it: the words the store keeps and staff read."""

from __future__ import annotations

from enum import StrEnum


class MessageState(StrEnum):
    APPLICATION = "application"  # each list in it accepted or rejected
    AUTO = "auto"  # automatic mail: recorded, never answered
    CORRESPONDENCE = "correspondence"  # a reply to us without a list: for staff
    NO_LIST = "no_list"  # a new mail without a list: told how to apply
    FAILED = "failed"  # our own error: retried on later polls
    QUARANTINED = "quarantined"  # failed too often: kept for staff with its error


class Verdict(StrEnum):
    """An application's verdict."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # once `intake reprocess` has replaced it with a new decision

    @classmethod
    def of(cls, accepted: bool) -> Verdict:
        return cls.ACCEPTED if accepted else cls.REJECTED
