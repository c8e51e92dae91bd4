"""Use cases: trace one loan's return flow or misappropriation, or every loan of a bank in a period.

Access: only bank organisations with `risk.query`; a loan is found only inside the caller's bank tree
(loans.bank_code at the caller's node or below it), so another bank's loan answers 404 exactly like a
missing one. Every inquiry is counted (`record_inquiry`) and audited in the caller's transaction; evidence
shows accounts outside the borrower's related set only as tokens with their category (`related.view`).

A single loan is traced hop by hop (one bound statement per hop, policy arithmetic in `rules.trace`); a
batch runs all hops of all loans of a month in one statement (`queries.batch_trace`). Same semantics.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jinyu.analytics import Engine, Lake
from jinyu.audit import service as audit
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import SHANGHAI, utcnow
from jinyu.core.db import new_id
from jinyu.party import service as party
from jinyu.risk.inquiries import record_inquiry
from jinyu.risk.tracing import queries, rules
from jinyu.risk.tracing.errors import (
    BankNodeNotFound,
    BatchTooLarge,
    FrontierTooLarge,
    LoanNotFound,
    NotABankOrganisation,
)
from jinyu.risk.tracing.related import RelatedSet, category_label, view
from jinyu.risk.tracing.rules import AccountFacts, Frontier, HopData, Out, TraceSettings
from jinyu.risk.tracing.schemas import (
    AmountLine,
    Basis,
    BatchRequest,
    BatchResult,
    BatchRow,
    BatchSummary,
    DataVersion,
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

BANK_KINDS = {OrgKind.BANK_HEAD_OFFICE, OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET}
MAX_BATCH_LOANS = 20_000
MAX_FRONTIER = 50_000  # accounts in one hop of one loan; raise the dust threshold to trace wider
PURPOSE = "贷后资金流向监测 / post-loan monitoring of the use of loan proceeds"
SINGLE_METHOD = "逐跳语句，策略运算在规则层 / one statement per hop, policy arithmetic in rules.trace"
BATCH_METHOD = "每月一条语句追踪全部贷款的所有跳 / one statement per month of loans, all hops"
_DATASETS = (
    "loans",
    "banks",
    "enterprises",
    "shareholders",
    "accounts",
    "transfers",
    "transfers_by_counterparty",
)
_SHELL_DATASETS = ("tax_monthly", "headcount_monthly")
_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
PURPOSE_LABELS = {
    "working_capital": "流动资金 / working capital",
    "equipment": "设备购置 / equipment",
    "construction": "工程建设 / construction",
    "trade": "贸易 / trade",
    "rnd": "研发 / R&D",
    "other": "其他 / other",
}
SHELL_INDICATORS = {
    "new": "新设企业 / newly registered",
    "inactive": "无纳税与社保 / no tax or insured staff",
    "linked": "与借款人同法人、地址或电话 / shares representative, address or phone with the borrower",
}


@dataclass(frozen=True)
class Stores:
    """Where tracing reads: the analytics engine, the lake it reads (for the data version) and the key
    that pseudonymizes accounts shown as evidence."""

    engine: Engine
    lake_root: Path
    pseudonym_key: bytes


# -- single loans ----------------------------------------------------------------------------------------------


def return_flow(
    session: Session, principal: Principal, stores: Stores, loan_id: str, params: TraceParams
) -> ReturnFlowResult:
    """企业信贷资金回流：贷款是否在若干跳、若干天内回到借款人或其关联方。"""
    root = _bank_root(session, principal)
    loan = _find_loan(stores, loan_id, root)
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
        verdict_label=_verdict_label(verdict),
        returned_amount=rules.yuan(returned_fen),
        returned_share=rules.share(returned_fen, fen),
        first_return_hops=min((int(n["hop"]) for n in returned), default=None),
        days_to_first_return=rules.days_between(traced.t0, first["first_ts"]) if first else None,
        by_relation=[
            _line(_relation_name(rank), _relation_label(rank), amount, fen)
            for rank, amount in sorted(relation_lines.items())
        ],
        by_hop=[HopLine(hop=h, amount=rules.yuan(a)) for h, a in sorted(by_hop.items())],
        attribution=_attribution(traced.trace.nodes, fen),
        evidence=_evidence(stores, traced, ["returned"], params.top_paths),
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
        detail=_inquiry_detail(params, traced.basis.data_version, share=str(result.returned_share)),
    )
    _audit(session, principal, "risk.tracing.return_flow", loan_id, result.inquiry_id, verdict, traced.basis)
    return result


def misuse(
    session: Session, principal: Principal, stores: Stores, loan_id: str, params: TraceParams
) -> MisuseResult:
    """企业信贷资金挪用：贷款流向证券、房地产、归还其他贷款或空壳企业的比例，并与申报用途比对。"""
    root = _bank_root(session, principal)
    loan = _find_loan(stores, loan_id, root)
    traced = trace_loan(stores, loan, params, "misuse", root)
    fen, nodes = traced.loan_fen, traced.trace.nodes
    purpose = str(loan["declared_purpose"])
    prohibited = rules.PROHIBITED_FOR_PURPOSE.get(purpose, frozenset(rules.MISUSE_KINDS))
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
                risky=kind in prohibited and rules.verdict(amount, fen, params.risk_share) == "risky",
                first_hops=min((int(n["hop"]) for n in found), default=None),
                days=rules.days_between(traced.t0, first["first_ts"]) if first else None,
            )
        )
    verdict = rules.verdict(misused_fen, fen, params.risk_share)
    infos = _account_infos(stores, traced, list(rules.MISUSE_KINDS), params.top_paths, first_hop=True)
    result = MisuseResult(
        inquiry_id="",
        loan=traced.loan_out,
        verdict=verdict,
        verdict_label=_verdict_label(verdict),
        misused_amount=rules.yuan(misused_fen),
        misused_share=rules.share(misused_fen, fen),
        by_category=lines,
        purpose=_purpose_check(purpose, nodes, infos, fen),
        shells=_shells(stores, traced, nodes),
        attribution=_attribution(nodes, fen),
        evidence=_evidence(stores, traced, list(rules.MISUSE_KINDS), params.top_paths, infos),
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
        detail=_inquiry_detail(params, traced.basis.data_version, share=str(result.misused_share)),
    )
    _audit(session, principal, "risk.tracing.misuse", loan_id, result.inquiry_id, verdict, traced.basis)
    return result


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
    shells: dict[str, tuple[bool, bool]]  # account -> (newly registered, linked to the borrower)
    basis: Basis


def trace_loan(
    stores: Stores, loan: Mapping[str, Any], params: TraceParams, mode: str, root: str
) -> Traced:
    version = data_version(stores.lake_root, _DATASETS + (_SHELL_DATASETS if mode == "misuse" else ()))
    t0 = _utc(loan["disbursed_at"])
    window = _window(loan, params)
    context = queries.context(stores.engine, mode, _context_params(loan, params, root, mode, window))
    related = RelatedSet.of(context)
    shells = {
        str(r["account_no"]): (bool(r["shell_new"]), bool(r["shell_linked"]))
        for r in context
        if r["row_type"] == "shell"
    }
    special = special_accounts(stores, version)
    lender = str(loan["bank_code"])

    def classify(src: str, dst: str, src_own: bool) -> tuple[str, bool]:
        category, bank_code, parent_code = special.get(dst, (None, None, None))
        facts = AccountFacts(category, bank_code, parent_code, related.rank.get(dst), dst in shells)
        return rules.classify_edge(mode, facts, src_own, src in related.rank, lender)

    settings = TraceSettings(
        max_hops=params.max_hops,
        window=dt.timedelta(days=params.window_days),
        dust=_fen(params.dust),
        hub_degree=params.hub_degree,
        policy=params.policy,
    )
    source = LakeHops(stores.engine, window["from_month"], window["to_month"])
    amount = _fen(loan["amount"])
    result = rules.trace(source, str(loan["disbursement_account"]), amount, t0, settings, classify)
    return Traced(
        loan=loan,
        loan_out=_loan_out(loan),
        loan_fen=amount,
        t0=t0,
        mode=mode,
        trace=result,
        related=related,
        shells=shells,
        basis=_basis(params, version, SINGLE_METHOD),
    )


class LakeHops:
    """`rules.HopSource` over the lake: one `tracing_hop_*` statement per hop for the whole frontier."""

    def __init__(self, engine: Engine, from_month: str, to_month: str) -> None:
        self.engine, self.from_month, self.to_month = engine, from_month, to_month

    def fetch(
        self, frontier: Sequence[Frontier], until: dt.datetime, hub_degree: int, inflow: bool
    ) -> HopData:
        if len(frontier) > MAX_FRONTIER:
            raise FrontierTooLarge(
                detail=f"单跳超过 {MAX_FRONTIER} 个账户，请提高尘埃阈值 / more than {MAX_FRONTIER} accounts in "
                "one hop: raise the dust threshold"
            )
        rows = queries.hop(
            self.engine,
            "pro_rata" if inflow else "fifo",
            {
                "frontier": frontier_text(frontier),
                "from_month": self.from_month,
                "to_month": self.to_month,
                "until": until,
                "hub_degree": hub_degree,
            },
        )
        data = HopData()
        for r in rows:
            src = str(r["src"])
            if r["row_type"] == "out":
                data.outgoing.setdefault(src, []).append(
                    Out(str(r["txn_id"]), _utc(r["ts"]), str(r["dst"]), int(r["amt"]))
                )
            elif r["row_type"] == "count":
                data.counts[src] = int(r["out_n"])
            else:
                data.inflow[src] = int(r["amt"])
        return data


def frontier_text(frontier: Iterable[Frontier]) -> str:
    """The frontier as the hop query's one text parameter: account|arrived (µs since epoch)|own, ..."""
    parts = []
    for node in frontier:
        if any(ch in node.account for ch in ",|"):
            raise ValueError(f"account number with a separator: {node.account!r}")
        micros = (_utc(node.arrived) - _EPOCH) // dt.timedelta(microseconds=1)
        parts.append(f"{node.account}|{micros}|{1 if node.own else 0}")
    return queries.LIST_SEPARATOR.join(parts)


# Stop and prohibited accounts do not depend on the loan: kept per process, keyed by the accounts' files.
_SPECIAL_LOCK = threading.Lock()
_SPECIAL: dict[tuple[str, str], dict[str, tuple[str | None, str | None, str | None]]] = {}


def special_accounts(
    stores: Stores, version: DataVersion
) -> dict[str, tuple[str | None, str | None, str | None]]:
    key = (str(stores.lake_root), data_version(stores.lake_root, ("accounts", "banks")).fingerprint)
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


# -- batches -------------------------------------------------------------------------------------------------

Progress = Callable[[int, int, int], None]  # (months done, months, loans so far)


def run_batch(
    session: Session,
    principal: Principal,
    stores: Stores,
    request: BatchRequest,
    progress: Progress | None = None,
) -> BatchResult:
    """批量核查：本行（或其下级机构）在期间内发放的全部贷款，每月一条语句追踪所有跳。"""
    root = _bank_root(session, principal)
    node = request.bank_code or root
    if node != root and node not in queries.bank_tree(stores.engine, root):
        raise BankNodeNotFound(detail=node)
    datasets = _DATASETS + (_SHELL_DATASETS if "misuse" in request.analyses else ())
    version = data_version(stores.lake_root, datasets)
    start = dt.datetime.combine(request.from_date, dt.time(), SHANGHAI).astimezone(_UTC)
    end = dt.datetime.combine(request.to_date + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(_UTC)
    loans = queries.batch_loans(
        stores.engine,
        {
            "root_code": node,
            "loans_from_month": _month(start),
            "loans_to_month": _month(end - dt.timedelta(microseconds=1)),
            "disbursed_from": start,
            "disbursed_to": end,
        },
    )
    if len(loans) > MAX_BATCH_LOANS:
        raise BatchTooLarge(
            detail=f"{len(loans)} 笔贷款超过上限 {MAX_BATCH_LOANS}，请缩短期间 / {len(loans)} loans exceed "
            f"{MAX_BATCH_LOANS}: shorten the period"
        )
    months = sorted({str(loan["loan_month"]) for loan in loans})
    found: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    done = 0
    for index, month in enumerate(months):
        chunk = [loan for loan in loans if loan["loan_month"] == month]
        for mode in request.analyses:
            params = _batch_params(request, node, month, start, end, mode)
            for r in queries.batch_trace(stores.engine, mode, request.policy, params):
                found[mode][str(r["loan_id"])].append(r)
        done += len(chunk)
        if progress:
            progress(index + 1, len(months), done)
    rows = [_batch_row(loan, found, request) for loan in loans]
    summary = _batch_summary(rows, found, request)
    batch_id = new_id()
    result = BatchResult(
        batch_id=batch_id,
        inquiry_id="",
        bank_code=node,
        from_date=request.from_date,
        to_date=request.to_date,
        analyses=request.analyses,
        summary=summary,
        rows=rows,
        basis=_basis(request, version, BATCH_METHOD),
    )
    result.inquiry_id = record_inquiry(
        session,
        principal,
        kind="batch",
        subject=batch_id,
        verdict="risky" if summary.risky_loans else "clean",
        risky=summary.risky_loans > 0,
        risky_amount=summary.risky_amount,
        detail={
            "loans": summary.loans,
            "risky_loans": summary.risky_loans,
            "bank_code": node,
            "from": request.from_date.isoformat(),
            "to": request.to_date.isoformat(),
            "analyses": list(request.analyses),
            **_inquiry_detail(request, version),
        },
    )
    ids = [r.loan_id for r in rows]
    for part, offset in enumerate(range(0, max(len(ids), 1), 1000)):
        audit.record(
            session,
            principal,
            action="risk.tracing.batch",
            subject_type="loan",
            subject_ids=ids[offset : offset + 1000],
            purpose=PURPOSE,
            detail={
                "batch_id": batch_id,
                "inquiry_id": result.inquiry_id,
                "part": part + 1,
                "loans": len(ids),
                "risky_loans": summary.risky_loans,
                "bank_code": node,
                "policy": request.policy,
                "data_version": version.fingerprint,
            },
        )
    return result


def _batch_params(
    request: BatchRequest, node: str, month: str, start: dt.datetime, end: dt.datetime, mode: str
) -> dict[str, object]:
    first = max(start, dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=SHANGHAI).astimezone(_UTC))
    last = min(end, _next_month(month))
    window = dt.timedelta(days=request.window_days)
    params: dict[str, object] = {
        "root_code": node,
        "window_days": request.window_days,
        "shell_age_days": request.shell_age_days,
        "from_month": month,
        "to_month": _month(last + window),
        "max_hops": request.max_hops,
        "dust_fen": _fen(request.dust),
        "hub_degree": request.hub_degree,
        "loans_from_month": month,
        "loans_to_month": month,
        "disbursed_from": first,
        "disbursed_to": last,
    }
    if mode == "misuse":
        params |= {
            "new_since": first.date() - dt.timedelta(days=request.shell_age_days),
            "until": (last + window).date(),
            "act_from": _add_months(month, -12),
        }
    return params


def _batch_row(
    loan: Mapping[str, Any], found: Mapping[str, Mapping[str, list[dict[str, Any]]]], request: BatchRequest
) -> BatchRow:
    loan_id, fen = str(loan["loan_id"]), _fen(loan["amount"])
    row: dict[str, Any] = {"returned_amount": None, "returned_share": None, "first_return_hops": None}
    row |= {"return_verdict": None, "misused_amount": None, "misused_share": None}
    row |= {"top_misuse": None, "misuse_verdict": None}
    verdicts = []
    if "return_flow" in request.analyses:
        returned = [r for r in found["return_flow"].get(loan_id, []) if r["kind"] == "returned"]
        amount = sum(int(r["traced"]) for r in returned)
        verdict = rules.verdict(amount, fen, request.risk_share)
        verdicts.append(verdict)
        row |= {
            "returned_amount": rules.yuan(amount),
            "returned_share": rules.share(amount, fen),
            "first_return_hops": min((int(r["hop"]) for r in returned), default=None),
            "return_verdict": verdict,
        }
    if "misuse" in request.analyses:
        prohibited = rules.PROHIBITED_FOR_PURPOSE.get(str(loan["declared_purpose"]), frozenset())
        per_kind: dict[str, int] = defaultdict(int)
        for r in found["misuse"].get(loan_id, []):
            if r["kind"] in prohibited:
                per_kind[str(r["kind"])] += int(r["traced"])
        amount = sum(per_kind.values())
        verdict = rules.verdict(amount, fen, request.risk_share)
        verdicts.append(verdict)
        row |= {
            "misused_amount": rules.yuan(amount),
            "misused_share": rules.share(amount, fen),
            "top_misuse": max(per_kind, key=lambda k: (per_kind[k], k)) if per_kind else None,
            "misuse_verdict": verdict,
        }
    overall = "risky" if "risky" in verdicts else ("attention" if "attention" in verdicts else "clean")
    return BatchRow(
        loan_id=loan_id,
        bank_code=str(loan["bank_code"]),
        borrower_uscc=str(loan["borrower_uscc"]),
        borrower_name=loan.get("borrower_name"),
        amount=rules.yuan(fen),
        disbursed_at=_utc(loan["disbursed_at"]),
        declared_purpose=str(loan["declared_purpose"]),
        verdict=overall,
        **row,
    )


def _batch_summary(
    rows: Sequence[BatchRow], found: Mapping[str, Mapping[str, list[dict[str, Any]]]], request: BatchRequest
) -> BatchSummary:
    total = sum(_fen(r.amount) for r in rows)
    risky_fen = 0
    for r in rows:
        if r.return_verdict == "risky" and r.returned_amount is not None:
            risky_fen += _fen(r.returned_amount)
        if r.misuse_verdict == "risky" and r.misused_amount is not None:
            risky_fen += _fen(r.misused_amount)
    kinds: dict[str, int] = defaultdict(int)
    for mode, wanted in (("return_flow", ("returned",)), ("misuse", rules.MISUSE_KINDS)):
        for loan_rows in found[mode].values():
            for x in loan_rows:
                if x["kind"] in wanted:
                    kinds[str(x["kind"])] += int(x["traced"])
    return BatchSummary(
        loans=len(rows),
        amount=rules.yuan(total),
        risky_loans=sum(1 for r in rows if r.verdict == "risky"),
        risky_amount=rules.yuan(risky_fen),
        return_risky=sum(1 for r in rows if r.return_verdict == "risky"),
        returned_amount=rules.yuan(sum(_fen(r.returned_amount or 0) for r in rows)),
        misuse_risky=sum(1 for r in rows if r.misuse_verdict == "risky"),
        misused_amount=rules.yuan(sum(_fen(r.misused_amount or 0) for r in rows)),
        by_kind=[
            _line(k, _kind_label(k), kinds[k], total) for k in ("returned", *rules.MISUSE_KINDS) if k in kinds
        ],
    )


# -- shared pieces ------------------------------------------------------------------------------------------


def _bank_root(session: Session, principal: Principal) -> str:
    """The caller's bank node code: the root of every loan it may trace."""
    principal.require(Perm.RISK_QUERY)
    org = party.resolve_org(session, principal.org_id)
    if org is None or principal.org_kind not in BANK_KINDS:
        raise NotABankOrganisation(detail=principal.org_kind.value)
    return org.code


def _find_loan(stores: Stores, loan_id: str, root: str) -> dict[str, Any]:
    loan = queries.loan(stores.engine, loan_id, root)
    if loan is None:
        raise LoanNotFound(detail=loan_id)
    return loan


def _window(loan: Mapping[str, Any], params: TraceParams) -> dict[str, str]:
    t0 = _utc(loan["disbursed_at"])
    return {
        "from_month": str(loan["loan_month"]),
        "to_month": _month(t0 + dt.timedelta(days=params.window_days)),
    }


def _context_params(
    loan: Mapping[str, Any], params: TraceParams, root: str, mode: str, window: Mapping[str, str]
) -> dict[str, object]:
    out: dict[str, object] = {
        "loan_id": str(loan["loan_id"]),
        "loan_month": str(loan["loan_month"]),
        "root_code": root,
        "window_days": params.window_days,
        "shell_age_days": params.shell_age_days,
    }
    if mode == "misuse":
        t0 = _utc(loan["disbursed_at"])
        out |= {
            "new_since": t0.date() - dt.timedelta(days=params.shell_age_days),
            "until": (t0 + dt.timedelta(days=params.window_days)).date(),
            "act_from": _add_months(str(loan["loan_month"]), -12),
            "to_month": window["to_month"],
        }
    return out


def data_version(lake_root: Path, datasets: Iterable[str]) -> DataVersion:
    """A fingerprint of the files a result was computed from (the lake only ever adds files)."""
    lake = Lake(lake_root)
    digest, count, last = hashlib.sha256(), 0, None
    for dataset in sorted(set(datasets)):
        for path in lake.files(dataset):
            rel = path.relative_to(lake.root).as_posix()
            digest.update(f"{rel}\t{path.stat().st_size}\n".encode())
            count += 1
            if dataset == "transfers" and path.parent.name.startswith("month="):
                month = path.parent.name.removeprefix("month=")
                last = month if last is None or month > last else last
    return DataVersion(fingerprint=digest.hexdigest()[:32], files=count, transfers_last_month=last)


def _basis(params: TraceParams, version: DataVersion, method: str) -> Basis:
    zh, en = rules.POLICY_TEXT[params.policy]
    return Basis(
        policy=params.policy,
        policy_text=f"{zh} / {en}",
        params=TraceParams.model_validate(params.model_dump(include=set(TraceParams.model_fields))),
        data_version=version,
        computed_at=utcnow(),
        method=method,
    )


def _attribution(nodes: Iterable[Mapping[str, Any]], fen: int) -> list[AmountLine]:
    return [_line(k, _kind_label(k), v, fen) for k, v in rules.balance(nodes).items() if v]


def _account_infos(
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
            str(n["account"]) for n in traced.trace.nodes if n["hop"] == 1 and n["kind"] not in rules.NODE_STATE_KINDS
        }
    return {str(r["account_no"]): r for r in queries.accounts(stores.engine, sorted(wanted))}


def _evidence(
    stores: Stores,
    traced: Traced,
    kinds: list[str],
    limit: int,
    infos: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[EvidencePath]:
    paths = rules.top_paths(traced.trace.nodes, traced.trace.edges, kinds, limit)
    if infos is None:
        infos = _account_infos(stores, traced, kinds, limit)
    out = []
    for path in paths:
        steps = []
        for step in path.steps:
            shown = view(step.account, traced.related, stores.pseudonym_key)
            category = (infos.get(step.account) or {}).get("category")
            new, linked = traced.shells.get(step.account, (False, False))
            indicators = _indicators(new, linked) if step.kind == "shell" else []
            steps.append(
                EvidenceStep(
                    hop=step.hop,
                    account=shown.account,
                    party=shown.party,
                    category=category,
                    category_label=category_label(category),
                    relation=shown.relation,
                    relation_label=shown.relation_label,
                    owner_name=shown.owner_name,
                    shell_indicators=indicators,
                    amount=rules.yuan(step.traced),
                    first_at=_utc(step.first_ts),
                )
            )
        end = path.steps[-1]
        out.append(
            EvidencePath(
                kind=path.kind,
                label=_kind_label(path.kind),
                amount=rules.yuan(path.amount),
                share=rules.share(path.amount, traced.loan_fen),
                hops=end.hop,
                days=rules.days_between(traced.t0, _utc(end.first_ts)),
                steps=steps,
            )
        )
    return out


def _indicators(new: bool, linked: bool) -> list[str]:
    out = [SHELL_INDICATORS["inactive"]]
    if new:
        out.insert(0, SHELL_INDICATORS["new"])
    if linked:
        out.append(SHELL_INDICATORS["linked"])
    return out


def _shells(stores: Stores, traced: Traced, nodes: Iterable[Mapping[str, Any]]) -> list[ShellOut]:
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
                indicators=_indicators(new, linked),
                amount=rules.yuan(amount),
            )
        )
    return out


def _purpose_check(
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


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    loan_id: str,
    inquiry_id: str,
    verdict: str,
    basis: Basis,
) -> None:
    audit.record(
        session,
        principal,
        action=action,
        subject_type="loan",
        subject_ids=[loan_id],
        purpose=PURPOSE,
        detail={
            "inquiry_id": inquiry_id,
            "verdict": verdict,
            "policy": basis.policy,
            "max_hops": basis.params.max_hops,
            "window_days": basis.params.window_days,
            "data_version": basis.data_version.fingerprint,
        },
    )


def _inquiry_detail(params: TraceParams, version: DataVersion, **extra: str) -> dict[str, Any]:
    return {
        "policy": params.policy,
        "max_hops": params.max_hops,
        "window_days": params.window_days,
        "dust": str(params.dust),
        "data_version": version.fingerprint,
        **extra,
    }


def _loan_out(loan: Mapping[str, Any]) -> LoanOut:
    return LoanOut(
        loan_id=str(loan["loan_id"]),
        bank_code=str(loan["bank_code"]),
        borrower_uscc=str(loan["borrower_uscc"]),
        borrower_name=loan.get("borrower_name"),
        amount=Decimal(loan["amount"]),
        disbursed_at=_utc(loan["disbursed_at"]),
        term_months=int(loan["term_months"]),
        declared_purpose=str(loan["declared_purpose"]),
    )


def _line(kind: str, label: str, fen: int, whole: int) -> AmountLine:
    return AmountLine(kind=kind, label=label, amount=rules.yuan(fen), share=rules.share(fen, whole))


def _kind_label(kind: str) -> str:
    zh, en = rules.KIND_LABELS.get(kind, (kind, kind))
    return f"{zh} / {en}"


def _relation_name(rank: int) -> str:
    return rules.RELATIONS[rank - 1][0]


def _relation_label(rank: int) -> str:
    _name, zh, en = rules.RELATIONS[rank - 1]
    return f"{zh} / {en}"


def _verdict_label(verdict: str) -> str:
    zh, en = rules.VERDICT_TEXT[verdict]
    return f"{zh} / {en}"


def _fen(amount: Decimal | int | str) -> int:
    return int((Decimal(amount) * 100).to_integral_exact())


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)


def _month(value: dt.datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m")


def _add_months(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _next_month(month: str) -> dt.datetime:
    return dt.datetime.strptime(_add_months(month, 1), "%Y-%m").replace(tzinfo=SHANGHAI).astimezone(_UTC)
