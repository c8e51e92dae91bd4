"""The landing page: the figures the caller's roles may see, each linking to its page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from jinyu.audit import checkpointing
from jinyu.audit.anchor import Anchors, anchors_for
from jinyu.claim import service as claims
from jinyu.consent import service as consent
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep
from jinyu.party import service as party
from jinyu.risk import inquiries
from jinyu.web import i18n
from jinyu.web.pages.common import lang_of as visitor_lang
from jinyu.web.pages.common import page_requires
from jinyu.web.render import render
from jinyu.web.session import visitor

router = APIRouter()


@dataclass(frozen=True)
class Tile:
    key: str
    value: str
    href: str


@router.get("/console")
def overview(
    request: Request, session: SessionDep, principal: Principal = page_requires(Perm.ORG_READ)
) -> Response:
    org = party.resolve_org(session, principal.org_id)
    return render(
        request,
        "overview.html",
        visitor(request, principal),
        tiles=tiles(session, principal, anchors_for(request.app.state.settings), visitor_lang(request)),
        org_name=org.name if org else principal.org_id,
    )


def tiles(session: Session, principal: Principal, anchors: Anchors, lang: str) -> list[Tile]:
    """Headline figures, each from the service the page behind it uses (so the same permission applies)."""
    out: list[Tile] = []
    if principal.has(Perm.AUDIT_VERIFY):
        # the signed checkpoints of the chain (cheap: the file, not the chain; "verify" on the audit page walks it)
        _, check = checkpointing.list_checkpoints(session, principal, anchors, limit=1)
        state = i18n.translate("verified_ok" if check.ok else "verified_bad", lang)
        out.append(Tile("audit_status", f"{state} · {i18n.number(check.count)}", "/console/audit"))
    if principal.has(Perm.RISK_STATS):
        stats = inquiries.inquiry_stats(session, principal, None, None)
        out.append(Tile("inquiries_total", i18n.number(sum(s.inquiries for s in stats)), "/console/risk"))
        out.append(Tile("risky_found", i18n.number(sum(s.risky for s in stats)), "/console/risk"))
    if principal.has(Perm.CLAIM_REPORT):
        report = claims.report(session, principal, "insurer")
        out.append(Tile("claims_paid", i18n.yuan(report.total_payout), "/console/claims"))
        out.append(Tile("loss_ratio", i18n.percent(report.loss_ratio), "/console/claims"))
        prepaid = claims.prepaid_by_insurer(session, principal)
        total = sum((line.prepaid for line in prepaid), Decimal("0.00"))
        low = sum(line.below_threshold for line in prepaid)
        out.append(Tile("prepaid_total", f"{i18n.yuan(total)} · {i18n.number(low)}⚠", "/console/claims"))
    if principal.has(Perm.CLAIM_READ):
        settled = claims.list_settlements(session, principal, limit=1)
        out.append(Tile("settlement_count", i18n.number(settled.total), "/console/settlements"))
        alerts = claims.list_alerts(session, principal, True, 1, 0)
        out.append(Tile("open_alerts", i18n.number(alerts.total), "/console/settlements"))
    if principal.has(Perm.CONSENT_READ):
        grants = consent.list_grants(session, principal, None, 200, 0)
        active = sum(1 for g in grants.items if g.state == "active")
        out.append(Tile("grants_active", i18n.number(active), "/console/consents"))
    return out
