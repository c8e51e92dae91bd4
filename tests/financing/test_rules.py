"""The work-order state machine, refusal codes and the overdue rule as tables of hand-written cases."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from jinyu.financing.errors import TransitionNotAllowed
from jinyu.financing.rules import (
    Action,
    OrderState,
    RefusalReason,
    demand_problems,
    next_state,
    order_overdue,
    refusal_problems,
)

S, A = OrderState, Action

# Every allowed (state, action) → state, written out by hand from docs/financing.md.
ALLOWED = {
    (S.CREATED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.ACCEPT): S.ACCEPTED,
    (S.ACCEPTED, A.CONTACT): S.CONTACTED,
    (S.CONTACTED, A.REVIEW): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, A.APPROVE): S.APPROVED,
    (S.DISPATCHED, A.REJECT): S.REJECTED,
    (S.ACCEPTED, A.REJECT): S.REJECTED,
    (S.CONTACTED, A.REJECT): S.REJECTED,
    (S.UNDER_REVIEW, A.REJECT): S.REJECTED,
    (S.APPROVED, A.DISBURSE): S.DISBURSED,
    (S.APPROVED, A.CLOSE): S.CLOSED,
    (S.REJECTED, A.CLOSE): S.CLOSED,
    (S.DISBURSED, A.CLOSE): S.CLOSED,
    (S.REJECTED, A.REDISPATCH): S.CLOSED,
}
MOVING = [a for a in Action if a not in {A.ASSIGN, A.RATE}]


@pytest.mark.parametrize(("state", "action"), list(itertools.product(OrderState, MOVING)))
def test_every_state_and_action(state: OrderState, action: Action) -> None:
    expected = ALLOWED.get((state, action))
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            next_state(state, action)
    else:
        assert next_state(state, action) is expected


@pytest.mark.parametrize("state", [S.DISPATCHED, S.ACCEPTED, S.CONTACTED, S.UNDER_REVIEW])
def test_open_orders_redispatch_only_when_overdue(state: OrderState) -> None:
    with pytest.raises(TransitionNotAllowed):
        next_state(state, A.REDISPATCH, overdue=False)
    assert next_state(state, A.REDISPATCH, overdue=True) is S.CLOSED


@pytest.mark.parametrize(("state"), [S.APPROVED, S.DISBURSED, S.CLOSED, S.CREATED])
def test_decided_or_closed_orders_never_redispatch(state: OrderState) -> None:
    with pytest.raises(TransitionNotAllowed):
        next_state(state, A.REDISPATCH, overdue=True)


@pytest.mark.parametrize(
    ("code", "note", "fields"),
    [
        (None, "", ["reason_code"]),
        (RefusalReason.R02, "", []),
        (RefusalReason.R99, "", ["note"]),
        (RefusalReason.R99, "  太短 ", ["note"]),
        (RefusalReason.R99, "行业政策限制", []),
    ],
)
def test_refusals_need_a_code_and_r99_a_note(
    code: RefusalReason | None, note: str, fields: list[str]
) -> None:
    assert [f for f, _ in refusal_problems(code, note)] == fields


@pytest.mark.parametrize(
    ("amount", "term", "fields"),
    [
        ("10000.00", 1, []),
        ("9999.99", 12, ["amount"]),
        ("500000000.00", 360, []),
        ("500000000.01", 361, ["amount", "term_months"]),
        ("200000", 0, ["term_months"]),
    ],
)
def test_demand_bounds(amount: str, term: int, fields: list[str]) -> None:
    assert [f for f, _ in demand_problems(Decimal(amount), term)] == fields


D = dt.date
CONTACT_DUE, DECISION_DUE = D(2026, 3, 4), D(2026, 3, 16)


@pytest.mark.parametrize(
    ("contacted", "decided", "closed", "today", "overdue"),
    [
        (None, None, None, D(2026, 3, 4), False),  # due today: not late yet
        (None, None, None, D(2026, 3, 5), True),  # not contacted, a day past
        (D(2026, 3, 4), None, None, D(2026, 3, 10), False),  # contacted on the due date
        (D(2026, 3, 5), None, None, D(2026, 3, 5), True),  # contacted a day late
        (D(2026, 3, 2), D(2026, 3, 16), None, D(2026, 6, 1), False),  # decided on the due date
        (D(2026, 3, 2), D(2026, 3, 17), None, D(2026, 6, 1), True),  # decided late
        (D(2026, 3, 2), None, None, D(2026, 3, 17), True),  # still undecided past the decision date
        (None, D(2026, 3, 3), None, D(2026, 6, 1), False),  # refused before any contact, in time
        (None, D(2026, 3, 5), None, D(2026, 6, 1), True),  # refused without contact after contact_due
        (None, None, D(2026, 3, 3), D(2026, 6, 1), False),  # closed (re-dispatched) in time
        (D(2026, 3, 3), None, D(2026, 3, 20), D(2026, 6, 1), True),  # re-dispatched after the decision date
    ],
)
def test_overdue(
    contacted: dt.date | None, decided: dt.date | None, closed: dt.date | None, today: dt.date, overdue: bool
) -> None:
    assert order_overdue(CONTACT_DUE, DECISION_DUE, contacted, decided, closed, today) is overdue
