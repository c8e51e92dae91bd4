"""Indicators over the operational store: the SQL overdue rule agrees with the pure rule on every case, and
slow outlets come out on top of the overdue table. Orders are posted at past dates through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
from jinyu.financing import repository as repo
from jinyu.financing import service
from jinyu.financing.calendars import load_calendar
from jinyu.financing.models import WorkOrder
from jinyu.financing.rules import Action, order_overdue
from jinyu.financing.schemas import Assignment, DemandCreate, Security, Transition
from tests.financing.test_rules import CONTACT_DUE, DECISION_DUE
from tests.financing.test_rules import test_overdue as overdue_cases
from tests.fixtures.auth import make_org, principal

CAL = load_calendar(Path("/nonexistent"))
SHANGHAI_NOON = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, SHANGHAI_NOON)


def _post(session: Session, ent: Principal, bank_id: str, day: dt.date) -> str:
    data = DemandCreate(
        amount=Decimal("1000000.00"), term_months=12, purpose="周转", security=Security.CREDIT,
        preferred_bank_ids=[bank_id],
    )  # fmt: skip
    return service.post_demand(session, ent, data, CAL, now=at(day)).order.id


def test_sql_overdue_matches_the_pure_rule(session: Session) -> None:
    cases = overdue_cases.pytestmark[0].args[1]  # type: ignore[attr-defined]
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    ent = principal(session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN)
    order_id = _post(session, ent, bank.id, dt.date(2026, 3, 2))
    order = session.get(WorkOrder, order_id)
    assert order is not None
    order.contact_due, order.decision_due = CONTACT_DUE, DECISION_DUE
    for contacted, decided, closed, today, expected in cases:
        order.contacted_on, order.decided_on, order.closed_on = contacted, decided, closed
        session.flush()
        sql = session.scalar(
            select(repo.overdue_expression(WorkOrder, today)).where(WorkOrder.id == order_id)
        )
        assert (
            bool(sql)
            is expected
            is order_overdue(CONTACT_DUE, DECISION_DUE, contacted, decided, closed, today)
        )


def test_slow_outlets_top_the_overdue_table(session: Session, tmp_path: Path) -> None:
    bank = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    branch = make_org(session, OrgKind.BANK_BRANCH, parent=bank)
    outlets = [make_org(session, OrgKind.BANK_OUTLET, parent=branch) for _ in range(3)]
    hq = principal(session, bank, Role.BANK_HQ_RISK)
    ent = principal(session, make_org(session, OrgKind.ENTERPRISE), Role.ENTERPRISE_ADMIN)
    reg = principal(session, make_org(session, OrgKind.REGULATOR), Role.REGULATOR_ANALYST)
    start = dt.date(2026, 11, 2)  # a Monday
    # Outlet 0 contacts on day 1, outlet 1 on day 4 (late: due day 2), outlet 2 never contacts.
    delays = {0: 1, 1: 4, 2: None}
    for week in range(3):
        for i, outlet in enumerate(outlets):
            day = start + dt.timedelta(days=7 * week)
            oid = _post(session, ent, bank.id, day)
            service.assign(session, hq, oid, Assignment(outlet_id=outlet.id))
            service.act(session, hq, oid, Transition(action=Action.ACCEPT), CAL, now=at(day))
            if delays[i] is not None:
                when = CAL.add_working_days(day, delays[i] or 0)
                service.act(session, hq, oid, Transition(action=Action.CONTACT), CAL, now=at(when))
                service.act(session, hq, oid, Transition(action=Action.REVIEW), CAL, now=at(when))
                decided = at(CAL.add_working_days(day, 6))
                yes = Transition(action=Action.APPROVE, amount_approved=Decimal("800000.00"))
                service.act(session, hq, oid, yes, CAL, now=decided)
    table = service.indicators(session, reg, "outlet", {"bank": bank.id}, as_of=dt.date(2026, 12, 1))
    keys = [r.key for r in table.rows]
    assert keys[:2] == [outlets[1].id, outlets[2].id] or keys[:2] == [outlets[2].id, outlets[1].id]
    by_key = {r.key: r for r in table.rows}
    assert (by_key[outlets[0].id].overdue, by_key[outlets[1].id].overdue, by_key[outlets[2].id].overdue) == (
        0,
        3,
        3,
    )
    assert by_key[outlets[0].id].avg_days_to_decision == Decimal("6.00")
    assert by_key[outlets[0].id].amount_approved == Decimal("2400000.00")
    assert by_key[outlets[1].id].avg_days_to_contact == Decimal("4.00")
    assert by_key[outlets[2].id].contact_rate == Decimal("0.0000")
    # Judged on the first dispatch's contact due date (11-04), outlet 2's first order is not late yet.
    early = service.indicators(session, reg, "outlet", {"outlet": outlets[2].id}, as_of=dt.date(2026, 11, 4))
    assert early.rows[0].overdue == 0
    later = service.indicators(session, reg, "outlet", {"outlet": outlets[2].id}, as_of=dt.date(2026, 11, 5))
    assert later.rows[0].overdue == 1

    # The lake query (DuckDB SQL over exported snapshots) gives the same table as the live one (SQLAlchemy).
    lake = Lake(tmp_path / "lake")
    assert service.export_orders(session, SYSTEM, lake, "x1") == 9
    assert service.export_orders(session, SYSTEM, lake, "x2") == 9  # a second snapshot counts once
    engine = DuckDBEngine(tmp_path / "lake")
    try:
        for group_by in ("outlet", "bank", "month", "district"):
            for day in (dt.date(2026, 11, 5), dt.date(2026, 12, 1)):
                live = service.indicators(session, reg, group_by, {"bank": bank.id}, as_of=day)
                offline = service.lake_indicators(engine, reg, group_by, day, bank=bank.id)
                assert [r.model_dump(exclude={"name"}) for r in offline.rows] == [
                    r.model_dump(exclude={"name"}) for r in live.rows
                ]
    finally:
        engine.close()
