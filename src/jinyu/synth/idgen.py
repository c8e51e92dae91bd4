"""Identifiers with valid check characters: USCCs, resident IDs, bank cards, patent numbers, phones.

The USCC and resident-ID check characters come from `jinyu.core.ids`, the same functions ingestion validates
with, so every generated identifier passes `validate_uscc` / `validate_resident_id` by construction.
"""

from __future__ import annotations

import datetime as dt
import random
from itertools import accumulate

from jinyu.core.ids import luhn_check_digit, ric_check_digit, uscc_check_digit
from jinyu.synth.vocab import GIVEN_CHARS, SURNAMES

# GB 11714 organisation codes and USCCs avoid I, O, Z, S and V.
_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_PATENT_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_MOBILE_PREFIXES = (
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "176",
    "177",
    "180",
    "181",
    "183",
    "186",
    "187",
    "188",
    "189",
    "191",
    "199",
)
# Surname frequency falls off with rank (1 / (rank + 8)), roughly as in the census: a few cover most people.
_SURNAME_CUM_WEIGHTS = tuple(accumulate(1 / (rank + 8) for rank in range(len(SURNAMES))))


def _char_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def organisation_code(rng: random.Random) -> str:
    """A post-2015 style organisation code: "MA" + 6 characters + the GB 11714 check character."""
    body = "MA" + "".join(rng.choice(_CODE_ALPHABET) for _ in range(6))
    remainder = 11 - sum(_char_value(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    check = {10: "X", 11: "0"}.get(remainder, str(remainder))
    return body + check


def make_uscc(
    rng: random.Random, used: set[str], district: str, department: str = "9", kind: str = "1"
) -> str:
    """A unique USCC: registration department, organisation kind, district, organisation code, check char.

    Department/kind pairs in use: 91 enterprise, 11 government organ, 12 public institution (e.g. a public
    hospital), 52 private non-enterprise unit.
    """
    while True:
        first17 = department + kind + district + organisation_code(rng)
        code = first17 + uscc_check_digit(first17)
        if code not in used:
            used.add(code)
            return code


def birth_date(rng: random.Random, reference: dt.date, min_age: int, max_age: int) -> dt.date:
    oldest = dt.date(reference.year - max_age, 1, 1)
    span = (dt.date(reference.year - min_age, 12, 31) - oldest).days
    return oldest + dt.timedelta(days=rng.randrange(span))


def make_resident_id(rng: random.Random, used: set[str], region: str, born: dt.date) -> str:
    """A unique 18-digit resident ID: region, birth date, sequence (odd for men), check character."""
    while True:
        first17 = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = first17 + ric_check_digit(first17)
        if number not in used:
            used.add(number)
            return number


def bank_card(prefix: str, serial: int) -> str:
    """A 19-digit card number: 6-digit issuer prefix, 12-digit serial, Luhn check digit."""
    body = f"{prefix}{serial:012d}"
    return body + luhn_check_digit(body)


def patent_number(year: int, kind_digit: int, serial: int) -> str:
    """Chinese patent number ZL + 12-digit application number + "." + its check character."""
    digits = f"{year:04d}{kind_digit}{serial:07d}"
    total = sum(int(d) * w for d, w in zip(digits, _PATENT_WEIGHTS, strict=True)) % 11
    return f"ZL{digits}.{'X' if total == 10 else total}"


def mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random) -> str:
    """A Chongqing (023) fixed-line number."""
    return f"023-{rng.choice('4568')}{rng.randrange(10**7):07d}"


def person_name(rng: random.Random) -> str:
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_CUM_WEIGHTS)[0]
    length = 1 if rng.random() < 0.35 else 2
    return surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(length))
