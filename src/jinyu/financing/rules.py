"""Pure rules of financing work orders: the state machine, refusal reason codes, demand checks and product fit.

Values in, values out: no database, no clock (callers pass `now`), no files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from jinyu.financing.errors import TransitionNotAllowed


class OrderState(StrEnum):
    CREATED = "created"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    CONTACTED = "contacted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISBURSED = "disbursed"
    CLOSED = "closed"


class Security(StrEnum):
    """How a financing demand is secured (here, not in `schemas`: the CLI's options need it without pydantic)."""

    CREDIT = "credit"  # 信用
    COLLATERAL = "collateral"  # 抵押
    PLEDGE = "pledge"  # 质押
    GUARANTEE = "guarantee"  # 保证/担保


class Action(StrEnum):
    """What an actor does to an order; each action moves it to exactly one state."""

    DISPATCH = "dispatch"
    ACCEPT = "accept"
    CONTACT = "contact"
    REVIEW = "review"
    APPROVE = "approve"
    REJECT = "reject"
    DISBURSE = "disburse"
    CLOSE = "close"
    REDISPATCH = "redispatch"
    ASSIGN = "assign"  # the bank names an outlet and a customer manager: recorded, state unchanged
    RATE = "rate"  # the enterprise rates the service: recorded, state unchanged


S = OrderState
# action -> (states it may start from, state it leads to). A bank may refuse an order it has not accepted
# yet (dispatched → rejected); closing ends an approved, rejected or disbursed order.
TRANSITIONS: dict[Action, tuple[frozenset[OrderState], OrderState]] = {
    Action.DISPATCH: (frozenset({S.CREATED}), S.DISPATCHED),
    Action.ACCEPT: (frozenset({S.DISPATCHED}), S.ACCEPTED),
    Action.CONTACT: (frozenset({S.ACCEPTED}), S.CONTACTED),
    Action.REVIEW: (frozenset({S.CONTACTED}), S.UNDER_REVIEW),
    Action.APPROVE: (frozenset({S.UNDER_REVIEW}), S.APPROVED),
    Action.REJECT: (frozenset({S.DISPATCHED, S.ACCEPTED, S.CONTACTED, S.UNDER_REVIEW}), S.REJECTED),
    Action.DISBURSE: (frozenset({S.APPROVED}), S.DISBURSED),
    Action.CLOSE: (frozenset({S.APPROVED, S.REJECTED, S.DISBURSED}), S.CLOSED),
    # Re-dispatch: a rejected order, or an open one past its SLA, is closed at its bank and the demand gets a
    # new order at the next bank (each bank keeps its own history and indicators).
    Action.REDISPATCH: (
        frozenset({S.REJECTED, S.DISPATCHED, S.ACCEPTED, S.CONTACTED, S.UNDER_REVIEW}),
        S.CLOSED,
    ),
}

OPEN_STATES = frozenset({S.DISPATCHED, S.ACCEPTED, S.CONTACTED, S.UNDER_REVIEW})
DECIDED_STATES = frozenset({S.APPROVED, S.REJECTED, S.DISBURSED})
BANK_ACTIONS = frozenset(
    {
        Action.ACCEPT,
        Action.CONTACT,
        Action.REVIEW,
        Action.APPROVE,
        Action.REJECT,
        Action.DISBURSE,
        Action.CLOSE,
    }
)


def next_state(current: OrderState, action: Action, *, overdue: bool = False) -> OrderState:
    """The state `action` leads to from `current`, or TransitionNotAllowed saying why not."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        raise TransitionNotAllowed(detail=f"{current.value} --{action.value}--> ✗")
    if action is Action.REDISPATCH and current is not S.REJECTED and not overdue:
        raise TransitionNotAllowed(
            detail=f"仅被拒绝或超时的工单可改派 / only rejected or overdue orders: {current.value}, not overdue"
        )
    return target


class RefusalReason(StrEnum):
    """Coded reasons a bank gives when it rejects an order (R99 needs a note)."""

    R01 = "R01"
    R02 = "R02"
    R03 = "R03"
    R04 = "R04"
    R05 = "R05"
    R06 = "R06"
    R07 = "R07"
    R99 = "R99"


REFUSAL_TEXT: dict[RefusalReason, str] = {
    RefusalReason.R01: "不符合授信准入条件 / does not meet the bank's credit admission criteria",
    RefusalReason.R02: "抵押或担保不足 / insufficient collateral or guarantee",
    RefusalReason.R03: "经营或财务状况不满足要求 / operations or finances below requirements",
    RefusalReason.R04: "信用记录不良 / adverse credit record",
    RefusalReason.R05: "资料不全且逾期未补 / documents incomplete and not supplied in time",
    RefusalReason.R06: "无匹配产品（用途、期限或金额）/ no product fits the purpose, term or amount",
    RefusalReason.R07: "企业撤回需求或无法联系 / enterprise withdrew or could not be reached",
    RefusalReason.R99: "其他原因（须填写说明）/ other (a note is required)",
}


def refusal_problems(reason: RefusalReason | None, note: str | None) -> list[tuple[str, str]]:
    """Field problems of a rejection: a code is required, and R99 needs a note of at least 4 characters."""
    if reason is None:
        return [("reason_code", "拒绝须给出原因代码 R01–R07 或 R99 / a rejection needs a reason code")]
    if reason is RefusalReason.R99 and len((note or "").strip()) < 4:
        return [("note", "R99 须填写说明（至少 4 个字）/ R99 needs a note of at least 4 characters")]
    return []


MIN_AMOUNT = Decimal("10000.00")  # ¥10,000: below this a demand is a consumer loan, not enterprise financing
MAX_AMOUNT = Decimal("500000000.00")  # ¥500 million: above this the syndicate desk, not a work order
MIN_TERM_MONTHS, MAX_TERM_MONTHS = 1, 360


def demand_problems(amount: Decimal, term_months: int) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        problems.append(("amount", f"金额须在 {MIN_AMOUNT} 至 {MAX_AMOUNT} 元之间 / amount out of range"))
    if not MIN_TERM_MONTHS <= term_months <= MAX_TERM_MONTHS:
        problems.append(("term_months", "期限须在 1 至 360 个月之间 / term must be 1–360 months"))
    return problems


def order_overdue(
    contact_due: dt.date,
    decision_due: dt.date,
    contacted_on: dt.date | None,
    decided_on: dt.date | None,
    closed_on: dt.date | None,
    today: dt.date,
) -> bool:
    """Late for first contact or for the decision (see docs/financing.md, "overdue").

    Contact is late when it came after `contact_due`, or — never contacted — when the order was still
    waiting past `contact_due` (until its decision, its closing, or today). The decision is late when it came
    after `decision_due`, or — never decided — when the order was still open past `decision_due`.
    """
    if contacted_on is not None:
        contact_late = contacted_on > contact_due
    else:
        contact_late = (decided_on or closed_on or today) > contact_due
    decision_end = decided_on if decided_on is not None else (closed_on or today)
    return contact_late or decision_end > decision_due


def valid_rating(stars: int) -> bool:
    return 1 <= stars <= 5


BACKOFF_FIRST_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 3600


def retry_delay_seconds(attempts: int) -> int:
    """Wait after the `attempts`-th failed delivery: 30 s, 60 s, 120 s … doubling, at most 6 hours."""
    return int(min(BACKOFF_CAP_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, attempts - 1)))


# Bank financing products: does a product fit a demand (boundaries inclusive, docs/financing.md "Product fit").

SECURITY_KINDS = frozenset({"credit", "collateral", "pledge", "guarantee"})
INDUSTRY_PREFIX_RE = re.compile(r"^[A-T](\d{1,4})?$")  # a GB/T 4754-2017 section letter, optionally digits


@dataclass(frozen=True)
class ProductTerms:
    code: str
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    purposes: tuple[str, ...]  # keywords; empty: any purpose
    security_kinds: tuple[str, ...]
    industries: tuple[str, ...]  # GB/T 4754 prefixes; empty: any industry
    active: bool = True


@dataclass(frozen=True)
class DemandFacts:
    amount: Decimal
    term_months: int
    purpose: str
    security: str
    industry_code: str | None


def misfits(product: ProductTerms, demand: DemandFacts) -> list[str]:
    """Why `product` does not fit `demand` (codes in a fixed order); an empty list means it fits."""
    reasons: list[str] = []
    if not product.active:
        reasons.append("inactive")
    if not product.min_amount <= demand.amount <= product.max_amount:
        reasons.append("amount")
    if not product.min_term_months <= demand.term_months <= product.max_term_months:
        reasons.append("term")
    text = demand.purpose.casefold()
    if product.purposes and not any(p.casefold() in text for p in product.purposes):
        reasons.append("purpose")
    if demand.security not in product.security_kinds:
        reasons.append("security")
    if product.industries and not (
        demand.industry_code is not None
        and any(demand.industry_code.startswith(p) for p in product.industries)
    ):
        reasons.append("industry")
    return reasons


def best_fit(products: list[ProductTerms], demand: DemandFacts) -> ProductTerms | None:
    """The fitting product with the lowest code (a bank's products are unique by code), or None."""
    fitting = [p for p in products if not misfits(p, demand)]
    return min(fitting, key=lambda p: p.code) if fitting else None


def product_problems(product: ProductTerms) -> list[tuple[str, str]]:
    """Field problems of a product a bank registers."""
    problems: list[tuple[str, str]] = []
    if product.min_amount <= 0 or product.min_amount > product.max_amount:
        problems.append(("min_amount", "须 0 < 最低金额 ≤ 最高金额 / need 0 < min_amount ≤ max_amount"))
    if not 1 <= product.min_term_months <= product.max_term_months <= 360:
        problems.append(
            ("min_term_months", "须 1 ≤ 最短期限 ≤ 最长期限 ≤ 360 / need 1 ≤ min ≤ max ≤ 360 months")
        )
    if not product.security_kinds:
        problems.append(("security_kinds", "至少一种担保方式 / at least one security kind"))
    for i, kind in enumerate(product.security_kinds):
        if kind not in SECURITY_KINDS:
            problems.append((f"security_kinds[{i}]", f"未知担保方式 / unknown security kind: {kind}"))
    for i, prefix in enumerate(product.industries):
        if not INDUSTRY_PREFIX_RE.match(prefix):
            problems.append(
                (f"industries[{i}]", f"须为 GB/T 4754 代码前缀 / not an industry prefix: {prefix}")
            )
    for i, word in enumerate(product.purposes):
        if not word.strip():
            problems.append((f"purposes[{i}]", "用途关键词不能为空 / empty purpose keyword"))
    return problems
