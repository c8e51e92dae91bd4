"""Helpers shared by the claim use cases: identities, parsed products, accumulator views, output models."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from jinyu.claim import repository as repo
from jinyu.claim.errors import ProductNotFound
from jinyu.claim.models import ClaimProduct, ClaimSettlement
from jinyu.claim.rules.adjudicate import Usage
from jinyu.claim.rules.parse import parse_product
from jinyu.claim.rules.product import ZERO, DeductiblePeriod, Product, canonical_json
from jinyu.claim.schemas import (
    Accumulators,
    CapState,
    DeductibleState,
    Outcome,
    SettlementOut,
    SettlementSummary,
)
from jinyu.core.auth import SYSTEM, OrgKind, Principal
from jinyu.core.clock import SHANGHAI, as_utc, local
from jinyu.core.errors import PermissionDenied
from jinyu.core.ids import validate_resident_id
from jinyu.core.privacy import PERSON_DOMAIN, Keys, mask, pseudonymize
from jinyu.party import service as party


@dataclass(frozen=True)
class Person:
    token: str
    masked: str


def person(certno: str, key: Keys, field_name: str = "certno") -> Person:
    """Validate a resident ID and keep only its keyed token and masked form."""
    number = validate_resident_id(certno, field_name)
    return Person(pseudonymize(key, number, PERSON_DOMAIN), mask(number, 6, 4) or "")


def require_org(principal: Principal, kind: OrgKind) -> None:
    if principal.org_kind != kind:
        raise PermissionDenied(detail=f"需要{kind.value}机构的账户 / requires an account of a {kind.value}")


SETTLING_KINDS = frozenset({OrgKind.HOSPITAL, OrgKind.PHARMACY})


def require_settling_org(principal: Principal) -> None:
    """Hospitals settle discharges and visits; pharmacies settle purchases (med_type 41)."""
    if principal.org_kind not in SETTLING_KINDS:
        raise PermissionDenied(
            detail="需要医院或药店机构的账户 / requires an account of a hospital or pharmacy"
        )


def request_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def shanghai_time(value: dt.datetime) -> dt.datetime:
    """Settlement times without a zone are Asia/Shanghai wall-clock times (as hospital systems send them)."""
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


def business_date(value: dt.datetime) -> dt.date:
    return local(value).date()


def month_of(value: dt.datetime) -> str:
    return local(value).strftime("%Y-%m")


# ------------------------------------------------------------------------------------------------ products


@dataclass(frozen=True)
class LoadedProduct:
    row_id: str
    rules: Product
    insurer_ids: dict[str, str]  # org code -> org id
    shares: dict[str, Decimal]  # org id -> share
    # when some hospital or pharmacy the rules name was not found (not registered yet): look again after a while
    retry_at: float | None = None


_CACHE: dict[tuple[str, str], LoadedProduct] = {}
ORG_RETRY_SECONDS = 60.0  # a named hospital or pharmacy registered after the product was loaded counts within
_CACHE_LOCK = threading.Lock()


def load_product(session: Session, row: ClaimProduct) -> LoadedProduct:
    """The parsed rules of a stored product version (cached: a stored definition never changes)."""
    key = (row.id, row.definition_hash)
    cached = _CACHE.get(key)
    if cached is not None and (cached.retry_at is None or time.monotonic() < cached.retry_at):
        return cached
    definition = row.definition
    if definition is None:  # read without it (the settlement's first reads): the stored version's own
        stored = repo.get_product_unscoped(session, row.id)
        if stored is None:
            raise ProductNotFound(detail=row.id)
        definition = stored.definition
    rules = parse_product(definition)
    retry_at = None
    if rules.named_hospitals or rules.named_pharmacies:
        hospitals = _org_codes(session, OrgKind.HOSPITAL, rules.named_hospitals)
        pharmacies = _org_codes(session, OrgKind.PHARMACY, rules.named_pharmacies)
        rules = replace(rules, hospital_codes=hospitals, pharmacy_codes=pharmacies)
        if len(hospitals) < len(rules.named_hospitals) or len(pharmacies) < len(rules.named_pharmacies):
            retry_at = time.monotonic() + ORG_RETRY_SECONDS
    insurers = repo.product_insurers(session, row.id)
    loaded = LoadedProduct(
        row.id,
        rules,
        {i.org_code: i.insurer_id for i in insurers},
        {i.insurer_id: Decimal(i.share) for i in insurers},
        retry_at,
    )
    with _CACHE_LOCK:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = loaded
    return loaded


def _org_codes(session: Session, kind: OrgKind, codes: frozenset[str]) -> dict[str, str]:
    """Org id -> code of the named organisations of this kind that exist (a code naming none matches none)."""
    out: dict[str, str] = {}
    for code in sorted(codes):
        page = party.list_orgs(session, SYSTEM, kind.value, code, 20, 0)
        out.update({o.id: o.code for o in page.items if o.code == code})
    return out


def product_or_404(session: Session, principal: Principal, product_id: str) -> ClaimProduct:
    row = repo.get_product(session, principal, product_id)
    if row is None:
        raise ProductNotFound(detail=product_id)
    return row


# ------------------------------------------------------------------------------------------------ accumulators


def usage_of(amounts: Mapping[tuple[str, str], Decimal], suffix: str = "") -> Usage:
    """One policy year's usage from an enrollment's accumulators (keyed `code` or `code@year`, see
    `Product.counter_suffix`)."""

    def year(kind: str) -> dict[str, Decimal]:
        out = {}
        for (k, code), v in amounts.items():
            bare, _, tail = code.partition("@")
            if k == kind and (f"@{tail}" if tail else "") == suffix:
                out[bare] = v
        return out

    return Usage(year("deductible"), year("liability"), year("overall").get("overall", ZERO))


OVERALL_CAP_NAME = "年度总限额 / overall annual cap"


def accumulator_view(product: Product, usage: Usage) -> Accumulators:
    deductibles = [
        DeductibleState(
            code=d.code,
            period=d.period.value,
            amount=d.amount,
            used=usage.deductible_used.get(d.code, ZERO)
            if d.period == DeductiblePeriod.POLICY_YEAR
            else ZERO,
            remaining=max(d.amount - usage.deductible_used.get(d.code, ZERO), ZERO)
            if d.period == DeductiblePeriod.POLICY_YEAR
            else d.amount,
        )
        for d in product.deductibles
    ]
    liabilities = [
        CapState(
            code=li.code,
            name=li.name,
            cap=li.cap,
            paid=usage.liability_paid.get(li.code, ZERO),
            remaining=None if li.cap is None else max(li.cap - usage.liability_paid.get(li.code, ZERO), ZERO),
        )
        for li in product.liabilities
    ]
    overall = CapState(
        code="overall",
        name=OVERALL_CAP_NAME,
        cap=product.overall_cap,
        paid=usage.overall_paid,
        remaining=max(product.overall_cap - usage.overall_paid, ZERO),
    )
    return Accumulators(deductibles=deductibles, liabilities=liabilities, overall=overall)


# ------------------------------------------------------------------------------------------------ output


def settlement_out(row: ClaimSettlement, outcome: Outcome | None = None) -> SettlementOut:
    """The API form of a settlement; `outcome`, when the caller holds it, saves re-reading `row.result`."""
    if outcome is None and row.result:
        outcome = Outcome.model_validate(row.result)
    return SettlementOut(
        id=row.id,
        status=row.status,
        channel=row.channel,
        hospital_id=row.hospital_id,
        product_code=row.product_code,
        product_version=row.product_version,
        policy_year=row.policy_year,
        mdtrt_id=row.mdtrt_id,
        setl_id=row.setl_id,
        setl_time=as_utc(row.setl_time),
        business_date=row.business_date,
        id_masked=row.id_masked,
        med_type=row.med_type,
        insutype=row.insutype,
        medfee_sumamt=row.medfee_sumamt,
        funds=row.funds,
        acct_pay=row.acct_pay,
        act_pay_dedc=row.act_pay_dedc,
        payout=row.payout,
        cash_before=row.cash_before,
        cash_after=row.cash_after,
        outcome=outcome,
        note=row.note,
        origin_id=row.origin_id,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        closed_at=row.closed_at,
    )


def settlement_summary(row: ClaimSettlement) -> SettlementSummary:
    return SettlementSummary(
        id=row.id,
        status=row.status,
        channel=row.channel,
        hospital_id=row.hospital_id,
        product_code=row.product_code,
        mdtrt_id=row.mdtrt_id,
        setl_id=row.setl_id,
        business_date=row.business_date,
        id_masked=row.id_masked,
        medfee_sumamt=row.medfee_sumamt,
        payout=row.payout,
        cash_after=row.cash_after,
    )
