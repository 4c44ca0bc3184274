"""The groups a list forms (R4): the school's own, checked, or the participants split by the
programme's policy, leaders apart from educators where the programme says so (R3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from math import ceil

from intake.core.findings import Notes
from intake.core.latvian import group_key, plural
from intake.core.model import Field, Group, GroupKind, Participant, ParticipantList, Role, Severity
from intake.core.programme import Programme, SplitPolicy


def form_groups(participants: Sequence[Participant], plist: ParticipantList,
                programme: Programme, notes: Notes) -> tuple[Group, ...]:
    """The list's groups, and a warning for each smaller than the programme's minimum."""
    if not participants:
        return ()
    if any(p.group_label for p in participants):
        groups = _school_groups(participants, programme, notes)
    else:
        pools: list[list[Participant]] = [list(participants)]
        if programme.leaders_apart:
            pools = [[p for p in participants if p.role is Role.LEADER],
                     [p for p in participants if p.role is not Role.LEADER]]
        groups = tuple(
            Group(_kind(chunk), tuple(chunk))
            for pool in pools if pool
            for chunk in split(pool, programme.max_group_size, programme.split_policy))
    for number, group in enumerate(groups, start=1):
        if len(group.participants) < programme.min_group_size:
            notes.add(Severity.WARNING, "group.too-small",
                      f"{number}. grupā ir {_people(len(group.participants))}, bet programma "
                      f"paredz vismaz {programme.min_group_size} "
                      f"{plural(programme.min_group_size, 'dalībnieku', 'dalībniekus')} grupā.",
                      "Programmas darbinieki sazināsies par grupas apvienošanu.",
                      row=group.participants[0].row,
                      sheet=group.participants[0].sheet)
    return _to_merge(groups, programme, notes)


def _to_merge(groups: tuple[Group, ...], programme: Programme,
              notes: Notes) -> tuple[Group, ...]:
    """A group below the programme's `merge_below` is no supervision of its own: staff merge it
    with another (a school's lone leader with other schools' leaders, say)."""
    if not programme.merge_below or notes.has_errors():
        return groups  # a rejected list forms no groups for staff: the warning waits for its fix
    marked = []
    for number, group in enumerate(groups, start=1):
        size = len(group.participants)
        if size < programme.merge_below:
            leaders = group.kind is GroupKind.LEADERS
            least = programme.merge_below
            notes.add(Severity.WARNING, "group.to-merge",
                      f"{number}. grupā ({'iestādes vadītāji' if leaders else 'pedagogi'}) ir "
                      f"{_people(size)}, bet supervīzijas grupā jābūt vismaz {least} "
                      f"{plural(least, 'dalībniekam', 'dalībniekiem')}.",
                      "Programmas darbinieki šo grupu apvienos ar citu grupu (piemēram, ar citas "
                      f"iestādes {'vadītājiem' if leaders else 'pedagogiem'}) un sazināsies ar "
                      "Jums par supervīzijas laiku.",
                      row=group.participants[0].row, sheet=group.participants[0].sheet)
            group = replace(group, to_merge=True)
        marked.append(group)
    return tuple(marked)


def _kind(members: Sequence[Participant]) -> GroupKind:
    return GroupKind.LEADERS if all(p.role is Role.LEADER for p in members) else GroupKind.EDUCATORS


def _school_groups(participants: Sequence[Participant], programme: Programme,
                   notes: Notes) -> tuple[Group, ...]:
    """R4: the school assigned the groups itself; check them instead of splitting."""
    by_label: dict[str, list[Participant]] = {}
    for person in participants:
        if not person.group_label:
            notes.add(Severity.ERROR, "group.missing",
                      "Šajā rindā nav norādīta grupa, lai gan citiem dalībniekiem tā ir norādīta.",
                      "Lūdzu, ierakstiet grupas numuru katram dalībniekam vai izdzēsiet visus "
                      "grupu numurus, lai grupas izveido programmas darbinieki.", field=Field.GROUP,
                      row=person.row, sheet=person.sheet)
            continue
        by_label.setdefault(group_key(person.group_label), []).append(person)
    groups = []
    for members in by_label.values():
        label = members[0].group_label
        if len(members) > programme.max_group_size:
            notes.add(Severity.ERROR, "group.too-large",
                      f"Grupā «{label}» ir {_people(len(members))}, bet grupā drīkst būt ne "
                      f"vairāk kā {programme.max_group_size}.",
                      "Lūdzu, sadaliet dalībniekus vairākās grupās (katrā ne vairāk kā "
                      f"{programme.max_group_size}) vai izdzēsiet grupu numurus, lai grupas "
                      "izveido programmas darbinieki.", field=Field.GROUP,
                      row=members[programme.max_group_size].row, value=label,
                      sheet=members[programme.max_group_size].sheet)
        leaders = [p for p in members if p.role is Role.LEADER]
        if programme.leaders_apart and leaders and len(leaders) < len(members):
            first_leader = leaders[0]
            notes.add(Severity.ERROR, "group.mixed",
                      f"Grupā «{label}» ir gan iestādes vadītāji, gan pedagogi; supervīzijas ētikas "
                      "dēļ tie nevar būt vienā grupā.",
                      "Lūdzu, ierakstiet vadītājiem (direktoram, vietniekiem, metodiķiem) citu "
                      "grupas numuru nekā pedagogiem.", field=Field.GROUP, row=first_leader.row,
                      sheet=first_leader.sheet, value=label)
        groups.append(Group(_kind(members), tuple(members), label))
    return tuple(groups)


def split(people: Sequence[Participant], limit: int,
          policy: SplitPolicy = SplitPolicy.BALANCED) -> list[list[Participant]]:
    """R4: at most `limit` per group; balanced 23 -> 8, 8, 7, or filled 23 -> 10, 10, 3."""
    if not people:
        return []
    if policy is SplitPolicy.FILL:
        return [list(people[i:i + limit]) for i in range(0, len(people), limit)]
    count = ceil(len(people) / limit)
    base, extra = divmod(len(people), count)
    chunks, start = [], 0
    for index in range(count):
        size = base + (1 if index < extra else 0)
        chunks.append(list(people[start:start + size]))
        start += size
    return chunks


def _people(count: int) -> str:
    return f"{count} {plural(count, 'dalībnieks', 'dalībnieki')}"
