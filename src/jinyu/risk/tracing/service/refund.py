"""Refunds on a traced loan: the one input the refund rule needs beyond the trace, and the result lines.

The rule is pure (`tracing.refunds`); it needs the transfers between the accounts of each returned edge whose
payer paid the payee on the previous hop (`refunds.candidate_pairs`), both directions, in the loan's window.
`pair_movements` is the only data access: on the lake path one statement (`tracing_pair_transfers`); the
resident context answers the same call from memory (`service.reversals`, the same refunds), so a resident
trace runs no statement for its refunds. `apply` takes either as its `source` (`context.lookups(stores)`).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from jinyu.analytics import Engine
from jinyu.core.privacy import Keys
from jinyu.risk.tracing import queries, refunds, rules
from jinyu.risk.tracing.related import RelatedSet, view
from jinyu.risk.tracing.schemas import RefundAccount, RefundLine


class Movements(Protocol):
    """Where the refund rule's transfers come from: `context.SqlLookups` (the statement) or the resident
    context (memory)."""

    def pair_movements(
        self, pairs: list[tuple[str, str]], window: tuple[dt.datetime, dt.datetime], months: tuple[str, str]
    ) -> list[refunds.Movement]: ...


def pair_movements(
    engine: Engine,
    pairs: list[tuple[str, str]],
    window: tuple[dt.datetime, dt.datetime],
    months: tuple[str, str],
) -> list[refunds.Movement]:
    """The transfers payee -> payer and payer -> payee of every (payee, payer) pair within the window."""
    both = sorted({d for payee, payer in pairs for d in ((payee, payer), (payer, payee))})
    return refunds.movements(queries.pair_transfers(engine, both, window, months))


def apply(
    source: Movements,
    trace: rules.Trace,
    window: tuple[dt.datetime, dt.datetime],
    months: tuple[str, str],
) -> tuple[rules.Trace, list[refunds.Refund]]:
    """The trace with refunds split off its returned edges (no statement when no edge qualifies)."""
    pairs = refunds.candidate_pairs(trace)
    if not pairs:
        return trace, []
    return refunds.split(trace, source.pair_movements(pairs, window, months))


def lines(found: list[refunds.Refund], related: RelatedSet, key: Keys, loan_fen: int) -> list[RefundLine]:
    out = []
    for r in sorted(found, key=lambda r: (-r.amount, r.hop, r.payee)):
        payer, payee = view(r.payer, related, key), view(r.payee, related, key)
        out.append(
            RefundLine(
                hop=r.hop,
                payer=RefundAccount(account=payer.account, party=payer.party),
                payee=RefundAccount(account=payee.account, party=payee.party),
                amount=rules.yuan(r.amount),
                share=rules.share(r.amount, loan_fen),
                purchase_txn_ids=list(r.purchases),
                reversal_txn_ids=list(r.reversals),
                rule=refunds.RULE,
            )
        )
    return out


def apply_many(
    source: Movements,
    traces: dict[str, rules.Trace],
    window: tuple[dt.datetime, dt.datetime],
    months: tuple[str, str],
) -> dict[str, rules.Trace]:
    """Refunds split off every trace of a batch chunk with one statement for all of them (`window` covering
    every loan's; each edge is matched only with the transfers inside its own time span)."""
    pairs = sorted({p for t in traces.values() for p in refunds.candidate_pairs(t)})
    if not pairs:
        return traces
    moves = source.pair_movements(pairs, window, months)
    return {key: refunds.split(t, moves)[0] for key, t in traces.items()}
