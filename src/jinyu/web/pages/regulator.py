"""The regulator's pages: fund-flow inquiry statistics, claims by insurer/hospital/liability, the audit trail."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from jinyu.audit import service as audit
from jinyu.audit.actions import MEANINGS
from jinyu.audit.anchor import anchors_for
from jinyu.audit.schemas import AuditFilter, PageRequest, VerifyResultOut, build
from jinyu.claim import service as claims
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep
from jinyu.risk import inquiries
from jinyu.web import i18n
from jinyu.web.charts import Bar, bar_chart
from jinyu.web.pages.common import org_names, page_requires
from jinyu.web.render import bilingual, render
from jinyu.web.session import check_csrf, visitor

router = APIRouter()

CLAIM_GROUPS = ("insurer", "hospital", "liability", "month", "product")


def _blank(value: str | None) -> str | None:
    return value or None


@router.get("/console/risk")
def risk_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.RISK_STATS),
    from_month: Annotated[str | None, Query(max_length=7)] = None,
    to_month: Annotated[str | None, Query(max_length=7)] = None,
) -> Response:
    seen = visitor(request, principal)
    from_month, to_month = _blank(from_month), _blank(to_month)
    rows = inquiries.inquiry_stats(session, principal, from_month, to_month)
    by_bank: dict[str, Decimal] = {}
    for row in rows:
        by_bank[row.bank_name] = by_bank.get(row.bank_name, Decimal(0)) + row.risky_amount
    chart = bar_chart(
        i18n.translate("risky_amount", seen.lang),
        [Bar(name, amount) for name, amount in sorted(by_bank.items(), key=lambda kv: -kv[1])],
        i18n.yuan,
    )
    return render(
        request, "risk.html", seen, rows=rows, chart=chart, from_month=from_month, to_month=to_month
    )


def _liability(code: str, named: dict[str, list[str]], lang: str) -> str:
    """A liability in words: the console's text for the shipped codes, else the name its product gives it."""
    text = i18n.code_text("liability_", code, lang)
    if text != code or code not in named:
        return text
    return ("; " if lang == "en" else "、").join(bilingual(name, lang) for name in named[code])


@router.get("/console/claims")
def claims_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.CLAIM_REPORT),
    by: Annotated[str, Query(max_length=20)] = "insurer",
    month_from: Annotated[str | None, Query(max_length=7)] = None,
    month_to: Annotated[str | None, Query(max_length=7)] = None,
) -> Response:
    seen = visitor(request, principal)
    report = claims.report(session, principal, by, _blank(month_from), _blank(month_to))
    names = org_names(session, [r.key for r in report.rows]) if by in ("insurer", "hospital") else {}
    if by == "liability":
        named = claims.liability_names(session, principal, [r.key for r in report.rows])
        names = {r.key: _liability(r.key, named, seen.lang) for r in report.rows}
    prepaid = claims.prepaid_by_insurer(session, principal)
    insurers = org_names(session, [p.insurer_id for p in prepaid])
    chart = bar_chart(
        i18n.translate("payout", seen.lang),
        [Bar(names.get(r.key, r.key), r.payout) for r in sorted(report.rows, key=lambda r: -r.payout)[:15]],
        i18n.yuan,
    )
    return render(
        request,
        "claims.html",
        seen,
        report=report,
        by=by,
        groups=CLAIM_GROUPS,
        names=names,
        chart=chart,
        month_from=month_from,
        month_to=month_to,
        prepaid=prepaid,
        insurers=insurers,
    )


@router.get("/console/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.AUDIT_READ),
    action: Annotated[str | None, Query(max_length=100)] = None,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=19)] = None,
) -> Response:
    return _audit(request, session, principal, _blank(action), _blank(subject_id), _blank(cursor), None)


@router.post("/console/audit/verify")
def verify_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.AUDIT_VERIFY),
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not check_csrf(request, csrf_token):
        return _audit(request, session, principal, None, None, None, None, csrf_failed=True)
    anchors = anchors_for(request.app.state.settings)
    verdict = VerifyResultOut.of(audit.verify(session, principal, anchors=anchors))
    return _audit(request, session, principal, None, None, None, verdict)


def _audit(
    request: Request,
    session: SessionDep,
    principal: Principal,
    action: str | None,
    subject_id: str | None,
    cursor: str | None,
    verdict: VerifyResultOut | None,
    csrf_failed: bool = False,
) -> Response:
    seen = visitor(request, principal)
    filters = build(AuditFilter, action=action, subject_id=subject_id)
    page = build(PageRequest, limit=50, cursor=cursor)
    found = audit.search(session, principal, filters, page)
    return render(
        request,
        "audit.html",
        seen,
        403 if csrf_failed else 200,
        entries=found.items,
        next_cursor=found.next_cursor,
        action=action,
        subject_id=subject_id,
        verdict=verdict,
        can_verify=principal.has(Perm.AUDIT_VERIFY),
        meanings=MEANINGS,
        page_path="/console/audit",
        error=i18n.translate("csrf", seen.lang) if csrf_failed else None,
    )
