"""Enrollment (参保) and eligibility: insured persons by keyed token, their remaining deductible and caps."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import repository as repo
from jinyu.claim.errors import EnrollmentExists, EnrollmentNotFound, ProductNotFound
from jinyu.claim.models import ClaimEnrollment
from jinyu.claim.rules.product import Product
from jinyu.claim.schemas import EligibilityIn, EligibilityOut, EnrollmentIn, EnrollmentOut, EnrollmentStatusIn
from jinyu.claim.service.common import Person, accumulator_view, load_product, person, require_org, usage_of
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import local, utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import FieldError, InvalidInput
from jinyu.core.pagination import Page
from jinyu.core.privacy import Keys, mask_name
from jinyu.governance.policy.protect import Reader, protect

_CONDITION_RE = re.compile(r"^(\*|[A-Z][0-9]{0,2}(\.[0-9A-Z]{1,4})?)$")


def _conditions(values: list[str]) -> list[str]:
    cleaned = [v.strip().upper() for v in values if v.strip()]
    bad = [v for v in cleaned if not _CONDITION_RE.match(v)]
    if bad:
        raise InvalidInput(
            detail=f"既往症编码无效 / not ICD-10 codes or prefixes: {', '.join(bad)}",
            fields=[FieldError("pre_existing", f"无效 / invalid: {b}") for b in bad],
        )
    return sorted(set(cleaned))


def _insurer_product(session: Session, principal: Principal, product_code: str) -> Product:
    """The rules of the product's latest version, for an insurer of the product allowed to manage claims."""
    principal.require(Perm.CLAIM_MANAGE)
    require_org(principal, OrgKind.INSURER)
    if not repo.insurer_in_product_code(session, principal.org_id, product_code):
        raise ProductNotFound(detail=product_code)
    product_row = repo.latest_product(session, product_code)
    if product_row is None:
        raise ProductNotFound(detail=product_code)
    return load_product(session, product_row).rules


def _new_enrollment(
    product_code: str,
    rules: Product,
    who: Person,
    principal: Principal,
    *,
    enrolled_on: dt.date,
    premium: Decimal,
    name_masked: str | None = None,
    pre_existing: list[str] | None = None,
) -> ClaimEnrollment:
    """An active enrollment row of one person (token and mask only), not yet added to the session."""
    return ClaimEnrollment(
        id=new_id(),
        product_code=product_code,
        policy_year=rules.year,
        person_token=who.token,
        id_masked=who.masked,
        name_masked=name_masked,
        pre_existing=pre_existing or [],
        premium=premium,
        status="active",
        enrolled_on=enrolled_on,
        created_by=principal.subject_id,
    )


def enroll(session: Session, principal: Principal, data: EnrollmentIn, key: Keys) -> EnrollmentOut:
    """Enroll a person in a product of the caller's company; the ID is kept only as token and mask."""
    rules = _insurer_product(session, principal, data.product_code)
    who = person(data.certno.get_secret_value(), key)
    if repo.find_enrollment(session, data.product_code, who.token) is not None:
        raise EnrollmentExists(detail=f"{data.product_code} {who.masked}")
    row = _new_enrollment(
        data.product_code,
        rules,
        who,
        principal,
        enrolled_on=data.enrolled_on or local(utcnow()).date(),
        premium=data.premium if data.premium is not None else rules.premium,
        name_masked=mask_name(data.name) if data.name else None,
        pre_existing=_conditions(data.pre_existing),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        action="claim.enrollment.create",
        subject_type="claim_enrollment",
        subject_ids=[row.id],
        detail={"product_code": row.product_code, "person": row.person_token},
    )
    return EnrollmentOut.model_validate(row)


ENROLL_AUDIT_CHUNK = 1000  # enrollments per audit entry of a list (the entry's id limit)


def enroll_many(
    session: Session, principal: Principal, product_code: str, certnos: Sequence[str], key: Keys
) -> int:
    """Enroll a list of persons in a product of the caller's company at the product's premium (an insurer's
    enrollment list, e.g. a product year's population): the checks of `enroll` once for the product, each ID
    validated and kept as token and mask only, persons already enrolled in the product skipped. One audit
    entry `claim.enrollment.create` per 1,000 enrollments (their ids, the count). Returns how many were new."""
    rules = _insurer_product(session, principal, product_code)
    today = local(utcnow()).date()
    people: dict[str, Person] = {}
    for n, certno in enumerate(certnos):
        who = person(certno, key, f"certnos[{n}]")
        people.setdefault(who.token, who)
    known = repo.enrolled_tokens(session, product_code, list(people))
    rows = [
        _new_enrollment(product_code, rules, who, principal, enrolled_on=today, premium=rules.premium)
        for token, who in people.items()
        if token not in known
    ]
    session.add_all(rows)
    session.flush()
    for start in range(0, len(rows), ENROLL_AUDIT_CHUNK):
        chunk = rows[start : start + ENROLL_AUDIT_CHUNK]
        audit.record(
            session,
            principal,
            action="claim.enrollment.create",
            subject_type="claim_enrollment",
            subject_ids=[r.id for r in chunk],
            detail={"product_code": product_code, "count": len(chunk)},
        )
    return len(rows)


def set_status(
    session: Session, principal: Principal, enrollment_id: str, data: EnrollmentStatusIn
) -> EnrollmentOut:
    principal.require(Perm.CLAIM_MANAGE)
    row = repo.get_enrollment(session, principal, enrollment_id)
    if row is None:
        raise EnrollmentNotFound(detail=enrollment_id)
    row = repo.lock_enrollment(session, row.id)
    before = row.status
    row.status = data.status
    session.flush()
    audit.record(
        session,
        principal,
        action="claim.enrollment.status",
        subject_type="claim_enrollment",
        subject_ids=[row.id],
        detail={"from": before, "to": row.status},
    )
    return EnrollmentOut.model_validate(row)


def list_enrollments(
    session: Session, principal: Principal, product_code: str | None, limit: int, offset: int
) -> Page[EnrollmentOut]:
    principal.require(Perm.CLAIM_READ)
    rows, total = repo.list_enrollments(session, principal, product_code, limit, offset)
    audit.record(
        session,
        principal,
        action="claim.enrollment.list",
        subject_type="claim_enrollment",
        subject_ids=[r.id for r in rows],
    )
    page = Page[EnrollmentOut](
        items=[EnrollmentOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
    return protect(page, Reader(principal))


def eligibility(
    session: Session, principal: Principal, data: EligibilityIn, key: Keys
) -> list[EligibilityOut]:
    """For each product covering the person on the day: remaining deductible and caps per liability."""
    principal.require(Perm.CLAIM_READ)
    who = person(data.certno.get_secret_value(), key)
    day = data.on or local(utcnow()).date()
    found = repo.coverage_on(session, who.token, day, data.product_code)
    if principal.org_kind == OrgKind.INSURER:
        found = [(e, p) for e, p in found if repo.insurer_in_product_code(session, principal.org_id, p.code)]
    out: list[EligibilityOut] = []
    for enrollment, product_row in found:
        loaded = load_product(session, product_row)
        year = loaded.rules.policy_year_of(day)  # the counters of the day's policy year
        usage = usage_of(repo.accumulator_amounts(session, enrollment.id), loaded.rules.counter_suffix(year))
        out.append(
            EligibilityOut(
                enrollment_id=enrollment.id,
                product_code=product_row.code,
                product_version=product_row.version,
                policy_year=year,
                status=enrollment.status,
                eligible=enrollment.status == "active",
                pre_existing_flagged=bool(enrollment.pre_existing),
                accumulators=accumulator_view(loaded.rules, usage),
            )
        )
    audit.record(
        session,
        principal,
        action="claim.eligibility.read",
        subject_type="claim_enrollment",
        subject_ids=[e.enrollment_id for e in out],
        detail={"person": who.token, "on": day.isoformat()},
    )
    return out
