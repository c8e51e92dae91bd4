"""`rules.trace_many` for every loan at once on the resident index: the frontier as arrays, no per-loan loop.

A hop is a table of frontier rows (loan, account, traced fen, arrival µs, own) for every loan of the batch;
`ResidentHops.expand` sends them on in one numpy pass, and the bookkeeping `rules.trace_many` does per loan and
per node in Python (hubs and residuals, classification, grouping per (account, kind), dust, cycles, the next
frontier) is done here with sorts and segment reductions over all loans together. When every loan's classifier
is its `lake.LoanClassifier` (a batch), a hop's flows are classified together over arrays (`flowfacts.Facts`: the stop
and prohibited accounts' categories and banks, each loan's related ranks and shells, looked up by bisection),
not by a Python call per flow. With any other classifier, only edges into accounts a loan's classifier may
treat specially (`Start.marks`: the stop and prohibited accounts, the borrower's related accounts, shells)
are classified in Python; every other edge is ("pass", not own), which is what the classifier answers for
them (a test holds that).

The answer is `rules.trace_many`'s, row for row: the same node and edge rows, in the same order, with the
same values (tests compare both on random ledgers with random classifiers, the golden cases and every loan of
a generated region). Row order rests on the index's dense account indices sorting as the account numbers do
(`flowindex`: sorted UTF-8 bytes, which is Python's order of the strings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from jinyu.analytics.flowindex import FlowIndex
from jinyu.risk.tracing import rules
from jinyu.risk.tracing.errors import FrontierTooLarge
from jinyu.risk.tracing.rules import Start, Trace, TraceSettings
from jinyu.risk.tracing.service.base import EPOCH, MAX_FRONTIER, utc
from jinyu.risk.tracing.service.flowfacts import I64, Bool, Facts, Kinds, Marked, isin, marked_accounts
from jinyu.risk.tracing.service.resident import ResidentHops, Sent

_US = dt.timedelta(microseconds=1)


@dataclass
class _Block:
    """Rows of one kind of one hop, loan by loan (`loan` non-decreasing): nodes (src -1) or edges."""

    hop: int
    loan: I64
    src: I64  # dense index of the sending account (edges), -1 for node rows
    acc: I64  # dense index of the account, -1: the loan's origin not in the index (its own name)
    kind: I64  # code into `Kinds.names`
    traced: I64
    first: I64  # µs
    last: I64
    count: I64


_FIELDS = ("loan", "src", "acc", "kind", "traced", "first", "last", "count")


def trace_many(
    hops: ResidentHops,
    starts: Sequence[Start],
    settings: TraceSettings,
    *,
    all_edges: bool = True,
    skip_kinds: Collection[str] = (),
    shared: Shared | None = None,
) -> dict[str, Trace]:
    """Every loan at once (the rows of `rules.trace_many(hops, starts, settings)`).

    `all_edges=False` (a batch, which shows node rows only): of the edge rows only those the refund rule
    reads (`refunds.candidate_pairs`/`split`: returned edges, and the previous hop's payments in the opposite
    direction), so the node rows after refunds are the same; making the rest would be most of the time.
    `skip_kinds`: node rows of these kinds are not made (a batch reads only the classified kinds), the
    others are as they would be. `shared`: what another call on the same loans found that this one can use
    (the first hop, the related accounts' keys: `Shared`)."""
    if not starts:
        return {}
    ix = hops.index
    n_acc = max(1, int(ix.accounts.shape[0]))
    kinds = Kinds()
    PASS, DUST, CYCLE, OPEN = (kinds.code(k) for k in ("pass", "dust", "cycle", "open"))
    HUB, RESIDUAL, ORIGIN = (kinds.code(k) for k in ("hub", "residual", "origin"))
    n = len(starts)
    loan = np.arange(n, dtype=np.int64)
    acc = ix.lookup([s.origin for s in starts])
    traced = np.array([s.amount for s in starts], dtype=np.int64)
    t0 = np.array([(utc(s.t0) - EPOCH) // _US for s in starts], dtype=np.int64)
    window_end = t0 + settings.window // _US
    arrived, own = t0.copy(), np.ones(n, dtype=bool)
    nodes = [_Block(0, loan, _none(n), acc, np.full(n, ORIGIN), traced, t0, t0, np.zeros(n, np.int64))]
    edges: list[_Block] = []
    seen = np.unique(loan[acc >= 0] * n_acc + acc[acc >= 0])
    facts = Facts.of(ix, starts, n_acc, kinds, shared)
    marked = marked_accounts(ix, starts, n_acc) if facts is None else facts.marked()
    for hop in range(1, min(settings.max_hops, rules.MAX_HOPS_LIMIT) + 1):
        if loan.shape[0] == 0:
            break
        if loan.shape[0] > MAX_FRONTIER:
            raise FrontierTooLarge(
                detail=f"单跳超过 {MAX_FRONTIER} 个账户，请提高尘埃阈值或缩短期间 / more than {MAX_FRONTIER} "
                "accounts in one hop: raise the dust threshold or shorten the period"
            )
        # -- the hop: what each frontier node sent on, or that it is a hub ----------------------------------
        known = np.flatnonzero(acc >= 0)
        wave = (acc[known], traced[known], arrived[known], window_end[loan[known]], own[known])
        sent = shared.first_hop(hops, wave, settings) if shared is not None and hop == 1 else None
        if sent is None:
            sent = hops.expand(*wave, settings)
            if shared is not None and hop == 1:
                shared.keep_first_hop(hops, wave, settings, sent)
        hub = np.zeros(loan.shape[0], dtype=bool)
        hub[known] = sent.hub
        node = known[sent.node]  # the sending frontier node of each (node, account) sum
        out = np.zeros(loan.shape[0], dtype=np.int64)
        np.add.at(out, node, sent.traced)
        left = traced - out
        pre = np.flatnonzero(hub | (left > 0))  # hubs, then what stayed: node rows of the previous hop
        is_hub = hub[pre]
        nodes.append(
            _Block(hop - 1, loan[pre], _none(pre.shape[0]), acc[pre], np.where(is_hub, HUB, RESIDUAL),
                   np.where(is_hub, traced[pre], left[pre]), arrived[pre], arrived[pre],
                   np.zeros(pre.shape[0], np.int64))
        )  # fmt: skip
        if node.shape[0] == 0:
            break
        # -- flows (loan, src, dst), in that order already: classify the marked ones --------------------------
        f_loan, f_src, f_dst, f_own = loan[node], acc[node], sent.dst, own[node]
        f_kind = np.full(node.shape[0], PASS, dtype=np.int64)
        f_is_own = np.zeros(node.shape[0], dtype=bool)
        flagged = _flagged(marked, f_loan, f_dst, n_acc)
        if facts is not None and flagged.shape[0]:  # the flagged flows of the block at once, over arrays
            f_kind[flagged], f_is_own[flagged] = facts.classify(
                f_loan[flagged], f_src[flagged], f_dst[flagged], f_own[flagged]
            )
        elif flagged.shape[0]:  # plain Python values in, one array write out (not element by element)
            answers = [
                starts[i].classify(src, dst, src_own)
                for i, src, dst, src_own in zip(
                    f_loan[flagged].tolist(), ix.names(f_src[flagged]), ix.names(f_dst[flagged]),
                    f_own[flagged].tolist(), strict=True,
                )
            ]  # fmt: skip
            f_kind[flagged] = [kinds.code(kind) for kind, _own in answers]
            f_is_own[flagged] = [is_own for _kind, is_own in answers]
        # -- nodes per (loan, account, kind), kinds in name order; members keep their sending account's order
        rank = np.argsort(np.argsort(np.array(kinds.names)))  # code -> position of its name in sorted order
        order = np.lexsort((rank[f_kind], f_dst, f_loan))
        f_loan, f_src, f_dst, f_kind, f_is_own = (a[order] for a in (f_loan, f_src, f_dst, f_kind, f_is_own))
        f_traced, f_first, f_last, f_count = (
            a[order] for a in (sent.traced, sent.first, sent.last, sent.count)
        )
        new = np.r_[
            True, (f_loan[1:] != f_loan[:-1]) | (f_dst[1:] != f_dst[:-1]) | (f_kind[1:] != f_kind[:-1])
        ]
        g = np.flatnonzero(new)
        g_loan, g_acc, g_kind = f_loan[g], f_dst[g], f_kind[g]
        g_traced = np.add.reduceat(f_traced, g)
        g_first = np.minimum.reduceat(f_first, g)
        g_last = np.maximum.reduceat(f_last, g)
        g_count = np.add.reduceat(f_count, g)
        g_own = np.logical_or.reduceat(f_is_own, g)
        kept = g_traced >= settings.dust
        was_seen = isin(g_loan * n_acc + g_acc, seen)
        final = np.where(~kept, DUST, g_kind)
        passing = kept & (g_kind == PASS)
        final[passing & was_seen] = CYCLE
        if hop >= settings.max_hops:
            final[passing & ~was_seen] = OPEN
        nodes.append(_Block(hop, g_loan, _none(g.shape[0]), g_acc, final, g_traced, g_first, g_last, g_count))
        member = kept[np.cumsum(new) - 1]
        edges.append(
            _Block(hop, f_loan[member], f_src[member], f_dst[member], f_kind[member], f_traced[member],
                   f_first[member], f_last[member], f_count[member])
        )  # fmt: skip
        # -- the next frontier: the nodes that pass ------------------------------------------------------------
        go = np.flatnonzero(final == PASS)
        loan, acc, traced, arrived, own = g_loan[go], g_acc[go], g_traced[go], g_first[go], g_own[go]
        seen = np.union1d(seen, loan * n_acc + acc)
    if not all_edges:
        edges = _refund_edges(edges, kinds.code("returned"), n_acc)
    if skip_kinds:
        skip = np.array([kinds.code(k) for k in skip_kinds], dtype=np.int64)
        nodes = [_Block(b.hop, *_take(b, ~np.isin(b.kind, skip))) for b in nodes]
    return _traces(ix, starts, kinds.names, nodes, edges)


@dataclass
class Shared:
    """What the analyses of a batch (return flow, misuse) share when traced one after the other on the same
    loans: the first hop (the loans' disbursements, the same frontier for both: sent on once) and the keys of
    each loan's related accounts (the same `RelatedSet`s). Each is used only when the second call's inputs are
    the first's: the same index, policy and balances, settings and frontier arrays; the same rank mappings
    (by identity) in the same order. Anything else is computed as without it."""

    _first: tuple[tuple[object, ...], tuple[I64, ...], Sent] | None = None
    _ranks: tuple[FlowIndex, list[Mapping[str, object]], tuple[I64, I64]] | None = None

    @staticmethod
    def _source(hops: ResidentHops, settings: TraceSettings) -> tuple[object, ...]:
        return (id(hops.index), hops.policy, id(hops.balances), settings)

    def first_hop(self, hops: ResidentHops, wave: tuple[I64, ...], settings: TraceSettings) -> Sent | None:
        if self._first is None:
            return None
        source, arrays, sent = self._first
        if source != self._source(hops, settings) or len(arrays) != len(wave):
            return None
        same = all(
            a.shape == b.shape and bool(np.array_equal(a, b)) for a, b in zip(arrays, wave, strict=True)
        )
        return sent if same else None

    def keep_first_hop(
        self, hops: ResidentHops, wave: tuple[I64, ...], settings: TraceSettings, sent: Sent
    ) -> None:
        self._first = (self._source(hops, settings), tuple(a.copy() for a in wave), sent)

    def rank_keys(self, ix: FlowIndex, per_loan: Sequence[Mapping[str, object]]) -> tuple[I64, I64] | None:
        if self._ranks is None:
            return None
        index, mappings, keys = self._ranks
        same = index is ix and len(mappings) == len(per_loan)
        return keys if same and all(a is b for a, b in zip(mappings, per_loan, strict=True)) else None

    def keep_rank_keys(
        self, ix: FlowIndex, per_loan: Sequence[Mapping[str, object]], keys: tuple[I64, I64]
    ) -> None:
        self._ranks = (ix, list(per_loan), keys)  # held: compared by identity, never reused meanwhile


def _refund_edges(edges: list[_Block], returned: int, n_acc: int) -> list[_Block]:
    """Returned edges, and the edges one hop earlier from their payee back to their payer."""
    out = []
    for i, block in enumerate(edges):
        keep = block.kind == returned
        if i + 1 < len(edges):
            later = edges[i + 1]
            back = later.kind == returned
            # (loan, src, dst) of this hop that a returned edge of the next hop reverses
            wanted = np.unique((later.loan[back] * n_acc + later.acc[back]) * n_acc + later.src[back])
            keep |= isin((block.loan * n_acc + block.src) * n_acc + block.acc, wanted)
        out.append(_Block(block.hop, *_take(block, keep)))
    return out


def _take(block: _Block, rows: Bool) -> list[I64]:
    return [getattr(block, f)[rows] for f in _FIELDS]


def _none(n: int) -> I64:
    return np.full(n, -1, dtype=np.int64)


def _flagged(marked: Marked, f_loan: I64, f_dst: I64, n_acc: int) -> I64:
    """Flows whose receiving account the loan's classifier must see."""
    if marked.everyone is None:
        return np.arange(f_loan.shape[0], dtype=np.int64)
    hit = marked.everyone[f_dst] | isin(f_loan * n_acc + f_dst, marked.per_loan)
    out: I64 = np.flatnonzero(hit)
    return out


def _traces(
    ix: FlowIndex, starts: Sequence[Start], kind_names: list[str], nodes: list[_Block], edges: list[_Block]
) -> dict[str, Trace]:
    """The blocks as `rules.trace_many`'s rows: per loan, block by block (origin, then per hop the previous
    hop's hubs and residuals and this hop's arrivals; edges hop by hop)."""
    node_rows = _rows(ix, starts, kind_names, nodes, edge=False)
    edge_rows = _rows(ix, starts, kind_names, edges, edge=True)
    return {s.key: Trace(node_rows[i], edge_rows[i]) for i, s in enumerate(starts)}


def _rows(
    ix: FlowIndex, starts: Sequence[Start], kind_names: list[str], blocks: list[_Block], *, edge: bool
) -> list[list[rules.Row]]:
    """Rows as dicts, loan by loan; every column made as an object array first (one C-level gather each),
    each distinct account name and instant made once."""
    if not blocks:
        return [[] for _ in starts]
    cat = {name: np.concatenate([getattr(b, name) for b in blocks]) for name in _FIELDS}
    hop = np.concatenate([np.full(b.loan.shape[0], b.hop, dtype=np.int64) for b in blocks])
    order = np.argsort(cat["loan"], kind="stable")
    loan, hop = cat["loan"][order], hop[order]
    acc, src, kind = cat["acc"][order], cat["src"][order], cat["kind"][order]
    first, last = cat["first"][order], cat["last"][order]
    accounts = np.unique(np.concatenate([acc, src]))
    accounts = accounts[accounts >= 0]
    names = _objects(ix.names(accounts))
    times = np.unique(np.concatenate([first, last]))
    instants = _objects([EPOCH + dt.timedelta(microseconds=us) for us in times.tolist()])
    account_col = (
        names[np.searchsorted(accounts, acc)] if accounts.shape[0] else _objects([None] * acc.shape[0])
    )
    first_col = instants[np.searchsorted(times, first)]
    last_col = instants[np.searchsorted(times, last)]
    if edge:
        src_col = names[np.searchsorted(accounts, src)]
    else:
        src_col = _objects([None] * loan.shape[0])
        # hop 0 is the loan's origin (its name and instant as given, in or out of the index)
        zero = np.flatnonzero(hop == 0)
        account_col[zero] = _objects([s.origin for s in starts])[loan[zero]]
        at = _objects([s.t0 for s in starts])[loan[zero]]
        first_col[zero], last_col[zero] = at, at
    kind_col = _objects(kind_names)[kind]
    rows = [
        {"hop": h, "src": s, "account": a, "kind": k, "traced": t, "first_ts": f, "last_ts": la, "txn_count": c}
        for h, s, a, k, t, f, la, c in zip(
            hop.tolist(), src_col.tolist(), account_col.tolist(), kind_col.tolist(),
            cat["traced"][order].tolist(), first_col.tolist(), last_col.tolist(), cat["count"][order].tolist(),
            strict=True,
        )
    ]  # fmt: skip
    cuts = np.searchsorted(loan, np.arange(len(starts) + 1)).tolist()
    return [rows[a:b] for a, b in pairwise(cuts)]


def _objects(values: Sequence[object]) -> npt.NDArray[np.object_]:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
