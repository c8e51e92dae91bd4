"""HTTP handlers of credit information business cards (信用信息名片)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse

from jinyu.analytics import Engine
from jinyu.analytics.serving import shared_engine
from jinyu.consent.rules import Purpose
from jinyu.core.auth import Perm, Principal
from jinyu.core.pagination import Limit, Offset, Page
from jinyu.core.web import SessionDep, require
from jinyu.credit import render, service
from jinyu.credit.schemas import CardOut, CardViewOut, SnapshotSummary

router = APIRouter(prefix="/credit/cards", tags=["credit 信用信息名片"])
DEFAULT_PURPOSE = Purpose.CREDIT_ASSESSMENT


def _engine(request: Request) -> Engine:
    """The process's serving engine: the card's datasets as in-memory tables sorted by enterprise, refreshed
    when a load adds files (a card over Parquet views paid for listing and opening every file per request)."""
    return shared_engine(request.app.state.settings.lake_dir)


@router.get("/{uscc}", response_model=CardOut)
def get_card(
    uscc: str,
    request: Request,
    session: SessionDep,
    purpose: Purpose = DEFAULT_PURPOSE,
    principal: Principal = require(Perm.CREDIT_CARD_READ),
) -> CardOut:
    """企业信用信息名片：银行仅见授权覆盖的板块 / an enterprise's card; a bank sees the sections its grants cover."""
    return service.card(session, principal, _engine(request), uscc, purpose)


@router.get("/{uscc}/print.html", response_class=HTMLResponse)
def print_html(
    uscc: str,
    request: Request,
    session: SessionDep,
    purpose: Purpose = DEFAULT_PURPOSE,
    principal: Principal = require(Perm.CREDIT_CARD_READ),
) -> HTMLResponse:
    """可打印的名片（HTML）/ the card as a printable HTML page."""
    card = service.card(session, principal, _engine(request), uscc, purpose, rendering="html")
    return HTMLResponse(render.html(card))


@router.get(
    "/{uscc}/print.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF"}},
)
def print_pdf(
    uscc: str,
    request: Request,
    session: SessionDep,
    purpose: Purpose = DEFAULT_PURPOSE,
    principal: Principal = require(Perm.CREDIT_CARD_READ),
) -> Response:
    """可打印的名片（PDF，内置中文字体）/ the card as PDF (built-in Chinese font, works offline)."""
    card = service.card(session, principal, _engine(request), uscc, purpose, rendering="pdf")
    name = f"credit-card-{card.uscc}-v{card.snapshot.version}.pdf"
    return Response(
        render.pdf(card),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/{uscc}/snapshots", response_model=Page[SnapshotSummary])
def list_snapshots(
    uscc: str,
    session: SessionDep,
    purpose: Purpose = DEFAULT_PURPOSE,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: Principal = require(Perm.CREDIT_CARD_READ),
) -> Page[SnapshotSummary]:
    """名片的历史版本 / the card's versions, newest first."""
    return service.list_snapshots(session, principal, uscc, purpose, limit, offset)


@router.get("/{uscc}/snapshots/{version}", response_model=CardOut)
def get_snapshot(
    uscc: str,
    version: Annotated[int, Path(ge=1, le=2_147_483_647, description="名片版本 / version")],
    request: Request,
    session: SessionDep,
    purpose: Purpose = DEFAULT_PURPOSE,
    principal: Principal = require(Perm.CREDIT_CARD_READ),
) -> CardOut:
    """引用的名片版本（哈希校验后返回）/ a cited version, hash-checked, shown as today's grants allow."""
    return service.snapshot(session, principal, _engine(request), uscc, purpose, version)


@router.get("/{uscc}/views", response_model=Page[CardViewOut])
def list_views(
    uscc: str,
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: Principal = require(Perm.CREDIT_CARD_READ),
) -> Page[CardViewOut]:
    """谁查看了我的名片 / who looked at the card (the enterprise itself and regulators)."""
    return service.list_views(session, principal, uscc, limit, offset)
