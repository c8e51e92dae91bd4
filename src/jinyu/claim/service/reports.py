"""Insurer and regulator reports: payouts, counts and loss ratio by insurer, hospital, liability, month or
product, and how concentrated claims are in the top hospitals. Aggregates only: no personal data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import repository as repo
from jinyu.claim.schemas import ConcentrationOut, ConcentrationRow, ReportOut, ReportRow
from jinyu.claim.service.common import load_product
from jinyu.core.auth import Perm, Principal
from jinyu.core.errors import invalid
from jinyu.governance.policy.kanon import RULE, small_cells
from jinyu.governance.policy.protect import current as current_policy
from jinyu.governance.policy.schemas import Disclosure
from jinyu.governance.policy.suppression import Cell, Suppressed, suppress

REPORT_BY = ("insurer", "hospital", "liability", "month", "product")
ZERO = Decimal("0.00")
RATIO = Decimal("0.0001")


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(RATIO, rounding=ROUND_HALF_UP) if whole else None


def _check_month(value: str | None, name: str) -> None:
    if value is not None and (len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit()):
        raise invalid(name, "月份应为 YYYY-MM / month must be YYYY-MM")


def report(
    session: Session,
    principal: Principal,
    by: str,
    month_from: str | None = None,
    month_to: str | None = None,
) -> ReportOut:
    """Net payouts (reversals included) and settlements paid, per key; loss ratio where premium is known."""
    principal.require(Perm.CLAIM_REPORT)
    if by not in REPORT_BY:
        raise invalid("by", f"应为 / must be one of {', '.join(REPORT_BY)}")
    _check_month(month_from, "month_from")
    _check_month(month_to, "month_to")
    premium: dict[str, Decimal] = {}
    for insurer_id, share, amount in repo.premium_by_insurer(session, principal):
        premium[insurer_id] = premium.get(insurer_id, ZERO) + (amount * Decimal(share)).quantize(
            Decimal("0.01")
        )
    found = repo.payout_report(session, principal, by, month_from, month_to)
    overall = repo.payout_report(session, principal, "all", month_from, month_to)
    # Callers who do not see the claims themselves (regulators) get cells of at least k persons only.
    k = current_policy().k_anonymity
    hidden = (
        suppress([Cell(key, persons) for key, _, _, persons in found], k)
        if not principal.has(Perm.CLAIM_READ)
        else Suppressed(frozenset(), totals_withheld=False)
    )
    rows = []
    for key, count, payout, _persons in found:
        if key in hidden.keys:
            continue
        p = premium.get(key) if by == "insurer" else None
        rows.append(
            ReportRow(
                key=key, count=count, payout=payout, premium=p, loss_ratio=_ratio(payout, p) if p else None
            )
        )
    total_count: int | None = overall[0][1] if overall else 0
    total_payout: Decimal | None = overall[0][2] if overall else ZERO
    total_premium = sum(premium.values(), ZERO)
    if hidden.totals_withheld:
        total_count, total_payout = None, None
    audit.record(
        session,
        principal,
        action="claim.report.read",
        subject_type="claim_report",
        detail={"by": by, "from": month_from, "to": month_to, "suppressed": len(hidden.keys), "k": k},
    )
    return ReportOut(
        by=by,
        month_from=month_from,
        month_to=month_to,
        rows=rows,
        total_count=total_count,
        total_payout=total_payout,
        total_premium=total_premium,
        loss_ratio=_ratio(total_payout, total_premium) if total_payout is not None else None,
        k=k if hidden.keys else None,
        suppressed_rows=len(hidden.keys),
        totals_withheld=hidden.totals_withheld,
    )


def concentration(session: Session, principal: Principal, top: int = 10) -> ConcentrationOut:
    """Share of payouts in the top hospitals and the Herfindahl-Hirschman index over all hospitals."""
    principal.require(Perm.CLAIM_REPORT)
    rows = [r for r in repo.payout_report(session, principal, "hospital", None, None) if r[2] > 0]
    rows.sort(key=lambda r: (-r[2], r[0]))
    total = sum((r[2] for r in rows), ZERO)
    shares = [(r, (r[2] / total) if total else Decimal(0)) for r in rows]
    hhi = sum((s * s for _, s in shares), Decimal(0))
    # Callers who do not see the claims (regulators) get no hospital row describing fewer than k persons; the
    # top share counts only the rows listed, or it would give a hidden row's share away by subtraction.
    k = current_policy().k_anonymity
    small = small_cells({r[0]: r[3] for r in rows}, k) if not principal.has(Perm.CLAIM_READ) else frozenset()
    chosen = [(r, s) for r, s in shares[:top] if r[0] not in small]
    hidden = len(shares[:top]) - len(chosen)
    audit.record(
        session,
        principal,
        action="claim.report.concentration",
        subject_type="claim_report",
        detail={"top": top, "suppressed": hidden, "k": k},
    )
    return ConcentrationOut(
        top=top,
        hospitals=[
            ConcentrationRow(
                hospital_id=r[0], count=r[1], payout=r[2], share=s.quantize(RATIO, rounding=ROUND_HALF_UP)
            )
            for r, s in chosen
        ],
        top_share=sum((s for _, s in chosen), Decimal(0)).quantize(RATIO, rounding=ROUND_HALF_UP),
        hospital_count=len(rows),
        hhi=hhi.quantize(RATIO, rounding=ROUND_HALF_UP),
        disclosure=Disclosure(rule=RULE, k=k, suppressed=hidden) if hidden else None,
    )


def liability_names(session: Session, principal: Principal, codes: Iterable[str]) -> dict[str, list[str]]:
    """The names the products the caller may read give these liability codes (a report by liability groups by
    code); a code two products name differently has both names (sorted), a code no product has is absent."""
    wanted = set(codes)
    found: dict[str, set[str]] = defaultdict(set)
    for row in session.scalars(repo.readable_products(principal)):
        for liability in load_product(session, row).rules.liabilities:
            if liability.code in wanted:
                found[liability.code].add(liability.name)
    return {code: sorted(names) for code, names in found.items()}
