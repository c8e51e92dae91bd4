"""Batch portraits of on-chain enterprises (批量画像) and their export to a bank.

A portrait is an enterprise's health indicators and flags (service.health_rows / rules.health_flags) and its
network position (weighted PageRank). The regulator sees every member; a bank receives only the members
that granted it, in force, every scope a portrait is made of for the stated purpose. Members without such a
grant are withheld and counted, never named. Every export is audited with the enterprises it contained.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.audit import service as audit
from jinyu.chain import definitions, network, rules, service
from jinyu.chain.schemas import PortraitBatchOut, PortraitOut
from jinyu.consent import service as consent
from jinyu.consent.errors import ConsentMissing
from jinyu.consent.rules import Purpose, Scope
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.governance.policy import service as policy
from jinyu.governance.policy.protect import Reader, protect
from jinyu.governance.policy.protect import version as policy_version
from jinyu.party import service as party

AUDIT_CHUNK = 900
PORTRAIT_SCOPES = (Scope.REGISTRATION, Scope.TAX, Scope.HEADCOUNT, Scope.JUDICIAL, Scope.ACCOUNTS)


def _basis(session: Session, principal: Principal, uscc: str, purpose: Purpose) -> str | None:
    if principal.org_kind == OrgKind.REGULATOR:
        return "regulator"
    org = party.find_enterprise(session, uscc)
    if org is None:  # not registered on the hub: it cannot have granted anything
        return None
    try:
        bases = {consent.require_consent(session, principal, org.id, s, purpose) for s in PORTRAIT_SCOPES}
    except ConsentMissing:
        return None
    return ",".join(sorted(bases))


def portrait_batch(
    session: Session, principal: Principal, engine: Engine, code: str, as_of_month: str, purpose: Purpose
) -> PortraitBatchOut:
    principal.require(Perm.CHAIN_PORTRAIT)
    definitions.load().chain(code)
    p = definitions.load().parameters
    members = service.member_rows(engine, code)
    health = service.health_rows(engine, code, "", as_of_month)
    first = rules.add_months(as_of_month, 1 - p.network_window_months)
    links = rules.decayed_links(
        service.link_rows(engine, code, first, as_of_month), as_of_month, p.decay_per_month
    )
    ranks = {c.uscc: c for c in network.centrality(links, 0)}  # betweenness not part of a portrait
    items = []
    approvals: dict[str, str] = {}  # enterprise -> the level approval its tax detail was shown under
    for uscc, m in members.items():
        basis = _basis(session, principal, uscc, purpose)
        if basis is None:
            continue
        c = ranks.get(uscc)
        # Tax sums are level 5: a bank sees them only when the enterprise's grant carries a level-5 approval.
        level, approval_id = policy.approved_level(session, basis.split(","))
        if approval_id:
            approvals[uscc] = approval_id
        item = protect(
            PortraitOut(
                uscc=uscc,
                name=None if m["name"] is None else str(m["name"]),
                segment=str(m["segment"]),
                is_core=bool(m["is_core"]),
                health=service.health_out(health[uscc], p),
                pagerank_supplier=round(c.pagerank_supplier, 6) if c else None,
                pagerank_buyer=round(c.pagerank_buyer, 6) if c else None,
                basis=basis,
            ),
            Reader(principal, approved_level=level, purpose=purpose.value),
        )
        items.append(item)
    # One entry per chunk of enterprises: an entry names at most AUDIT_CHUNK subjects.
    exported = [i.uscc for i in items]
    for start in range(0, max(len(exported), 1), AUDIT_CHUNK):
        audit.record(
            session,
            principal,
            action="chain.portraits.export",
            subject_type="chain_portrait",
            subject_ids=[code, *exported[start : start + AUDIT_CHUNK]],
            purpose=purpose.value,
            detail={
                "as_of_month": as_of_month,
                "exported": len(items),
                "members": len(members),
                "from": start,
                "policy_version": policy_version(),
                "approvals": {
                    u: approvals[u] for u in exported[start : start + AUDIT_CHUNK] if u in approvals
                },
            },
        )
    return PortraitBatchOut(
        chain_code=code,
        as_of_month=as_of_month,
        members=len(members),
        exported=len(items),
        withheld=len(members) - len(items),
        items=items,
    )
