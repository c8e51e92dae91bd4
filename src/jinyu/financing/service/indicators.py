"""The regulator's indicator system: one table per grouping, over the orders the caller may read.

Definitions (docs/financing.md, "Indicators"): rates are ratios of counts rounded half-up to 4 decimals;
averages are working days rounded half-up to 2 decimals; amounts are exact yuan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.audit import service as audit
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import local, utcnow
from jinyu.core.db import yuan_of_fen
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.financing import queries
from jinyu.financing import repository as repo
from jinyu.financing.schemas import IndicatorRow, IndicatorTable
from jinyu.party.service import lookup

GROUPINGS = tuple(repo.GROUP_COLUMNS)
SORTS = ("overdue", "overdue_rate", "orders", "contact_rate", "approval_rate", "acceptance_rate", "key")
RATE = Decimal("0.0001")
DAYS = Decimal("0.01")
ORG_GROUPS = {"bank", "branch", "outlet"}


def ratio(part: int, whole: int, quantum: Decimal = RATE) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(quantum, rounding=ROUND_HALF_UP)


def row_of(sums: Mapping[str, Any]) -> IndicatorRow:
    orders, contacted, accepted = int(sums["orders"]), int(sums["contacted"]), int(sums["accepted"])
    decided, approved, overdue = int(sums["decided"]), int(sums["approved"]), int(sums["overdue"] or 0)
    return IndicatorRow(
        key=sums["key"],
        orders=orders,
        contacted=contacted,
        contact_rate=ratio(contacted, orders),
        avg_days_to_contact=ratio(int(sums["contact_days"] or 0), contacted, DAYS),
        accepted=accepted,
        acceptance_rate=ratio(accepted, orders),
        decided=decided,
        approved=approved,
        approval_rate=ratio(approved, decided),
        amount_requested=yuan_of_fen(sums["requested_fen"]),
        amount_approved=yuan_of_fen(sums["approved_fen"]),
        avg_days_to_decision=ratio(int(sums["decision_days"] or 0), int(sums["decision_count"]), DAYS),
        overdue=overdue,
        overdue_rate=ratio(overdue, orders),
    )


def _sort_key(sort: str) -> Any:
    if sort == "key":
        return lambda r: (r.key is None, r.key or "")
    # Largest first; groups without a value (no orders to divide by) last; ties by key.
    return lambda r: (getattr(r, sort) is None, -(getattr(r, sort) or 0), r.key or "")


def check_query(group_by: str, filters: Mapping[str, str], sort: str) -> None:
    problems = []
    if group_by not in GROUPINGS:
        problems.append(FieldError("group_by", f"可选 / one of {', '.join(GROUPINGS)}"))
    problems += [
        FieldError(k, "不能用于筛选 / not a filter") for k in filters if k not in repo.FILTER_COLUMNS
    ]
    if sort not in SORTS:
        problems.append(FieldError("sort", f"可选 / one of {', '.join(SORTS)}"))
    if problems:
        raise InvalidInput(fields=problems)


def indicators(
    session: Session,
    principal: Principal,
    group_by: str,
    filters: Mapping[str, str],
    sort: str = "overdue",
    limit: int = 50,
    as_of: dt.date | None = None,
) -> IndicatorTable:
    principal.require(Perm.FINANCING_READ)
    check_query(group_by, filters, sort)
    today = as_of or local(utcnow()).date()
    rows = [row_of(s) for s in repo.indicator_sums(session, principal, group_by, filters, today)]
    rows = sorted(rows, key=_sort_key(sort))[:limit]
    _name(session, group_by, rows)
    audit.record(
        session,
        principal,
        action="financing.indicators.read",
        subject_type="financing_indicators",
        detail={"group_by": group_by, "filters": dict(filters), "as_of": today.isoformat()},
    )
    return IndicatorTable(group_by=group_by, as_of=today, filters=dict(filters), rows=rows)


def _name(session: Session, group_by: str, rows: list[IndicatorRow]) -> None:
    keys = [r.key for r in rows if r.key]
    if group_by in ORG_GROUPS:
        facts = lookup.orgs_facts(session, keys)
        for r in rows:
            r.name = facts[r.key].name if r.key in facts else None
    elif group_by == "manager":
        names = lookup.users_display_names(session, keys)
        for r in rows:
            r.name = names.get(r.key or "")


def bank_value(
    session: Session, principal: Principal, bank_id: str, indicator: str, today: dt.date
) -> Decimal | None:
    """One indicator of one bank (window guidance compares it before and after)."""
    sums = repo.indicator_sums(session, principal, "bank", {"bank": bank_id}, today)
    if not sums:
        return None
    value = getattr(row_of(sums[0]), indicator)
    return Decimal(value) if value is not None else None


def lake_indicators(
    engine: Engine,
    principal: Principal,
    group_by: str,
    as_of: dt.date,
    bank: str = "",
    month: str = "",
    sort: str = "overdue",
) -> IndicatorTable:
    """The same table over the lake's exported orders (a whole region, DuckDB or Spark): regulators only,
    since the lake is not scoped per tenant."""
    principal.require(Perm.FINANCING_SUPERVISE)
    check_query(group_by, {}, sort)
    rows = sorted(
        (row_of(s) for s in queries.indicator_sums(engine, group_by, as_of, bank, month)), key=_sort_key(sort)
    )
    filters = {k: v for k, v in {"bank": bank, "month": month}.items() if v}
    return IndicatorTable(group_by=group_by, as_of=as_of, filters=filters, rows=rows)
