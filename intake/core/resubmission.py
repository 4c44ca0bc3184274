"""Recognises a list sent again: its fingerprint, the application numbers a mail names, and what
an amendment changes. Pure: the store supplies what it knows of earlier applications."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from intake.core.latvian import fold, fold_key, group_key
from intake.core.model import Decision, Field, ListRow, Participant
from intake.core.registry import name_key
from intake.core.rules import person_keys
from intake.core.states import Verdict


def list_fingerprint(institution: str | None, participants: Iterable[Participant],
                     unread_rows: Iterable[ListRow] = ()) -> str:
    """The same people at the same institution give the same fingerprint, whatever program saved
    the file, however it is styled, whatever its sheet is called and in whatever order its rows
    stand. Rows that did not give a participant count with their folded cell texts."""
    people = sorted(
        "\x1f".join((fold_key(p.first_name + p.last_name), p.email.casefold(), fold(p.position),
                     p.role.value, group_key(p.group_label or "")))
        for p in participants)
    rest = sorted("\x1f".join(sorted(f"{field}={fold(cell.text)}"
                                     for field, cell in row.values.items()
                                     if field is not Field.PERSONAL_CODE))  # never kept (R11)
                  for row in unread_rows)
    text = "\x1e".join([name_key(institution or ""), *people, "", *rest])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Relation(StrEnum):
    """What a list is to the applications before it."""

    NEW = "new"  # decided as usual (possibly correcting an earlier rejection)
    REPEAT = "repeat"  # the same list as an accepted application: nothing registered again
    REPEAT_REJECTED = "repeat-rejected"  # the same list as a rejected one, the same findings
    AMENDMENT = "amendment"  # replaces an accepted application's list
    AMENDMENT_REFUSED = "amendment-refused"  # an amendment with errors: the old list stays


@dataclass(frozen=True, slots=True)
class Earlier:
    """What the store knows of an earlier application, for recognising a list sent again."""

    id: int
    number: str
    verdict: str  # accepted, rejected
    created_at: datetime
    institution: str | None
    fingerprint: str | None
    programme: str = ""
    codes: frozenset[tuple[str, str, int]] = frozenset()  # finding_codes of its decision
    people: tuple[Participant, ...] = ()  # an accepted application's people, for an amendment
    amended_at: datetime | None = None
    resolved: bool = False  # a rejection a later list has corrected already
    sender: str = ""  # of the mail that brought it

    @property
    def confirmed_at(self) -> datetime:
        """When its list as it stands now was accepted."""
        return self.amended_at or self.created_at


@dataclass(frozen=True, slots=True)
class PersonChange:
    """An amendment's effect on an application's people, as the reply lists it."""

    added: tuple[Participant, ...]
    removed: tuple[Participant, ...]
    unchanged: tuple[Participant, ...]


def finding_codes(decision: Decision) -> frozenset[tuple[str, str, int]]:
    """(severity, code, how often): as the store keeps an application's findings."""
    counts = Counter((f.severity.value, f.code) for f in decision.findings)
    return frozenset((severity, code, count) for (severity, code), count in counts.items())


def same_institution(first: str | None, second: str | None) -> bool:
    return bool(first and second) and name_key(first or "") == name_key(second or "")


def compare_people(before: Sequence[Participant], after: Sequence[Participant],
                   institution: str | None) -> PersonChange:
    """Who an amendment adds, removes and keeps: a person is the same by e-mail or folded name."""
    def keys(p: Participant) -> set[str]:
        return set(person_keys(p.first_name, p.last_name, p.email, institution))

    old_keys = [keys(p) for p in before]
    new_keys = [keys(p) for p in after]
    added = tuple(p for p, k in zip(after, new_keys, strict=True)
                  if not any(k & o for o in old_keys))
    unchanged = tuple(p for p, k in zip(after, new_keys, strict=True)
                      if any(k & o for o in old_keys))
    removed = tuple(p for p, k in zip(before, old_keys, strict=True)
                    if not any(k & n for n in new_keys))
    return PersonChange(added, removed, unchanged)


def participants(decision: Decision) -> tuple[Participant, ...]:
    return tuple(p for group in decision.groups for p in group.participants)


def amendment_target(decision: Decision, referenced: Sequence[Earlier]) -> Earlier | None:
    """The accepted application a list replying to ours amends: the same institution, sharing at
    least one person (a list of wholly other people is a further application, not a change), the
    one sharing most."""
    people = participants(decision)
    best: tuple[int, Earlier] | None = None
    for earlier in referenced:
        if (earlier.verdict != Verdict.ACCEPTED or earlier.programme != decision.programme
                or not same_institution(earlier.institution, decision.institution)):
            continue
        shared = len(compare_people(earlier.people, people, decision.institution).unchanged)
        if shared and (best is None or shared > best[0]):
            best = (shared, earlier)
    return best[1] if best else None


def earlier_rejection(decision: Decision, referenced: Sequence[Earlier],
                      unresolved: Sequence[Earlier]) -> Earlier | None:
    """The rejected application a new list corrects: one our reply to which it answers, else the
    sender's latest unresolved rejection for the same institution."""
    for earlier in (*referenced, *sorted(unresolved, key=lambda e: e.created_at, reverse=True)):
        if (earlier.verdict == Verdict.REJECTED and not earlier.resolved
                and earlier.programme == decision.programme
                and (earlier in referenced
                     or same_institution(earlier.institution, decision.institution))):
            return earlier
    return None
