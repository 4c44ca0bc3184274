"""The end of a poll: decided mail into its folders. A folder the server refuses is an alert for
the operator, never a poll that fails: the mail stays where it is, recorded as decided (it is not
fetched or answered again), and is moved by the first poll after the folder works."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from intake.config.mail import Folders
from intake.core.states import MessageState
from intake.mail.source import FolderError, MailSource, MessageRef
from intake.store import messages

log = logging.getLogger(__name__)

def folder_for(folders: Folders, state: str) -> str | None:
    """The folder of a decided message; None while it is not decided (failed: retried)."""
    return {
        MessageState.APPLICATION: folders.application, MessageState.AUTO: folders.auto,
        MessageState.CORRESPONDENCE: folders.correspondence, MessageState.NO_LIST: folders.no_list,
        MessageState.QUARANTINED: folders.quarantined,
    }.get(MessageState(state))


@dataclass
class Decided:
    """Mail of this listing decided by an earlier poll and still in the mailbox (a move that was
    refused, or a crash before it): where each goes. `waiting` are those an earlier refusal
    marked; `gone` marked ones no longer in the mailbox (moved or deleted by someone else)."""

    folders: dict[str, str] = field(default_factory=dict)  # location -> folder
    waiting: set[str] = field(default_factory=set)
    gone: list[str] = field(default_factory=list)

    def moves(self, refs: Sequence[MessageRef]) -> dict[str, list[MessageRef]]:
        done: dict[str, list[MessageRef]] = {}
        for ref in refs:
            if ref.location in self.folders:
                done.setdefault(self.folders[ref.location], []).append(ref)
        return done


def decided_before(engine: Engine, mailbox: str, refs: Sequence[MessageRef],
                   folders: Folders) -> Decided:
    """Found by place, so without fetching."""
    present = {ref.location for ref in refs}
    states, marked = messages.decided_states(engine, mailbox, sorted(present))
    decided = Decided()
    for location, state in states.items():
        folder = folder_for(folders, state)
        if folder is not None:
            decided.folders[location] = folder
    decided.waiting = {location for location in marked if location in present}
    decided.gone = [location for location in marked if location not in present]
    return decided


def move_decided(engine: Engine, source: MailSource, done: Mapping[str, Sequence[MessageRef]],
                 decided: Decided, now: datetime) -> int:
    """Moves each folder's mail; returns how many messages a refused folder kept back. A lost
    connection ends the moves (a MailboxError: the poll fails and the next one moves the rest)."""
    refused: list[tuple[FolderError, Sequence[MessageRef]]] = []
    moved: list[str] = []
    try:
        for folder, refs in done.items():
            try:
                source.move(refs, folder)
            except FolderError as exc:
                refused.append((exc, refs))
            else:
                moved.extend(ref.location for ref in refs)
    finally:
        if refused:
            log.error("%s", _alert(source, refused))
        messages.mark_unmoved(
            engine, source.name, [(str(exc), [ref.location for ref in refs]) for exc, refs in refused],
            [*decided.gone, *(location for location in moved if location in decided.waiting)], now)
    return sum(len(refs) for _exc, refs in refused)


def _alert(source: MailSource, refused: list[tuple[FolderError, Sequence[MessageRef]]]) -> str:
    """One line for the operator: counts, folders and the server's words, no personal data."""
    count = sum(len(refs) for _exc, refs in refused)
    folders = "; ".join(
        f"{len(refs)} for {exc.folder!r}"
        + (f" ({exc.server_name!r} on the server)" if exc.server_name is not None else "")
        + f": {exc.said}" for exc, refs in refused)
    return (f"mail not moved: {count} message(s), decided and answered, stay in {source.name} "
            f"({folders}; the server's {refused[0][0].layout.describe()}). They "
            "are not decided again and are moved by the first poll after the folder works; "
            "`intake check` tests the folders")
