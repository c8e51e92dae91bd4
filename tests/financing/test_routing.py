"""Routing rules and re-dispatch of overdue orders, through the services at chosen times."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
from jinyu.financing import service
from jinyu.financing.calendars import load_calendar
from jinyu.financing.errors import DemandInvalid, NoBankAvailable, TransitionNotAllowed
from jinyu.financing.schemas import ChainChiefSet, DemandCreate, Redispatch, Security
from jinyu.party.schemas import OrgOut
from tests.fixtures.auth import make_org, principal

CAL = load_calendar(Path("/nonexistent"))
MONDAY = dt.datetime(2026, 11, 2, 4, 0, tzinfo=dt.UTC)  # 12:00 Shanghai


def _bank_with_outlet(session: Session, code: str) -> OrgOut:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE, code=code)
    make_org(session, OrgKind.BANK_OUTLET, parent=make_org(session, OrgKind.BANK_BRANCH, parent=bank))
    return bank


def _demand(chain: str | None = None, banks: list[str] | None = None) -> DemandCreate:
    return DemandCreate(
        amount=Decimal("800000.00"), term_months=24, purpose="设备更新", security=Security.COLLATERAL,
        preferred_bank_ids=banks or [], chain_code=chain,
    )  # fmt: skip


@pytest.fixture
def ent(session: Session) -> Principal:
    return principal(session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN)


def test_chain_chief_then_least_loaded_bank_in_the_district(session: Session, ent: Principal) -> None:
    a = _bank_with_outlet(session, "ZZA1")
    b = _bank_with_outlet(session, "ZZA2")
    service.set_chain_chief(session, SYSTEM, ChainChiefSet(chain_code="auto-x", bank_id=b.id))
    first = service.post_demand(session, ent, _demand(chain="auto-x"), CAL, now=MONDAY).order
    assert (first.bank_id, first.route_rule) == (b.id, "chain_chief")
    # No chain: among the district's banks the least loaded — a (0 open, then 1 against b's 1: the lower code).
    loads = {}
    for _ in range(2):
        order = service.post_demand(session, ent, _demand(), CAL, now=MONDAY).order
        assert order.route_rule == "district_load"
        loads[order.bank_id] = loads.get(order.bank_id, 0) + 1
    assert loads == {a.id: 2}


def test_an_overdue_order_moves_to_another_bank(session: Session, ent: Principal) -> None:
    a = _bank_with_outlet(session, "ZZB1")
    b = _bank_with_outlet(session, "ZZB2")
    order = service.post_demand(session, ent, _demand(banks=[a.id, b.id]), CAL, now=MONDAY).order
    assert order.contact_due == dt.date(2026, 11, 4)
    with pytest.raises(TransitionNotAllowed):  # on the due date: not late yet
        service.redispatch(session, ent, order.id, Redispatch(), CAL, now=MONDAY + dt.timedelta(days=2))
    moved = service.redispatch(session, ent, order.id, Redispatch(), CAL, now=MONDAY + dt.timedelta(days=3))
    assert (moved.bank_id, moved.previous_order_id, moved.state.value) == (b.id, order.id, "dispatched")
    assert moved.dispatched_on == dt.date(2026, 11, 5) and moved.contact_due == dt.date(2026, 11, 9)
    # A bank that already had the demand is refused outright.
    with pytest.raises(DemandInvalid):
        service.redispatch(
            session, ent, moved.id, Redispatch(bank_id=a.id), CAL, now=MONDAY + dt.timedelta(days=20)
        )


def test_no_bank_left(session: Session) -> None:
    lonely = make_org(session, OrgKind.ENTERPRISE)
    # An enterprise in a district without outlets, no preference, no chain: nobody to route to.
    from jinyu.party.models import Organisation

    org = session.get(Organisation, lonely.id)
    assert org is not None
    org.district_code = "659999"
    session.flush()
    who = principal(session, lonely, Role.ENTERPRISE_ADMIN)
    with pytest.raises(NoBankAvailable):
        service.post_demand(session, who, _demand(), CAL, now=MONDAY)


def test_product_fit_skips_the_chosen_bank_and_reaches_the_chain_chief(
    session: Session, ent: Principal
) -> None:
    from jinyu.financing.schemas import ProductIn
    from jinyu.financing.service import products

    a = _bank_with_outlet(session, "ZZF1")
    b = _bank_with_outlet(session, "ZZF2")
    c = _bank_with_outlet(session, "ZZF3")
    service.set_chain_chief(session, SYSTEM, ChainChiefSet(chain_code="fit-x", bank_id=c.id))
    item = {"name": "设备贷", "min_amount": Decimal("100000.00"), "max_amount": Decimal("1000000.00"),
            "min_term_months": 12, "max_term_months": 24, "security_kinds": ["collateral"]}  # fmt: skip
    # a: only credit loans; c: collateral, 12–24 months, 设备 purposes only. b registers nothing.
    products.create(
        session,
        principal(session, a, Role.BANK_HQ_RISK),
        ProductIn(code="A1", **item | {"security_kinds": ["credit"]}),
    )  # type: ignore[arg-type]
    products.create(
        session, principal(session, c, Role.BANK_HQ_RISK), ProductIn(code="C1", purposes=["设备"], **item)
    )  # type: ignore[arg-type]
    order = service.post_demand(
        session, ent, _demand(chain="fit-x", banks=[a.id, b.id]), CAL, now=MONDAY
    ).order
    assert order.bank_id == c.id and order.product_code == "C1"
    assert order.route_rule == (
        f"chain_chief; skipped preferred:{a.id} no_product_fit; skipped preferred:{b.id} no_product_fit"
    )
    # b registers a fitting product; the overdue order is re-dispatched naming a, which has none: a is skipped
    # (as the chosen bank and again as a preferred bank), b takes it.
    products.create(session, principal(session, b, Role.BANK_HQ_RISK), ProductIn(code="B1", **item))  # type: ignore[arg-type]
    later = MONDAY + dt.timedelta(days=20)
    moved = service.redispatch(session, ent, order.id, Redispatch(bank_id=a.id), CAL, now=later)
    assert (moved.bank_id, moved.product_code) == (b.id, "B1")
    assert moved.route_rule == (
        f"preferred; skipped chosen:{a.id} no_product_fit; skipped preferred:{a.id} no_product_fit"
    )
