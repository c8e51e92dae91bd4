"""Routing a demand to a bank (docs/financing.md, "Routing"): the chosen bank, the preferred banks, the chain chief
bank, then the least-loaded bank with an outlet in the enterprise's district — at every step only banks with an
active product fitting the demand, once any bank has registered products."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from jinyu.core.auth import OrgKind
from jinyu.core.errors import FieldError
from jinyu.financing import repository as repo
from jinyu.financing.errors import DemandInvalid, NoBankAvailable
from jinyu.financing.models import FinancingDemand, FinancingProduct
from jinyu.financing.service import products
from jinyu.party.service import lookup

ROUTE_RULE_MAX = 400


@dataclass(frozen=True)
class Routed:
    bank_id: str
    rule: str  # e.g. "chain_chief; skipped preferred:<bank id> no_product_fit"
    product: FinancingProduct | None


def _rule(rule: str, skipped: list[str]) -> str:
    text = rule + "".join(f"; skipped {s} no_product_fit" for s in skipped)
    return text[:ROUTE_RULE_MAX]


def route(
    session: Session,
    demand: FinancingDemand,
    district: str | None,
    industry: str | None,
    exclude: set[str],
    chosen: str | None,
) -> Routed:
    """The first step of the routing order that yields a bank not in `exclude` (and, when products are in use,
    with a fitting product); banks passed over for lack of a fitting product are named in the rule."""
    by_fit = products.any_registered(session)

    def fit(bank_ids: list[str]) -> dict[str, FinancingProduct | None]:
        if not by_fit:
            return dict.fromkeys(bank_ids)
        return dict(products.fitting(session, demand, industry, bank_ids))

    skipped: list[str] = []
    steps: list[tuple[str, list[str]]] = []
    if chosen:
        bank = lookup.org_facts(session, chosen)
        if bank is None or bank.kind != OrgKind.BANK_HEAD_OFFICE.value:
            raise DemandInvalid(
                fields=[FieldError("bank_id", f"不是银行总行 / not a bank head office: {chosen}")]
            )
        steps.append(("chosen", [chosen]))
    steps.append(("preferred", [b for b in demand.preferred_bank_ids if b not in exclude]))
    chief = repo.chain_chief(session, demand.chain_code) if demand.chain_code else None
    if chief is not None and chief.bank_id not in exclude:
        steps.append(("chain_chief", [chief.bank_id]))
    for rule, banks in steps:
        fitted = fit(banks)
        for bank_id in banks:
            if bank_id in fitted:
                return Routed(bank_id, _rule(rule, skipped), fitted[bank_id])
            skipped.append(f"{rule}:{bank_id}")
    outlets = lookup.outlets_in_district(session, district) if district else []
    fitted = fit(sorted({o.tenant_id for o in outlets} - exclude))
    candidates = sorted(fitted)
    if not candidates:
        raise NoBankAvailable(detail=f"district {district}: no bank outlet left to try")
    load = repo.open_load(session, candidates)
    codes = lookup.orgs_facts(session, candidates)
    best = min(candidates, key=lambda b: (load.get(b, 0), codes[b].code if b in codes else b))
    return Routed(best, _rule("district_load", skipped), fitted[best])
