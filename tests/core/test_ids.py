from __future__ import annotations

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


def _ric(body17: str) -> str:
    return body17 + ric_check_digit(body17)


def _uscc(body17: str) -> str:
    return body17 + uscc_check_digit(body17)


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
        (_uscc("91500000MA5U00000")[:17] + ("0" if _uscc("91500000MA5U00000")[17] != "0" else "1"), "校验位"),
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
        (_ric("50010119850614123")[:17] + ("0" if _ric("50010119850614123")[17] != "0" else "1"), "校验位"),
    ],
)
def test_invalid_resident_ids(value: str, why: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_resident_id(value)
    assert why in exc.value.fields[0].message


def test_bank_card_luhn() -> None:
    card = "622202100112345678"
    good = card + luhn_check_digit(card)
    assert validate_bank_card(good) == good
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(InvalidInput):
        validate_bank_card(bad)
