"""What every page handler needs: the caller, checked for the page's permission, and names for ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from jinyu.core.auth import Perm, Principal
from jinyu.party import service as party
from jinyu.web.session import page_principal

PagePrincipal = Annotated[Principal, Depends(page_principal)]


def page_requires(perm: Perm) -> Any:
    """Dependency of a page: its caller (LoginRequired without a session, 403 without `perm`)."""

    def checker(principal: PagePrincipal) -> Principal:
        principal.require(perm)
        return principal

    checker.__name__ = f"page_requires_{perm.name.lower()}"
    return Depends(checker)


def org_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Organisation names for the ids a service already let the caller see (ids that are not organisations
    keep showing as themselves)."""
    names: dict[str, str] = {}
    for org_id in set(ids):
        org = party.resolve_org(session, org_id)
        if org is not None:
            names[org_id] = org.name
    return names


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get("jinyu_lang") == "en" else "zh"
