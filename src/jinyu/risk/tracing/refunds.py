"""Refunds are not return flow: a supplier reversing a purchase the loan paid sends the money back to the payer,
which looks exactly like money returning to the borrower. Pure rules (values in, values out; integer fen).

A transfer r is the **refund** of a purchase f when all of these hold (docs/risk-tracing.md, "Refunds"):
- r goes the other way: r.src = f.dst and r.dst = f.src;
- r is marked as a refund: channel `reversal`, or its memo contains one of `MEMO_WORDS` (NFKC, case-folded);
- r comes after f and at most `WINDOW` later;
- r's amount is f's less at most `TOLERANCE` of it (a fee kept by the supplier), never more.
The mark is required: an unmarked transfer of the same amount back is exactly how return flow is disguised.

On a trace, a `returned` edge S → P (hop h) whose payer P paid S on a traced edge P → S (hop h − 1) is split:
the part its matched reversals carried becomes kind `refund` (a balance kind of its own: the loan's money is
back with its payer, neither returned nor open); the rest stays `returned`. When every transfer of the edge
is a matched reversal (the usual case) the whole edge is a refund; otherwise the refund part is the edge's
traced money × (matched reversals' amount / all its transfers' amount), truncated to the fen.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jinyu.risk.tracing.tracer import Row, Trace

CHANNELS = ("reversal",)  # transfers.channel: 冲正/退款
MEMO_WORDS = ("退款", "退货", "冲正", "冲销", "退回货款", "refund", "reversal", "chargeback")
WINDOW = dt.timedelta(days=30)
TOLERANCE = Decimal("0.01")  # the refund may be up to 1% below the purchase (fees), never above it
RULE = "refund v1: reversal of a traced purchase (channel/memo mark, amount ≥ 99% and ≤ 100%, within 30 days)"


@dataclass(frozen=True)
class Movement:
    """A transfer with what the refund rule reads."""

    txn_id: str
    ts: dt.datetime
    src: str
    dst: str
    amount: int  # fen
    channel: str | None = None
    memo: str | None = None


@dataclass(frozen=True)
class Refund:
    """Traced money carried back by refunds on one returned edge (payee S → payer P, at `hop`)."""

    hop: int
    payer: str
    payee: str
    amount: int  # traced fen moved from `returned` to `refund`
    purchases: tuple[str, ...]  # txn ids of the refunded purchases (P → S)
    reversals: tuple[str, ...]  # txn ids of the refunds (S → P)


def marked(channel: str | None, memo: str | None) -> bool:
    """Channel `reversal`, or a refund word in the memo."""
    if channel in CHANNELS:
        return True
    if not memo:
        return False
    text = unicodedata.normalize("NFKC", memo).casefold()
    return any(word in text for word in MEMO_WORDS)


def _aware(ts: dt.datetime) -> dt.datetime:
    """Engines answer naive UTC or aware times; compare them as aware UTC."""
    return ts.replace(tzinfo=dt.UTC) if ts.tzinfo is None else ts


def reverses(purchase: Movement, reversal: Movement) -> bool:
    """Is `reversal` a refund of `purchase` (direction, mark, window, amount)?"""
    if (reversal.src, reversal.dst) != (purchase.dst, purchase.src):
        return False
    if not _aware(purchase.ts) < _aware(reversal.ts) <= _aware(purchase.ts) + WINDOW:
        return False
    floor = purchase.amount - int(Decimal(purchase.amount) * TOLERANCE)
    return floor <= reversal.amount <= purchase.amount and marked(reversal.channel, reversal.memo)


def match(purchases: Sequence[Movement], reversals: Sequence[Movement]) -> list[tuple[Movement, Movement]]:
    """Pairs (purchase, reversal), each transfer used once: reversals in time order, each taking the purchase
    closest in amount, then the latest one before it."""
    free = list(purchases)
    pairs = []
    for r in sorted(reversals, key=lambda m: (_aware(m.ts), m.txn_id)):
        fits = [p for p in free if reverses(p, r)]
        if not fits:
            continue
        best = min(fits, key=lambda p: (p.amount - r.amount, -_aware(p.ts).timestamp(), p.txn_id))
        free.remove(best)
        pairs.append((best, r))
    return pairs


def candidate_pairs(trace: Trace) -> list[tuple[str, str]]:
    """(payee, payer) of every returned edge whose payer paid the payee on the previous hop: the accounts
    whose transfers the rule needs (both directions)."""
    forward = {(int(e["hop"]), str(e["src"]), str(e["account"])) for e in trace.edges}
    return sorted(
        {
            (str(e["src"]), str(e["account"]))
            for e in trace.edges
            if e["kind"] == "returned" and (int(e["hop"]) - 1, str(e["account"]), str(e["src"])) in forward
        }
    )


def split(trace: Trace, movements: Iterable[Movement]) -> tuple[Trace, list[Refund]]:
    """The trace with the refunded parts of returned edges moved to kind `refund`, and the refunds found.

    `movements`: the transfers between the accounts of `candidate_pairs` (both directions) in the loan's
    window; other transfers are ignored."""
    by_pair: dict[tuple[str, str], list[Movement]] = defaultdict(list)
    for m in movements:
        by_pair[(m.src, m.dst)].append(m)
    forward = {(int(e["hop"]), str(e["src"]), str(e["account"])): e for e in trace.edges}
    edges: list[Row] = []
    moved: dict[tuple[int, str], int] = defaultdict(int)
    found: list[Refund] = []
    for e in trace.edges:
        hop, payee, payer = int(e["hop"]), str(e["src"]), str(e["account"])
        paid = forward.get((hop - 1, payer, payee))
        if e["kind"] != "returned" or paid is None:
            edges.append(e)
            continue
        refund = _edge_refund(e, paid, by_pair)
        if refund is None:
            edges.append(e)
            continue
        found.append(refund)
        moved[(hop, payer)] += refund.amount
        if refund.amount < int(e["traced"]):
            edges.append(e | {"traced": int(e["traced"]) - refund.amount})
        edges.append(e | {"kind": "refund", "traced": refund.amount})
    if not found:
        return trace, []
    return Trace(_split_nodes(trace.nodes, moved), edges), found


def _edge_refund(edge: Row, paid: Row, by_pair: dict[tuple[str, str], list[Movement]]) -> Refund | None:
    hop, payee, payer = int(edge["hop"]), str(edge["src"]), str(edge["account"])
    purchases = [m for m in by_pair.get((payer, payee), ()) if _within(m, paid)]
    sent = [m for m in by_pair.get((payee, payer), ()) if _within(m, edge)]
    pairs = match(purchases, sent)
    refunded = sum(r.amount for _p, r in pairs)
    if refunded <= 0:
        return None
    total, traced = sum(m.amount for m in sent), int(edge["traced"])
    amount = traced if refunded >= total else traced * refunded // total
    if amount <= 0:
        return None
    return Refund(
        hop=hop,
        payer=payer,
        payee=payee,
        amount=amount,
        purchases=tuple(p.txn_id for p, _r in pairs),
        reversals=tuple(r.txn_id for _p, r in pairs),
    )


def _within(m: Movement, edge: Row) -> bool:
    """Is the transfer inside the time span of the edge's traced transfers?"""
    return _aware(edge["first_ts"]) <= _aware(m.ts) <= _aware(edge["last_ts"])


def _split_nodes(nodes: Sequence[Row], moved: dict[tuple[int, str], int]) -> list[Row]:
    out: list[Row] = []
    for n in nodes:
        part = moved.get((int(n["hop"]), str(n["account"])), 0)
        if n["kind"] != "returned" or part <= 0:
            out.append(n)
            continue
        if int(n["traced"]) > part:
            out.append(n | {"traced": int(n["traced"]) - part})
        out.append(n | {"kind": "refund", "traced": part})
    return out


def movements(rows: Iterable[dict[str, Any]]) -> list[Movement]:
    """Movements from query rows (txn_id, ts, from_account, to_account, amount_fen, channel, memo)."""
    return [
        Movement(
            txn_id=str(r["txn_id"]),
            ts=r["ts"],
            src=str(r["from_account"]),
            dst=str(r["to_account"]),
            amount=int(r["amount_fen"]),
            channel=r.get("channel"),
            memo=r.get("memo"),
        )
        for r in rows
    ]
