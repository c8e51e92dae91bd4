"""Products: versioned rule sets, loaded from YAML/JSON or the API, validated, then activated."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import repository as repo
from jinyu.claim.errors import ProductDefinitionInvalid, ProductVersionExists
from jinyu.claim.models import ClaimProduct, ClaimProductInsurer
from jinyu.claim.rules.parse import parse_product
from jinyu.claim.schemas import ProductIn, ProductInsurerOut, ProductOut
from jinyu.claim.service.common import product_or_404, require_org
from jinyu.core.auth import SYSTEM, OrgKind, Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import FieldError, PermissionDenied
from jinyu.core.pagination import Page
from jinyu.party import service as party


def read_definition(path: Path) -> dict[str, Any]:
    """A product definition file: YAML (.yaml/.yml) or JSON (JSON is YAML too)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProductDefinitionInvalid(detail=f"无法读取 / cannot read {path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise ProductDefinitionInvalid(detail="产品定义应为对象 / the definition must be a mapping")
    return data


def _insurer_id(session: Session, code: str) -> str | None:
    page = party.list_orgs(session, SYSTEM, OrgKind.INSURER.value, code, 20, 0)
    return next((o.id for o in page.items if o.code == code), None)


def _out(row: ClaimProduct, insurers: list[ClaimProductInsurer]) -> ProductOut:
    return ProductOut(
        id=row.id,
        code=row.code,
        version=row.version,
        name=row.name,
        city=row.city,
        year=row.year,
        edition=row.edition,
        period_start=row.period_start,
        period_end=row.period_end,
        status=row.status,
        insurers=[
            ProductInsurerOut(org_code=i.org_code, org_id=i.insurer_id, share=Decimal(i.share), lead=i.lead)
            for i in insurers
        ],
        definition=row.definition,
        definition_hash=row.definition_hash,
        created_at=row.created_at,
        activated_at=row.activated_at,
    )


def create_product(session: Session, principal: Principal, data: ProductIn) -> ProductOut:
    """Store a new version of a product; the caller's company must be one of its insurers."""
    principal.require(Perm.CLAIM_MANAGE)
    require_org(principal, OrgKind.INSURER)
    rules = parse_product(data.definition)
    ids: dict[str, str] = {}
    errors: list[FieldError] = []
    for n, ins in enumerate(rules.insurers):
        org_id = _insurer_id(session, ins.org_code)
        if org_id is None:
            errors.append(
                FieldError(f"insurers[{n}].org_code", f"保险公司不存在 / no insurer with code {ins.org_code}")
            )
        else:
            ids[ins.org_code] = org_id
    if errors:
        raise ProductDefinitionInvalid(
            detail="; ".join(f"{e.field}: {e.message}" for e in errors), fields=errors
        )
    if principal.org_id not in ids.values():
        raise PermissionDenied(
            detail="只能为本公司承保的产品建档 / only an insurer of the product may store it"
        )
    if repo.product_version_exists(session, rules.code, rules.version):
        raise ProductVersionExists(detail=f"{rules.code} v{rules.version}")
    row = ClaimProduct(
        id=new_id(),
        code=rules.code,
        version=rules.version,
        name=rules.name,
        city=rules.city,
        year=rules.year,
        edition=rules.edition,
        period_start=rules.period_start,
        period_end=rules.period_end,
        status="draft",
        lead_insurer_id=ids[rules.lead.org_code],
        definition=dict(rules.raw),
        definition_hash=rules.definition_hash(),
        created_by=principal.subject_id,
    )
    session.add(row)
    insurers = [
        ClaimProductInsurer(
            id=new_id(),
            product_id=row.id,
            product_code=row.code,
            insurer_id=ids[ins.org_code],
            org_code=ins.org_code,
            share=str(ins.share),
            lead=ins.lead,
        )
        for ins in rules.insurers
    ]
    session.add_all(insurers)
    session.flush()
    if data.activate:
        _activate(session, row)
    audit.record(
        session,
        principal,
        action="claim.product.create",
        subject_type="claim_product",
        subject_ids=[row.id],
        detail={"code": row.code, "version": row.version, "status": row.status},
    )
    return _out(row, insurers)


def _activate(session: Session, row: ClaimProduct) -> None:
    current = repo.active_product(session, row.code)
    if current is not None and current.id != row.id:
        current.status = "retired"
        session.flush()
    row.status = "active"
    row.activated_at = utcnow()
    session.flush()


def activate_product(session: Session, principal: Principal, product_id: str) -> ProductOut:
    """Make this version the one settlements use; the previously active version is retired."""
    principal.require(Perm.CLAIM_MANAGE)
    row = product_or_404(session, principal, product_id)
    if row.status != "active":
        _activate(session, row)
    audit.record(
        session,
        principal,
        action="claim.product.activate",
        subject_type="claim_product",
        subject_ids=[row.id],
        detail={"code": row.code, "version": row.version},
    )
    return _out(row, repo.product_insurers(session, row.id))


def get_product(session: Session, principal: Principal, product_id: str) -> ProductOut:
    principal.require(Perm.CLAIM_READ)
    row = product_or_404(session, principal, product_id)
    return _out(row, repo.product_insurers(session, row.id))


def list_products(
    session: Session, principal: Principal, code: str | None, limit: int, offset: int
) -> Page[ProductOut]:
    principal.require(Perm.CLAIM_READ)
    rows, total = repo.list_products(session, principal, code, limit, offset)
    items = [_out(r, repo.product_insurers(session, r.id)) for r in rows]
    return Page[ProductOut](items=items, total=total, limit=limit, offset=offset)
