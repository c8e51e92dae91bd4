"""The policy's pure rules, by hand-computed cases: masks, rule order, approvals, and one record as four roles
see it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal

import pytest

from jinyu.chain.schemas import HealthOut
from jinyu.claim.schemas import EnrollmentOut
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.governance.policy.protect import Reader, current, protect
from jinyu.governance.policy.rules import Action, PolicyInvalid, mask_value, parse
from jinyu.risk.statements.schemas import LedgerLineOut

KEY = b"p" * 32
ROLES = [r.value for r in Role]


def who(role: Role, kind: OrgKind) -> Principal:
    return Principal("u1", "u1", "o1", kind, "o1", "/o1", frozenset({role}))


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("resident_id", "500101198506141234", "500101********1234"),  # region and last four
        ("phone", "13812345678", "*******5678"),
        ("account", "6222020200112233445", "***************3445"),
        ("name", "张三丰", "张**"),
        ("name", "张**", "张**"),  # masked at ingestion: masking again changes nothing
        ("full", "anything at all", "********"),
        ("account", "1234", "****"),  # too short to keep anything
    ],
)
def test_masks_are_format_preserving(kind: str, value: str, masked: str) -> None:
    assert mask_value(kind, value) == masked


def test_the_shipped_policy_is_versioned_and_has_its_classes() -> None:
    policy = current()
    assert policy.version == "v2026.12.9"
    assert len(policy.classes) == 14
    assert policy.classes["enterprise_tax"].level == 5 and policy.classes["resident_id"].pfi == "C3"


def test_level5_opens_to_a_bank_only_with_an_approval_of_that_level() -> None:
    policy = current()
    assert policy.decide("enterprise_tax", ["bank_hq_risk"]) == (Action.WITHHOLD, "default")
    assert policy.decide("enterprise_tax", ["bank_hq_risk"], approved_level=4)[0] is Action.WITHHOLD
    assert policy.decide("enterprise_tax", ["bank_hq_risk"], 5, "credit_assessment") == (
        Action.CLEAR,
        "tax-bank-approved",
    )
    assert policy.decide("enterprise_tax", ["enterprise_admin"])[0] is Action.CLEAR
    assert policy.needs_approval("enterprise_tax", ["bank_branch_officer"], "loan_review")
    assert not policy.needs_approval("enterprise_tax", ["regulator_analyst"])


@pytest.mark.parametrize(
    ("purpose", "action"),
    [
        ("credit_assessment", Action.CLEAR),
        ("loan_review", Action.CLEAR),
        ("post_loan_monitoring", Action.CLEAR),
        ("financing_matchmaking", Action.WITHHOLD),  # an approval does not open tax for matchmaking
        ("statement_verification", Action.WITHHOLD),
        (None, Action.WITHHOLD),  # a read resting on no grant never meets a purpose-bound rule
    ],
)
def test_the_bank_tax_rule_is_bound_to_credit_purposes(purpose: str | None, action: Action) -> None:
    assert current().decide("enterprise_tax", ["bank_hq_risk"], 5, purpose)[0] is action
    assert current().decide("enterprise_tax", ["regulator_analyst"], 0, purpose)[0] is Action.CLEAR


def test_health_flags_and_verdict_follow_their_sources() -> None:
    """Derived values: a bank without a level-5 approval loses the flag computed from tax and the verdict; a
    data provider, shown neither tax nor profile, keeps only the registration flag."""
    health = HealthOut(
        uscc="91500000MA00000001",
        name="甲公司",
        status="deregistered",
        headcount_now=8,
        headcount_before=20,
        tax_12m=Decimal("10.00"),
        tax_prev_12m=Decimal("100.00"),
        tax_change=Decimal("-0.9000"),
        open_cases=1,
        paying_months=2,
        flags=["deregistered", "headcount_drop", "tax_drop", "judicial", "irregular_payments"],
        healthy=False,
    )
    bank = Reader(who(Role.BANK_HQ_RISK, OrgKind.BANK_HEAD_OFFICE))
    seen = protect(health, bank)
    assert seen.flags == ["deregistered", "headcount_drop", "judicial", "irregular_payments"]
    assert seen.healthy is None and seen.tax_12m is None and bank.withheld == {"enterprise_tax"}
    assert seen.tax_change is None  # computed from the tax sums alone: tax detail, withheld with them
    approved = protect(
        health,
        Reader(who(Role.BANK_HQ_RISK, OrgKind.BANK_HEAD_OFFICE), approved_level=5, purpose="loan_review"),
    )
    assert approved == health
    provider = protect(health, Reader(who(Role.DATA_PROVIDER, OrgKind.BUREAU)))
    assert (provider.flags, provider.healthy, provider.headcount_now) == (["deregistered"], None, None)


def test_several_roles_get_the_most_revealing_action() -> None:
    policy = current()
    assert policy.decide("account_number", ["regulator_analyst"])[0] is Action.MASK
    assert policy.decide("account_number", ["regulator_analyst", "regulator_supervisor"])[0] is Action.CLEAR


def test_the_first_matching_rule_decides() -> None:
    doc = {
        "version": "v1",
        "classes": {"c": {"level": 3, "label": "c"}},
        "rules": [
            {"id": "first", "classes": ["c"], "roles": ["*"], "action": "mask"},
            {"id": "second", "classes": ["c"], "roles": ["bank_hq_risk"], "action": "clear"},
        ],
        "fields": {},
    }
    assert parse(doc, ROLES).decide("c", ["bank_hq_risk"]) == (Action.MASK, "first")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": "2026"}, "version"),
        ({"rules": [{"id": "r", "classes": ["nope"], "roles": ["*"], "action": "clear"}]}, "unknown classes"),
        ({"rules": [{"id": "r", "classes": ["c"], "roles": ["king"], "action": "clear"}]}, "unknown roles"),
        ({"rules": [{"id": "r", "classes": ["c"], "roles": ["*"], "action": "show"}]}, "unknown action"),
        ({"fields": {"x": "nope"}}, "unknown class"),
        ({"fields": {"x": "c"}, "not_personal": ["x"]}, "both"),
        (
            {
                "rules": [
                    {"id": "r", "classes": ["c"], "roles": ["*"], "action": "clear", "purposes": ["fun"]}
                ]
            },
            "unknown purposes",
        ),
        (
            {"rules": [{"id": "r", "classes": ["c"], "roles": ["*"], "action": "clear", "purposes": "x"}]},
            "purposes must be a list",
        ),
        ({"derived": {"S.x": ["nope"]}, "not_personal": ["S.x"]}, "unknown class"),
        ({"derived": {"S.x": ["c"]}}, "also be listed as not personal"),
        ({"derived": {"x": ["c"]}, "not_personal": ["x"]}, "Schema.field"),
    ],
)
def test_a_broken_policy_is_refused(change: dict, message: str) -> None:
    doc = {"version": "v1", "classes": {"c": {"level": 3, "label": "c"}}, "rules": [], "fields": {}} | change
    with pytest.raises(PolicyInvalid, match=message):
        parse(doc, ROLES, ["credit_assessment"])


LINE = LedgerLineOut(
    txn_id="T1",
    ts=dt.datetime(2024, 3, 1, 1, 0, tzinfo=dt.UTC),
    booked_on=dt.date(2024, 3, 1),
    amount=Decimal("-3500.00"),
    counterparty_account="6222020200112233445",
    counterparty_name="重庆丙服务有限公司",
    counterparty_category="corporate_settlement",
    channel="online",
    memo="服务费",
)
RAW_ACCOUNT, RAW_NAME = "6222020200112233445", "重庆丙服务有限公司"
TOKEN_ACCOUNT = "pt_" + hmac.new(KEY, b"account\x1f6222020200112233445", hashlib.sha256).hexdigest()[:32]
TOKEN_NAME = "pt_" + hmac.new(KEY, "account\x1f重庆丙服务有限公司".encode(), hashlib.sha256).hexdigest()[:32]


@pytest.mark.parametrize(
    ("role", "kind", "expected"),
    [
        # The regulator's supervisor sees counterparties in clear; its analysts as tokens.
        (Role.REGULATOR_SUPERVISOR, OrgKind.REGULATOR, (RAW_ACCOUNT, RAW_NAME, Decimal("-3500.00"), "服务费")),
        (Role.REGULATOR_ANALYST, OrgKind.REGULATOR, (TOKEN_ACCOUNT, TOKEN_NAME, Decimal("-3500.00"), "服务费")),
        # A bank officer: tokens plus category, never raw.
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, (TOKEN_ACCOUNT, TOKEN_NAME, Decimal("-3500.00"), "服务费")),
        (Role.ENTERPRISE_ADMIN, OrgKind.ENTERPRISE, (TOKEN_ACCOUNT, TOKEN_NAME, Decimal("-3500.00"), "服务费")),
        # A provider (a hospital) has no business with bank ledgers: everything classified is withheld.
        (Role.HOSPITAL_SYSTEM, OrgKind.HOSPITAL, (None, None, None, None)),
    ],
)  # fmt: skip
def test_one_ledger_line_as_each_role_sees_it(role: Role, kind: OrgKind, expected: tuple) -> None:
    shown = protect(LINE, Reader(who(role, kind), KEY))
    assert (shown.counterparty_account, shown.counterparty_name, shown.amount, shown.memo) == expected
    assert shown.counterparty_category == "corporate_settlement" and shown.txn_id == "T1"  # not personal


PT, MASKED_ID = "pt_0123456789abcdef0123456789abcdef", "500101********1234"
ENROLLMENT = EnrollmentOut(
    id="E1",
    product_code="YKB",
    policy_year=2026,
    person_token="pt_0123456789abcdef0123456789abcdef",
    id_masked="500101198506141234",
    name_masked="张三丰",
    pre_existing=["I10"],
    premium=Decimal("99.00"),
    status="active",
    enrolled_on=dt.date(2026, 1, 1),
)


@pytest.mark.parametrize(
    ("role", "kind", "expected"),
    [
        (Role.INSURER_STAFF, OrgKind.INSURER, (PT, MASKED_ID, "张**", ["I10"])),
        (Role.HOSPITAL_SYSTEM, OrgKind.HOSPITAL, (PT, MASKED_ID, "张**", ["I10"])),
        (Role.REGULATOR_ANALYST, OrgKind.REGULATOR, (PT, MASKED_ID, "张**", None)),
        (Role.BANK_BRANCH_OFFICER, OrgKind.BANK_BRANCH, (PT, None, "张**", None)),
        (Role.ENTERPRISE_ADMIN, OrgKind.ENTERPRISE, (PT, MASKED_ID, "张**", None)),
    ],
)  # fmt: skip
def test_one_enrollment_as_each_role_sees_it(role: Role, kind: OrgKind, expected: tuple) -> None:
    reader = Reader(who(role, kind), KEY)
    shown = protect(ENROLLMENT, reader)
    assert (shown.person_token, shown.id_masked, shown.name_masked, shown.pre_existing) == expected
    assert ("health" in reader.withheld) == (expected[3] is None)
