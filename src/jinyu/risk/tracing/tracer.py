"""The tracer: policy arithmetic, the hop-by-hop tracer over any hop source, and the in-memory reference ledger.

Pure (values in, values out; amounts in integer fen). The semantics are described in `rules` (which
re-exports everything here): this module is its tracing half, kept apart to stay readable.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, cast, runtime_checkable

MAX_HOPS_LIMIT = 6

# -- policy arithmetic -----------------------------------------------------------------------------------------


def mul_div_floor(a: int, b: int, d: int) -> int:
    """floor(a * b / d) for non-negative integers, d > 0 (what the SQL computes exactly)."""
    if d <= 0 or a < 0 or b < 0:
        raise ValueError("mul_div_floor needs a, b >= 0 and d > 0")
    return (a * b) // d


def allocate_pro_rata(traced: int, inflow: int, amounts: Sequence[int], held: int = 0) -> list[int]:
    """Parts of `traced` fen carried by each outgoing transfer: floor(x * T / max(T, held + inflow, outflow)).

    `held`: the money already in the account when T arrived (the `balance` pool: its balance of record rolled
    forward to the arrival, never below 0); 0 for today's pool."""
    if traced <= 0 or not amounts:
        return [0] * len(amounts)
    pool = max(traced, max(0, held) + inflow, sum(amounts))
    return [mul_div_floor(x, traced, pool) for x in amounts]


def allocate_fifo(traced: int, amounts: Sequence[int]) -> list[int]:
    """Parts of `traced` fen carried by each outgoing transfer, in time order, first in first out."""
    parts, before = [], 0
    for x in amounts:
        parts.append(max(0, min(x, traced - before)))
        before += x
    return parts


# -- the tracer --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceSettings:
    max_hops: int = 3
    window: dt.timedelta = dt.timedelta(days=30)
    dust: int = 100_000  # fen
    hub_degree: int = 1000
    policy: str = "pro_rata"
    pool: str = (
        "today"  # pro rata's pool: "today" (money moved in the window) or "balance" (plus what was there)
    )


@dataclass(frozen=True)
class Frontier:
    """A node to expand: `traced` fen of loan `key` that arrived at `account` (first) at `arrived`."""

    key: str
    account: str
    traced: int
    arrived: dt.datetime
    own: bool  # one of the borrower's own accounts: never treated as a hub
    until: dt.datetime  # the loan's window end


@dataclass(frozen=True)
class Edge:
    """Traced money from one node to one account in one hop, summed over its transfers."""

    dst: str
    traced: int
    first_ts: dt.datetime
    last_ts: dt.datetime
    txn_count: int


@dataclass
class Expansion:
    """What one node sent on in a hop: its edges (parts > 0 only), or that it is a hub and was not followed."""

    edges: list[Edge] = field(default_factory=list)
    hub: bool = False


class HopSource(Protocol):
    def fetch(
        self, frontier: Sequence[Frontier], settings: TraceSettings
    ) -> dict[tuple[str, str], Expansion]:
        """Expand the whole frontier (every loan) in one go; keyed by (loan key, account). A node missing from
        the answer sent nothing on."""
        ...


# An edge as a timed hop source gives it: (receiving account, traced fen, first and last time in the source's
# own values, transfer count).
TimedEdge = tuple[str, int, int, int, int]


@runtime_checkable
class TimedHopSource(HopSource, Protocol):
    """A hop source whose times are its own integers (the resident index: µs since the epoch). `trace_many`
    takes its edges as plain tuples from `fetch_timed` and turns times into datetimes with `instant` only for
    the rows it makes (a node's first and last time, the edges of nodes above the dust threshold), not for
    every edge of every hop; `fetch` is the same answer as `Expansion`s with datetimes."""

    def fetch_timed(
        self, frontier: Sequence[Frontier], settings: TraceSettings
    ) -> dict[tuple[str, str], list[TimedEdge] | None]:
        """`fetch`'s answer: a node's edges in the same order, or None for a hub."""
        ...

    def instant(self, value: int) -> dt.datetime: ...


@dataclass(frozen=True)
class Transfer:
    txn_id: str
    ts: dt.datetime
    src: str
    dst: str
    amount: int  # fen


class Ledger:
    """An in-memory ledger as a hop source, allocating with the policy functions above: the reference the
    lake's SQL is held to (tests, the golden suite, the benchmark's NetworkX comparison).

    `balances`: balances of record per account as (the instant the balance holds: `as_of` 00:00 Asia/Shanghai,
    fen), for the `balance` pool."""

    def __init__(
        self,
        transfers: Iterable[Transfer],
        balances: Mapping[str, Sequence[tuple[dt.datetime, int]]] | None = None,
    ) -> None:
        self.out: dict[str, list[Transfer]] = defaultdict(list)
        self.into: dict[str, list[Transfer]] = defaultdict(list)
        self.balances = balances or {}
        for t in sorted(transfers, key=lambda t: (t.ts, t.txn_id)):
            self.out[t.src].append(t)
            self.into[t.dst].append(t)

    def held(self, node: Frontier) -> int:
        """The account's balance just before the traced money arrived: the latest balance of record at or
        before the arrival, plus receipts and minus payments from then until the arrival (not below 0)."""
        known = [b for b in self.balances.get(node.account, ()) if b[0] <= node.arrived]
        if not known:
            return 0
        since, balance = max(known)
        balance += sum(t.amount for t in self.into.get(node.account, ()) if since <= t.ts < node.arrived)
        balance -= sum(t.amount for t in self.out.get(node.account, ()) if since <= t.ts < node.arrived)
        return max(0, balance)

    def outgoing(self, node: Frontier) -> list[Transfer]:
        return [t for t in self.out.get(node.account, ()) if node.arrived < t.ts <= node.until]

    def inflow(self, node: Frontier) -> int:
        return sum(t.amount for t in self.into.get(node.account, ()) if node.arrived <= t.ts <= node.until)

    def fetch(
        self, frontier: Sequence[Frontier], settings: TraceSettings
    ) -> dict[tuple[str, str], Expansion]:
        return {
            (n.key, n.account): expand(
                n, self.outgoing(n), self.inflow, settings, self.held(n) if settings.pool == "balance" else 0
            )
            for n in frontier
        }


def expand(
    node: Frontier,
    outs: Sequence[Transfer],
    inflow: Callable[[Frontier], int],
    settings: TraceSettings,
    held: int = 0,
) -> Expansion:
    """One node's hop by the policy: parts of its transfers in time order, summed per receiving account."""
    if len(outs) >= settings.hub_degree and not node.own:
        return Expansion(hub=True)
    amounts = [t.amount for t in outs]
    if settings.policy == "pro_rata":
        parts = allocate_pro_rata(node.traced, inflow(node), amounts, held)
    else:
        parts = allocate_fifo(node.traced, amounts)
    edges: dict[str, list[Any]] = {}
    for t, part in zip(outs, parts, strict=True):
        if part > 0:
            e = edges.setdefault(t.dst, [0, t.ts, t.ts, 0])
            e[0], e[1], e[2], e[3] = e[0] + part, min(e[1], t.ts), max(e[2], t.ts), e[3] + 1
    return Expansion([Edge(dst, *v) for dst, v in edges.items()])


# classify(src, dst, src_own) -> (edge kind, dst is one of the borrower's own accounts)
Classifier = Callable[[str, str, bool], tuple[str, bool]]
Row = dict[str, Any]


@dataclass(frozen=True)
class Start:
    """One loan to trace: `amount` fen at `origin` at `t0`, classified by the loan's own classifier."""

    key: str
    origin: str
    amount: int
    t0: dt.datetime
    classify: Classifier
    # Accounts for which `classify` may answer other than ("pass", False), as a few containers (shared ones,
    # like the stop accounts, passed as the same object for every loan); None: any account may. A vectorised
    # tracer (`service.vector`) classifies only edges into these accounts; `trace_many` ignores it.
    marks: tuple[Collection[str], ...] | None = None


@dataclass
class Trace:
    nodes: list[Row]
    edges: list[Row]  # into nodes at or above the dust threshold


def trace_many(source: HopSource, starts: Sequence[Start], settings: TraceSettings) -> dict[str, Trace]:
    """Follow every loan at once, one fetch (one statement) per hop for all of them."""
    traces = {s.key: Trace([_row(0, s.origin, "origin", s.amount, s.t0, s.t0, 0)], []) for s in starts}
    frontiers = {
        s.key: [Frontier(s.key, s.origin, s.amount, s.t0, True, s.t0 + settings.window)] for s in starts
    }
    seen = {s.key: {s.origin} for s in starts}
    timed = cast(TimedHopSource, source) if _is_timed(type(source)) else None
    instant = timed.instant if timed is not None else None
    for hop in range(1, min(settings.max_hops, MAX_HOPS_LIMIT) + 1):
        wave = [node for key in frontiers for node in frontiers[key]]
        if not wave:
            break
        sent = (
            timed.fetch_timed(wave, settings) if timed is not None else _timed(source.fetch(wave, settings))
        )
        for start in starts:
            nodes = traces[start.key].nodes
            flows: dict[tuple[str, str], Flow] = {}
            for node in frontiers[start.key]:
                edges = sent.get((node.key, node.account), ())
                if edges is None:
                    nodes.append(
                        _row(hop - 1, node.account, "hub", node.traced, node.arrived, node.arrived, 0)
                    )
                    continue
                left = node.traced - sum([e[1] for e in edges])
                if left > 0:
                    nodes.append(_row(hop - 1, node.account, "residual", left, node.arrived, node.arrived, 0))
                account, own = node.account, node.own
                for dst, traced, first, last, count in edges:
                    flows[(account, dst)] = (traced, first, last, count, own)
            until = start.t0 + settings.window
            arrivals = _arrivals(
                hop, flows, start.classify, settings, seen[start.key], traces[start.key], instant
            )
            frontiers[start.key] = [Frontier(start.key, a, t, at, own, until) for a, t, at, own in arrivals]
    return traces


@cache
def _is_timed(kind: type) -> bool:
    """Whether a hop source's class is a `TimedHopSource`, asked once per class: a runtime protocol check
    looks at every member (~20 µs a call on a slow machine, once per trace)."""
    return issubclass(kind, TimedHopSource)


def trace(
    source: HopSource,
    origin: str,
    amount: int,
    t0: dt.datetime,
    settings: TraceSettings,
    classify: Classifier,
) -> Trace:
    """One loan (see `trace_many`)."""
    return trace_many(source, [Start("loan", origin, amount, t0, classify)], settings)["loan"]


# A hop's flow from one node to one account: traced fen, first and last time (datetimes, or a timed source's
# integers), transfer count, whether the sending node is one of the borrower's own accounts.
Flow = tuple[int, Any, Any, int, bool]


def _timed(sent: dict[tuple[str, str], Expansion]) -> dict[tuple[str, str], list[Any] | None]:
    """A `fetch` answer in `fetch_timed`'s form (times stay datetimes)."""
    return {
        k: None if e.hub else [(x.dst, x.traced, x.first_ts, x.last_ts, x.txn_count) for x in e.edges]
        for k, e in sent.items()
    }


class _Instants(dict[Any, dt.datetime]):
    """A timed source's times made datetimes, each value once: a known value is a plain lookup (no Python
    call), an unknown one is made by the source's `instant`."""

    def __init__(self, instant: Callable[[Any], dt.datetime]) -> None:
        super().__init__()
        self.instant = instant

    def __missing__(self, value: Any) -> dt.datetime:
        made = self[value] = self.instant(value)
        return made


class _Same:
    """A source's own datetimes, kept as they are (not cached: equal instants of other zones stay apart)."""

    def __getitem__(self, value: dt.datetime) -> dt.datetime:
        return value


def _arrivals(
    hop: int,
    flows: dict[tuple[str, str], Flow],
    classify: Classifier,
    settings: TraceSettings,
    seen: set[str],
    out: Trace,
    instant: Callable[[Any], dt.datetime] | None = None,
) -> list[tuple[str, int, dt.datetime, bool]]:
    """Classify a hop's edges, aggregate them into nodes per (account, kind), and pick the next frontier.

    Edge rows are made only for nodes at or above the dust threshold (the only ones kept). `instant`: the
    flows' times are a timed source's integers, made datetimes here for the rows (each value once).

    Written for the heavy traces (hundreds of edges a hop): each group carries its members, rows are dict
    displays and `final_kind` is inlined (the same decisions, in its order), no Python call per row."""
    at: _Instants | _Same = _Instants(instant) if instant is not None else _Same()
    # (account, kind) -> [traced, first, last, count, own, members (src, traced, first, last, count)]
    grouped: dict[tuple[str, str], list[Any]] = {}
    for (src, dst), (traced, first, last, n, src_own) in sorted(flows.items()):
        kind, own = classify(src, dst, src_own)
        key = (dst, kind)
        g = grouped.get(key)
        if g is None:
            grouped[key] = [traced, first, last, n, own, [(src, traced, first, last, n)]]
            continue
        g[0] += traced
        if first < g[1]:
            g[1] = first
        if last > g[2]:
            g[2] = last
        g[3] += n
        g[4] = g[4] or own
        g[5].append((src, traced, first, last, n))
    frontier: list[tuple[str, int, dt.datetime, bool]] = []
    nodes, edges = out.nodes, out.edges
    dust, last_hop = settings.dust, hop >= settings.max_hops
    for key in sorted(grouped):
        dst, kind = key
        traced, first, last, n, own, members = grouped[key]
        # final_kind(kind, traced, dst in seen, hop, settings), inlined
        if traced < dust:
            final = "dust"
        elif kind != "pass":
            final = kind
        elif dst in seen:
            final = "cycle"
        else:
            final = "open" if last_hop else "pass"
        first_at = at[first]
        nodes.append(
            {"hop": hop, "src": None, "account": dst, "kind": final, "traced": traced, "first_ts": first_at,
             "last_ts": at[last], "txn_count": n}
        )  # fmt: skip
        if final == "pass":
            frontier.append((dst, traced, first_at, own))
        if traced >= dust:
            edges.extend(
                {"hop": hop, "src": s, "account": dst, "kind": kind, "traced": t, "first_ts": at[f],
                 "last_ts": at[la], "txn_count": c}
                for s, t, f, la, c in members
            )  # fmt: skip
    seen.update(a for a, _t, _at, _own in frontier)
    return frontier


def final_kind(kind: str, traced: int, seen: bool, hop: int, settings: TraceSettings) -> str:
    if traced < settings.dust:
        return "dust"
    if kind != "pass":
        return kind
    if seen:
        return "cycle"
    if hop >= settings.max_hops:
        return "open"
    return "pass"


def _row(
    hop: int,
    account: str,
    kind: str,
    traced: int,
    first: dt.datetime,
    last: dt.datetime,
    n: int,
    src: str | None = None,
) -> Row:
    return {
        "hop": hop,
        "src": src,
        "account": account,
        "kind": kind,
        "traced": traced,
        "first_ts": first,
        "last_ts": last,
        "txn_count": n,
    }
