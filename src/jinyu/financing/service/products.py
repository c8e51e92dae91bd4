"""Bank financing products: a bank registers and updates its own; anyone who reads financing lists them; routing
asks which of a set of banks has an active product fitting a demand."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from jinyu.financing.models import FinancingDemand, FinancingProduct
from jinyu.financing.rules import DemandFacts, ProductTerms, best_fit, product_problems
from jinyu.financing.schemas import ProductIn, ProductOut
from jinyu.party.service import lookup

CENT = Decimal("0.01")


def terms(p: FinancingProduct | ProductIn) -> ProductTerms:
    return ProductTerms(
        code=p.code, min_amount=p.min_amount, max_amount=p.max_amount, min_term_months=p.min_term_months,
        max_term_months=p.max_term_months, purposes=tuple(p.purposes), security_kinds=tuple(p.security_kinds),
        industries=tuple(p.industries), active=p.active,
    )  # fmt: skip


def _own_bank(session: Session, principal: Principal) -> str:
    """The caller's bank head office: only a bank's own users maintain its products."""
    principal.require(Perm.FINANCING_ASSIGN)
    bank = lookup.org_facts(session, principal.tenant_id)
    if bank is None or bank.kind != OrgKind.BANK_HEAD_OFFICE.value:
        raise PermissionDenied(detail="仅银行可维护产品 / only a bank maintains products")
    return bank.id


def _validate(data: ProductIn) -> None:
    problems = product_problems(terms(data))
    if problems:
        raise InvalidInput(fields=[FieldError(f, m) for f, m in problems])


def _apply(product: FinancingProduct, data: ProductIn, principal: Principal) -> None:
    for name, value in data.model_dump().items():
        setattr(product, name, value)
    product.min_amount, product.max_amount = data.min_amount.quantize(CENT), data.max_amount.quantize(CENT)
    product.purposes = [p.strip() for p in data.purposes]
    product.industries = sorted(set(data.industries))
    product.security_kinds = sorted(set(data.security_kinds))
    product.updated_by, product.updated_at = principal.subject_id, utcnow()


def create(session: Session, principal: Principal, data: ProductIn) -> ProductOut:
    bank_id = _own_bank(session, principal)
    _validate(data)
    exists = session.scalar(
        select(FinancingProduct.id).where(
            FinancingProduct.bank_id == bank_id, FinancingProduct.code == data.code
        )
    )
    if exists is not None:
        raise Conflict(detail=f"产品代码已存在 / product code exists: {data.code}")
    product = FinancingProduct(bank_id=bank_id)
    _apply(product, data, principal)
    try:  # two concurrent creates of one code: the unique (bank_id, code) constraint decides, the loser gets 409
        with session.begin_nested():
            session.add(product)
    except IntegrityError:
        raise Conflict(detail=f"产品代码已存在 / product code exists: {data.code}") from None
    _audit(session, principal, "financing.product.create", product)
    return ProductOut.model_validate(product)


def update(session: Session, principal: Principal, product_id: str, data: ProductIn) -> ProductOut:
    """Replace a product of the caller's own bank; another bank's product answers 404 (no existence leak)."""
    bank_id = _own_bank(session, principal)
    product = session.get(FinancingProduct, product_id, with_for_update=True)
    if product is None or product.bank_id != bank_id:
        raise NotFound(detail=f"product {product_id}")
    _validate(data)
    if data.code != product.code and session.scalar(
        select(FinancingProduct.id).where(
            FinancingProduct.bank_id == bank_id, FinancingProduct.code == data.code
        )
    ):
        raise Conflict(detail=f"产品代码已存在 / product code exists: {data.code}")
    _apply(product, data, principal)
    session.flush()
    _audit(session, principal, "financing.product.update", product)
    return ProductOut.model_validate(product)


def _audit(session: Session, principal: Principal, action: str, product: FinancingProduct) -> None:
    audit.record(
        session, principal, action=action, subject_type="financing_product", subject_ids=[product.id],
        detail={"bank_id": product.bank_id, "code": product.code, "active": product.active},
    )  # fmt: skip


def list_products(
    session: Session, principal: Principal, bank_id: str | None, active: bool | None
) -> list[ProductOut]:
    principal.require(Perm.FINANCING_READ)
    query = select(FinancingProduct).order_by(FinancingProduct.bank_id, FinancingProduct.code)
    if bank_id is not None:
        query = query.where(FinancingProduct.bank_id == bank_id)
    if active is not None:
        query = query.where(FinancingProduct.active == active)
    rows = list(session.scalars(query))
    audit.record(
        session, principal, action="financing.product.list", subject_type="financing_product",
        detail={"bank_id": bank_id, "active": active, "count": len(rows)},
    )  # fmt: skip
    return [ProductOut.model_validate(r) for r in rows]


def any_registered(session: Session) -> bool:
    """Transition rule: until some bank registers a product (active or not), routing ignores product fit."""
    return bool(session.scalar(select(func.count()).select_from(FinancingProduct)))


def fitting(
    session: Session, demand: FinancingDemand, industry_code: str | None, bank_ids: list[str]
) -> dict[str, FinancingProduct]:
    """For each of `bank_ids` with an active product fitting the demand: its fitting product of lowest code."""
    if not bank_ids:
        return {}
    facts = DemandFacts(demand.amount, demand.term_months, demand.purpose, demand.security, industry_code)
    rows = session.scalars(
        select(FinancingProduct).where(
            FinancingProduct.bank_id.in_(bank_ids), FinancingProduct.active.is_(True)
        )
    )
    by_bank: dict[str, list[FinancingProduct]] = {}
    for row in rows:
        by_bank.setdefault(row.bank_id, []).append(row)
    found: dict[str, FinancingProduct] = {}
    for bank_id, products in by_bank.items():
        best = best_fit([terms(p) for p in products], facts)
        if best is not None:
            found[bank_id] = next(p for p in products if p.code == best.code)
    return found
