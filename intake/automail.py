"""Recognises mail that must never be answered: auto-replies, bounces, reports, list mail, loops."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from intake.latvian import strip_diacritics


def _phrases(*phrases: str) -> re.Pattern[str]:
    """One pattern for phrases written with diacritics, matched against text without them: a
    Latvian server that drops them («Arpus biroja») says the same as one that keeps them."""
    folded = sorted({strip_diacritics(p.casefold()) for p in phrases}, key=len, reverse=True)
    return re.compile("|".join(re.escape(p).replace(r"\ ", r"\s+") for p in folded))


def _folded(text: str) -> str:
    return strip_diacritics(text.casefold())


# Subjects that automatic mail starts with, in the languages our schools' servers use: Outlook and
# Exchange put the phrase before the original subject, other servers use it as the whole subject.
_REPLY_SUBJECTS = _phrases(
    "automātiskā atbilde", "automātiska atbilde", "automātiskā atbilde:", "ārpus biroja", "prombūtnē",
    "prombūtne", "atvaļinājumā", "automātiski pārsūtīts", "automātiski pārsūtīta",
    "out of office", "out of the office", "automatic reply", "auto-reply", "auto reply", "autoreply",
    "auto response", "auto-response", "automatic response", "autosvar", "automatisk svar",
    "auto:", "abwesenheitsnotiz", "automatische antwort", "vacation", "on vacation", "away from",
    "автоответ", "автоматический ответ", "нет на месте", "вне офиса", "в отпуске",
    "[auto-generated]", "[automatic]", "loop alert",
)
_RECEIPT_SUBJECTS = _phrases(
    "read:", "not read:", "lasīts:", "izlasīts:", "nav lasīts:", "прочитано:", "не прочитано:",
    "gelesen:", "read receipt", "return receipt", "lasīšanas apstiprinājums",
)
_BOUNCE_SUBJECTS = _phrases(
    "undeliverable", "undelivered mail", "delivery status notification", "delivery failure",
    "delivery has failed", "delivery notification", "mail delivery failed", "mail delivery failure",
    "returned mail", "failure notice", "warning: message", "message not delivered",
    "nepiegādājams", "nepiegādāts", "nepiegādāta", "nevar piegādāt", "недоставленное сообщение",
    "не доставлено", "уведомление о доставке", "complaint about message from",
)
_CHALLENGE_SUBJECTS = _phrases(
    "please confirm your message", "please confirm your e-mail", "please confirm your email",
    "please verify your message", "please verify your email", "verify your email address to",
    "confirm your email address to", "your message is awaiting", "awaiting approval",
    "approve sender", "sender verification", "verify you are human", "challenge", "[spamarrest]",
    "lūdzu, apstipriniet savu vēstuli", "apstipriniet savu vēstuli", "подтвердите отправку",
    "подтвердите ваше сообщение",
)
# What the first lines of such mail say when its subject and headers do not.
_AUTO_BODY = _phrases(
    "this is an automatic reply", "this is an automated reply", "this is an auto-reply",
    "i am out of the office", "i am currently out of the office", "i will be out of the office",
    "i'm out of the office", "i am on vacation", "i am on leave", "with limited access to e-mail",
    "šī ir automātiska atbilde", "šī ir automātiskā atbilde", "automātiskā atbilde",
    "esmu atvaļinājumā", "atrodos atvaļinājumā", "būšu atvaļinājumā", "esmu prombūtnē",
    "atrodos prombūtnē", "neatrodos birojā", "ārpus biroja",
    "это автоматический ответ", "автоматический ответ", "я в отпуске", "нахожусь в отпуске",
    "меня нет на месте", "нет на рабочем месте",
)
_BOUNCE_BODY = _phrases(
    "delivery to the following recipient", "could not be delivered", "was not delivered",
    "delivery has failed to these recipients", "permanent error", "this is the mail system at host",
    "i'm sorry to have to inform you", "message could not be delivered",
    "vēstuli nevarēja piegādāt", "vēstule netika piegādāta", "не удалось доставить",
    "your message was read", "was read on", "jūsu vēstule tika izlasīta", "ваше сообщение прочитано",
)
_CHALLENGE_BODY = _phrases(
    "verify you are human", "verify that you are human", "confirm you are not a robot",
    "click the link below to confirm", "click here to confirm your message", "to have your message delivered",
    "add you to my approved senders", "approve sender", "my spam filter", "i use a challenge",
    "your message is being held", "is waiting for your confirmation", "boxbe", "spamarrest",
    "apstipriniet, ka neesat robots", "подтвердите, что вы не робот",
)
_AUTO_SENDER = re.compile(
    r"^(?:mailer-daemon|post_?master|no-?reply|do-?not-?reply|donotreply|bounces?|"
    r"auto-?reply|autoresponder|noreply-.*|.*-bounces?(?:\+.*)?|.*-noreply)$", re.IGNORECASE)
_BOUNCE_PATH = re.compile(r"^<?\s*(?:mailer-daemon|post_?master)(?:@[^>]*)?\s*>?$", re.IGNORECASE)
# Challenge-response services answer from their own domains.
_CHALLENGE_DOMAINS = frozenset({"boxbe.com", "spamarrest.com", "mailblocks.com", "sanebox.com",
                                "choicemail.com", "bluebottle.com"})
_REPORT_TYPES = frozenset({
    "multipart/report", "message/delivery-status", "message/disposition-notification",
    "message/feedback-report", "message/global-delivery-status",
    "message/global-disposition-notification",
})
_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
_FORWARDED = re.compile(r"^\s*((?:re|fw|fwd|aw|wg|sv|atb|pārs|pars)\s*:\s*)+", re.IGNORECASE)
# Every header `auto_reason` looks at (besides the configured loop header), lower case.
CLASSIFIER_HEADERS = frozenset({
    "message-id", "auto-submitted", "x-autoreply", "x-autorespond", "x-autoresponder",
    "x-autogenerated", "x-auto-response-suppress", "precedence", "list-id", "list-unsubscribe",
    "list-post", "mailing-list", "x-ml-name", "x-mlserver", "x-mailing-list", "return-path",
    "x-failed-recipients", "x-hmxmroriginalrecipient", "subject", "in-reply-to", "references",
    "x-loop", "feedback-id", "x-campaign", "x-campaignid", "x-campaign-id", "x-mc-user",
    "x-ms-exchange-inbox-rules-loop", "sender",
})
_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
# A sign worth this much decides alone; weaker ones must add up to it.
DECISIVE = 2
_BODY_LOOKED_AT = 1_500  # auto-replies say what they are at the top


@dataclass(frozen=True, slots=True)
class Ours:
    """How we recognise our own mail: our address, our Message-ID domain, our loop header."""

    address: str
    message_id_domain: str
    loop_header: str = "X-Intake-Loop"


def auto_reason(headers: Mapping[str, Sequence[str]], content_types: Sequence[str],
                sender: str, ours: Ours, *, body: str = "", file_names: Sequence[str] = (),
                has_list: bool = False) -> str | None:
    """Why a message is automatic, or None for a person's mail.

    `headers` maps lower-case names to all their values. Header, sender and report checks are the
    union of what Zammad, Discourse, Odoo, Frappe, django-helpdesk and mail_room look at (RFC 3834,
    RFC 2369, RFC 3464, RFC 8098, Microsoft's X-Auto-Response-Suppress): each decides alone. Words
    (the subject's start, the body's first lines) and a calendar invitation are weighed: a person
    may write «Out of office tomorrow, here is our list», so a list attached (`has_list`) from a
    real sender counts against them.
    """
    def first(name: str) -> str:
        values = headers.get(name.lower())
        return values[0].strip() if values else ""

    strong = _strong_reason(first, content_types, sender, ours)
    if strong is not None:
        return strong
    return _weighed_reason(first("subject"), body, content_types, file_names, has_list=has_list)


def _strong_reason(first: Callable[[str], str], content_types: Sequence[str], sender: str,
                   ours: Ours) -> str | None:
    address = ours.address.casefold()
    checks: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("loop", lambda: bool(first(ours.loop_header))),
        ("own-address", lambda: bool(sender) and sender.casefold() == address),
        ("own-message-id", lambda: first("message-id").rstrip(">").lower().endswith(
            "@" + ours.message_id_domain.lower())),
        ("auto-submitted", lambda: first("auto-submitted").lower() not in ("", "no")),
        ("x-autoreply", lambda: any(first(h) for h in (
            "x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated"))),
        # Outlook puts "DR, RN, NRN, OOF, AutoReply" on ordinary mail too (Discourse learnt this);
        # its own automatic mail says "All".
        ("x-auto-response-suppress", lambda: first("x-auto-response-suppress").lower() == "all"),
        ("precedence", lambda: first("precedence").lower() in _PRECEDENCE),
        ("list", lambda: any(first(h) for h in (
            "list-id", "list-unsubscribe", "list-post", "mailing-list", "x-ml-name", "x-mlserver",
            "x-mailing-list"))),
        ("return-path-null", lambda: first("return-path").replace(" ", "") == "<>"),
        ("report", lambda: any(t in _REPORT_TYPES for t in content_types)),
        ("failed-recipients", lambda: bool(first("x-failed-recipients"))),
        ("sender", lambda: bool(_AUTO_SENDER.match(sender.partition("@")[0]))),
        ("complaint", lambda: bool(first("x-hmxmroriginalrecipient"))),  # Hotmail's JMRP reports
        # RFC 3834 section 5: a responder that finds its own address in X-Loop has answered already.
        ("loop", lambda: address in first("x-loop").casefold()),
        ("loop", lambda: bool(first("x-ms-exchange-inbox-rules-loop"))),  # an Exchange rule's forward
        ("bounce-path", lambda: any(bool(_BOUNCE_PATH.match(first(h))) for h in ("return-path", "sender"))),
        ("challenge", lambda: sender.rpartition("@")[2].lower() in _CHALLENGE_DOMAINS),
        ("notification", lambda: any(first(h) for h in (
            "feedback-id", "x-campaign", "x-campaignid", "x-campaign-id", "x-mc-user"))),
    )
    for reason, check in checks:
        if check():
            return reason
    return None


def _weighed_reason(subject: str, body: str, content_types: Sequence[str], file_names: Sequence[str],
                    *, has_list: bool) -> str | None:
    """The strongest of the weaker signs, when together they reach DECISIVE."""
    topic = _folded(_FORWARDED.sub("", subject)).lstrip()
    top = _folded(body[:_BODY_LOOKED_AT])
    signs: list[tuple[str, int]] = []
    for reason, pattern in (("subject", _REPLY_SUBJECTS), ("subject", _RECEIPT_SUBJECTS),
                            ("subject", _BOUNCE_SUBJECTS), ("challenge", _CHALLENGE_SUBJECTS)):
        found = pattern.match(topic)
        if found:
            # «Automātiskā atbilde: Pieteikums» is a program's prefix and outweighs the list an
            # auto-reply may quote; «Out of office tomorrow, here is our list» is a person's words.
            prefix = found.group().endswith(":") or topic[found.end():].lstrip().startswith((":", "("))
            signs.append((reason, 2 * DECISIVE if prefix else DECISIVE))
            break
    if any(t in _CALENDAR_TYPES for t in content_types) or any(
            n.lower().endswith((".ics", ".vcs")) for n in file_names):
        signs.append(("calendar", 2))
    # Each distinct phrase is a sign of its own: «This is an automatic reply. I am out of the
    # office» is two; one phrase written twice is one.
    for reason, pattern in (("body", _AUTO_BODY), ("body", _BOUNCE_BODY), ("challenge", _CHALLENGE_BODY)):
        signs.extend((reason, 1) for _ in {" ".join(m.split()) for m in pattern.findall(top)})
    weight = sum(w for _, w in signs) - (DECISIVE if has_list else 0)
    if not signs or weight < DECISIVE:
        return None
    return max(signs, key=lambda sign: sign[1])[0]
