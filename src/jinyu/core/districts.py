"""Administrative division codes (行政区划代码, GB/T 2260): six digits, the first two a province 11..82.

We do not ship the national table: codes are renumbered every year, and bureau data carry retired codes for
years afterwards, so validation is structural. The Chongqing districts below are what the synthetic region
and the demo use.
"""

from __future__ import annotations

import re

from jinyu.core.errors import invalid

_DISTRICT_RE = re.compile(r"^\d{6}$")

CHONGQING = "500000"

# 重庆市辖区 (5001xx) and 县 (5002xx).
CHONGQING_DISTRICTS: dict[str, str] = {
    "500101": "万州区",
    "500102": "涪陵区",
    "500103": "渝中区",
    "500104": "大渡口区",
    "500105": "江北区",
    "500106": "沙坪坝区",
    "500107": "九龙坡区",
    "500108": "南岸区",
    "500109": "北碚区",
    "500110": "綦江区",
    "500111": "大足区",
    "500112": "渝北区",
    "500113": "巴南区",
    "500114": "黔江区",
    "500115": "长寿区",
    "500116": "江津区",
    "500117": "合川区",
    "500118": "永川区",
    "500119": "南川区",
    "500120": "璧山区",
    "500151": "铜梁区",
    "500152": "潼南区",
    "500153": "荣昌区",
    "500154": "开州区",
    "500155": "梁平区",
    "500156": "武隆区",
    "500229": "城口县",
    "500230": "丰都县",
    "500231": "垫江县",
    "500233": "忠县",
    "500235": "云阳县",
    "500236": "奉节县",
    "500237": "巫山县",
    "500238": "巫溪县",
    "500240": "石柱土家族自治县",
    "500241": "秀山土家族苗族自治县",
    "500242": "酉阳土家族苗族自治县",
    "500243": "彭水苗族土家族自治县",
}


def validate_district(value: str, field_name: str = "district_code") -> str:
    """Return the six-digit code or raise `InvalidInput` with a bilingual message."""
    code = value.strip() if isinstance(value, str) else ""
    if not _DISTRICT_RE.match(code):
        raise invalid(field_name, "行政区划代码应为6位数字 / district code must be six digits")
    if not 11 <= int(code[:2]) <= 82:
        raise invalid(field_name, "行政区划代码的省级部分应为11至82 / province part must be 11..82")
    return code
