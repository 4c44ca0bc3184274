"""person keys: R5 keys recomputed from the stored participants (an e-mail key names the person
too, so people sharing a mailbox are told apart; names in other scripts keep their letters)

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from intake.core.latvian import fold, group_key, strip_diacritics
from intake.core.model import Participant, Role
from intake.core.registry import name_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_KEY_LENGTH = 700  # registrations.key
Keys = Callable[[str, str, str, str | None], tuple[str, ...]]


def upgrade() -> None:
    from intake.core.resubmission import list_fingerprint
    from intake.core.rules import person_keys

    _rekey(person_keys)
    _refingerprint(_fingerprint_before, list_fingerprint)


def downgrade() -> None:
    from intake.core.resubmission import list_fingerprint

    _rekey(_keys_before)
    _refingerprint(list_fingerprint, _fingerprint_before)


# As the keys and fingerprints were before this revision: an e-mail key without the name, and
# names folded to the letters a-z, which dropped every letter of another script.
def _fold_key_before(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", strip_diacritics(text.casefold()))


def _keys_before(first_name: str, last_name: str, email: str,
                 institution: str | None) -> tuple[str, ...]:
    keys = [f"email:{email.casefold()}"] if email else []
    if institution:
        keys.append(f"name:{_fold_key_before(first_name)}|{_fold_key_before(last_name)}|"
                    f"{name_key(institution)}")
    return tuple(keys)


def _fingerprint_before(institution: str | None, participants: Sequence[Participant]) -> str:
    people = sorted(
        "\x1f".join((_fold_key_before(p.first_name + p.last_name), p.email.casefold(),
                     fold(p.position), p.role.value, group_key(p.group_label or "")))
        for p in participants)
    text = "\x1e".join([name_key(institution or ""), *people, ""])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_registrations = sa.table("registrations", sa.column("id", sa.Integer()),
                          sa.column("programme", sa.String()), sa.column("key", sa.String()),
                          sa.column("application_id", sa.Integer()))
_applications = sa.table("applications", sa.column("id", sa.Integer()),
                         sa.column("institution", sa.String()), sa.column("verdict", sa.String()),
                         sa.column("fingerprint", sa.String()))


def _people(application_ids: Sequence[int]) -> dict[int, list[Participant]]:
    groups = sa.table("groups", sa.column("id", sa.Integer()),
                      sa.column("application_id", sa.Integer()), sa.column("label", sa.String()),
                      sa.column("position", sa.Integer()))
    people = sa.table("participants", *(sa.column(name) for name in (
        "id", "group_id", "row", "first_name", "last_name", "position", "email", "role")))
    found: dict[int, list[Participant]] = {}
    wanted = set(application_ids)
    for application_id, label, row, first, last, position, email, role in op.get_bind().execute(
            sa.select(groups.c.application_id, groups.c.label, people.c.row, people.c.first_name,
                      people.c.last_name, people.c.position, people.c.email, people.c.role)
            .join(people, people.c.group_id == groups.c.id)
            .order_by(groups.c.application_id, groups.c.position, people.c.id)).all():
        if application_id in wanted:
            found.setdefault(application_id, []).append(
                Participant(row, first, last, position, email, Role(role), label))
    return found


def _rekey(keys_of: Keys) -> None:
    """Every application's registrations from its people. Keys stay unique per programme: where
    two applications would now share one (they could not before), the earlier keeps it."""
    bind = op.get_bind()
    registered = bind.execute(sa.select(_registrations.c.application_id,
                                        _registrations.c.programme).distinct()).all()
    if not registered:
        return
    institutions = dict(bind.execute(sa.select(_applications.c.id, _applications.c.institution)
                                     .where(_applications.c.id.in_([a for a, _ in registered])))
                        .all())
    people = _people([a for a, _ in registered])
    taken: set[tuple[str, str]] = set()
    rows = []
    for application_id, programme in sorted(registered):
        for person in people.get(application_id, []):
            for key in keys_of(person.first_name, person.last_name, person.email,
                               institutions.get(application_id)):
                key = key[:_KEY_LENGTH]
                if (programme, key) not in taken:
                    taken.add((programme, key))
                    rows.append({"programme": programme, "key": key,
                                 "application_id": application_id})
    bind.execute(sa.delete(_registrations))
    if rows:
        bind.execute(sa.insert(_registrations), rows)


Fingerprint = Callable[[str | None, Sequence[Participant]], str]


def _refingerprint(before: Fingerprint, after: Fingerprint) -> None:
    """An accepted list's fingerprint follows the names' new keys, where it was made from its
    people alone (as every accepted list's is); any other stays as it is."""
    bind = op.get_bind()
    accepted = dict(bind.execute(sa.select(_applications.c.id, _applications.c.institution)
                                 .where(_applications.c.verdict == "accepted")).all())
    stored = dict(bind.execute(sa.select(_applications.c.id, _applications.c.fingerprint)
                               .where(_applications.c.verdict == "accepted")).all())
    for application_id, members in _people(list(accepted)).items():
        institution = accepted[application_id]
        if stored.get(application_id) != before(institution, members):
            continue
        fingerprint = after(institution, members)
        if fingerprint != stored[application_id]:
            bind.execute(sa.update(_applications).where(_applications.c.id == application_id)
                         .values(fingerprint=fingerprint))
