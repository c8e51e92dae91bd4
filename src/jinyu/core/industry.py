"""Industry codes of GB/T 4754-2017 (国民经济行业分类), from the table the project ships.

A code is a section letter followed by 0, 2, 3 or 4 digits: `C` (section), `C39` (division), `C397` (group),
`C3974` (class). The shipped table holds all 20 sections and all 97 divisions, and the classes the platform
uses by name. Validation checks the structure, that the section exists and that the division exists and
belongs to that section; groups and classes below a known division are accepted even when the table does not
name them, because ingestion must not reject a real code only because we have not typed its name in.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from jinyu.core.errors import invalid

_CODE_RE = re.compile(r"^([A-Z])(\d{2}|\d{3}|\d{4})?$")
_BARE_DIGITS_RE = re.compile(r"^\d{2,4}$")


@dataclass(frozen=True)
class Industry:
    code: str  # section letter + digits, e.g. "C3974"
    name_zh: str
    name_en: str
    level: str  # section / division / class


@cache
def industries() -> dict[str, Industry]:
    """The shipped table keyed by code."""
    text = resources.files("jinyu.core").joinpath("data/gbt4754_2017.csv").read_text(encoding="utf-8")
    rows = [
        Industry(r["code"], r["name_zh"], r["name_en"], r["level"]) for r in csv.DictReader(text.splitlines())
    ]
    return {row.code: row for row in rows}


@cache
def _division_sections() -> dict[str, str]:
    """Two-digit division -> its section letter (divisions are numbered across sections)."""
    return {code[1:]: code[0] for code, row in industries().items() if row.level == "division"}


def validate_industry(value: str, field_name: str = "industry_code") -> str:
    """Return the normalised code or raise `InvalidInput` with a bilingual message."""
    code = value.strip().upper() if isinstance(value, str) else ""
    match = _CODE_RE.match(code)
    if not match:
        raise invalid(field_name, _format_message(code))
    section, digits = match.group(1), match.group(2) or ""
    if section not in industries():
        raise invalid(field_name, f"行业门类{section}不存在 / section {section} does not exist")
    if digits:
        owner = _division_sections().get(digits[:2])
        if owner is None:
            raise invalid(field_name, f"行业大类{digits[:2]}不存在 / division {digits[:2]} does not exist")
        if owner != section:
            raise invalid(
                field_name,
                f"行业大类{digits[:2]}属于门类{owner}而非{section} / "
                f"division {digits[:2]} belongs to section {owner}, not {section}",
            )
    return code


def _format_message(code: str) -> str:
    # A bare number is the commonest mistake in bank and bureau files; say which letter it needs.
    if _BARE_DIGITS_RE.match(code) and (owner := _division_sections().get(code[:2])):
        return (
            f"行业代码须以门类字母开头，应为{owner}{code} / "
            f"industry code needs its section letter: {owner}{code}"
        )
    return (
        "行业代码格式错误：门类字母加0、2、3或4位数字 / "
        "industry code must be a section letter followed by 0, 2, 3 or 4 digits"
    )


def industry_name(value: str, lang: str = "zh") -> str:
    """Name of a code; a group or class the table does not name falls back to its nearest named ancestor."""
    code = validate_industry(value)
    table = industries()
    for length in (5, 4, 3, 1):
        row = table.get(code[:length]) if len(code) >= length else None
        if row is not None:
            return row.name_en if lang == "en" else row.name_zh
    raise AssertionError(f"validated code without a section row: {code}")  # pragma: no cover
