"""Identifier check digits, checked against published vectors and against implementations written here.

The reference implementations below follow the standards' text (GB 11643 / ISO 7064 MOD 11-2, GB 32100,
Luhn); they deliberately share no code with ``jinyu.core.ids`` or python-stdnum.
"""

from __future__ import annotations

import random

import pytest

from jinyu.core.errors import InvalidInput
from jinyu.core.ids import (
    luhn_check_digit,
    ric_check_digit,
    uscc_check_digit,
    validate_bank_card,
    validate_resident_id,
    validate_uscc,
)

# --- independent reference implementations -------------------------------------------------------------

# GB 11643-1999 / ISO 7064 MOD 11-2: weight of position i (1-based from the left of 18) is 2^(18-i) mod 11.
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"  # indexed by (sum mod 11)

# GB 32100-2015: character set (no I, O, S, V, Z), weights 3^(i-1) mod 31, check = 31 - (sum mod 31).
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def ref_ric(body17: str) -> str:
    assert len(body17) == 17
    return _RIC_CHECK[sum(int(c) * w for c, w in zip(body17, _RIC_WEIGHTS, strict=True)) % 11]


def ref_uscc(body17: str) -> str:
    assert len(body17) == 17
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def ref_luhn_valid(number: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(number)):
        d = int(c)
        if i % 2 == 1:
            d = d * 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def test_reference_weights_are_the_standards() -> None:
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == _RIC_WEIGHTS
    assert tuple(pow(3, i, 31) for i in range(17)) == _USCC_WEIGHTS
    assert len(_USCC_CHARS) == 31


# --- published vectors ------------------------------------------------------------------------------------

PUBLISHED_RIC = [
    "11010519491231002X",  # GB 11643-1999's own worked example
    "360426199101010071",  # python-stdnum's documented example
]
PUBLISHED_USCC = [
    "91350100M000100Y43",  # widely published sample code
    "91110000600037341L",  # python-stdnum's documented example
]


@pytest.mark.parametrize("value", PUBLISHED_RIC)
def test_published_resident_ids_are_accepted(value: str) -> None:
    assert ref_ric(value[:17]) == value[17]  # the vector agrees with the reference implementation
    assert ric_check_digit(value[:17]) == value[17]
    assert validate_resident_id(value) == value
    assert validate_resident_id(value.lower()) == value


@pytest.mark.parametrize("value", PUBLISHED_USCC)
def test_published_uscc_are_accepted(value: str) -> None:
    assert ref_uscc(value[:17]) == value[17]
    assert uscc_check_digit(value[:17]) == value[17]
    assert validate_uscc(value) == value


@pytest.mark.parametrize("card", ["4111111111111111", "5500000000000004", "6011000000000004"])
def test_published_luhn_test_cards(card: str) -> None:
    assert ref_luhn_valid(card)
    assert validate_bank_card(card) == card
    assert luhn_check_digit(card[:-1]) == card[-1]


def test_luhn_textbook_example() -> None:
    # The classic worked example 7992739871 -> check digit 3 (too short to be a bank card).
    assert luhn_check_digit("7992739871") == "3"
    assert ref_luhn_valid("79927398713")


# --- agreement with the reference implementations on random bodies ---------------------------------------


def test_ric_check_digit_matches_reference_on_random_bodies() -> None:
    rng = random.Random(11643)
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        assert ric_check_digit(body) == ref_ric(body), body


def test_uscc_check_digit_matches_reference_on_random_bodies() -> None:
    rng = random.Random(32100)
    for _ in range(2000):
        body = "".join(rng.choice(_USCC_CHARS) for _ in range(17))
        assert uscc_check_digit(body) == ref_uscc(body), body


def test_luhn_check_digit_matches_reference_on_random_bodies() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        body = "".join(rng.choice("0123456789") for _ in range(rng.randrange(11, 19)))
        digit = luhn_check_digit(body)
        assert ref_luhn_valid(body + digit)
        assert sum(ref_luhn_valid(body + d) for d in "0123456789") == 1


def test_check_digit_helpers_refuse_wrong_lengths() -> None:
    with pytest.raises(ValueError):
        ric_check_digit("11010519491231002X")
    with pytest.raises(ValueError):
        uscc_check_digit("9135010")


# --- structure rules (IDs built with the reference implementation, never the code under test) -------------


def _ric(body17: str) -> str:
    return body17 + ref_ric(body17)


def _uscc(body17: str) -> str:
    return body17 + ref_uscc(body17)


def _wrong_last(value: str, alphabet: str) -> str:
    return value[:17] + next(c for c in alphabet if c != value[17])


@pytest.mark.parametrize(
    "value",
    [
        _uscc("91500000MA5U00000"),
        _uscc("91110000100000000").lower(),  # lower case is normalised
        " " + _uscc("12500000MB1234567") + " ",
    ],
)
def test_valid_uscc(value: str) -> None:
    assert validate_uscc(value) == value.strip().upper()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("91500000MA5U0000", "格式"),  # 17 chars
        ("91500000MA5U0000I" + "0", "格式"),  # I is not in the alphabet
        (_wrong_last(_uscc("91500000MA5U00000"), _USCC_CHARS), "校验位"),
        (_wrong_last("91350100M000100Y43", _USCC_CHARS), "校验位"),
    ],
)
def test_invalid_uscc_names_the_problem(value: str, why: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_uscc(value)
    assert exc.value.fields[0].field == "uscc"
    assert why in exc.value.fields[0].message


@pytest.mark.parametrize(
    "value",
    [
        _ric("11010119900307123"),
        _ric("50010119850614123"),
        _ric("50022119620101001"),  # Chongqing county code of someone born before 1997 (retired code)
        _ric("51022119700101002"),  # Sichuan-era Chongqing code
    ],
)
def test_valid_resident_ids_including_old_chongqing_codes(value: str) -> None:
    assert validate_resident_id(value) == value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("5001011985061412", "17位"),
        (_ric("99010119850614123"), "地区码"),
        (_ric("50010119850231123"), "出生日期"),
        (_ric("50010121990101123"), "出生日期"),
        (_wrong_last(_ric("50010119850614123"), "0123456789X"), "校验位"),
        ("110105194912310020", "校验位"),  # GB 11643 example with its X replaced
    ],
)
def test_invalid_resident_ids(value: str, why: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_resident_id(value)
    assert why in exc.value.fields[0].message


def test_bank_card_luhn() -> None:
    card = "622202100112345678"
    good = next(card + d for d in "0123456789" if ref_luhn_valid(card + d))
    assert validate_bank_card(good) == good
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(InvalidInput):
        validate_bank_card(bad)
