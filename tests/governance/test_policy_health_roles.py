"""One chain member's health record as each role sees it: tax sums are level-5 (enterprise_tax), headcounts
level 3 (enterprise_profile), the name organisation identity. Expected values from the policy table by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jinyu.chain.schemas import HealthOut
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.governance.policy.protect import Reader, protect

RECORD = HealthOut(
    uscc="91500000MA5U000001",
    name="重庆甲乙科技有限公司",
    status="active",
    headcount_now=80,
    headcount_before=100,
    tax_12m=Decimal("70.00"),
    tax_prev_12m=Decimal("100.00"),
    open_cases=0,
    paying_months=4,
    flags=["tax_drop"],
    healthy=False,
)


def seen(role: Role, kind: OrgKind, approved_level: int = 0) -> tuple[object, ...]:
    who = Principal("u1", "u1", "o1", kind, "o1", "/o1", frozenset({role}))
    out = protect(RECORD, Reader(who, approved_level=approved_level))
    return out.name, out.headcount_now, out.tax_12m, out.tax_prev_12m


@pytest.mark.parametrize(
    ("role", "kind", "level", "expected"),
    [
        (Role.REGULATOR_ANALYST, OrgKind.REGULATOR, 0, ("重庆甲乙科技有限公司", 80, Decimal("70.00"), Decimal("100.00"))),
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, 0, ("重庆甲乙科技有限公司", 80, None, None)),
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, 4, ("重庆甲乙科技有限公司", 80, None, None)),  # L4 < L5
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, 5, ("重庆甲乙科技有限公司", 80, Decimal("70.00"), Decimal("100.00"))),
        (Role.ENTERPRISE_ADMIN, OrgKind.ENTERPRISE, 0, ("重庆甲乙科技有限公司", 80, Decimal("70.00"), Decimal("100.00"))),
        (Role.DATA_PROVIDER, OrgKind.BUREAU, 5, ("重庆甲乙科技有限公司", None, None, None)),
    ],
)  # fmt: skip
def test_the_same_health_record_by_role(
    role: Role, kind: OrgKind, level: int, expected: tuple[object, ...]
) -> None:
    assert seen(role, kind, level) == expected
