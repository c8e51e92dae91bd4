"""Spark parity cases of the industrial-chain queries, on the parity region of tests/analytics/region.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import jinyu.chain.queries  # noqa: F401  registers the queries the cases name

WINDOW = {"from_month": "2024-01", "to_month": "2024-06"}
HEALTH = {
    "as_of_month": "2024-06",
    "earlier_month": "2023-12",
    "tax_split_month": "2023-06",
    "tax_from_month": "2022-06",
    "as_of_end": dt.date(2024, 7, 1),
}


def chain_parity_cases(enterprises: list[str]) -> Mapping[str, list[Mapping[str, object]]]:
    page = {"limit": 100, "offset": 0}
    return {
        "chain_member_list": [
            {"chain_code": "new_display", "segment": "", **page},
            {"chain_code": "auto", "segment": "core", **page},
            {"chain_code": "new_display", "segment": "", "limit": 2, "offset": 3},
            {"chain_code": "nope", "segment": "", **page},
        ],
        "chain_segment_counts": [{}],
        "chain_external_flows": [
            {"chain_code": "new_display", **WINDOW},
            {"chain_code": "auto", "from_month": "2024-02", "to_month": "2024-02"},
            {"chain_code": "new_display", "from_month": "2025-01", "to_month": "2025-03"},
        ],
        "chain_member_links": [
            {"chain_code": "new_display", **WINDOW},
            {"chain_code": "auto", "from_month": "2024-03", "to_month": "2024-04"},
        ],
        "chain_member_health": [
            {"chain_code": "new_display", "focus": enterprises[0], **HEALTH},
            {"chain_code": "auto", "focus": "", **HEALTH},
            {"chain_code": "nope", "focus": enterprises[10], **HEALTH},
        ],
        "chain_loans": [
            {"chain_code": "new_display", **WINDOW},
            {"chain_code": "auto", **WINDOW},
            {"chain_code": "new_display", "from_month": "2024-04", "to_month": "2024-06"},
        ],
        "chain_credit_coverage": [
            {"chain_code": "new_display", **WINDOW},
            {"chain_code": "auto", "from_month": "2023-01", "to_month": "2023-12"},
        ],
    }
