"""Batch portraits of on-chain enterprises (批量画像) and their export to a bank.

A portrait is an enterprise's health indicators and flags (counterparties.health_rows / rules.health_flags), its
network position (weighted PageRank) and its score with band and top factors: by default the scorecard
trained on M − 9 and isotonic-calibrated on M − 6, else trained on M − 6 uncalibrated
(`scoring.portrait_model`). The regulator sees every member; a bank receives only the members that granted
it, in force, every scope a portrait is made of for the stated purpose. Members without such a grant are
withheld and counted, never named. Every export is audited with the enterprises it contained.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.audit import service as audit
from jinyu.chain import counterparties, definitions, rules, scorecard, scoring, service
from jinyu.chain.network import Centrality
from jinyu.chain.schemas import PortraitBatchOut, PortraitOut, PortraitScore, ScoreModelOut
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.governance.policy import service as policy
from jinyu.governance.policy.protect import Reader, protect
from jinyu.governance.policy.protect import version as policy_version

AUDIT_CHUNK = 900
PORTRAIT_SCOPES = (Scope.REGISTRATION, Scope.TAX, Scope.HEADCOUNT, Scope.JUDICIAL, Scope.ACCOUNTS)
TAX_LEVEL = 5  # tax sums, and so the tax-derived factor values, are level 5 (policy class enterprise_tax)


def bases(session: Session, principal: Principal, usccs: list[str], purpose: Purpose) -> dict[str, list[str]]:
    """Who of `usccs` the caller may receive, with the basis: every one for a regulator, for a bank those
    whose grants in force cover every portrait scope (one query for the whole batch)."""
    if principal.org_kind == OrgKind.REGULATOR:
        return {u: ["regulator"] for u in usccs}
    return consent.grants_covering_all(session, principal, usccs, PORTRAIT_SCOPES, purpose)


def _scores(
    engine: Engine,
    code: str,
    as_of_month: str,
    rows: Mapping[str, Mapping[str, object]],
    network: tuple[Mapping[tuple[str, str], Decimal], Mapping[str, Centrality]],
    calibrate: bool,
) -> tuple[ScoreModelOut, dict[str, scorecard.Scored]]:
    found = scoring.portrait_model(engine, code, as_of_month, calibrate)
    if found is None:
        train_month = rules.add_months(as_of_month, -scoring.HORIZON_MONTHS)
        return ScoreModelOut(train_month=train_month, train_size=0, train_bad=0, fitted=False), {}
    model, about = found
    links, ranks = network
    by_link = scorecard.link_features(links)
    usccs = list(rows)
    x = [scoring.features(rows[u], ranks.get(u), by_link.get(u)) for u in usccs]
    info = ScoreModelOut.model_validate({**about, "fitted": True})
    return info, dict(zip(usccs, scorecard.score_batch(model, x), strict=True))


def _score_out(scored: scorecard.Scored | None, level: int) -> PortraitScore | None:
    if scored is None:
        return None
    probability, points, found = scored
    factors = [
        f | {"value": None} if f["feature"] in scorecard.TAX_FEATURES and level < TAX_LEVEL else f
        for f in found
    ]
    return PortraitScore(
        probability=round(probability, 6), points=points, band=scorecard.band(points), factors=factors
    )


def portrait_batch(
    session: Session,
    principal: Principal,
    engine: Engine,
    code: str,
    as_of_month: str,
    purpose: Purpose,
    calibrate: bool = True,
) -> PortraitBatchOut:
    principal.require(Perm.CHAIN_PORTRAIT)
    definitions.load().chain(code)
    p = definitions.load().parameters
    members = service.member_rows(engine, code, service.segment_overrides(session, code))
    allowed = bases(session, principal, list(members), purpose)
    health = counterparties.health_rows(engine, code, "", as_of_month)
    links, ranks = scoring.network_as_of(engine, code, as_of_month)
    model_info, scores = _scores(
        engine, code, as_of_month, {u: health[u] for u in members}, (links, ranks), calibrate
    )
    # Tax sums are level 5: a bank sees them only when the enterprise's grant carries a level-5 approval.
    levels = policy.approved_levels(session, allowed)
    items = []
    for uscc, m in members.items():
        if uscc not in allowed:
            continue
        c = ranks.get(uscc)
        level = TAX_LEVEL if principal.org_kind == OrgKind.REGULATOR else levels[uscc][0]
        item = protect(
            PortraitOut(
                uscc=uscc,
                name=None if m["name"] is None else str(m["name"]),
                segment=str(m["segment"]),
                is_core=bool(m["is_core"]),
                health=counterparties.health_out(health[uscc], p),
                pagerank_supplier=round(c.pagerank_supplier, 6) if c else None,
                pagerank_buyer=round(c.pagerank_buyer, 6) if c else None,
                score=_score_out(scores.get(uscc), level),
                basis=",".join(allowed[uscc]),
            ),
            Reader(principal, approved_level=levels[uscc][0], purpose=purpose.value),
        )
        items.append(item)
    approvals = {u: a for u, (_, a) in levels.items() if a}
    _audit(session, principal, code, as_of_month, purpose, [i.uscc for i in items], len(members), approvals)
    return PortraitBatchOut(
        chain_code=code,
        as_of_month=as_of_month,
        members=len(members),
        exported=len(items),
        withheld=len(members) - len(items),
        score_model=model_info,
        items=items,
    )


def _audit(
    session: Session,
    principal: Principal,
    code: str,
    as_of_month: str,
    purpose: Purpose,
    exported: list[str],
    members: int,
    approvals: Mapping[str, str],
) -> None:
    """One entry per chunk of enterprises: an entry names at most AUDIT_CHUNK subjects."""
    for start in range(0, max(len(exported), 1), AUDIT_CHUNK):
        chunk = exported[start : start + AUDIT_CHUNK]
        audit.record(
            session,
            principal,
            action="chain.portraits.export",
            subject_type="chain_portrait",
            subject_ids=[code, *chunk],
            purpose=purpose.value,
            detail={
                "as_of_month": as_of_month,
                "exported": len(exported),
                "members": members,
                "from": start,
                "policy_version": policy_version(),
                "approvals": {u: approvals[u] for u in chunk if u in approvals},
            },
        )
