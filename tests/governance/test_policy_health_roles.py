"""One chain member's health record as each role sees it: tax sums are level-5 (enterprise_tax), headcounts
level 3 (enterprise_profile), the name organisation identity. Expected values from the policy table by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jinyu.chain.schemas import HealthOut
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.governance.policy.protect import Reader, protect

NAME = "重庆甲乙科技有限公司"
TAX = (Decimal("70.00"), Decimal("100.00"), Decimal("-0.3000"))  # the change: 70 / 100 − 1, tax detail too
RECORD = HealthOut(
    uscc="91500000MA5U000001",
    name=NAME,
    status="active",
    headcount_now=80,
    headcount_before=100,
    tax_12m=TAX[0],
    tax_prev_12m=TAX[1],
    tax_change=TAX[2],
    open_cases=0,
    paying_months=4,
    flags=["tax_drop"],
    healthy=False,
)


def seen(
    role: Role, kind: OrgKind, approved_level: int = 0, purpose: str = "credit_assessment"
) -> tuple[object, ...]:
    who = Principal("u1", "u1", "o1", kind, "o1", "/o1", frozenset({role}))
    out = protect(RECORD, Reader(who, approved_level=approved_level, purpose=purpose))
    return out.name, out.headcount_now, out.tax_12m, out.tax_prev_12m, out.tax_change


@pytest.mark.parametrize(
    ("role", "kind", "level", "expected"),
    [
        (Role.REGULATOR_ANALYST, OrgKind.REGULATOR, 0, (NAME, 80, *TAX)),
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, 0, (NAME, 80, None, None, None)),
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, 4, (NAME, 80, None, None, None)),  # L4 < L5
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, 5, (NAME, 80, *TAX)),
        (Role.ENTERPRISE_ADMIN, OrgKind.ENTERPRISE, 0, (NAME, 80, *TAX)),
        (Role.DATA_PROVIDER, OrgKind.BUREAU, 5, (NAME, None, None, None, None)),
    ],
)  # fmt: skip
def test_the_same_health_record_by_role(
    role: Role, kind: OrgKind, level: int, expected: tuple[object, ...]
) -> None:
    assert seen(role, kind, level) == expected


def test_a_level5_approval_does_not_open_tax_for_matchmaking() -> None:
    """The bank's level-5 rule is bound to credit purposes (policy `purposes`)."""
    assert seen(Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, 5, "financing_matchmaking") == (
        NAME,
        80,
        None,
        None,
        None,
    )
