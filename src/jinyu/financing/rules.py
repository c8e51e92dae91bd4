"""Pure rules of financing work orders: the state machine, refusal reason codes and demand checks.

Values in, values out: no database, no clock (callers pass `now`), no files.
"""

from __future__ import annotations

import datetime as dt
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
