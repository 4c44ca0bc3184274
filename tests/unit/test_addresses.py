"""The normal form of an e-mail address: the fast path for plain addresses gives what the
validator gives for every address, plain or strange."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from intake.core.addresses import normalised_address

LOCAL_PARTS = ["anna", "Anna.Berzina", "a..b", ".a", "a.", "a+b", "o'brien", '"quoted"', "bērziņa",
               "a b", "x" * 64, "x" * 65, "jānis", "A_B-c", "a!#$%&'*+/=?^_`{|}~-", "", "ab(c)",
               "a@b", "Иван", "a\u200bb"]
DOMAINS = ["skola.lv", "Skola.LV", "gmail.con", "xn--skla-ooa.lv", "sköla.lv", "localhost",
           "example.com", "a.b", "skola", "-skola.lv", "skola-.lv", "sko_la.lv", "1.2.3.4",
           "[1.2.3.4]", "a" * 64 + ".lv", "a" * 63 + ".lv", "test.test", "skola.local", "SKOLA.lv.",
           "skola..lv", "ēē.lv", "x." + "a" * 250 + ".lv", "a." * 100 + "lv", "skola.lv\u00a0"]
ODD = ["", "@", "a@", "@b.lv", "a@@b.lv", "a@b@c.lv", "noat", " a@b.lv", "a@b.lv ", "A@B.LV",
       "Anna <anna@skola.lv>", "anna@skola.lv;janis@skola.lv"]


def _validator(text: str) -> str | None:
    try:
        return validate_email(text, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        return None


@pytest.mark.parametrize("text", [f"{local}@{domain}" for local in LOCAL_PARTS for domain in DOMAINS]
                         + ODD)
def test_the_normal_form_is_the_validators(text: str) -> None:
    assert normalised_address(text) == _validator(text)


def test_a_plain_address_keeps_its_local_part_and_lowers_its_domain() -> None:
    assert normalised_address("Anna.Berzina@Skola.LV") == "Anna.Berzina@skola.lv"
    assert normalised_address("bērziņa@skola.lv") is None
