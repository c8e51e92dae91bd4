"""The lake side of tracing: the hop source, the frontier parameter, related sets and classifiers."""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinyu.analytics import Engine
from jinyu.risk.tracing import queries, rules
from jinyu.risk.tracing.errors import (
    FrontierTooLarge,
)
from jinyu.risk.tracing.related import RelatedSet
from jinyu.risk.tracing.rules import AccountFacts, Frontier, TraceSettings
from jinyu.risk.tracing.schemas import (
    TraceParams,
)
from jinyu.risk.tracing.service.base import (
    EPOCH,
    MAX_FRONTIER,
    Stores,
    add_months,
    data_version,
    fen_of,
    utc,
)

Special = dict[str, tuple[str | None, str | None, str | None]]
Shells = dict[str, tuple[bool, bool]]  # account -> (newly registered, linked to the borrower)
PASS = ("pass", False)


def context_sets(rows: Iterable[Mapping[str, Any]]) -> dict[str, tuple[RelatedSet, Shells]]:
    by_loan: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by_loan[str(r["loan_id"])].append(r)
    return {
        loan_id: (
            RelatedSet.of(loan_rows),
            {
                str(r["account_no"]): (bool(r["shell_new"]), bool(r["shell_linked"]))
                for r in loan_rows
                if r["row_type"] == "shell"
            },
        )
        for loan_id, loan_rows in by_loan.items()
    }


@dataclass(frozen=True, eq=False)
class LoanClassifier:
    """One loan's classifier (`rules.Classifier`): `rules.classify_edge` on the facts of the receiving account.

    Its parts are kept as data (not in a closure) so that `service.vector` can classify a whole block of flows
    of many loans at once over arrays (`vector` holds its answers equal to this call)."""

    mode: str
    lender: str  # the lending bank's code (its branch services this loan)
    ranks: Mapping[str, int]  # related account -> strongest rank (1: the borrower's own)
    shells: Shells
    special: Special  # stop and prohibited accounts (every loan's, the same object)

    def __call__(self, src: str, dst: str, src_own: bool) -> tuple[str, bool]:
        special, ranks, shells = self.special, self.ranks, self.shells
        if dst not in special and dst not in ranks and dst not in shells:
            return PASS  # no category, relation or shell: what classify_edge answers for such an account
        category, bank_code, parent_code = special.get(dst, (None, None, None))
        facts = AccountFacts(category, bank_code, parent_code, ranks.get(dst), dst in shells)
        return rules.classify_edge(self.mode, facts, src_own, src in ranks, self.lender)


def start_for(
    loan: Mapping[str, Any], mode: str, related: RelatedSet, shells: Shells, special: Special
) -> rules.Start:
    ranks = related.rank
    return rules.Start(
        str(loan["loan_id"]),
        str(loan["disbursement_account"]),
        fen_of(loan["amount"]),
        utc(loan["disbursed_at"]),
        LoanClassifier(mode, str(loan["bank_code"]), ranks, shells, special),
        (special, ranks, shells),
    )


def settings_for(params: TraceParams) -> TraceSettings:
    return TraceSettings(
        max_hops=params.max_hops,
        window=dt.timedelta(days=params.window_days),
        dust=fen_of(params.dust),
        hub_degree=params.hub_degree,
        policy=params.policy,
        pool=params.pool,
    )


def hop_policy(params: TraceParams) -> str:
    """The hop statement's policy: pro rata with the balance pool has its own (`tracing_hop_pro_rata_balance`);
    on the resident index it needs the resident balances of record (`service.balances`)."""
    return "pro_rata_balance" if params.policy == "pro_rata" and params.pool == "balance" else params.policy


class LakeHops:
    """`rules.HopSource` over the lake: one `tracing_hop_*` statement per hop for the whole frontier."""

    def __init__(self, engine: Engine, policy: str, from_month: str, to_month: str) -> None:
        self.engine, self.policy = engine, policy
        self.from_month, self.to_month = from_month, to_month

    def fetch(
        self, frontier: Sequence[Frontier], settings: TraceSettings
    ) -> dict[tuple[str, str], rules.Expansion]:
        if len(frontier) > MAX_FRONTIER:
            raise FrontierTooLarge(
                detail=f"单跳超过 {MAX_FRONTIER} 个账户，请提高尘埃阈值或缩短期间 / more than {MAX_FRONTIER} "
                "accounts in one hop: raise the dust threshold or shorten the period"
            )
        rows = queries.hop(
            self.engine,
            self.policy,
            {
                "frontier": frontier_text(frontier),
                "from_month": self.from_month,
                "to_month": self.to_month,
                "hub_degree": settings.hub_degree,
            },
        )
        out: dict[tuple[str, str], rules.Expansion] = {}
        for r in rows:
            expansion = out.setdefault((str(r["loan_id"]), str(r["src"])), rules.Expansion())
            if r["row_type"] == "hub":
                expansion.hub = True
            else:
                expansion.edges.append(
                    rules.Edge(
                        str(r["dst"]),
                        int(r["traced"]),
                        utc(r["first_ts"]),
                        utc(r["last_ts"]),
                        int(r["txn_count"]),
                    )
                )
        return out


def frontier_text(frontier: Iterable[Frontier]) -> str:
    """The hop query's one text parameter: loan|account|fen|arrived µs|own|window end µs, comma-separated."""
    parts = []
    for node in frontier:
        if any(sep in value for value in (node.key, node.account) for sep in ",|"):
            raise FrontierTooLarge(
                detail=f"账号或借据号含分隔符 / separator in {node.key!r} or {node.account!r}"
            )
        parts.append(
            f"{node.key}|{node.account}|{node.traced}|{micros(node.arrived)}|{1 if node.own else 0}|"
            f"{micros(node.until)}"
        )
    return queries.LIST_SEPARATOR.join(parts)


def micros(value: dt.datetime) -> int:
    return (utc(value) - EPOCH) // dt.timedelta(microseconds=1)


# Stop and prohibited accounts do not depend on the loan: kept per process, keyed by the accounts' files.
_SPECIAL_LOCK = threading.Lock()
_SPECIAL: dict[tuple[str, str], Special] = {}


def special_accounts(stores: Stores) -> Special:
    key = (
        str(stores.lake_root),
        data_version(stores.lake_root, ("accounts", "banks"), stores.listing).fingerprint,
    )
    with _SPECIAL_LOCK:
        cached = _SPECIAL.get(key)
    if cached is not None:
        return cached
    rows = queries.special_accounts(stores.engine)
    found = {str(r["account_no"]): (r["category"], r["bank_code"], r["parent_code"]) for r in rows}
    with _SPECIAL_LOCK:
        _SPECIAL.clear()  # one lake per process in practice; never grow without bound
        _SPECIAL[key] = found
    return found


def context_params(
    loan: Mapping[str, Any], params: TraceParams, root: str, mode: str, to_month: str
) -> dict[str, object]:
    out: dict[str, object] = {
        "loan_id": str(loan["loan_id"]),
        "loan_month": str(loan["loan_month"]),
        "root_code": root,
        "window_days": params.window_days,
        "shell_age_days": params.shell_age_days,
    }
    if mode == "misuse":
        t0 = utc(loan["disbursed_at"])
        out |= shell_params(params, t0, t0, str(loan["loan_month"]), to_month)
    return out


def shell_params(
    params: TraceParams, first: dt.datetime, last: dt.datetime, first_month: str, to_month: str
) -> dict[str, object]:
    return {
        "new_since": first.date() - dt.timedelta(days=params.shell_age_days),
        "until": (last + dt.timedelta(days=params.window_days)).date(),
        "act_from": add_months(first_month, -12),
        "to_month": to_month,
    }
