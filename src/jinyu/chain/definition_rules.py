"""Rules of an edited chain definition (pure): what a valid definition is, and how it becomes a `ChainDef`.

A definition's body: name, name_en, chief_bank_name (or null), segments in the order goods flow, each with a
code, names and the GB/T 4754-2017 classes mapped to it, and overrides {USCC: segment} that put one
enterprise in a segment whatever the dataset or its industry says."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinyu.chain.definitions import ChainDef, SegmentDef
from jinyu.core.errors import FieldError, JinyuError
from jinyu.core.ids import validate_uscc

SEGMENT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
INDUSTRY_CLASS = re.compile(r"^[A-T]\d{4}$")  # GB/T 4754-2017 class: section letter and four digits
MAX_SEGMENTS = 20


def problems(body: Mapping[str, Any]) -> list[FieldError]:
    """Field errors of a definition body, in the order of its fields; empty when it is valid."""
    out: list[FieldError] = []
    for name in ("name", "name_en"):
        if not str(body.get(name) or "").strip():
            out.append(FieldError(name, "不能为空 / must not be empty"))
    segments = body.get("segments") or []
    if not 1 <= len(segments) <= MAX_SEGMENTS:
        out.append(FieldError("segments", f"应有 1 至 {MAX_SEGMENTS} 个环节 / 1 to {MAX_SEGMENTS} segments"))
    seen_codes: set[str] = set()
    owner: dict[str, str] = {}
    for i, seg in enumerate(segments):
        at = f"segments[{i}]"
        code = str(seg.get("code") or "")
        if not SEGMENT_CODE.fullmatch(code):
            out.append(
                FieldError(f"{at}.code", "小写字母开头，≤32 位 / lowercase, starts with a letter, ≤ 32")
            )
        elif code in seen_codes:
            out.append(FieldError(f"{at}.code", f"环节重复 / duplicate segment {code}"))
        seen_codes.add(code)
        if not str(seg.get("name") or "").strip():
            out.append(FieldError(f"{at}.name", "不能为空 / must not be empty"))
        for j, industry in enumerate(seg.get("industries") or []):
            where = f"{at}.industries[{j}]"
            if not INDUSTRY_CLASS.fullmatch(str(industry)):
                out.append(
                    FieldError(where, "应为 GB/T 4754 小类，如 C3974 / a GB/T 4754 class such as C3974")
                )
            elif industry in owner:
                out.append(FieldError(where, f"已属于环节 / already in segment {owner[industry]}"))
            else:
                owner[industry] = code
    for uscc, segment in (body.get("overrides") or {}).items():
        at = f"overrides.{uscc}"
        try:
            validate_uscc(uscc, at)
        except JinyuError:
            out.append(FieldError(at, "统一社会信用代码无效 / not a valid USCC"))
            continue
        if segment not in seen_codes:
            out.append(FieldError(at, f"无此环节 / no segment {segment}"))
    return out


def body_of(chain: ChainDef, overrides: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": chain.name,
        "name_en": chain.name_en,
        "chief_bank_name": chain.chief_bank_name,
        "segments": [
            {"code": s.code, "name": s.name, "name_en": s.name_en, "industries": list(s.industries)}
            for s in chain.segments
        ],
        "overrides": dict(sorted(overrides.items())),
    }


def chain_of(code: str, body: Mapping[str, Any]) -> ChainDef:
    return ChainDef(
        code=code,
        name=body["name"],
        name_en=body["name_en"],
        chief_bank_name=body.get("chief_bank_name"),
        segments=tuple(
            SegmentDef(s["code"], s["name"], s.get("name_en") or s["name"], tuple(s.get("industries") or ()))
            for s in body["segments"]
        ),
    )
