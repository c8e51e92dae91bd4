"""Pure rules of fund-flow tracing: propagation policies, the reference tracer, evidence paths and verdicts.

Values in, values out; amounts are integer fen. The SQL in `queries.py` implements exactly this arithmetic
over the lake (set-based, one statement per hop) and `service.resident` over the resident transfer index
(numpy); `Ledger` is the same semantics over an in-memory list of transfers, used to pin both in tests and
to run the NetworkX comparison in the benchmark. The tracer itself is in `tracer.py` (re-exported here).

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

# The tracer (policy arithmetic, `trace_many`, the reference `Ledger`) is in `tracer.py`, re-exported here.
from jinyu.risk.purposes.rules import MATRIX_KINDS
from jinyu.risk.tracing.tracer import MAX_HOPS_LIMIT as MAX_HOPS_LIMIT
from jinyu.risk.tracing.tracer import Classifier as Classifier
from jinyu.risk.tracing.tracer import Edge as Edge
from jinyu.risk.tracing.tracer import Expansion as Expansion
from jinyu.risk.tracing.tracer import Frontier as Frontier
from jinyu.risk.tracing.tracer import HopSource as HopSource
from jinyu.risk.tracing.tracer import Ledger as Ledger
from jinyu.risk.tracing.tracer import Row as Row
from jinyu.risk.tracing.tracer import Start as Start
from jinyu.risk.tracing.tracer import TimedEdge as TimedEdge
from jinyu.risk.tracing.tracer import TimedHopSource as TimedHopSource
from jinyu.risk.tracing.tracer import Trace as Trace
from jinyu.risk.tracing.tracer import TraceSettings as TraceSettings
from jinyu.risk.tracing.tracer import Transfer as Transfer
from jinyu.risk.tracing.tracer import allocate_fifo as allocate_fifo
from jinyu.risk.tracing.tracer import allocate_pro_rata as allocate_pro_rata
from jinyu.risk.tracing.tracer import expand as expand
from jinyu.risk.tracing.tracer import final_kind as final_kind
from jinyu.risk.tracing.tracer import mul_div_floor as mul_div_floor
from jinyu.risk.tracing.tracer import trace as trace
from jinyu.risk.tracing.tracer import trace_many as trace_many

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
# The misuse kinds are the uses the purpose matrix decides on (jinyu.risk.purposes.rules.MATRIX_KINDS).
MISUSE_KINDS = MATRIX_KINDS
TERMINAL_KINDS = ("returned", *MISUSE_KINDS, "servicing", "stop")
# Rows about an expanded node itself (what stayed, or that it was a hub) rather than an arrival at it.
NODE_STATE_KINDS = ("residual", "hub")
# Where each fen of the loan ends: these kinds partition L exactly.
# `refund`: a returned edge's part that reversed a traced purchase (refunds.py): not return flow.
BALANCE_KINDS = (*TERMINAL_KINDS, "refund", "hub", "cycle", "dust", "residual", "open")

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
    ("guarantor", "为本笔贷款提供担保的担保人", "guarantor of this loan"),
    ("declared", "银行或登记机关申报的关联方", "related party declared by the bank or the registry"),
    ("control_chain", "股权控制链（持股≥50%）关联方", "related through a chain of control (holdings ≥ 50%)"),
)
# A holding of at least this many percent controls (for chains of control: A holds B holds C).
CONTROL_SHARE = 50
RELATION_NAMES = tuple(name for name, _zh, _en in RELATIONS)
LINKED_RELATIONS = ("same_legal_rep", "shared_address", "shared_phone")

KIND_LABELS: dict[str, tuple[str, str]] = {
    "origin": ("放款账户", "disbursement account"),
    "pass": ("途经", "passed through"),
    "returned": ("回流至借款人或关联方", "returned to the borrower or a related party"),
    "refund": ("退款（供应商冲正已付货款）", "refund: the payee reversed a purchase the loan paid"),
    "securities": ("流入证券账户", "securities settlement"),
    "real_estate": ("流入房地产开发企业账户", "real-estate developer"),
    "other_loan": ("归还其他贷款", "repayment of other loans"),
    "intermediary_repayment": ("经第三方归还贷款（借新还旧）", "loan repaid through an intermediary"),
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
# Which misuse kinds each declared purpose prohibits is the purpose matrix (jinyu.risk.purposes), versioned
# data the regulator changes; the tracer only finds where money went.

FEN = Decimal("0.01")
SHARE = Decimal("0.0001")


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
    of other loans when the borrower or a related party pays it. Paid by an unrelated third party within the
    hop limit it is, in misuse mode, `intermediary_repayment` (借新还旧 through a go-between; transfers carry
    no loan reference, so a third party servicing its own debt looks the same), in return-flow mode a
    stop."""
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
        if src_related:
            return "other_loan", own
        return ("intermediary_repayment" if mode == "misuse" else "stop"), own
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
