"""Decides what one incoming message is and what it gets back: pure, given its parsed form."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, tzinfo

from intake.core.automail import Ours
from intake.core.details import Details, extract_details
from intake.core.formats import Limits
from intake.core.institution import InstitutionChoice, MailText, find_institution
from intake.core.latvian import fold
from intake.core.messages import IncomingMessage, own_text, parse_message
from intake.core.model import Decision, ListRow
from intake.core.parts import Attachment
from intake.core.programme import Programme
from intake.core.registry import InstitutionIndex
from intake.core.resubmission import (
    Earlier,
    PersonChange,
    Relation,
    amendment_target,
    compare_people,
    earlier_rejection,
    finding_codes,
    list_fingerprint,
    participants,
)
from intake.core.rules import Circumstances, decide, person_keys
from intake.core.states import MessageState, Verdict
from intake.core.workbook import read_participant_list


@dataclass(frozen=True, slots=True)
class ListOutcome:
    attachment: Attachment
    decision: Decision
    registration_keys: tuple[str, ...]  # for R5, when accepted
    fingerprint: str | None = None  # None for a file without rows: nothing to recognise it by
    relation: Relation = Relation.NEW
    earlier: Earlier | None = None  # the application this list repeats, amends or corrects
    change: PersonChange | None = None  # an applied amendment's effect
    # The contact, times, mode and questions, from the mail and the list.
    details: Details = field(default_factory=Details)


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    state: MessageState
    reason: str
    programme: Programme
    lists: tuple[ListOutcome, ...] = ()


# Looks up which of the given person keys are registered already: key -> application number;
# the third argument is an application whose own people do not count (the one a list amends).
RegisteredLookup = Callable[[str, Sequence[str], int | None], Mapping[str, str]]
TOO_LARGE = "too-large"


@dataclass(frozen=True, slots=True)
class Preparation:
    """What deciding a message needs besides the database; plain values, so a worker process can
    be handed them once."""

    ours: Ours
    programmes: Mapping[str, Programme]
    default_programme: str
    limits: Limits
    registry: InstitutionIndex | None
    today: date


def prepare_message(raw: bytes, preparation: Preparation, *,
                    oversized: bool = False) -> tuple[MessageOutcome, IncomingMessage]:
    """Parse, classify and decide a message without the database: R5 across applications is
    checked afterwards by `recheck_registered`, where the registrations are."""
    message = parse_message(raw, preparation.ours)
    state, reason = classify_message(message, our_domain=preparation.ours.message_id_domain)
    if oversized and state is not MessageState.AUTO:
        # Only the header was fetched: whatever it carries, it is too large to read.
        state, reason = MessageState.APPLICATION, TOO_LARGE
    routed = route_message(message, preparation.programmes, preparation.default_programme)
    programme = routed or preparation.programmes[preparation.default_programme]
    if routed is None and state in (MessageState.APPLICATION, MessageState.NO_LIST):
        # It names another activity: never silently the default programme's; a person answers.
        return MessageOutcome(MessageState.CORRESPONDENCE, OTHER_ACTIVITY, programme), message
    lists: tuple[ListOutcome, ...] = ()
    if state is MessageState.APPLICATION and reason != TOO_LARGE:
        lists = decide_lists(message, programme=programme, today=preparation.today,
                             limits=preparation.limits, registry=preparation.registry,
                             registered=lambda _name, _keys, _amends: {})
    return MessageOutcome(state, reason, programme, lists), message


def recheck_registered(outcome: MessageOutcome, message: IncomingMessage,
                       preparation: Preparation, registered: RegisteredLookup) -> MessageOutcome:
    """R5 across applications: decide the lists again only if someone in them is registered."""
    programme = outcome.programme
    keys = message_keys(outcome)
    if (not programme.one_supervision_per_educator or not keys
            or not registered(programme.name, keys, None)):
        return outcome
    lists = decide_lists(message, programme=programme, today=preparation.today,
                         limits=preparation.limits, registry=preparation.registry,
                         registered=registered,
                         amends=[item.earlier.id if item.relation is Relation.AMENDMENT
                                 and item.earlier is not None else None
                                 for item in outcome.lists])
    # The same attachments in the same order: what was found about each list before R5 stays.
    lists = tuple(replace(new, relation=old.relation, earlier=old.earlier)
                  for old, new in zip(outcome.lists, lists, strict=True))
    return MessageOutcome(outcome.state, outcome.reason, programme, lists)


def message_keys(outcome: MessageOutcome) -> tuple[str, ...]:
    """R5 keys of everyone in the message's lists."""
    return tuple(dict.fromkeys(k for item in outcome.lists for k in _keys(item.decision)))


# The live applications (accepted or rejected, not withdrawn) with this fingerprint.
SameList = Callable[[str], Sequence[Earlier]]
LATE_AMENDMENT = "late-amendment"
SEVERAL_AMENDMENTS = "several-amendments"


def relate_lists(outcome: MessageOutcome, *, referenced: Sequence[Earlier], same_list: SameList,
                 today: date, zone: tzinfo) -> MessageOutcome:
    """Before R5: a list already accepted is a repeat (nothing registered twice); a list answering
    our confirmation amends that application, or goes to staff after the programme's cutoff."""
    items: list[ListOutcome] = []
    for item in outcome.lists:
        found = _candidates(outcome, item, referenced, same_list)
        repeat = next((e for e in found if e.verdict == Verdict.ACCEPTED
                       and e.fingerprint == item.fingerprint), None)
        target = None if repeat else amendment_target(item.decision, referenced)
        if repeat is not None:
            items.append(replace(item, relation=Relation.REPEAT, earlier=repeat))
        elif target is not None:
            accepted_on = target.created_at.astimezone(zone).date()
            if not outcome.programme.accepts_amendment(accepted_on, today):
                return MessageOutcome(MessageState.CORRESPONDENCE, LATE_AMENDMENT,
                                      outcome.programme)
            if any(other.earlier == target for other in items):
                # Two files changing one application: which one stands is for staff to ask.
                return MessageOutcome(MessageState.CORRESPONDENCE, SEVERAL_AMENDMENTS,
                                      outcome.programme)
            items.append(replace(item, relation=Relation.AMENDMENT, earlier=target))
        else:
            items.append(item)
    return replace(outcome, lists=tuple(items))


def _candidates(outcome: MessageOutcome, item: ListOutcome, referenced: Sequence[Earlier],
                same_list: SameList) -> list[Earlier]:
    if not item.fingerprint:
        return []
    return [e for e in (*referenced, *same_list(item.fingerprint))
            if e.programme == outcome.programme.name]


def settle_lists(outcome: MessageOutcome, *, referenced: Sequence[Earlier], same_list: SameList,
                 unresolved: Sequence[Earlier]) -> MessageOutcome:
    """After R5: an amendment with errors is refused (the confirmed list stays) and an applied one
    knows its changes; a rejected list unchanged since its rejection is a repeat of it; a new list
    corrects the rejection it answers (or the sender's latest for the institution)."""
    items: list[ListOutcome] = []
    for item in outcome.lists:
        decision = item.decision
        if item.relation is Relation.AMENDMENT and item.earlier is not None:
            if decision.accepted:
                item = replace(item, change=compare_people(item.earlier.people,
                                                           participants(decision),
                                                           decision.institution))
            else:
                item = replace(item, relation=Relation.AMENDMENT_REFUSED)
        elif item.relation is Relation.NEW:
            codes = finding_codes(decision)
            found = _candidates(outcome, item, referenced, same_list)
            repeat = next((e for e in found if not decision.accepted and e.verdict == Verdict.REJECTED
                           and e.fingerprint == item.fingerprint and e.codes == codes), None)
            if repeat is not None:
                item = replace(item, relation=Relation.REPEAT_REJECTED, earlier=repeat)
            else:
                corrected = earlier_rejection(decision, referenced, [
                    e for e in unresolved if all(i.earlier != e for i in items)])
                if corrected is not None and any(i.earlier == corrected for i in items):
                    corrected = None  # one list per mail corrects a rejection
                item = replace(item, earlier=corrected)
        items.append(item)
    return replace(outcome, lists=tuple(items))


def classify_message(message: IncomingMessage, *, our_domain: str) -> tuple[MessageState, str]:
    """The state a message ends in before any list is read."""
    if message.auto_reason:
        return MessageState.AUTO, message.auto_reason
    if not message.sender:
        return MessageState.AUTO, "no-sender"
    if message.attachments:
        return MessageState.APPLICATION, f"{len(message.attachments)} attachment(s)"
    if message.refers_to(our_domain):
        return MessageState.CORRESPONDENCE, "reply-without-list"
    return MessageState.NO_LIST, "no-attachment"


def choose_programme(message: IncomingMessage, programmes: Mapping[str, Programme],
                     default: str) -> Programme:
    """A school that names a programme in the subject gets it; otherwise the default."""
    return route_message(message, programmes, default) or programmes[default]


OTHER_ACTIVITY = "other-activity"
# Stems (folded) of the words that name an activity schools apply to: a subject naming one the
# default programme does not hold is another activity's mail.
ACTIVITY_STEMS = ("supervizij", "konsultacij", "darbnic", "konferenc", "seminar", "vebinar",
                  "apmacib", "lekcij", "kursi", "kursu", "kursos")


def route_message(message: IncomingMessage, programmes: Mapping[str, Programme],
                  default: str) -> Programme | None:
    """The programme a mail is for: by the address it was sent to (an alias or a `+tag`), then
    by a programme its subject names, else the default. None: the subject names another kind of
    activity than the default programme's, and no programme says it is its own: for staff."""
    for programme in programmes.values():
        if _addressed(message.addressed_to, programme):
            return programme
    text = fold(message.subject)
    words = text.split()
    for name, programme in programmes.items():
        if name != default and (name in words or fold(programme.title) in text or any(
                fold(w) in words for w in programme.subject_words)):
            return programme
    chosen = programmes[default]
    if chosen.subject_words and any(fold(w) in words for w in chosen.subject_words):
        return chosen
    own = tuple(fold(w) for w in chosen.activity_words)
    named = [w for w in words if w.startswith(ACTIVITY_STEMS)
             or any(w.startswith(fold(s)) for p in programmes.values() for s in p.activity_words)]
    if own and named and not any(w.startswith(own) for w in named):
        return None
    return chosen


def _addressed(addresses: Sequence[str], programme: Programme) -> bool:
    aliases = {a.lower() for a in programme.addresses}
    tags = {t.lower() for t in programme.tags}
    for address in addresses:
        if address in aliases:
            return True
        local = address.partition("@")[0]
        if "+" in local and local.partition("+")[2] in tags:
            return True
    return False


def institution_hint(message: IncomingMessage, registry: InstitutionIndex | None) -> str | None:
    """The institution the mail names, for a sheet that names none (R10)."""
    return institution_choice(message, registry).name


def institution_choice(message: IncomingMessage, registry: InstitutionIndex | None) -> InstitutionChoice:
    """The institution the mail names, or the names it wavers between: see `intake.core.institution`."""
    return find_institution(MailText(subject=message.subject, body=message.body_text,
                                     forwarded=message.forwarded_text, sender=message.sender),
                            registry)


def decide_lists(message: IncomingMessage, *, programme: Programme, today: date, limits: Limits,
                 registry: InstitutionIndex | None, registered: RegisteredLookup,
                 amends: Sequence[int | None] = ()) -> tuple[ListOutcome, ...]:
    """Each attached list read and decided; R5 across applications through `registered`, where
    the application a list amends (`amends`, by position) does not count against it."""
    choice = institution_choice(message, registry)
    body = own_text(message.body_text)
    outcomes = []
    earlier: dict[str, str] = {}  # R5 within one mail: people of the lists attached before

    def lookup(name: str, keys: Sequence[str], amended: int | None) -> Mapping[str, str]:
        found = dict(registered(name, keys, amended))
        found.update({k: earlier[k] for k in keys if k in earlier and k not in found})
        return found

    for index, attachment in enumerate(message.attachments):
        plist = read_participant_list(attachment.content, attachment.filename, limits=limits)
        circumstances = Circumstances(programme, today, registry=registry, institution_hint=choice.name,
                                      institution_conflict=choice.conflict, require_institution=True)
        decision = decide(plist, circumstances)
        keys = _keys(decision)
        if programme.one_supervision_per_educator and keys:
            known = lookup(programme.name, keys, amends[index] if index < len(amends) else None)
            if known:
                decision = decide(plist, replace(circumstances, registered=known))
        keep = decision.accepted and programme.one_supervision_per_educator
        if keep:
            earlier.update(dict.fromkeys(_keys(decision), f"«{attachment.filename}»"))
        details = extract_details(sender_name=message.sender_name, sender=message.sender,
                                  body=body, extras=plist.extras,
                                  wanted_columns=own_columns(programme))
        outcomes.append(ListOutcome(attachment, decision, _keys(decision) if keep else (),
                                    _fingerprint(plist.rows, decision), details=details))
    return tuple(_without_repeats_across_lists(outcomes))


def own_columns(programme: Programme) -> tuple[str, ...]:
    """The programme's own columns, folded as the details compare them."""
    return tuple(fold(c) for c in (*programme.required_columns, *programme.optional_columns))


def _fingerprint(rows: Sequence[ListRow], decision: Decision) -> str | None:
    if not rows:
        return None
    people = participants(decision)
    grouped = {p.row for p in people}
    return list_fingerprint(decision.institution, people,
                            [row for row in rows if row.row not in grouped])


def _keys(decision: Decision) -> tuple[str, ...]:
    return tuple(dict.fromkeys(
        key for group in decision.groups for p in group.participants
        for key in person_keys(p.first_name, p.last_name, p.email, decision.institution)))


def _without_repeats_across_lists(outcomes: list[ListOutcome]) -> list[ListOutcome]:
    """Two lists in one mail must not register one person twice: the second keeps no keys."""
    seen: set[str] = set()
    kept = []
    for outcome in outcomes:
        keys = tuple(k for k in outcome.registration_keys if k not in seen)
        seen.update(keys)
        kept.append(replace(outcome, registration_keys=keys))
    return kept
