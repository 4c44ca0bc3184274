"""Classifies a position (amats) as a leader's, an educator's, or unclear (R3)."""

from __future__ import annotations

import re

from intake.latvian import fold
from intake.model import Role

# Stems are matched on folded text (no diacritics), so masculine and feminine forms and ASCII
# spellings match alike: direktors/direktore, metodiķis/metodiķe/metodikis, vadītājs/vadītāja.

# Titles that must go to staff review before anything else (DOMAIN.md): not clearly pedagogical,
# or a leader outside the pedagogical process.
_UNCLEAR = re.compile(
    r"saimniecisk|administrativ|lietved|gramatved|bibliotek|sporta organizator"
    r"|skolotaj\w* palig|pedagog\w* palig|aukl|medmas|arsts|ekonomist|jurist|\binformatik(?:is|e)\b"
)
# A "vadītājs" of a club, ensemble or methodological commission is a teacher role.
_TEACHING_HEAD = re.compile(
    r"(pulcin|kolektiv|ansambl|kora|koris|studij|metodisk\w* (komisij|apvienib)|mk|ma)\w* vaditaj"
    r"|interes\w* izglitib\w* (skolotaj|vaditaj)"
)
_LEADER = re.compile(r"direktor|vietniek|vietniec|metodik|vaditaj|parzin|rektor|dekan")
_EDUCATOR = re.compile(
    r"skolotaj|pedagog|audzinataj|logoped|psihologs?|psiholog|trener|koncertmeistar"
    r"|karjer\w* konsultant|surdopedagog|tiflopedagog|lektor|docent|profesor|instruktor"
    r"|asistent|mentor|specialist\w* pedagog|izglitibas specialist"
)


def classify_position(position: str) -> Role:
    """Leader, educator, or unclear: an unclear title is reviewed by staff, never guessed."""
    text = fold(position)
    if not text or _UNCLEAR.search(text):
        return Role.UNCLEAR
    if _TEACHING_HEAD.search(text):
        return Role.EDUCATOR
    if _LEADER.search(text):
        return Role.LEADER
    if _EDUCATOR.search(text):
        return Role.EDUCATOR
    return Role.UNCLEAR


_CATEGORY_LEADER = re.compile(r"^(vaditaj|vadib|leader|head|administr)")
_CATEGORY_EDUCATOR = re.compile(r"^(pedagog|skolotaj|educator|teacher)")


def classify_category(category: str) -> Role:
    """The template's `Amata kategorija` dropdown (vadītājs / pedagogs), in any spelling."""
    text = fold(category)
    if _CATEGORY_LEADER.search(text):
        return Role.LEADER
    if _CATEGORY_EDUCATOR.search(text):
        return Role.EDUCATOR
    return Role.UNCLEAR
