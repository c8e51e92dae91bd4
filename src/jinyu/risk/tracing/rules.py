"""Pure rules of fund-flow tracing: propagation policies, the reference tracer, evidence paths and verdicts.

Values in, values out; amounts are integer fen. The SQL in `queries.py` implements exactly this arithmetic
over the lake (set-based, one statement); `trace_reference` is the same semantics over an in-memory ledger,
used to pin the SQL in tests and to run the NetworkX comparison in the benchmark.

Semantics (see docs/risk-tracing.md):
- The loan amount L starts at the disbursement account at the disbursement time t0 (hop 0). Tracing follows
  transfers forward in time: a node's money can leave only by transfers strictly after it arrived and no
  later than t0 + window. A node's arrival time is the first traced transfer into it.
- The frontier is aggregated per (account, hop); paths are never enumerated. An account is expanded at most
  once (the first hop it is reached); money reaching it again stays there as `cycle`.
- Policies split a node's traced money T over its outgoing transfers x1..xn (in time order):
    pro_rata  part_i = floor(x_i * T / P), P = max(T, inflow, outflow): the traced share of the money that
              moved through the account in the window (its inflow since T arrived, or its outflow when
              more left than came in, i.e. older balance was spent too).
    fifo      the traced money is the oldest in the account (earlier balance taken as spent), so it leaves
              with the first transfers: part_i = min(x_i, max(0, T - (x_1 + ... + x_{i-1}))).
  Parts are truncated to the fen, so tracing never creates money; what does not leave stays as `residual`.
- Arrivals are classified (see `EDGE_KINDS`): terminal kinds end tracing there; `pass` continues. Nodes
  below the dust threshold are dropped as `dust`; nodes with at least `hub_degree` outgoing transfers in the
  window are not followed (`hub`), except the borrower's own accounts; pass nodes at the last hop are
  `open`. Every fen of L ends in exactly one balance kind.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

MAX_HOPS_LIMIT = 6
MAX_WINDOW_DAYS = 180
POLICIES = ("pro_rata", "fifo")
MODES = ("return_flow", "misuse")

# Account categories where tracing ends: money there is pooled with everyone else's, or it has left the
# economy of the borrower (taxes, social funds).
STOP_CATEGORIES = ("payment_processor", "bank_internal", "tax_authority", "social_fund")
# Categories whose arrival is itself a finding (terminal); `loan_repayment` is split into the lending
# branch's own repayment account (servicing this loan) and any other (repaying other loans).
PROHIBITED_CATEGORIES = {
    "securities_settlement": "securities",
    "real_estate_developer": "real_estate",
    "loan_repayment": "other_loan",
}
MISUSE_KINDS = ("securities", "real_estate", "other_loan", "shell")
TERMINAL_KINDS = ("returned", *MISUSE_KINDS, "servicing", "stop")
# Rows about an expanded node itself (what stayed, or that it was a hub) rather than an arrival at it.
NODE_STATE_KINDS = ("residual", "hub")
# Where each fen of the loan ends: these kinds partition L exactly.
BALANCE_KINDS = (*TERMINAL_KINDS, "hub", "cycle", "dust", "residual", "open")

# Related parties, strongest first; the rank (1-based) is what the SQL carries.
RELATIONS: tuple[tuple[str, str, str], ...] = (
    ("own", "借款人本身", "the borrower itself"),
    ("legal_rep", "法定代表人", "legal representative"),
    ("shareholder", "借款人的股东", "shareholder of the borrower"),
    ("invested", "借款人投资的企业", "company the borrower holds shares in"),
    ("same_legal_rep", "同一法定代表人的企业", "company with the same legal representative"),
    ("rep_invested", "法定代表人投资的企业", "company the legal representative holds shares in"),
    ("sister", "同一企业股东的兄弟企业", "sister company (same corporate shareholder)"),
    ("shared_address", "注册地址相同的企业", "company at the same registered address"),
    ("shared_phone", "联系电话相同的企业", "company with the same phone"),
)
RELATION_NAMES = tuple(name for name, _zh, _en in RELATIONS)
LINKED_RELATIONS = ("same_legal_rep", "shared_address", "shared_phone")

KIND_LABELS: dict[str, tuple[str, str]] = {
    "origin": ("放款账户", "disbursement account"),
    "pass": ("途经", "passed through"),
    "returned": ("回流至借款人或关联方", "returned to the borrower or a related party"),
    "securities": ("流入证券账户", "securities settlement"),
    "real_estate": ("流入房地产开发企业账户", "real-estate developer"),
    "other_loan": ("归还其他贷款", "repayment of other loans"),
    "shell": ("流入空壳企业", "shell company"),
    "servicing": ("偿还本笔贷款本息", "servicing of this loan"),
    "stop": ("止于支付机构、银行内部或税费账户", "stopped at a processor, bank-internal or tax account"),
    "hub": ("止于枢纽账户（交易过密）", "stopped at a hub account (too many transfers)"),
    "cycle": ("回到已追踪账户", "back at an account already traced"),
    "dust": ("低于尘埃阈值", "below the dust threshold"),
    "residual": ("留存于账户", "stayed in the account"),
    "open": ("达到最大跳数仍在流转", "still moving at the hop limit"),
}
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "corporate_settlement": ("对公基本户", "corporate settlement account"),
    "corporate_general": ("对公一般户", "corporate general account"),
    "personal": ("个人账户", "personal account"),
    "securities_settlement": ("证券资金结算账户", "securities settlement account"),
    "real_estate_developer": ("房地产开发企业账户", "real-estate developer account"),
    "payment_processor": ("支付机构备付金账户", "payment processor account"),
    "bank_internal": ("银行内部账户", "bank internal account"),
    "loan_repayment": ("贷款还款账户", "loan repayment account"),
    "tax_authority": ("税款账户", "tax authority account"),
    "social_fund": ("社保公积金账户", "social fund account"),
}
POLICY_TEXT: dict[str, tuple[str, str]] = {
    "pro_rata": (
        "比例法：账户流出的资金按被追踪资金占窗口内流经该账户资金的比例分摊",
        "pro rata (haircut): each outgoing transfer carries the traced share of the money that moved "
        "through the account in the window",
    ),
    "fifo": (
        "先进先出：被追踪资金视为账户中最早的资金，随其后最先发生的转出流出",
        "first in, first out: the traced money is the oldest in the account and leaves with the first "
        "transfers after it arrived",
    ),
}

# Declared purpose -> industry prefixes (GB/T 4754) expected among the first-hop payees; None: any.
PURPOSE_INDUSTRIES: dict[str, tuple[str, ...] | None] = {
    "working_capital": None,
    "trade": None,
    "other": None,
    "equipment": ("C34", "C35", "C36", "C38", "C39"),
    "construction": ("E",),
    "rnd": ("I65", "M73"),
}
# Declared purpose -> the misuse kinds prohibited for it. Every corporate loan purpose prohibits all four:
# loans may not fund securities, property purchases, other debts or shells (贷款不得用于...).
PROHIBITED_FOR_PURPOSE: dict[str, frozenset[str]] = {
    purpose: frozenset(MISUSE_KINDS) for purpose in PURPOSE_INDUSTRIES
}

FEN = Decimal("0.01")
SHARE = Decimal("0.0001")


# -- policy arithmetic -----------------------------------------------------------------------------------------


def mul_div_floor(a: int, b: int, d: int) -> int:
    """floor(a * b / d) for non-negative integers, d > 0 (what the SQL computes exactly)."""
    if d <= 0 or a < 0 or b < 0:
        raise ValueError("mul_div_floor needs a, b >= 0 and d > 0")
    return (a * b) // d


def allocate_pro_rata(traced: int, inflow: int, amounts: Sequence[int]) -> list[int]:
    """Parts of `traced` fen carried by each outgoing transfer: floor(x * T / max(T, inflow, outflow))."""
    if traced <= 0 or not amounts:
        return [0] * len(amounts)
    pool = max(traced, inflow, sum(amounts))
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


@dataclass(frozen=True)
class Transfer:
    txn_id: str
    ts: dt.datetime
    src: str
    dst: str
    amount: int  # fen


class Ledger:
    """An in-memory ledger as a hop source, allocating with the policy functions above: the reference the
    lake's SQL is held to (tests, the golden suite, the benchmark's NetworkX comparison)."""

    def __init__(self, transfers: Iterable[Transfer]) -> None:
        self.out: dict[str, list[Transfer]] = defaultdict(list)
        self.into: dict[str, list[Transfer]] = defaultdict(list)
        for t in sorted(transfers, key=lambda t: (t.ts, t.txn_id)):
            self.out[t.src].append(t)
            self.into[t.dst].append(t)

    def outgoing(self, node: Frontier) -> list[Transfer]:
        return [t for t in self.out.get(node.account, ()) if node.arrived < t.ts <= node.until]

    def inflow(self, node: Frontier) -> int:
        return sum(t.amount for t in self.into.get(node.account, ()) if node.arrived <= t.ts <= node.until)

    def fetch(
        self, frontier: Sequence[Frontier], settings: TraceSettings
    ) -> dict[tuple[str, str], Expansion]:
        return {(n.key, n.account): expand(n, self.outgoing(n), self.inflow, settings) for n in frontier}


def expand(
    node: Frontier, outs: Sequence[Transfer], inflow: Callable[[Frontier], int], settings: TraceSettings
) -> Expansion:
    """One node's hop by the policy: parts of its transfers in time order, summed per receiving account."""
    if len(outs) >= settings.hub_degree and not node.own:
        return Expansion(hub=True)
    amounts = [t.amount for t in outs]
    if settings.policy == "pro_rata":
        parts = allocate_pro_rata(node.traced, inflow(node), amounts)
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
    for hop in range(1, min(settings.max_hops, MAX_HOPS_LIMIT) + 1):
        wave = [node for key in frontiers for node in frontiers[key]]
        if not wave:
            break
        sent = source.fetch(wave, settings)
        for start in starts:
            nodes = traces[start.key].nodes
            flows: dict[tuple[str, str], list[Any]] = {}
            for node in frontiers[start.key]:
                expansion = sent.get((node.key, node.account), Expansion())
                if expansion.hub:
                    nodes.append(
                        _row(hop - 1, node.account, "hub", node.traced, node.arrived, node.arrived, 0)
                    )
                    continue
                left = node.traced - sum(e.traced for e in expansion.edges)
                if left > 0:
                    nodes.append(_row(hop - 1, node.account, "residual", left, node.arrived, node.arrived, 0))
                for e in expansion.edges:
                    flows[(node.account, e.dst)] = [e.traced, e.first_ts, e.last_ts, e.txn_count, node.own]
            until = start.t0 + settings.window
            arrivals = _arrivals(hop, flows, start.classify, settings, seen[start.key], traces[start.key])
            frontiers[start.key] = [Frontier(start.key, a, t, at, own, until) for a, t, at, own in arrivals]
    return traces


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


def _arrivals(
    hop: int,
    flows: dict[tuple[str, str], list[Any]],
    classify: Classifier,
    settings: TraceSettings,
    seen: set[str],
    out: Trace,
) -> list[tuple[str, int, dt.datetime, bool]]:
    """Classify a hop's edges, aggregate them into nodes per (account, kind), and pick the next frontier."""
    grouped: dict[tuple[str, str], list[Any]] = {}
    hop_edges: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for (src, dst), (traced, first, last, n, src_own) in sorted(flows.items()):
        kind, own = classify(src, dst, src_own)
        hop_edges[(dst, kind)].append(_row(hop, dst, kind, traced, first, last, n, src=src))
        g = grouped.setdefault((dst, kind), [0, first, last, 0, False])
        g[0], g[1], g[2], g[3], g[4] = g[0] + traced, min(g[1], first), max(g[2], last), g[3] + n, g[4] or own
    frontier: list[tuple[str, int, dt.datetime, bool]] = []
    for (dst, kind), (traced, first, last, n, own) in sorted(grouped.items()):
        final = final_kind(kind, traced, dst in seen, hop, settings)
        out.nodes.append(_row(hop, dst, final, traced, first, last, n))
        if final == "pass":
            frontier.append((dst, traced, first, own))
        if traced >= settings.dust:
            out.edges.extend(hop_edges[(dst, kind)])
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


# -- classification ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountFacts:
    """What classification needs to know about a receiving account (for this loan)."""

    category: str | None = None  # only for stop and prohibited categories; None: an ordinary account
    bank_code: str | None = None
    parent_code: str | None = None
    rel_rank: int | None = None  # related party rank (1: the borrower's own), None: not related
    shell: bool = False


def classify_edge(
    mode: str, facts: AccountFacts, src_own: bool, src_related: bool, lender_branch: str
) -> tuple[str, bool]:
    """Edge kind of a traced transfer into an account, and whether the account is the borrower's own.

    return_flow: own -> own passes, any other arrival at a related account is returned; misuse: related
    accounts pass and shells are terminal. Prohibited categories and stop nodes end tracing in both. A
    loan repayment account is servicing of this loan when the borrower pays its lending branch, repayment
    of other loans when the borrower or a related party pays it, and a stop when an unrelated third party
    services its own debt with money it was paid."""
    own = facts.rel_rank == 1
    if mode == "return_flow":
        if own and src_own:
            return "pass", own
        if facts.rel_rank is not None:
            return "returned", own
    category = facts.category
    if category == "loan_repayment":
        if src_own and lender_branch in (facts.bank_code, facts.parent_code):
            return "servicing", own
        return ("other_loan" if src_related else "stop"), own
    if category in PROHIBITED_CATEGORIES:
        return PROHIBITED_CATEGORIES[category], own
    if category in STOP_CATEGORIES:
        return "stop", own
    if mode == "misuse" and facts.shell and not own:
        return "shell", own
    return "pass", own


# -- reading a trace ----------------------------------------------------------------------------------------


def balance(nodes: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Fen per balance kind; over a complete trace they add up to the loan amount."""
    out = dict.fromkeys(BALANCE_KINDS, 0)
    for n in nodes:
        if n["kind"] in out:
            out[n["kind"]] += int(n["traced"])
    return out


@dataclass(frozen=True)
class Step:
    hop: int
    account: str
    kind: str
    traced: int  # fen carried by the edge into this account (at hop 0: the loan)
    first_ts: dt.datetime


@dataclass(frozen=True)
class Path:
    kind: str
    amount: int  # fen that reached the end node
    steps: tuple[Step, ...]


def top_paths(
    nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]], kinds: Iterable[str], limit: int
) -> list[Path]:
    """Evidence for the largest end nodes of the given kinds, reconstructed backwards along the largest
    incoming edge of each hop (only for these nodes; paths are never enumerated)."""
    wanted = set(kinds)
    ends = sorted(
        (n for n in nodes if n["kind"] in wanted),
        key=lambda n: (-int(n["traced"]), int(n["hop"]), str(n["account"])),
    )[:limit]
    into: dict[tuple[int, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for e in edges:
        into[(int(e["hop"]), str(e["account"]), str(e["kind"]))].append(e)
    origin = next((n for n in nodes if n["kind"] == "origin"), None)
    paths = []
    for end in ends:
        steps: list[Step] = []
        hop, account, kind = int(end["hop"]), str(end["account"]), str(end["kind"])
        while hop > 0:
            candidates = into.get((hop, account, kind))
            if not candidates:
                break
            best = max(candidates, key=lambda e: (int(e["traced"]), str(e["src"])))
            steps.append(Step(hop, account, kind, int(best["traced"]), best["first_ts"]))
            hop, account, kind = hop - 1, str(best["src"]), "pass"
        if hop == 0 and origin is not None:
            steps.append(Step(0, account, "origin", int(origin["traced"]), origin["first_ts"]))
        paths.append(Path(str(end["kind"]), int(end["traced"]), tuple(reversed(steps))))
    return paths


# -- verdicts and money ------------------------------------------------------------------------------------


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


def share(part: int, whole: int) -> Decimal:
    """part / whole rounded half up to 4 decimals (0.1234 = 12.34%)."""
    if whole <= 0:
        return Decimal("0.0000")
    return (Decimal(part) / Decimal(whole)).quantize(SHARE, rounding=ROUND_HALF_UP)


def days_between(start: dt.datetime, end: dt.datetime) -> Decimal:
    return (Decimal((end - start).total_seconds()) / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


VERDICT_TEXT = {
    "risky": ("风险", "risky"),
    "attention": ("关注", "attention"),
    "clean": ("未发现", "nothing found"),
}


VerdictName = Literal["risky", "attention", "clean"]


def verdict(found: int, loan: int, risk_share: Decimal) -> VerdictName:
    """risky when the share found reaches the threshold; attention when something was found below it."""
    if found <= 0:
        return "clean"
    return "risky" if share(found, loan) >= risk_share else "attention"


def purpose_consistent(purpose: str, industry: str | None) -> bool | None:
    """Is a first-hop payee's industry what the declared purpose leads one to expect? None: no expectation."""
    expected = PURPOSE_INDUSTRIES.get(purpose)
    if expected is None:
        return None
    return bool(industry) and str(industry).startswith(expected)
