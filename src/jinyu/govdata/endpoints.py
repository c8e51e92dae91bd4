"""HTTP handlers of government data about enterprises."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from jinyu.consent.rules import Purpose
from jinyu.core.auth import Perm, Principal
from jinyu.core.web import SessionDep, require
from jinyu.govdata import service
from jinyu.govdata.schemas import GovSummary

router = APIRouter(prefix="/enterprises", tags=["govdata 政务数据"])


@router.get("/{uscc}/gov-summary", response_model=GovSummary)
def gov_summary(
    uscc: str,
    request: Request,
    session: SessionDep,
    purpose: Purpose,
    as_of_month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    principal: Principal = require(Perm.GOVDATA_READ),
) -> GovSummary:
    """企业政务数据摘要：银行须有企业对应授权 / an enterprise's government data; banks need its consent."""
    return service.enterprise_summary(
        session,
        principal,
        request.app.state.analytics,
        request.app.state.settings.pseudonym_keys(),
        uscc,
        as_of_month,
        purpose,
    )
