"""Shared pieces of the claim repository: lock helpers and the insurer scopes."""

from __future__ import annotations

from sqlalchemy import (
    Select,
    select,
    text,
)
from sqlalchemy.orm import Session

from jinyu.claim.models import (
    ClaimProductInsurer,
)
from jinyu.core import pipeline
from jinyu.core.auth import OrgKind, Principal
from jinyu.core.db import lock_for_update


def _row_locks(session: Session) -> bool:
    return lock_for_update(session.get_bind().dialect.name)


def set_lock_timeout(session: Session, milliseconds: int | None) -> None:
    """PostgreSQL only: give up waiting for a row lock after this long (None: wait without limit), until the
    transaction ends (or a savepoint taken before is rolled back to). With psycopg, it goes with the next
    pipeline (or into the open write batch) instead of taking a round trip of its own."""
    if not _row_locks(session):
        return
    value = "0" if milliseconds is None else f"{max(int(milliseconds), 1)}ms"
    if pipeline.available(session):
        pipeline.write(session, "SELECT set_config('lock_timeout', %(value)s, true)", {"value": value})
    else:
        session.execute(text(f"SET LOCAL lock_timeout = '{value}'"))


def is_lock_timeout(exc: BaseException) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("55P03", "57014")  # lock_not_available, query_canceled


def _insurer_products(principal: Principal) -> Select[str]:
    return select(ClaimProductInsurer.product_id).where(ClaimProductInsurer.insurer_id == principal.org_id)


def _insurer_product_codes(principal: Principal) -> Select[str]:
    return select(ClaimProductInsurer.product_code).where(ClaimProductInsurer.insurer_id == principal.org_id)


def _is(principal: Principal, kind: OrgKind) -> bool:
    return principal.org_kind == kind


# Organisations that settle claims at the point of care and see their own settlements and books.
SETTLING_KINDS = frozenset({OrgKind.HOSPITAL, OrgKind.PHARMACY})


def _settles(principal: Principal) -> bool:
    return principal.org_kind in SETTLING_KINDS
