"""What every page handler needs: the caller, checked for the page's permission, and names for ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from jinyu.core.auth import Perm, Principal
from jinyu.governance import registry
from jinyu.party import service as party
from jinyu.web.render import bilingual
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


def provider_names(session: Session, codes: Iterable[str], lang: str) -> dict[str, str]:
    """Names of data providers a governance report names by code: the registry's (in the visitor's language),
    else the bank's or hospital's of that code (providers attributed row by row); unknown codes keep the code."""
    wanted = set(codes)
    names = {p.code: bilingual(p.name, lang) for p in registry.providers() if p.code in wanted}
    rest = sorted(wanted - set(names))
    for kind in ("bank_head_office", "hospital"):
        if rest:
            names.update(party.names_by_codes(session, kind, rest))
            rest = [c for c in rest if c not in names]
    return names


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get("jinyu_lang") == "en" else "zh"
