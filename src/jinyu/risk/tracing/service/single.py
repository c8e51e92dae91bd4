"""One loan: return flow and misappropriation results, evidence paths, shells and the purpose check."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from jinyu.core.auth import Principal
from jinyu.governance.policy.protect import Reader, protect
from jinyu.risk.inquiries import record_inquiry
from jinyu.risk.purposes import service as purposes
from jinyu.risk.tracing import refunds, rules
from jinyu.risk.tracing.related import RelatedSet, category_label, relation_label, relation_name, view
from jinyu.risk.tracing.schemas import (
    AmountLine,
    Basis,
    EvidencePath,
    EvidenceStep,
    HopLine,
    LoanOut,
    MisuseLine,
    MisuseResult,
    PurposeCheck,
    ReturnFlowResult,
    ShellOut,
    TraceParams,
)
from jinyu.risk.tracing.service import refund
from jinyu.risk.tracing.service.base import (
    PURPOSE_LABELS,
    RESIDENT_SINGLE_METHOD,
    SHELL_INDICATORS,
    SINGLE_METHOD,
    Stores,
    amount_line,
    audit_inquiry,
    bank_root,
    basis_for,
    data_version,
    datasets_for,
    inquiry_detail,
    kind_label,
    loan_out,
    month_of,
    utc,
    verdict_label,
)
from jinyu.risk.tracing.service.context import balances_of, find_loan, lookups
from jinyu.risk.tracing.service.lake import (
    Shells,
    context_params,
    context_sets,
    hop_policy,
    settings_for,
    special_accounts,
    start_for,
)
from jinyu.risk.tracing.service.resident import hop_source, resident, resident_index

# -- single loans ----------------------------------------------------------------------------------------------


def return_flow(
    session: Session, principal: Principal, stores: Stores, loan_id: str, params: TraceParams
) -> ReturnFlowResult:
    """企业信贷资金回流：贷款是否在若干跳、若干天内回到借款人或其关联方。"""
    root = bank_root(session, principal)
    stores = stores.pinned()  # one listing of the lake for the whole request
    loan = find_loan(stores, loan_id, root)
    traced = trace_loan(stores, loan, params, "return_flow", root)
    fen = traced.loan_fen
    returned = [n for n in traced.trace.nodes if n["kind"] == "returned"]
    returned_fen = sum(int(n["traced"]) for n in returned)
    by_relation: dict[str, int] = defaultdict(int)
    for n in returned:
        by_relation[str(n["account"])] += int(n["traced"])
    relation_lines: dict[int, int] = defaultdict(int)
    for account, amount in by_relation.items():
        relation_lines[traced.related.rank[account]] += amount
    by_hop: dict[int, int] = defaultdict(int)
    for n in returned:
        by_hop[int(n["hop"])] += int(n["traced"])
    verdict = rules.verdict(returned_fen, fen, params.risk_share)
    first = min(returned, key=lambda n: n["first_ts"]) if returned else None
    result = ReturnFlowResult(
        inquiry_id="",
        loan=traced.loan_out,
        verdict=verdict,
        verdict_label=verdict_label(verdict),
        returned_amount=rules.yuan(returned_fen),
        returned_share=rules.share(returned_fen, fen),
        first_return_hops=min((int(n["hop"]) for n in returned), default=None),
        days_to_first_return=rules.days_between(traced.t0, first["first_ts"]) if first else None,
        refunded_amount=rules.yuan(sum(r.amount for r in traced.refunds)),
        refunds=refund.lines(traced.refunds, traced.related, stores.pseudonym_key, fen),
        by_relation=[
            amount_line(relation_name(rank), relation_label(rank), amount, fen)
            for rank, amount in sorted(relation_lines.items())
        ],
        by_hop=[HopLine(hop=h, amount=rules.yuan(a)) for h, a in sorted(by_hop.items())],
        attribution=attribution(traced.trace.nodes, fen),
        evidence=evidence(stores, traced, ["returned"], params.top_paths),
        related_parties=traced.related.summary(),
        basis=traced.basis,
    )
    risky = verdict == "risky"
    result.inquiry_id = record_inquiry(
        session,
        principal,
        kind="return_flow",
        subject=loan_id,
        verdict=verdict,
        risky=risky,
        risky_amount=result.returned_amount if risky else Decimal("0"),
        detail=inquiry_detail(params, traced.basis.data_version, share=str(result.returned_share)),
    )
    audit_inquiry(
        session, principal, "risk.tracing.return_flow", loan_id, result.inquiry_id, verdict, traced.basis
    )
    return protect(result, Reader(principal, stores.pseudonym_key))


def misuse(
    session: Session, principal: Principal, stores: Stores, loan_id: str, params: TraceParams
) -> MisuseResult:
    """企业信贷资金挪用：贷款流向证券、房地产、归还其他贷款或空壳企业的比例，并与申报用途比对。"""
    root = bank_root(session, principal)
    stores = stores.pinned()  # one listing of the lake for the whole request
    loan = find_loan(stores, loan_id, root)
    traced = trace_loan(stores, loan, params, "misuse", root)
    fen, nodes = traced.loan_fen, traced.trace.nodes
    purpose = str(loan["declared_purpose"])
    matrix = purposes.in_force(session)
    prohibited = matrix.prohibited_kinds(purpose)
    lines, misused_fen = [], 0
    for kind in rules.MISUSE_KINDS:
        found = [n for n in nodes if n["kind"] == kind]
        amount = sum(int(n["traced"]) for n in found)
        if kind in prohibited:
            misused_fen += amount
        first = min(found, key=lambda n: n["first_ts"]) if found else None
        zh, en = rules.KIND_LABELS[kind]
        lines.append(
            MisuseLine(
                kind=kind,
                label=f"{zh} / {en}",
                amount=rules.yuan(amount),
                share=rules.share(amount, fen),
                prohibited_for_purpose=kind in prohibited,
                rule=matrix.cite(purpose, kind),
                risky=kind in prohibited and rules.verdict(amount, fen, params.risk_share) == "risky",
                first_hops=min((int(n["hop"]) for n in found), default=None),
                days=rules.days_between(traced.t0, first["first_ts"]) if first else None,
            )
        )
    verdict = rules.verdict(misused_fen, fen, params.risk_share)
    infos = account_infos(stores, traced, list(rules.MISUSE_KINDS), params.top_paths, first_hop=True)
    result = MisuseResult(
        inquiry_id="",
        loan=traced.loan_out,
        verdict=verdict,
        verdict_label=verdict_label(verdict),
        misused_amount=rules.yuan(misused_fen),
        misused_share=rules.share(misused_fen, fen),
        by_category=lines,
        purpose_matrix_version=matrix.version,
        purpose=purpose_check(purpose, nodes, infos, fen),
        shells=shell_list(stores, traced, nodes),
        attribution=attribution(nodes, fen),
        evidence=evidence(stores, traced, list(rules.MISUSE_KINDS), params.top_paths, infos),
        basis=traced.basis,
    )
    risky = verdict == "risky"
    result.inquiry_id = record_inquiry(
        session,
        principal,
        kind="misuse",
        subject=loan_id,
        verdict=verdict,
        risky=risky,
        risky_amount=result.misused_amount if risky else Decimal("0"),
        detail=inquiry_detail(params, traced.basis.data_version, share=str(result.misused_share)),
    )
    audit_inquiry(
        session, principal, "risk.tracing.misuse", loan_id, result.inquiry_id, verdict, traced.basis
    )
    return protect(result, Reader(principal, stores.pseudonym_key))


# -- tracing one loan --------------------------------------------------------------------------------------


@dataclass
class Traced:
    loan: Mapping[str, Any]
    loan_out: LoanOut
    loan_fen: int
    t0: dt.datetime
    mode: str
    trace: rules.Trace
    related: RelatedSet
    shells: Shells
    basis: Basis
    refunds: list[refunds.Refund]


def trace_loan(stores: Stores, loan: Mapping[str, Any], params: TraceParams, mode: str, root: str) -> Traced:
    """Trace one loan (no access check here: callers find the loan inside the caller's tree first)."""
    version = data_version(stores.lake_root, datasets_for(params, mode == "misuse"), stores.listing)
    t0 = utc(loan["disbursed_at"])
    months = (str(loan["loan_month"]), month_of(t0 + dt.timedelta(days=params.window_days)))
    lookup = lookups(stores)
    context = lookup.context(mode, context_params(loan, params, root, mode, months[1]), batch=False)
    related, shells = context_sets(context).get(str(loan["loan_id"]), (RelatedSet(), {}))
    special = special_accounts(stores)
    start = start_for(loan, mode, related, shells, special)
    index = resident_index(stores)
    source = hop_source(stores, index, hop_policy(params), *months, balances=balances_of(lookup))
    result = rules.trace_many(source, [start], settings_for(params))[start.key]
    found: list[refunds.Refund] = []
    if mode == "return_flow":  # a refund reaching a related account would otherwise be return flow
        window = (t0, t0 + dt.timedelta(days=params.window_days))
        result, found = refund.apply(lookup, result, window, months)
    return Traced(
        loan=loan,
        loan_out=loan_out(loan),
        loan_fen=start.amount,
        t0=t0,
        mode=mode,
        trace=result,
        related=related,
        shells=shells,
        basis=basis_for(params, version, RESIDENT_SINGLE_METHOD if resident(source) else SINGLE_METHOD),
        refunds=found,
    )


def attribution(nodes: Iterable[Mapping[str, Any]], fen: int) -> list[AmountLine]:
    return [amount_line(k, kind_label(k), v, fen) for k, v in rules.balance(nodes).items() if v]


def account_infos(
    stores: Stores, traced: Traced, kinds: list[str], limit: int, *, first_hop: bool = False
) -> dict[str, dict[str, Any]]:
    """Category and owner industry of the accounts the result shows (evidence paths, first-hop payees)."""
    wanted = {
        s.account
        for p in rules.top_paths(traced.trace.nodes, traced.trace.edges, kinds, limit)
        for s in p.steps
    }
    if first_hop:
        wanted |= {
            str(n["account"])
            for n in traced.trace.nodes
            if n["hop"] == 1 and n["kind"] not in rules.NODE_STATE_KINDS
        }
    return {str(r["account_no"]): r for r in lookups(stores).accounts(sorted(wanted))}


def evidence(
    stores: Stores,
    traced: Traced,
    kinds: list[str],
    limit: int,
    infos: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[EvidencePath]:
    paths = rules.top_paths(traced.trace.nodes, traced.trace.edges, kinds, limit)
    if infos is None:
        infos = account_infos(stores, traced, kinds, limit)
    out = []
    for path in paths:
        steps = []
        for step in path.steps:
            shown = view(step.account, traced.related, stores.pseudonym_key)
            category = (infos.get(step.account) or {}).get("category")
            new, linked = traced.shells.get(step.account, (False, False))
            indicators = shell_indicators(new, linked) if step.kind == "shell" else []
            steps.append(
                EvidenceStep(
                    hop=step.hop,
                    account=shown.account,
                    party=shown.party,
                    category=category,
                    category_label=category_label(category),
                    relation=shown.relation,
                    relation_label=shown.relation_label,
                    relation_source=shown.relation_source,
                    owner_name=shown.owner_name,
                    shell_indicators=indicators,
                    amount=rules.yuan(step.traced),
                    first_at=utc(step.first_ts),
                )
            )
        end = path.steps[-1]
        out.append(
            EvidencePath(
                kind=path.kind,
                label=kind_label(path.kind),
                amount=rules.yuan(path.amount),
                share=rules.share(path.amount, traced.loan_fen),
                hops=end.hop,
                days=rules.days_between(traced.t0, utc(end.first_ts)),
                steps=steps,
            )
        )
    return out


def shell_indicators(new: bool, linked: bool) -> list[str]:
    out = [SHELL_INDICATORS["inactive"]]
    if new:
        out.insert(0, SHELL_INDICATORS["new"])
    if linked:
        out.append(SHELL_INDICATORS["linked"])
    return out


def shell_list(stores: Stores, traced: Traced, nodes: Iterable[Mapping[str, Any]]) -> list[ShellOut]:
    amounts: dict[str, int] = defaultdict(int)
    for n in nodes:
        if n["kind"] == "shell":
            amounts[str(n["account"])] += int(n["traced"])
    out = []
    for account, amount in sorted(amounts.items(), key=lambda kv: -kv[1]):
        shown = view(account, traced.related, stores.pseudonym_key)
        new, linked = traced.shells.get(account, (False, False))
        out.append(
            ShellOut(
                account=shown.account,
                party="outside" if shown.party == "outside" else "related",
                indicators=shell_indicators(new, linked),
                amount=rules.yuan(amount),
            )
        )
    return out


def purpose_check(
    purpose: str, nodes: Iterable[Mapping[str, Any]], infos: Mapping[str, Mapping[str, Any]], fen: int
) -> PurposeCheck:
    expected = rules.PURPOSE_INDUSTRIES.get(purpose)
    first = [n for n in nodes if n["hop"] == 1 and n["kind"] not in rules.NODE_STATE_KINDS]
    first_fen = sum(int(n["traced"]) for n in first)
    consistent = None
    if expected is not None:
        consistent = sum(
            int(n["traced"])
            for n in first
            if rules.purpose_consistent(purpose, (infos.get(str(n["account"])) or {}).get("industry_code"))
        )
    return PurposeCheck(
        declared_purpose=purpose,
        declared_purpose_label=PURPOSE_LABELS.get(purpose, purpose),
        expected_industries=list(expected) if expected is not None else None,
        first_hop_amount=rules.yuan(first_fen),
        consistent_amount=rules.yuan(consistent) if consistent is not None else None,
        consistent_share=rules.share(consistent, first_fen) if consistent is not None else None,
    )
