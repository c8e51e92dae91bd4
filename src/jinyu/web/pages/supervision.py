"""The regulator's pages for the later scenarios: financing work orders and their indicators, industrial chains
(segment flows by month, core enterprises, a contagion case, loans by term) and data governance (anomaly-rate
trend per provider, remediation items). Each calls the service the API calls, with the same principal."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from jinyu.analytics import shared_results
from jinyu.chain import counterparties
from jinyu.chain import reads as chain_reads
from jinyu.chain import service as chains
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import FieldError, InvalidInput, NotFound
from jinyu.core.web import SessionDep
from jinyu.financing import service as financing
from jinyu.financing.rules import OrderState
from jinyu.governance import remediation
from jinyu.governance import service as governance
from jinyu.web import i18n
from jinyu.web.charts import Bar, Series, bar_chart, line_chart
from jinyu.web.pages.common import org_names, page_requires, provider_names
from jinyu.web.render import bilingual, render
from jinyu.web.session import visitor

router = APIRouter()

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
INDICATOR_GROUPS = tuple(financing.GROUPINGS)


def _month(name: str, value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and not MONTH.fullmatch(value):
        message = "月份应为 YYYY-MM / month must be YYYY-MM"
        raise InvalidInput(detail=f"{name}: {message}", fields=[FieldError(name, message)])
    return value


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    value = value or None
    if value is not None and value not in allowed:
        message = f"应为 {'、'.join(allowed)} 之一 / one of {', '.join(allowed)}"
        raise InvalidInput(detail=f"{name}: {message}", fields=[FieldError(name, message)])
    return value


@router.get("/console/orders")
def orders_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.FINANCING_READ),
    state: Annotated[str | None, Query(max_length=20)] = None,
    group_by: Annotated[str, Query(max_length=20)] = "bank",
) -> Response:
    """Work orders the caller may see (newest first) and the indicators by bank, branch, outlet..."""
    seen = visitor(request, principal)
    state = _choice("state", state, tuple(s.value for s in OrderState))
    group = _choice("group_by", group_by, INDICATOR_GROUPS) or "bank"
    orders = financing.list_orders(session, principal, {"state": state} if state else {}, 100, 0)
    table = financing.indicators(session, principal, group, {}, "overdue", 50, None)
    ids = [o.enterprise_id for o in orders.items] + [o.bank_id for o in orders.items]
    chart = bar_chart(
        i18n.translate("overdue_rate", seen.lang),
        [Bar(r.name or r.key or "—", r.overdue_rate) for r in table.rows if r.overdue_rate is not None][:15],
        i18n.percent,
    )
    return render(
        request,
        "orders.html",
        seen,
        orders=orders,
        table=table,
        names=org_names(session, ids),
        state=state,
        states=[s.value for s in OrderState],
        group_by=group,
        groups=INDICATOR_GROUPS,
        chart=chart,
    )


@router.get("/console/chains")
def chains_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.CHAIN_READ),
    code: Annotated[str | None, Query(max_length=64)] = None,
    from_month: Annotated[str | None, Query(max_length=7)] = None,
    to_month: Annotated[str | None, Query(max_length=7)] = None,
    failing: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The chains; for one chain and a window: segment flows by month, core enterprises as of the window's last
    month, loans by term, and, for a member that would stop paying, who is exposed (contagion)."""
    seen = visitor(request, principal)
    engine = request.app.state.analytics
    start, end = _month("from_month", from_month), _month("to_month", to_month)
    code, failing = (code or "").strip() or None, (failing or "").strip() or None
    context: dict[str, Any] = {"code": code, "from_month": start, "to_month": end, "failing": failing}
    if code and start and end:
        # Each of the page's statements once per request, and answers of earlier requests on the same lake
        # files reused (jinyu.chain.reads, jinyu.analytics.results); the services read through it.
        engine = chain_reads.for_page(
            engine, code, end, failing, shared_results(request.app.state.settings.lake_dir)
        )
    try:
        context["chains"] = chains.list_chains(session, principal, engine)
    except NotFound as exc:  # nothing loaded yet: the page says so instead of failing
        return render(
            request, "chains.html", seen, chains=[], notice=bilingual(exc.detail or "", seen.lang), **context
        )
    if code and start and end:
        context |= _chain_detail(session, principal, engine, code, start, end, failing, seen.lang)
    return render(request, "chains.html", seen, **context)


def _chain_detail(
    session: SessionDep,
    principal: Principal,
    engine: Any,
    code: str,
    start: str,
    end: str,
    failing: str | None,
    lang: str,
) -> dict[str, Any]:
    flows = chains.flows(session, principal, engine, code, start, end)
    by_segment: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for n in flows.net:
        by_segment[n.segment][n.month] = n.net
    net_chart = line_chart(
        i18n.translate("segment_net", lang),
        [Series(s, pts) for s, pts in sorted(by_segment.items())],
        i18n.yuan,
    )
    return {
        "flows": flows,
        "net_chart": net_chart,
        "network": chains.network_position(session, principal, engine, code, end, 10),
        "loans": chains.chain_loans(session, principal, engine, code, start, end),
        "contagion": counterparties.contagion_of(session, principal, engine, code, failing, end)
        if failing
        else None,
    }


@router.get("/console/governance")
def governance_page(
    request: Request,
    session: SessionDep,
    principal: Principal = page_requires(Perm.GOVERNANCE_READ),
    provider: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Anomaly rate per provider and month (a line each, log scale) and the remediation items."""
    seen = visitor(request, principal)
    provider = (provider or "").strip() or None
    report = governance.report(session, principal, provider=provider)
    series: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for p in report.trend:
        if p.anomaly_rate_pct is not None:
            series[p.provider][p.period] = p.anomaly_rate_pct
    items = remediation.list_items(session, principal, status=status or None, provider=provider)
    codes = [p.provider for p in report.by_year] + list(series) + [i.provider for i in items]
    names = provider_names(session, codes, seen.lang)
    chart = line_chart(
        i18n.translate("anomaly_rate", seen.lang),
        [Series(names.get(code, code), pts) for code, pts in sorted(series.items())],
        lambda v: f"{v}%",
        log=True,
    )
    return render(
        request,
        "governance.html",
        seen,
        report=report,
        chart=chart,
        items=items,
        names=names,
        provider=provider,
        item_status=status,
    )
