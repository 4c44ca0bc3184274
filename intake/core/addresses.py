"""What is wrong with an e-mail address in a participant list, said so that a school can fix it."""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from intake.core.latvian import PERSONAL_CODE, is_personal_code, strip_diacritics

# RFC 2606 and RFC 6761: names that never receive mail. The validator refuses the special-use
# top-level domains itself, but takes example.com, the address every template shows.
_RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org", "localhost"})
_RESERVED_ENDINGS = (".example", ".test", ".invalid", ".local", ".localhost", ".onion", ".arpa",
                     ".home.arpa", ".internal")
# The mailboxes Latvian educators use most: a domain one slip away from one of these is a typo.
_COMMON_DOMAINS = frozenset({
    "gmail.com", "inbox.lv", "apollo.lv", "e-apollo.lv", "tvnet.lv", "one.lv", "mail.lv",
    "outlook.com", "outlook.lv", "hotmail.com", "live.com", "yahoo.com", "icloud.com", "me.com",
    "mail.ru", "yandex.ru", "inbox.lt", "inbox.eu", "gmx.com", "gmx.de", "mail.com",
})
# Top-level domains that exist nowhere but on a hurried keyboard (.con for .com, .lvv for .lv).
_TYPO_ENDINGS = {
    "con": "com", "cpm": "com", "cim": "com", "vom": "com", "xom": "com", "comm": "com",
    "ocm": "com", "cmo": "com", "coom": "com", "lvv": "lv", "lvl": "lv", "vl": "lv", "ltv": "lv",
    "kv": "lv",
}
MASKED_CODE = "******-*****"  # as the reader leaves a personal code it found (R11)
# A local part of plain ASCII atoms separated by single dots (RFC 5322's dot-atom): what nearly
# every address in a list has, and what the validator takes as it is.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


def normalised_address(text: str) -> str | None:
    """The address in its normal form (the domain in lower case), or None where its syntax is
    wrong. SMTPUTF8 local parts are legal but no Latvian school's server takes them: «bērziņa@» is
    a typo for «berzina@».

    The validator (email-validator) weighs the domain, the slow half, once per domain: a list's
    addresses mostly share two or three; a local part that is a plain dot-atom needs no more than
    its length checked, and anything else is validated whole."""
    local, at, domain = text.rpartition("@")
    if at and len(local) <= 64 and _DOT_ATOM.match(local):
        normal = _normalised_domain(domain)
        if normal is None:
            return None
        address = f"{local}@{normal}"
        if len(address) <= 254:
            return address
    try:
        return validate_email(text, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        return None


@lru_cache(maxsize=1024)
def _normalised_domain(domain: str) -> str | None:
    try:
        return validate_email(f"x@{domain}", check_deliverability=False,
                              allow_smtputf8=False).domain
    except EmailNotValidError:
        return None


def address_finding(text: str, valid: bool) -> tuple[str, str] | None:
    """(message, hint) about an address: None for a good one. `valid`: whether its syntax is."""
    shown = PERSONAL_CODE.sub(MASKED_CODE, text)  # a code is never echoed, checksum or not
    if MASKED_CODE in text or is_personal_code(text) or ("@" not in text and shown != text):
        return (f"«{shown}» nav e-pasta adrese, bet personas kods.",
                "Lūdzu, izdzēsiet personas kodu no šīs šūnas un ierakstiet tajā šīs personas e-pasta "
                "adresi; kolonnu «E-pasts» atstājiet. Personas kodi supervīzijai nav vajadzīgi.")
    local, _, domain = text.strip().rpartition("@")
    domain = domain.casefold()
    if local and _is_reserved(domain):
        return (f"«{shown}» nav īsta e-pasta adrese: domēns «{domain}» ir paredzēts tikai piemēriem "
                "vai iekšējiem tīkliem, un uz to e-pasts netiek piegādāts.",
                "Lūdzu, ierakstiet šīs personas īsto e-pasta adresi, uz kuru nosūtīt uzaicinājumu.")
    meant = _meant_domain(domain)
    if local and meant:
        return (f"«{shown}» nav derīga e-pasta adrese: domēnā «{domain}» ir drukas kļūda.",
                f"Vai domāta adrese «{local}@{meant}»? Lūdzu, izlabojiet to.")
    if valid:
        return None
    return f"«{shown}» nav derīga e-pasta adrese.", _syntax_hint(text)


def _is_reserved(domain: str) -> bool:
    return domain in _RESERVED_DOMAINS or domain.endswith(_RESERVED_ENDINGS)


@lru_cache(maxsize=1024)  # a list's addresses mostly share a domain or two
def _meant_domain(domain: str) -> str | None:
    """The domain a typo stands for, if it is plain which: `gmail.con`, `inbox.lvv`, `skola,lv`."""
    if domain in _COMMON_DOMAINS:
        return None
    if "." not in domain and domain.count(",") == 1:
        fixed = domain.replace(",", ".")
        return fixed if "." in fixed and fixed.rsplit(".", 1)[1].isalpha() else None
    name, _, ending = domain.rpartition(".")
    if name and ending in _TYPO_ENDINGS:
        return f"{name}.{_TYPO_ENDINGS[ending]}"
    near = [common for common in _COMMON_DOMAINS if _one_slip_apart(domain, common)]
    return near[0] if len(near) == 1 else None


def _one_slip_apart(one: str, other: str) -> bool:
    """One letter wrong, missing, extra, or two neighbours swapped (gmial.com, gmail.co)."""
    if one == other or abs(len(one) - len(other)) > 1:
        return False
    if len(one) == len(other):
        diff = [i for i, (a, b) in enumerate(zip(one, other, strict=True)) if a != b]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and one[diff[0]] == other[diff[1]]
                                  and one[diff[1]] == other[diff[0]])
    shorter, longer = sorted((one, other), key=len)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


def _syntax_hint(text: str) -> str:
    stripped = text.strip()
    if re.search(r"[,;\s]", stripped) and text.count("@") > 1:
        return "Šūnā drīkst būt tikai viena adrese; katram dalībniekam ierakstiet savu adresi."
    if text.count("@") == 0:
        return "Adresē nav zīmes «@»; pareizi ir, piemēram, «vards.uzvards@skola.lv»."
    if text.count("@") > 1:
        return "Adresē drīkst būt tikai viena zīme «@», piemēram, «vards.uzvards@skola.lv»."
    if re.search(r"\s", text):
        return "Adresē nedrīkst būt atstarpju."
    if any(ch.isalpha() and not ch.isascii() for ch in text):
        plain = strip_diacritics(stripped)
        if plain.isascii():
            return (f"Adresē nedrīkst būt garumzīmju un mīkstinājuma zīmju (ā, č, ē …); vai domāta "
                    f"adrese «{plain}»?")
        return ("Adresē var būt tikai latīņu burti bez garumzīmēm, cipari un dažas zīmes, "
                "piemēram, punkts, defise un «@».")
    local, _, domain = text.partition("@")
    if "." not in domain:
        return (f"Pēc zīmes «@» jābūt pilnam domēnam ar punktu, piemēram, «skola.lv»; «{domain}» "
                "tāds nav.")
    if ".." in text or local.endswith(".") or local.startswith(".") or domain.endswith("."):
        return "Adresē nedrīkst būt divu punktu pēc kārtas vai punkta vārda sākumā vai beigās."
    return "Lūdzu, pārbaudiet adresi; pareizi ir, piemēram, «vards.uzvards@skola.lv»."
