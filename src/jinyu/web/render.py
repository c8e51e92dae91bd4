"""Rendering console pages: one Jinja2 environment (autoescaped), the language's text and the formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from jinyu.core.auth import Perm, Principal
from jinyu.web import i18n
from jinyu.web.session import Visitor, finish

TEMPLATES = Path(__file__).parent / "templates"
ENV = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False
)
ENV.filters.update(yuan=i18n.yuan, number=i18n.number, percent=i18n.percent, shanghai=i18n.shanghai)
ENV.globals.update(place=i18n.place, code_text=i18n.code_text)

# The console's menu: (path, text key, permission). A page shows in the menu only to roles that may open it;
# the page itself checks the permission again (a URL typed by hand answers 403).
MENU: tuple[tuple[str, str, Perm], ...] = (
    ("/console", "overview", Perm.ORG_READ),
    ("/console/risk", "risk", Perm.RISK_STATS),
    ("/console/statements", "statements", Perm.RISK_QUERY),
    ("/console/loans", "loan_check", Perm.RISK_QUERY),
    ("/console/batch", "batch", Perm.RISK_QUERY),
    ("/console/inquiries", "inquiries_history", Perm.RISK_QUERY),
    ("/console/card", "credit_card", Perm.CREDIT_CARD_READ),
    ("/console/claims", "claims", Perm.CLAIM_REPORT),
    ("/console/settlements", "settlements", Perm.CLAIM_READ),
    ("/console/registration", "registration", Perm.ENTERPRISE_REGISTER),
    ("/console/consents", "consents", Perm.CONSENT_READ),
    ("/console/orders", "orders", Perm.FINANCING_READ),
    ("/console/chains", "chains", Perm.CHAIN_READ),
    ("/console/governance", "governance", Perm.GOVERNANCE_READ),
    ("/console/joint", "joint", Perm.JOINT_READ),
    ("/console/data-access", "data_access", Perm.ENTERPRISE_REGISTER),
    ("/console/registrations", "registrations_review", Perm.ENTERPRISE_REVIEW),
    ("/console/audit", "audit", Perm.AUDIT_READ),
)


def menu_for(principal: Principal | None) -> list[tuple[str, str]]:
    if principal is None:
        return []
    return [(path, key) for path, key, perm in MENU if principal.has(perm)]


def bilingual(text: str, lang: str) -> str:
    """Our messages are '中文 / English': the half in the visitor's language."""
    zh, sep, en = text.partition(" / ")
    return (en if lang == "en" else zh) if sep else text


def render(request: Request, template: str, seen: Visitor, status: int = 200, **context: Any) -> HTMLResponse:
    lang = seen.lang
    # the page's own address (a POST's answer names the GET page it shows, for the menu and the language switch)
    path = context.pop("page_path", request.url.path)

    def t(key: str) -> str:
        return i18n.translate(key, lang)

    html = ENV.get_template(template).render(
        t=t,
        lang=lang,
        me=seen.principal,
        menu=menu_for(seen.principal),
        path=path,
        csrf=seen.csrf_token,
        bilingual=lambda text: bilingual(text, lang),
        **context,
    )
    return finish(HTMLResponse(html, status_code=status), request, seen)  # type: ignore[return-value]
