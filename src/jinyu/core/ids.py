"""Validators for the identifiers of the field. Check digits come from python-stdnum; the rest we own.

stdnum's region/first-character tables reject some real codes (e.g. older county codes of people born before
administrative changes), so we keep stdnum's check-digit calculators and apply our own structure rules.
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum import luhn
from stdnum.cn import ric, uscc

from jinyu.core.errors import invalid

_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_RIC_RE = re.compile(r"^\d{17}[\dX]$")
_CARD_RE = re.compile(r"^\d{12,19}$")


_SEPARATORS = re.compile(r"[\s-]")


def compact(value: str) -> str:
    return _SEPARATORS.sub("", value).upper()


def _first17(value: str) -> str:
    if len(value) != 17:
        raise ValueError("check-digit calculators take exactly the first 17 characters")
    return value


def uscc_check_digit(first17: str) -> str:
    """GB 32100 check character of the 17 leading characters (stdnum weighs exactly 17)."""
    return str(uscc.calc_check_digit(_first17(first17)))


def validate_uscc(value: str, field_name: str = "uscc") -> str:
    """Unified social credit code (统一社会信用代码, GB 32100-2015): 18 chars, last is a check char."""
    code = compact(value)
    if not _USCC_RE.match(code):
        raise invalid(
            field_name, "统一社会信用代码格式错误：应为18位 / USCC must be 18 chars of the allowed set"
        )
    if uscc_check_digit(code[:17]) != code[17]:
        raise invalid(field_name, "统一社会信用代码校验位错误 / USCC check character is wrong")
    return code


def ric_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the 17 leading digits.

    stdnum's ``ric.calc_check_digit`` takes a full 18-character number and ignores its last character, so
    a placeholder is appended; handing it 17 characters would silently drop the 17th digit.
    """
    return str(ric.calc_check_digit(_first17(first17) + "0"))


def validate_resident_id(value: str, field_name: str = "resident_id") -> str:
    """Resident ID number (居民身份证号, GB 11643): region, birth date, sequence, check digit.

    Any six-digit region whose province part is 11..82 is accepted, so retired codes (Chongqing 500xxx
    issued before 1997 under Sichuan's tables and since renumbered) still validate.
    """
    number = compact(value)
    if not _RIC_RE.match(number):
        raise invalid(
            field_name, "身份证号应为17位数字加校验位 / ID must be 17 digits plus a check character"
        )
    if not 11 <= int(number[:2]) <= 82:
        raise invalid(field_name, "身份证号地区码无效 / region code is not a Chinese province")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise invalid(field_name, "身份证号出生日期无效 / birth date is not a real date") from None
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        raise invalid(field_name, "身份证号出生日期超出范围 / birth date out of range")
    if ric_check_digit(number[:17]) != number[17]:
        raise invalid(field_name, "身份证号校验位错误 / ID check character is wrong")
    return number


def validate_bank_card(value: str, field_name: str = "card_no") -> str:
    """Bank card number: 12-19 digits with a Luhn check digit."""
    number = compact(value)
    if not _CARD_RE.match(number) or not luhn.is_valid(number):
        raise invalid(field_name, "银行卡号无效（长度或校验位）/ card number fails length or Luhn check")
    return number


def luhn_check_digit(prefix: str) -> str:
    return str(luhn.calc_check_digit(prefix))
