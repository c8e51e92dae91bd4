"""Reading settlements: one, a page of them, one as a FHIR ClaimResponse; every read audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import fhir
from jinyu.claim import repository as repo
from jinyu.claim.schemas import SettlementOut, SettlementSummary
from jinyu.claim.service.common import settlement_out, settlement_summary
from jinyu.claim.service.settlement import not_found
from jinyu.core.auth import Perm, Principal
from jinyu.core.pagination import Page
from jinyu.governance.policy.protect import Reader, protect


def get_settlement(session: Session, principal: Principal, settlement_id: str) -> SettlementOut:
    principal.require(Perm.CLAIM_READ)
    row = repo.get_settlement(session, principal, settlement_id)
    if row is None:
        raise not_found(settlement_id)
    audit.record(
        session,
        principal,
        action="claim.settlement.read",
        subject_type="claim_settlement",
        subject_ids=[row.id],
        detail={"person": row.person_token},
    )
    return protect(settlement_out(row), Reader(principal))


def list_settlements(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    business_date_: dt.date | None = None,
    mdtrt_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[SettlementSummary]:
    principal.require(Perm.CLAIM_READ)
    rows, total = repo.list_settlements(
        session,
        principal,
        status=status,
        business_date=business_date_,
        mdtrt_id=mdtrt_id,
        limit=limit,
        offset=offset,
    )
    audit.record(
        session,
        principal,
        action="claim.settlement.list",
        subject_type="claim_settlement",
        subject_ids=[r.id for r in rows],
    )
    page = Page[SettlementSummary](
        items=[settlement_summary(r) for r in rows], total=total, limit=limit, offset=offset
    )
    return protect(page, Reader(principal))


def export_fhir(session: Session, principal: Principal, settlement_id: str) -> dict[str, Any]:
    """The settlement as a validated FHIR R4 ClaimResponse."""
    principal.require(Perm.CLAIM_READ)
    row = repo.get_settlement(session, principal, settlement_id)
    if row is None:
        raise not_found(settlement_id)
    product = repo.get_product_unscoped(session, row.product_id) if row.product_id else None
    insurer_id = product.lead_insurer_id if product is not None else "unknown"
    # The export carries what the policy lets this caller see, as the JSON answer does.
    doc = fhir.claim_response(protect(settlement_out(row), Reader(principal)), insurer_id, row.person_token)
    audit.record(
        session,
        principal,
        action="claim.settlement.export_fhir",
        subject_type="claim_settlement",
        subject_ids=[row.id],
        detail={"person": row.person_token},
    )
    return doc
