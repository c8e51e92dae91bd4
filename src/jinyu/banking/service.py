"""Bank accounts in the lake, scoped to the caller: a bank sees accounts opened in its own subtree, an
enterprise its own accounts, a regulator any bank's on request."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.audit import service as audit
from jinyu.banking import queries
from jinyu.banking.schemas import AccountOut
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.errors import PermissionDenied, invalid
from jinyu.core.pagination import Page
from jinyu.core.privacy import ACCOUNT_DOMAIN, Keys, pseudonymize
from jinyu.governance.policy.protect import Reader, protect
from jinyu.party import service as party

BANK_KINDS = {OrgKind.BANK_HEAD_OFFICE, OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET}


def _rows(
    session: Session, principal: Principal, engine: Engine, bank_code: str | None, limit: int, offset: int
) -> list[dict[str, object]]:
    if principal.org_kind in BANK_KINDS:
        own = party.resolve_org(session, principal.org_id)
        assert own is not None  # the principal was resolved from this organisation
        return queries.accounts_below(engine, own.code, limit, offset)
    if principal.org_kind == OrgKind.ENTERPRISE:
        own = party.resolve_org(session, principal.org_id)
        assert own is not None
        return queries.accounts_owned_by(engine, own.code, limit, offset)
    if principal.sees_everything:
        if not bank_code:
            raise invalid("bank_code", "监管查询需指定银行机构编码 / regulators name the bank to list")
        return queries.accounts_below(engine, bank_code, limit, offset)
    raise PermissionDenied(detail="该机构类型无账户数据 / no account data for this kind of organisation")


def list_accounts(
    session: Session,
    principal: Principal,
    engine: Engine,
    pseudonym_key: Keys,
    bank_code: str | None,
    limit: int,
    offset: int,
) -> Page[AccountOut]:
    principal.require(Perm.ACCOUNT_READ)
    rows = _rows(session, principal, engine, bank_code, limit, offset)
    total = int(str(rows[0]["total"])) if rows else 0
    items = [AccountOut.model_validate({k: v for k, v in r.items() if k != "total"}) for r in rows]
    # The trail is permanent: it names accounts by keyed pseudonym, never by raw account number.
    tokens = [pseudonymize(pseudonym_key, a.account_no, ACCOUNT_DOMAIN) for a in items]
    audit.record(
        session,
        principal,
        action="banking.account.list",
        subject_type="account",
        subject_ids=tokens,
        detail={"bank_code": bank_code, "count": len(items), "offset": offset},
    )
    # What each role sees of each column is the data-security policy's (docs/data-security.md).
    return protect(
        Page[AccountOut](items=items, total=total, limit=limit, offset=offset),
        Reader(principal, pseudonym_key),
    )
