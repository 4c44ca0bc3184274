"""Benchmark: the cost of finding the institution in a mail, against the shipped registry.

Run: .venv/bin/python -m tests.benchmarks.institution
Prints figures; asserts nothing (timed tests lie on shared machines).
"""

from __future__ import annotations

import pickle
import time
from itertools import cycle, islice

from intake.core.automail import Ours
from intake.core.messages import parse_message
from intake.core.outcome import institution_choice
from intake.core.registry import InstitutionIndex, default_institutions
from tests.support.clients import (
    Original,
    apple_mail_forward,
    attached_forward,
    gmail_forward,
    html_only_mail,
    outlook_mail,
    thunderbird_reply,
)

OURS = Ours(address="supervizijas@programma.example.lv", message_id_domain="programma.example.lv")
LETTER = ("Labdien!\n\nDaugavpils 12. vidusskola piesaka pedagogu grupu supervīzijai. Pielikumā "
          "dalībnieku saraksts ar desmit pedagogiem, kuri vēlas piedalīties programmā.\n"
          "Lūdzu, apstipriniet saņemšanu.\n")
SIGNATURE = ("Ar cieņu\nIlze Kalniņa\nOgres 1. vidusskolas direktora vietniece izglītības jomā\n"
             "Tālr. 65012345, mob. 29123456\n")
ORIGINAL = Original(sender="Direktore <direktore@ovt.lv>", subject="Pieteikums supervīzijai",
                    body=LETTER * 3 + SIGNATURE)


def mails() -> list[bytes]:
    return [
        outlook_mail(sender="ilze@inbox.lv", subject="Pieteikums supervīzijai", body=LETTER,
                     signature=SIGNATURE),
        outlook_mail(sender="ilze@inbox.lv", subject="FW: Pieteikums", body="Pārsūtu.", quoted=ORIGINAL),
        gmail_forward(sender="a@gmail.com", subject="Fwd: Pieteikums", body="Pārsūtu.", original=ORIGINAL),
        apple_mail_forward(sender="a@icloud.com", subject="Fwd: x", body="", original=ORIGINAL),
        thunderbird_reply(sender="a@inbox.lv", subject="Re: x", body=LETTER, original=ORIGINAL),
        html_only_mail(sender="a@ovt.lv", subject="Заявка", markup="<p>" + LETTER.replace("\n", "<br>")
                       + "</p>" * 20),
        attached_forward(sender="a@gmail.com", subject="Fw", body="Pārsūtu.",
                         original=outlook_mail(sender="d@ovt.lv", subject="Pieteikums", body=LETTER)),
    ]


def main() -> None:
    started = time.perf_counter()
    registry = InstitutionIndex(default_institutions(), imported=False)
    built = time.perf_counter() - started
    started = time.perf_counter()
    pickled = pickle.dumps(registry)
    pickle.loads(pickled)  # noqa: S301 - our own bytes, as the worker processes receive them
    round_trip = time.perf_counter() - started
    messages = [parse_message(raw, OURS) for raw in islice(cycle(mails()), 1000)]
    started = time.perf_counter()
    for message in messages:
        institution_choice(message, registry)
    per_message = (time.perf_counter() - started) / len(messages)
    started = time.perf_counter()
    for message in messages:
        institution_choice(message, None)
    without = (time.perf_counter() - started) / len(messages)
    print(f"registry: {len(registry)} institutions, index built in {built * 1000:.0f} ms, "
          f"pickled {len(pickled) / 1024:.0f} KiB, pickle round trip {round_trip * 1000:.0f} ms")
    print(f"institution per message: {per_message * 1e6:.0f} µs with the registry, "
          f"{without * 1e6:.0f} µs without (1,000 mails of 7 client shapes)")


if __name__ == "__main__":
    main()
