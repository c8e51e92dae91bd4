"""The hop source over the resident transfer index (`jinyu.analytics.flowindex`): numpy over the whole frontier.

Exactly `rules.Ledger`'s arithmetic, which is also what the lake's hop statement computes (tests hold all three
equal): a node's outgoing transfers with arrived < ts <= window end, in (ts, txn_id) order; a hub when there
are at least `hub_degree` of them and the node is not the borrower's own; pro rata parts
floor(amount x traced / max(traced, inflow, outflow)) with inflow the incoming amounts with arrived <= ts <=
window end (the balance pool adds what the account held at the arrival, `service.balances`); FIFO parts
max(0, min(amount, traced - earlier amounts)); parts > 0 summed per (node, receiving
account), with first and last time and count.

Products amount x traced can pass 2^63 (amounts in fen reach 10^13): rows where the product may exceed 2^62
are computed with Python integers, the rest in int64; both are exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jinyu.analytics.flowindex import DATASET, FlowIndex, transfers_version
from jinyu.risk.tracing import rules
from jinyu.risk.tracing.errors import FrontierTooLarge
from jinyu.risk.tracing.rules import Edge, Expansion, Frontier, TimedEdge, TraceSettings
from jinyu.risk.tracing.service.balances import Balances, held
from jinyu.risk.tracing.service.base import EPOCH, MAX_FRONTIER, UTC, Stores
from jinyu.risk.tracing.service.lake import LakeHops

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
_SAFE_PRODUCT = float(2**62)  # float64 estimates are off by far less than the margin to 2^63


class ResidentHops:
    """`rules.HopSource` over a resident `FlowIndex`: one vectorised pass per hop for every loan's frontier."""

    def __init__(self, index: FlowIndex, policy: str, balances: Balances | None = None) -> None:
        if policy == "pro_rata_balance" and balances is None:
            raise ValueError("the balance pool needs the balances of record")
        self.index, self.policy, self.balances = index, policy, balances
        # Account number -> dense index, for the accounts this source has answered with (a trace's later
        # frontiers): their lookup needs no encoding and no bisection over every account. The index's
        # accounts never change (a new data version is a new index, and a new source).
        self._dense: dict[str, int] = {}

    def fetch(
        self, frontier: Sequence[Frontier], settings: TraceSettings
    ) -> dict[tuple[str, str], Expansion]:
        """`rules.HopSource.fetch`: `fetch_timed`'s answer with datetimes."""
        out: dict[tuple[str, str], Expansion] = {}
        for key, edges in self.fetch_timed(frontier, settings).items():
            if edges is None:
                out[key] = Expansion(hub=True)
                continue
            out[key] = Expansion(
                [Edge(d, t, self.instant(f), self.instant(la), c) for d, t, f, la, c in edges]
            )
        return out

    def instant(self, value: int) -> dt.datetime:
        """A time of the index (µs since the epoch) as a datetime (UTC): `EPOCH + timedelta(µs)`, the same
        value made from the float seconds where that is exact (about twice as fast, see `_EXACT_FLOAT_US`)."""
        if 0 <= value < _EXACT_FLOAT_US:
            return _from_seconds(value / 1e6, UTC)
        return EPOCH + dt.timedelta(microseconds=value)

    def fetch_timed(
        self, frontier: Sequence[Frontier], settings: TraceSettings
    ) -> dict[tuple[str, str], list[TimedEdge] | None]:
        """`rules.TimedHopSource.fetch_timed`: per node its edges as tuples with times in µs (None: a hub)."""
        if len(frontier) > MAX_FRONTIER:
            raise FrontierTooLarge(
                detail=f"单跳超过 {MAX_FRONTIER} 个账户，请提高尘埃阈值或缩短期间 / more than {MAX_FRONTIER} "
                "accounts in one hop: raise the dust threshold or shorten the period"
            )
        out: dict[tuple[str, str], list[TimedEdge] | None] = {}
        if not frontier:
            return out
        ix = self.index
        where = self._lookup([n.account for n in frontier])
        known = np.flatnonzero(where >= 0)
        if known.shape[0] == 0:
            return out
        nodes = [frontier[i] for i in known.tolist()]
        acc = where[known]
        arrived = np.array([_micros(n.arrived) for n in nodes], dtype=np.int64)
        until = np.array([_micros(n.until) for n in nodes], dtype=np.int64)
        own = np.array([n.own for n in nodes], dtype=bool)
        traced = np.array([n.traced for n in nodes], dtype=np.int64)
        sent = self.expand(acc, traced, arrived, until, own, settings)
        for i in np.flatnonzero(sent.hub).tolist():
            out[(nodes[i].key, nodes[i].account)] = None
        if sent.node.shape[0] == 0:
            return out
        names = ix.names(sent.dst)
        self._dense.update(
            zip(names, sent.dst.tolist(), strict=True)
        )  # the next hop's frontier is among them
        edges = list(
            zip(
                names,
                sent.traced.tolist(),
                sent.first.tolist(),
                sent.last.tolist(),
                sent.count.tolist(),
                strict=True,
            )
        )
        # Groups come node by node: one slice of the edges per node, its edges in order.
        bounds = np.flatnonzero(sent.node[1:] != sent.node[:-1]) + 1
        starts, ends = [0, *bounds.tolist()], [*bounds.tolist(), len(edges)]
        for group, lo, hi in zip(sent.node[starts].tolist(), starts, ends, strict=True):
            node = nodes[group]
            out[(node.key, node.account)] = edges[lo:hi]
        return out

    def _lookup(self, accounts: list[str]) -> I64:
        """`FlowIndex.lookup`, from the dense indices of earlier answers when every account is among them."""
        dense = self._dense
        found = [dense.get(a, -1) for a in accounts]
        if -1 in found:
            return self.index.lookup(accounts)
        return np.array(found, dtype=np.int64)

    def expand(
        self, acc: I64, traced: I64, arrived: I64, until: I64, own: Bool, settings: TraceSettings
    ) -> Sent:
        """One hop of every frontier node at once (`acc` >= 0: dense indices; times in µs since the epoch)."""
        ix = self.index
        per_node = acc.shape[0] <= _PER_NODE
        if per_node:
            windows = _windows(ix.out_ts, ix.out_offsets, acc, arrived, until)
            if acc.shape[0] <= _SMALL_NODES:
                small = _expand_small(self, acc, traced, arrived, until, own, settings, windows)
                if small is not None:
                    return small
            lo, hi = np.array(windows[0], dtype=np.int64), np.array(windows[1], dtype=np.int64)
        else:
            lo, hi = ix.out_window(acc, arrived, until)
        count = hi - lo
        hub = (count >= settings.hub_degree) & (count > 0) & ~own  # as the statement: hubs have transfers
        go = np.flatnonzero(~hub & (count > 0))
        if go.shape[0] == 0:
            return Sent.nothing(hub)
        lo, hi, count, traced_go = lo[go], hi[go], count[go], traced[go]
        # Every selected row, node by node in (ts, txn_id) order: row -> its node (position in `go`).
        row_node = np.repeat(np.arange(go.shape[0], dtype=np.int64), count)
        first_row = np.zeros(go.shape[0], dtype=np.int64)
        np.cumsum(count[:-1], out=first_row[1:])
        rows = np.arange(row_node.shape[0], dtype=np.int64) - first_row[row_node] + lo[row_node]
        amount = ix.out_amount[rows]
        if self.policy in ("pro_rata", "pro_rata_balance"):
            inflow = (
                _inflow(ix, acc[go], arrived[go], until[go])
                if per_node
                else ix.inflow(acc[go], arrived[go], until[go])
            )
            if self.balances is not None and self.policy == "pro_rata_balance":
                accounts = ix.names(acc[go])
                inflow = inflow + held(ix, self.balances, accounts, acc[go], arrived[go])
            outflow = ix.out_prefix[hi] - ix.out_prefix[lo]
            pool = np.maximum(np.maximum(traced_go, inflow), outflow)
            parts = _pro_rata(amount, traced_go[row_node], pool[row_node])
        else:
            before = ix.out_prefix[rows] - ix.out_prefix[lo[row_node]]
            parts = np.maximum(0, np.minimum(amount, traced_go[row_node] - before))
        keep = parts > 0
        if not keep.any():
            return Sent.nothing(hub)
        node_of, dst, ts, parts = row_node[keep], ix.out_dst[rows[keep]], ix.out_ts[rows[keep]], parts[keep]
        # Sum per (node, receiving account); dense account indices sort as account numbers do.
        order = np.lexsort((dst, node_of))
        node_of, dst, ts, parts = node_of[order], dst[order], ts[order], parts[order]
        starts = np.flatnonzero(np.r_[True, (node_of[1:] != node_of[:-1]) | (dst[1:] != dst[:-1])])
        return Sent(
            hub=hub,
            node=go[node_of[starts]],
            dst=dst[starts].astype(np.int64),
            traced=np.add.reduceat(parts, starts),
            first=np.minimum.reduceat(ts, starts),
            last=np.maximum.reduceat(ts, starts),
            count=np.diff(np.r_[starts, parts.shape[0]]).astype(np.int64),
        )


@dataclass(frozen=True)
class Sent:
    """A hop's answer as arrays: `hub` per frontier node; then per (node, receiving account) with parts > 0,
    node by node and account by account: the node's position in the frontier, the account's dense index, the
    traced sum, first and last time (µs) and transfer count."""

    hub: Bool
    node: I64
    dst: I64
    traced: I64
    first: I64
    last: I64
    count: I64

    @classmethod
    def nothing(cls, hub: Bool) -> Sent:
        empty: I64 = np.zeros(0, dtype=np.int64)
        return cls(hub, empty, empty, empty, empty, empty, empty)


# A one-loan hop's frontier is a few accounts (median 2, 90th percentile 7 in one-loan checks on the medium
# region) with a few dozen transfers: there the ~100 numpy calls of `expand` on arrays of a handful of elements
# cost more than the arithmetic. Up to these sizes the hop is computed with Python integers over the same
# arrays: the same rows, parts and sums (exact: Python integers do not overflow; prefix differences wrap as
# int64 does, see `_wrap`). Beyond them, the arrays (a batch, or a node with many transfers).
_SMALL_NODES = 16
_SMALL_ROWS = 256
# Up to this many nodes the time windows are found with one searchsorted per node (`_windows`, both bounds in one
# call): at 8 nodes ~30 µs against ~80 µs for the index's vectorised search (`FlowIndex.out_window`, whose
# per-row path takes a call per bound), at 32 nodes ~110 against ~290, at 128 ~420 against ~310 (medium region,
# thread CPU, busy slow machine). The windows are found once: a small frontier whose windows hold too many rows
# for Python integers takes the arrays with the same windows.
_PER_NODE = 96


def _windows(ts: I64, offsets: I64, nodes: I64, after: I64, until: I64) -> tuple[list[int], list[int]]:
    """Per node, rows [lo, hi) of its transfers (sorted by time) with after < ts <= until: one searchsorted on
    each node's own rows for both bounds (`FlowIndex.out_window`'s answer)."""
    lo, hi = [], []
    bounds = zip(
        offsets[nodes].tolist(), offsets[nodes + 1].tolist(), after.tolist(), until.tolist(), strict=True
    )
    for start, end, a, u in bounds:
        first, last = ts[start:end].searchsorted((a, u), side="right").tolist()  # the method: no dispatch
        lo.append(start + first)
        hi.append(start + max(first, last))
    return lo, hi


def _inflow(ix: FlowIndex, nodes: I64, since: I64, until: I64) -> I64:
    """`FlowIndex.inflow` by `_windows`: incoming with since <= ts <= until, i.e. ts > since - 1 (integer µs);
    the running sums' difference in int64, as the index takes it (it wraps as the sums do)."""
    lo, hi = _windows(ix.in_ts, ix.in_offsets, nodes, since - 1, until)
    out: I64 = ix.in_prefix[hi] - ix.in_prefix[lo]
    return out


def _expand_small(
    hops: ResidentHops,
    acc: I64,
    traced: I64,
    arrived: I64,
    until: I64,
    own: Bool,
    settings: TraceSettings,
    windows: tuple[list[int], list[int]],
) -> Sent | None:
    """`ResidentHops.expand` for a small frontier, node by node over its `windows` (`_windows`); None when they
    hold too many rows."""
    ix = hops.index
    hub, go, rows = [], [], 0
    for i, (lo, hi, mine) in enumerate(zip(*windows, own.tolist(), strict=True)):
        count = hi - lo
        hub.append(count >= settings.hub_degree and count > 0 and not mine)
        if not hub[-1] and count > 0:
            go.append((i, lo, hi))
            rows += count
    if rows > _SMALL_ROWS:
        return None
    hubs: Bool = np.array(hub, dtype=bool)
    if not go:
        return Sent.nothing(hubs)
    pools = _pools(hops, acc, traced, arrived, until, go) if hops.policy != "fifo" else None
    out: list[tuple[int, int, int, int, int, int]] = []  # node, dst, traced, first, last, count
    for n, (i, lo, hi) in enumerate(go):
        t = int(traced[i])
        amounts = ix.out_amount[lo:hi].tolist()
        if pools is not None:  # pro rata: floor(amount x traced / pool), nothing where traced <= 0
            parts = [a * t // pools[n] if t > 0 else 0 for a in amounts]
        else:  # FIFO: what is left of traced after the earlier transfers of the window
            base = int(ix.out_prefix[lo])
            before = [_wrap(p - base) for p in ix.out_prefix[lo:hi].tolist()]
            parts = [max(0, min(a, t - b)) for a, b in zip(amounts, before, strict=True)]
        sums: dict[int, list[int]] = {}
        for part, dst, ts in zip(parts, ix.out_dst[lo:hi].tolist(), ix.out_ts[lo:hi].tolist(), strict=True):
            if part <= 0:
                continue
            s = sums.get(dst)
            if s is None:
                sums[dst] = [part, ts, ts, 1]
            else:
                s[0] += part
                s[1], s[2], s[3] = min(s[1], ts), max(s[2], ts), s[3] + 1
        out.extend((i, dst, *sums[dst]) for dst in sorted(sums))  # type: ignore[misc]
    if not out:
        return Sent.nothing(hubs)
    cols = np.array(out, dtype=np.int64).T
    return Sent(
        hub=hubs, node=cols[0], dst=cols[1], traced=cols[2], first=cols[3], last=cols[4], count=cols[5]
    )


def _pools(
    hops: ResidentHops, acc: I64, traced: I64, arrived: I64, until: I64, go: list[tuple[int, int, int]]
) -> list[int]:
    """Pro rata's pool per moving node: max(traced, inflow (+ held, balance pool), outflow)."""
    ix = hops.index
    moving = [i for i, _, _ in go]
    inflows = _inflow(ix, acc[moving], arrived[moving], until[moving]).tolist()
    pools = []
    for (i, lo, hi), inflow in zip(go, inflows, strict=True):
        outflow = _wrap(int(ix.out_prefix[hi]) - int(ix.out_prefix[lo]))
        pools.append([int(traced[i]), inflow, outflow])
    if hops.balances is not None and hops.policy == "pro_rata_balance":
        nodes, at = acc[moving], arrived[moving]
        for pool, h in zip(pools, held(ix, hops.balances, ix.names(nodes), nodes, at).tolist(), strict=True):
            pool[1] += h
    return [max(p) for p in pools]


def _wrap(value: int) -> int:
    """A difference of two running sums as int64 computes it (the sums wrap on overflow; differences within
    int64 are exact)."""
    return (value + 2**63) % 2**64 - 2**63


def _pro_rata(amount: I64, traced: I64, pool: I64) -> I64:
    """floor(amount x traced / pool) per row, exactly; nothing where traced <= 0 (`rules.allocate_pro_rata`)."""
    parts: I64 = np.zeros(amount.shape[0], dtype=np.int64)
    live = traced > 0
    risky = live & (amount.astype(np.float64) * traced.astype(np.float64) >= _SAFE_PRODUCT)
    safe = live & ~risky
    parts[safe] = (amount[safe] * traced[safe]) // pool[safe]
    for r in np.flatnonzero(risky).tolist():
        parts[r] = rules.mul_div_floor(int(amount[r]), int(traced[r]), int(pool[r]))
    return parts


def _micros(value: dt.datetime) -> int:
    """µs since the epoch; a naive value is UTC (`base.utc`). Aware values subtract across zones exactly."""
    return ((value if value.tzinfo is not None else value.replace(tzinfo=UTC)) - EPOCH) // _MICROSECOND


_MICROSECOND = dt.timedelta(microseconds=1)
# Below 2^32 s (the year 2106), value / 1e6 is within 0.48 µs of the exact seconds (a double's spacing there is at
# most 2^-20 s, 0.95 µs, and division rounds to the nearest), and `datetime.fromtimestamp` rounds the fraction's
# µs half to even: it gives back `value` exactly. Beyond, or before the epoch, `EPOCH + timedelta`.
_EXACT_FLOAT_US = 2**32 * 1_000_000
_from_seconds = dt.datetime.fromtimestamp


def resident_index(stores: Stores) -> FlowIndex | None:
    """The resident index of the lake's current transfers, or None: not serving with one, or not built yet
    (then a build starts in the background and callers use the lake meanwhile)."""
    if stores.flows is None:
        return None
    files = stores.listing.get(DATASET) if stores.listing is not None else None
    return stores.flows.get(stores.lake_root, transfers_version(stores.lake_root, files))


def hop_source(
    stores: Stores,
    index: FlowIndex | None,
    policy: str,
    from_month: str,
    to_month: str,
    balances: Balances | None = None,
) -> rules.HopSource:
    """The resident index when built (the balance pool also needs the resident balances), else the lake."""
    if index is not None and (policy != "pro_rata_balance" or balances is not None):
        return ResidentHops(index, policy, balances)
    return LakeHops(stores.engine, policy, from_month, to_month)


def resident(source: rules.HopSource) -> bool:
    """Whether a hop source is the resident index (what `basis.method` states)."""
    return isinstance(source, ResidentHops)
