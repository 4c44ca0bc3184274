"""Facts of the Latvian language the rules need: normalising, folding, the alphabet, personal codes."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

LATVIAN_LETTERS = frozenset("aābcčdeēfgģhiījkķlļmnņoprsštuūvzž")

_SPACES = re.compile(r"\s+")
# Every dash a keyboard, Word's autocorrect or a copy from a web page puts between two surnames:
# hyphen-minus, hyphen, non-breaking hyphen, figure dash, en and em dash, horizontal bar, minus,
# small and full-width hyphen-minus.
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
# "Vīķe - Freiberga", "Vīķe -Freiberga", "Vīķe–Freiberga": one hyphen, no spaces.
_HYPHEN = re.compile(rf"\s*[{DASHES}]\s*")
_DASH = re.compile(f"[{DASHES}]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
# Latin letters whose mark is part of the letter: NFD leaves them whole, so they are mapped.
_LATIN_LETTERS = str.maketrans({
    "ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŀ": "l", "ŧ": "t", "ƀ": "b",
    "ɨ": "i", "ʉ": "u", "ƶ": "z", "ȥ": "z", "ŋ": "n", "æ": "ae", "œ": "oe", "þ": "th", "ĳ": "ij",
})


def normalise(text: str) -> str:
    """NFC, no control characters, single spaces, trimmed."""
    text = unicodedata.normalize("NFC", text)
    if not text.isprintable():  # printable text has no control (C*) characters: most cells
        text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return _SPACES.sub(" ", text).strip()


def plural(count: int, one: str, many: str) -> str:
    """Number agreement: 1, 21, 31 … take the singular; 11 and the rest the plural."""
    return one if count % 10 == 1 and count % 100 != 11 else many


def after_colon(sentence: str) -> str:
    """`Vārdā ir cipari` -> `vārdā ir cipari`: after a colon a Latvian sentence goes on in lower
    case; an abbreviation (`IKVD`, `VIIS`) keeps its capitals."""
    if len(sentence) > 1 and sentence[0].isupper() and sentence[1].islower():
        return sentence[0].lower() + sentence[1:]
    return sentence


def strip_diacritics(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)  # headers, positions and names are folded over and over: remember them
def fold(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces: for matching headers and names."""
    return _NOT_WORD.sub(" ", strip_diacritics(text.casefold())).strip()


@lru_cache(maxsize=4096)
def fold_key(text: str) -> str:
    """A name's key (R5): `Vīķe - Freiberga` and `VIKE-FREIBERGA` are one key, `Łukasz` and `Lukasz`
    too; letters of every script are kept (`Иван` and `Пётр` are two keys), only Latin and Greek
    marks are dropped, with case, spaces, hyphens and punctuation. For a name in the Latvian
    alphabet it is `fold` without spaces, as registrations have always been stored."""
    kept = []
    foldable = False
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(ch):
            # "й" is not "и", nor "ё" "е": a mark on a letter of another script makes another letter.
            if not foldable:
                kept.append(ch)
            continue
        foldable = ch < "\u0250" or unicodedata.name(ch, "").startswith(("LATIN", "GREEK"))
        kept.append(ch)
    letters = unicodedata.normalize("NFC", "".join(kept)).translate(_LATIN_LETTERS)
    # Vowel signs of Indic and other scripts are marks, not letters, yet part of the name.
    return "".join(ch for ch in letters if ch.isalnum() or unicodedata.category(ch)[0] == "M")


def unify_dashes(text: str) -> str:
    """Every kind of dash read as a hyphen: `Kalniņa–Liepiņa` is `Kalniņa-Liepiņa`."""
    return _DASH.sub("-", text)


def group_key(label: str) -> str:
    """`1`, `1.`, `1. grupa` and `Grupa 1` are one group (R4: a group column)."""
    return fold(label).replace("grupa", "").strip() or fold(label)


def tidy_name(text: str) -> str:
    """One spelling of a name: hyphens without spaces, ALL CAPS or all lower case turned to Title Case."""
    text = _HYPHEN.sub("-", normalise(text))
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) > 1 and (text.isupper() or text.islower()):
        text = "-".join(
            " ".join(word[:1].upper() + word[1:].lower() for word in part.split(" "))
            for part in text.split("-")
        )
    return text


def foreign_letters(text: str) -> str:
    """The letters in `text` that are not in the Latvian alphabet, in order of first appearance."""
    seen: dict[str, None] = {}
    for ch in text.lower():  # not casefold: "ß" must stay "ß", not become "ss"
        if ch.isalpha() and ch not in LATVIAN_LETTERS:
            seen[ch] = None
    return "".join(seen)


# Old format DDMMYY-CNNNZ (C: century 0=1800s, 1=1900s, 2=2000s); new format since 1 July 2017:
# "32" to "39" followed by nine digits, no date in it.
_PERSONAL_CODE = re.compile(r"(?<!\d)(\d{6})\s*-?\s*(\d{5})(?!\d)")
PERSONAL_CODE = _PERSONAL_CODE  # for masking: what `is_personal_code` looks for
_WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def is_personal_code(text: str) -> bool:
    """Whether `text` holds a Latvian personal code in either format (checksum and date checked)."""
    match = _PERSONAL_CODE.search(text)
    if not match:
        return False
    digits = match.group(1) + match.group(2)
    if digits[0] == "3" and digits[1] in "23456789":
        return True
    day, month, year, century = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), digits[6]
    if century not in "012":
        return False
    try:
        date(1800 + 100 * int(century) + year, month, day)
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:10], _WEIGHTS, strict=True))
    return (1101 - total) % 11 % 10 == int(digits[10])
