"""Recording every risk inquiry and the regulator's indicators over them.

Every risk service (statement verification, return flow, misappropriation, batches) calls `record_inquiry`
in the same transaction as its result, so counts and results never disagree.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, case, func, insert, select
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import local, utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import invalid
from jinyu.core.money import to_fen
from jinyu.party import service as party
from jinyu.risk.models import RiskInquiry
from jinyu.risk.schemas import InquiryOut, InquiryStat

# A month as the API's query pattern has it: the CLI and the console are refused alike.
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

KINDS = ("statement", "return_flow", "misuse", "batch")
_INSERT = insert(cast(Table, RiskInquiry.__table__))  # built once: every check writes one row


def record_inquiry(
    session: Session,
    principal: Principal,
    *,
    kind: str,
    subject: str,
    verdict: str,
    risky: bool,
    risky_amount: Decimal = Decimal("0"),
    detail: dict[str, Any] | None = None,
) -> str:
    """Count one inquiry for the asking bank; returns its id (quoted in results as the inquiry reference)."""
    if kind not in KINDS:
        raise ValueError(f"unknown inquiry kind {kind!r}")
    now = utcnow()
    row = dict(
        id=new_id(),
        kind=kind,
        tenant_id=principal.tenant_id,
        org_id=principal.org_id,
        actor_id=principal.subject_id,
        subject=subject[:128],
        month=local(now).strftime("%Y-%m"),
        verdict=verdict,
        risky=risky,
        risky_amount=to_fen(risky_amount),
        detail=detail or {},
        at=now,
    )
    # One Core INSERT written now, not the ORM's unit of work (a third of the statement's cost on a one-loan
    # check): the row is never changed after, and later statements of the transaction see it all the same.
    session.flush()  # rows added before are written first, as the autoflush of `session.add` would
    with session.no_autoflush:
        session.connection().execute(_INSERT, row)
    return str(row["id"])


def inquiry_stats(
    session: Session, principal: Principal, from_month: str | None, to_month: str | None
) -> list[InquiryStat]:
    """Inquiries, risky findings and risky amounts by bank, month and kind (regulators only)."""
    principal.require(Perm.RISK_STATS)
    for name, value in (("from_month", from_month), ("to_month", to_month)):
        if value is not None and not MONTH.fullmatch(value):
            raise invalid(name, "月份应为 YYYY-MM / month must be YYYY-MM, e.g. 2026-03")
    stmt = select(
        RiskInquiry.tenant_id,
        RiskInquiry.month,
        RiskInquiry.kind,
        func.count(),
        func.sum(case((RiskInquiry.risky.is_(True), 1), else_=0)),
    ).group_by(RiskInquiry.tenant_id, RiskInquiry.month, RiskInquiry.kind)
    if from_month:
        stmt = stmt.where(RiskInquiry.month >= from_month)
    if to_month:
        stmt = stmt.where(RiskInquiry.month <= to_month)
    amounts = _risky_amounts(session, from_month, to_month)
    out = []
    for tenant_id, month, kind, count, risky in session.execute(
        stmt.order_by(RiskInquiry.month, RiskInquiry.tenant_id)
    ):
        bank = party.resolve_org(session, tenant_id)
        out.append(
            InquiryStat(
                bank_org_id=tenant_id,
                bank_name=bank.name if bank else tenant_id,
                month=month,
                kind=kind,
                inquiries=count,
                risky=int(risky or 0),
                risky_amount=amounts.get((tenant_id, month, kind), Decimal("0.00")),
            )
        )
    return out


def _risky_amounts(
    session: Session, from_month: str | None, to_month: str | None
) -> dict[tuple[str, str, str], Decimal]:
    # Money is summed in Python from exact Decimals: SQLite stores it as text, where SUM would go through floats.
    stmt = select(RiskInquiry.tenant_id, RiskInquiry.month, RiskInquiry.kind, RiskInquiry.risky_amount).where(
        RiskInquiry.risky.is_(True)
    )
    if from_month:
        stmt = stmt.where(RiskInquiry.month >= from_month)
    if to_month:
        stmt = stmt.where(RiskInquiry.month <= to_month)
    totals: dict[tuple[str, str, str], Decimal] = {}
    for tenant_id, month, kind, amount in session.execute(stmt):
        key = (tenant_id, month, kind)
        totals[key] = totals.get(key, Decimal("0.00")) + amount
    return totals


MAX_HISTORY = 200


def list_inquiries(
    session: Session, principal: Principal, kind: str | None, limit: int = 50
) -> list[InquiryOut]:
    """The bank's own inquiry history, newest first: a head office sees its whole bank's, a branch or outlet its
    own (its officers' inquiries). The read is audited."""
    principal.require(Perm.RISK_QUERY)
    if kind is not None and kind not in KINDS:
        raise invalid("kind", f"类型应为 {'、'.join(KINDS)} 之一 / kind must be one of {', '.join(KINDS)}")
    stmt = select(RiskInquiry).where(RiskInquiry.tenant_id == principal.tenant_id)
    if principal.org_kind != OrgKind.BANK_HEAD_OFFICE:
        stmt = stmt.where(RiskInquiry.org_id == principal.org_id)
    if kind is not None:
        stmt = stmt.where(RiskInquiry.kind == kind)
    rows = session.scalars(
        stmt.order_by(RiskInquiry.at.desc(), RiskInquiry.id).limit(min(max(limit, 1), MAX_HISTORY))
    )
    out = [
        InquiryOut(
            id=r.id,
            kind=r.kind,
            subject=r.subject,
            verdict=r.verdict,
            risky=r.risky,
            risky_amount=r.risky_amount,
            org_id=r.org_id,
            at=r.at,
        )
        for r in rows
    ]
    audit.record(
        session,
        principal,
        action="risk.inquiry.list",
        subject_type="risk_inquiry",
        subject_ids=[r.id for r in out],
    )
    return out
