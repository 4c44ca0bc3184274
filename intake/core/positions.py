"""Classifies a position (amats) as a leader's, an educator's, or unclear (R3)."""

from __future__ import annotations

import re

from intake.core.latvian import fold
from intake.core.model import Role

# Stems are matched on folded text (lower case, no diacritics, punctuation as spaces), so masculine
# and feminine forms, ASCII spellings and ALL CAPS match alike: direktors/direktore,
# metodiķis/metodiķe/metodikis, vadītājs/vadītāja/VADITAJA; «dir.vietn.» folds to «dir vietn».

# First, titles that are neither the institution's leadership nor clearly teaching: staff review
# (DOMAIN.md). Household and kitchen heads, a deputy for the household, assistants, clerks.
_UNCLEAR = re.compile(
    r"saimn|administrativ|lietved|gramatved|bibliotek|sporta organizator|ednic|edinasan"
    r"|virtuv|noliktav|pavar|palig|palidz|aukl|medmas|arsts|ekonomist|jurist|\binformatik(?:is|e)\b"
    r"|\blibrarian|\bassistant teacher|\bteaching assistant|\bteacher s? (?:assistant|aide)"
    r"|\bbursar|\bcaretaker|\bcook\b|\bkitchen|\bsecretary"
)
# A head of a club, an ensemble, a studio or a methodological commission teaches it.
_TEACHING_HEAD = re.compile(
    r"(?:pulcin|kolektiv|ansambl|orkestr|kapel|\bkora|\bkoris|\bkoru|studij|teatr|muzikal"
    r"|metodisk\w* (?:komisij|apvienib)|\bmk|\bma\b)\w* vaditaj"
    r"|interes\w* izglitib\w* (?:skolotaj|pedagog|vaditaj)"
    r"|\b(?:choir|club|ensemble|orchestra|band|studio|dance group)\w* (?:leader|head|director)"
    r"|\bhead of (?:the )?(?:\w+ )?(?:department|club|choir|ensemble)"
)
# Deputies written short: «dir.», «dir. vietn.», «direktora v.», «DV», «DVIJ» (direktora vietnieks
# izglītības jomā), «DVMD» (mācību darbā), «DVAD»/«DVAJ» (audzināšanas darbā/jomā).
_LEADER = re.compile(
    r"direktor|vietniek|vietniec|\bvietn\b|\bdir\b|\bdv(?:ij|mj|md|aj|ad)?\b|metodik|vaditaj"
    r"|parzin|rektor|dekan|\bprincipal|\bhead ?(?:teacher|master|mistress)|\bheadteacher"
    r"|\bdirector|\bdeputy|\bvice\b|\bmethodolog|\bhead\b|\bmanager of (?:the )?(?:school|kindergarten)"
)
_EDUCATOR = re.compile(
    r"skolotaj|pedagog|audzinataj|logoped|psiholog|trener|koncertmeistar|karjer\w* konsultant"
    r"|surdopedagog|tiflopedagog|lektor|docent|profesor|instruktor|asistent|mentor"
    r"|specialist\w* pedagog|izglitibas specialist|\bteacher|\beducator|\bpedagogue"
    r"|\bpsychologist|\bspeech\w*(?: and language)? therapist|\btutor|\bcoach|\btrainer"
    r"|\blecturer|\bcareer\w* (?:counsel|advis)|\bspecial (?:needs|education)"
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
