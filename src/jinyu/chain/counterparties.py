"""Counterparties and contagion of a chain member: the health of its suppliers and dealers (the article's
new-display case) and who is exposed if it stops paying (DebtRank). Split from `chain.service` (the use cases
it builds on: the chain's definition, members and links) when that module passed 500 lines.

Takes the session first, then the principal; never commits (the boundary does)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.chain import contagion, definitions, reads, resident, rules, service
from jinyu.chain import queries as q
from jinyu.chain.definitions import Parameters
from jinyu.chain.errors import MemberNotFound
from jinyu.chain.schemas import ContagionOut, Counterparty, CounterpartyHealthOut, ExposedOut, HealthOut
from jinyu.core.auth import Principal
from jinyu.governance.policy.protect import Reader, protect


def health_rows(engine: Engine, code: str, focus: str, as_of_month: str) -> dict[str, dict[str, object]]:
    y, m = int(as_of_month[:4]), int(as_of_month[5:7])
    end = dt.date(y + (m == 12), m % 12 + 1, 1)
    rows = q.rows(
        engine,
        "chain_member_health",
        chain_code=code,
        focus=focus,
        as_of_month=as_of_month,
        earlier_month=rules.add_months(as_of_month, -6),
        tax_split_month=rules.add_months(as_of_month, -12),
        tax_from_month=rules.add_months(as_of_month, -24),
        as_of_end=end,
    )
    return {str(r["uscc"]): r for r in rows}


def health_out(row: Mapping[str, object], p: Parameters) -> HealthOut:
    h = rules.health_flags(row, p)
    return HealthOut.model_validate(
        {**row, "tax_change": rules.tax_change(row), "flags": list(h.flags), "healthy": h.healthy}
    )


def counterparty_health(
    session: Session, principal: Principal, engine: Engine, code: str, uscc: str, as_of_month: str
) -> CounterpartyHealthOut:
    """A member's suppliers (it paid them) and dealers (they paid it) in the six months to as_of_month, with
    each one's health (the article's new-display case)."""
    service.readable_chain(principal, code)
    p = definitions.load().parameters
    if uscc not in service.member_rows(engine, code, service.segment_overrides(session, code)):
        raise MemberNotFound(detail=f"{code}: {uscc}")
    health = health_rows(engine, code, uscc, as_of_month)
    paid: dict[str, Decimal] = {}
    received: dict[str, Decimal] = {}
    for r in service.recent_links(engine, code, as_of_month, 6):
        amount = Decimal(str(r["total_amount"]))
        if r["payer"] == uscc:
            paid[str(r["payee"])] = paid.get(str(r["payee"]), Decimal(0)) + amount
        elif r["payee"] == uscc:
            received[str(r["payer"])] = received.get(str(r["payer"]), Decimal(0)) + amount

    def side(amounts: Mapping[str, Decimal]) -> list[Counterparty]:
        out = [
            Counterparty(**health_out(health[u], p).model_dump(), amount=a)
            for u, a in amounts.items()
            if u in health
        ]
        return sorted(out, key=lambda c: (-c.amount, c.uscc))

    suppliers, dealers = side(paid), side(received)
    service.audit_read(session, principal, "health.read", [code, uscc], as_of_month=as_of_month)
    answer = CounterpartyHealthOut(
        chain_code=code,
        uscc=uscc,
        as_of_month=as_of_month,
        enterprise=health_out(health[uscc], p),
        suppliers=suppliers,
        dealers=dealers,
        healthy_supplier_share=rules.share(sum(1 for s in suppliers if s.healthy), len(suppliers)),
        healthy_dealer_share=rules.share(sum(1 for d in dealers if d.healthy), len(dealers)),
    )
    # Level-5 tax sums and level-3 headcounts leave through the policy like every other read path.
    return protect(answer, Reader(principal))


def exposures(engine: Engine, code: str, uscc: str, as_of_month: str) -> list[contagion.Exposed]:
    """DebtRank of `uscc` stopping payment, on the `receivable_months` of payments to as_of_month; held in
    memory (`resident.case`) when the engine names the links' answer by its lake files (`reads.answer_key`)."""
    p = definitions.load().parameters
    window = {
        "chain_code": code,
        "from_month": rules.add_months(as_of_month, 1 - p.receivable_months),
        "to_month": as_of_month,
    }
    links = reads.answer_key(engine, reads.LINKS, window)
    key = None if links is None else (code, uscc, as_of_month, links)
    held = None if key is None else resident.case(key)
    if held is not None:
        return list(held)
    payments: dict[tuple[str, str], Decimal] = {}
    for r in service.recent_links(engine, code, as_of_month, p.receivable_months):
        pair = (str(r["payer"]), str(r["payee"]))
        payments[pair] = payments.get(pair, Decimal(0)) + Decimal(str(r["total_amount"]))
    found = contagion.debtrank(payments, uscc)
    if key is not None:
        resident.hold_case(key, tuple(found))
    return found


def contagion_of(
    session: Session, principal: Principal, engine: Engine, code: str, uscc: str, as_of_month: str
) -> ContagionOut:
    service.readable_chain(principal, code)
    members = service.member_rows(engine, code, service.segment_overrides(session, code))
    if uscc not in members:
        raise MemberNotFound(detail=f"{code}: {uscc}")
    exposed = [
        ExposedOut(
            uscc=e.uscc,
            name=service.member_name(members, e.uscc),
            segment=service.member_segment(members, e.uscc),
            tier=e.tier,
            exposure=e.exposure,
            buffer=e.buffer,
            distress=e.distress,
            loss=e.loss,
        )
        for e in exposures(engine, code, uscc, as_of_month)
    ]
    service.audit_read(
        session, principal, "contagion.read", [code, uscc], as_of_month=as_of_month, exposed=len(exposed)
    )
    return ContagionOut(
        chain_code=code,
        failing=uscc,
        as_of_month=as_of_month,
        receivable_months=definitions.load().parameters.receivable_months,
        total_loss=sum((e.loss for e in exposed), Decimal("0.00")),
        exposed=exposed,
    )
