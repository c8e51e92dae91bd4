"""GB/T 4754-2017 industry codes and district codes: table-driven."""

from __future__ import annotations

import pytest

from jinyu.core.districts import CHONGQING_DISTRICTS, validate_district
from jinyu.core.errors import InvalidInput
from jinyu.core.industry import industries, industry_name, validate_industry


def test_table_has_all_sections_and_divisions() -> None:
    table = industries()
    sections = [c for c, r in table.items() if r.level == "section"]
    divisions = [c for c, r in table.items() if r.level == "division"]
    assert sections == list("ABCDEFGHIJKLMNOPQRST")
    assert sorted(int(c[1:]) for c in divisions) == list(range(1, 98))
    for code, row in table.items():
        assert row.name_zh and row.name_en
        if row.level != "section":
            assert table[code[0]].level == "section"
        if row.level == "class":
            assert len(code) == 5 and table[code[:3]].level == "division"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("C3974", "C3974"),
        ("C39", "C39"),
        ("C", "C"),
        ("C397", "C397"),
        (" c3974 ", "C3974"),
        ("A01", "A01"),
        ("T97", "T97"),
        ("C3999", "C3999"),  # a class the table does not name, under a real division
        ("F5176", "F5176"),
    ],
)
def test_valid_codes(value: str, expected: str) -> None:
    assert validate_industry(value) == expected


@pytest.mark.parametrize(
    ("value", "message_part"),
    [
        ("", "格式"),
        ("3974", "C3974"),  # bare digits: the message names the letter it needs
        ("C3", "格式"),
        ("C39745", "格式"),
        ("U", "section U"),
        ("C99", "division 99"),
        ("A39", "belongs to section C, not A"),
        ("F47", "belongs to section E"),
        ("CC39", "格式"),
    ],
)
def test_invalid_codes(value: str, message_part: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_industry(value)
    assert caught.value.fields[0].field == "industry_code"
    message = caught.value.fields[0].message
    assert " / " in message and message_part in message


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [
        ("C3974", "显示器件制造", "Manufacture of display devices"),
        (
            "C39",
            "计算机、通信和其他电子设备制造业",
            "Manufacture of computers, communication and other electronic equipment",
        ),
        ("C", "制造业", "Manufacturing"),
        (
            "C397",
            "计算机、通信和其他电子设备制造业",
            "Manufacture of computers, communication and other electronic equipment",
        ),  # unnamed group: nearest named ancestor
        ("J6930", "非金融机构支付服务", "Payment services of non-financial institutions"),
    ],
)
def test_industry_name(code: str, zh: str, en: str) -> None:
    assert industry_name(code) == zh
    assert industry_name(code, lang="en") == en


@pytest.mark.parametrize("value", ["500103", "110101", "820000", "500229", " 500112 "])
def test_valid_districts(value: str) -> None:
    assert validate_district(value) == value.strip()


@pytest.mark.parametrize(
    ("value", "message_part"),
    [
        ("50010", "six digits"),
        ("5001031", "six digits"),
        ("50010A", "six digits"),
        ("100000", "11..82"),
        ("830000", "11..82"),
        ("", "six digits"),
    ],
)
def test_invalid_districts(value: str, message_part: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_district(value)
    assert caught.value.fields[0].field == "district_code"
    assert message_part in caught.value.fields[0].message


def test_chongqing_districts_are_valid() -> None:
    assert all(
        validate_district(code) == code and code.startswith(("5001", "5002")) for code in CHONGQING_DISTRICTS
    )
