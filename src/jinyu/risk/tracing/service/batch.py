"""Batches: every loan of a bank (or one of its nodes) disbursed in a period, chunk by chunk."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy.orm import Session

from jinyu.analytics.flowindex import FlowIndex
from jinyu.audit import service as audit
from jinyu.core.auth import Principal
from jinyu.core.clock import SHANGHAI
from jinyu.core.db import new_id
from jinyu.governance.policy.protect import Reader, protect
from jinyu.risk.inquiries import record_inquiry
from jinyu.risk.purposes import service as purposes
from jinyu.risk.purposes.rules import DEFAULT as DEFAULT_MATRIX
from jinyu.risk.purposes.rules import Matrix
from jinyu.risk.tracing import rules
from jinyu.risk.tracing.errors import (
    BankNodeNotFound,
    BatchTooLarge,
)
from jinyu.risk.tracing.related import RelatedSet
from jinyu.risk.tracing.schemas import (
    BatchRequest,
    BatchResult,
    BatchRow,
    BatchSummary,
)
from jinyu.risk.tracing.service import refund, vector
from jinyu.risk.tracing.service.base import (
    BATCH_METHOD,
    CHUNK_LOANS,
    MAX_BATCH_LOANS,
    PURPOSE,
    RESIDENT_BATCH_METHOD,
    UTC,
    Stores,
    add_months,
    amount_line,
    bank_root,
    basis_for,
    data_version,
    datasets_for,
    fen_of,
    inquiry_detail,
    kind_label,
    month_of,
    month_start,
    utc,
)
from jinyu.risk.tracing.service.context import Lookups, balances_of, lookups
from jinyu.risk.tracing.service.lake import (
    hop_policy,
    settings_for,
    shell_params,
    special_accounts,
    start_for,
)
from jinyu.risk.tracing.service.resident import ResidentHops, hop_source, resident_index

# -- batches -------------------------------------------------------------------------------------------------

Progress = Callable[[int, int, int], None]  # (chunks done, chunks, loans so far)


def run_batch(
    session: Session,
    principal: Principal,
    stores: Stores,
    request: BatchRequest,
    progress: Progress | None = None,
) -> BatchResult:
    """批量核查：本行（或其下级机构）在期间内发放的全部贷款，每月一条语句追踪所有跳。"""
    root = bank_root(session, principal)
    stores = stores.pinned()  # one listing of the lake for the whole request
    node = request.bank_code or root
    lookup = lookups(stores)
    if node != root and node not in lookup.bank_tree(root):
        raise BankNodeNotFound(detail=node)
    version = data_version(
        stores.lake_root, datasets_for(request, "misuse" in request.analyses), stores.listing
    )
    start = dt.datetime.combine(request.from_date, dt.time(), SHANGHAI).astimezone(UTC)
    end = dt.datetime.combine(request.to_date + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(UTC)
    loans = lookup.batch_loans(
        {
            "root_code": node,
            "loans_from_month": month_of(start),
            "loans_to_month": month_of(end - dt.timedelta(microseconds=1)),
            "disbursed_from": start,
            "disbursed_to": end,
        },
    )
    if len(loans) > MAX_BATCH_LOANS:
        raise BatchTooLarge(
            detail=f"{len(loans)} 笔贷款超过上限 {MAX_BATCH_LOANS}，请缩短期间 / {len(loans)} loans exceed "
            f"{MAX_BATCH_LOANS}: shorten the period"
        )
    # one source for the whole batch; the balance pool also needs the resident balances of record
    index = resident_index(stores)
    if hop_policy(request) != request.policy and balances_of(lookup) is None:
        index = None
    found = trace_batch(stores, node, loans, request, start, end, progress, index=index, lookup=lookup)
    matrix = purposes.in_force(session)
    rows = [batch_row(loan, found, request, matrix) for loan in loans]
    summary = batch_summary(rows, found, request)
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
        basis=basis_for(request, version, BATCH_METHOD if index is None else RESIDENT_BATCH_METHOD),
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
            **inquiry_detail(request, version),
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
    # The API answer and the CSV export (the CLI writes this same answer) leave through the policy.
    return protect(result, Reader(principal, stores.pseudonym_key))


Found = dict[str, dict[str, list[dict[str, Any]]]]  # analysis -> loan id -> node rows (not of UNREAD kinds)
# Node kinds a batch's rows and summary never read (only returned, refund and the misuse kinds are): the
# tracer's structure, most of a trace's rows; a batch keeps the classified ones (refunds only change
# returned ones).
UNREAD = frozenset({"origin", "pass", "dust", "cycle", "open", "hub", "residual"})


def trace_batch(
    stores: Stores,
    node: str,
    loans: Sequence[Mapping[str, Any]],
    request: BatchRequest,
    start: dt.datetime,
    end: dt.datetime,
    progress: Progress | None = None,
    *,
    index: FlowIndex | Literal["auto"] | None = "auto",
    lookup: Lookups | None = None,
    vectorised: bool = True,
) -> Found:
    """Every loan of the batch, up to CHUNK_LOANS loans (whole months) at a time: per analysis one context
    statement and one hop lookup for all of the chunk's loans (no access check; `run_batch` does it).

    Hops use `index` (the resident transfer index; "auto": the stores' current one if built) or the lake;
    the context `lookup` (None: the stores' resident context if built, else the statements). On the resident
    index the chunk is traced by `vector.trace_many` (all loans as arrays; `vectorised=False`: by
    `rules.trace_many`, loan by loan, as before: the same rows, kept for the comparison). Node rows of the
    UNREAD kinds are left out either way."""
    lookup = lookup if lookup is not None else lookups(stores)
    resident = resident_index(stores) if index == "auto" else index
    balances = balances_of(lookup)
    found: Found = defaultdict(dict)
    special = special_accounts(stores)
    chunks = chunks_of(loans)
    done = 0
    for number, (first_month, last_month, chunk) in enumerate(chunks):
        first = max(start, month_start(first_month))
        last = min(end, month_start(add_months(last_month, 1)))
        to_month = month_of(last + dt.timedelta(days=request.window_days))
        params: dict[str, dict[str, object]] = {}
        for mode in request.analyses:
            params[mode] = {
                "root_code": node,
                "loans_from_month": first_month,
                "loans_to_month": last_month,
                "disbursed_from": first,
                "disbursed_to": last,
                "window_days": request.window_days,
                "shell_age_days": request.shell_age_days,
            }
            if mode == "misuse":
                params[mode] |= shell_params(request, first, last, first_month, to_month)
        # one lookup for every analysis of the chunk (the resident context finds the related parties once)
        context = lookup.context_sets(params)
        shared = vector.Shared()  # the analyses' first hop and related accounts, found once (same loans)
        for mode in request.analyses:
            sets = context[mode]
            starts = [
                start_for(loan, mode, *sets.get(str(loan["loan_id"]), (RelatedSet(), {})), special)
                for loan in chunk
            ]
            source = hop_source(stores, resident, hop_policy(request), first_month, to_month, balances)
            if vectorised and isinstance(source, ResidentHops):  # every loan at once, the same rows
                traces = vector.trace_many(
                    source, starts, settings_for(request), all_edges=False, skip_kinds=UNREAD, shared=shared
                )
            else:
                traces = rules.trace_many(source, starts, settings_for(request))
                for t in traces.values():
                    t.nodes = [n for n in t.nodes if n["kind"] not in UNREAD]
            if mode == "return_flow":  # refunds are not return flow (service.refund)
                window = (first, last + dt.timedelta(days=request.window_days))
                traces = refund.apply_many(lookup, traces, window, (first_month, to_month))
            for key, result in traces.items():
                found[mode][key] = result.nodes
        done += len(chunk)
        if progress:
            progress(number + 1, len(chunks), done)
    return found


def chunks_of(loans: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, list[Mapping[str, Any]]]]:
    """Consecutive months of loans, up to CHUNK_LOANS loans each (a month is never split)."""
    by_month: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for loan in loans:
        by_month[str(loan["loan_month"])].append(loan)
    chunks: list[tuple[str, str, list[Mapping[str, Any]]]] = []
    for month in sorted(by_month):
        if chunks and len(chunks[-1][2]) + len(by_month[month]) <= CHUNK_LOANS:
            first, _last, rows = chunks[-1]
            chunks[-1] = (first, month, rows + by_month[month])
        else:
            chunks.append((month, month, list(by_month[month])))
    return chunks


def batch_row(
    loan: Mapping[str, Any], found: Found, request: BatchRequest, matrix: Matrix = DEFAULT_MATRIX
) -> BatchRow:
    loan_id, fen = str(loan["loan_id"]), fen_of(loan["amount"])
    row: dict[str, Any] = {"returned_amount": None, "returned_share": None, "first_return_hops": None}
    row |= {"refunded_amount": None}
    row |= {"return_verdict": None, "misused_amount": None, "misused_share": None}
    row |= {"top_misuse": None, "misuse_rule": None, "misuse_verdict": None}
    verdicts = []
    if "return_flow" in request.analyses:
        returned = [r for r in found.get("return_flow", {}).get(loan_id, []) if r["kind"] == "returned"]
        amount = sum(int(r["traced"]) for r in returned)
        verdict = rules.verdict(amount, fen, request.risk_share)
        verdicts.append(verdict)
        row |= {
            "returned_amount": rules.yuan(amount),
            "returned_share": rules.share(amount, fen),
            "first_return_hops": min((int(r["hop"]) for r in returned), default=None),
            "return_verdict": verdict,
            "refunded_amount": rules.yuan(
                sum(
                    int(r["traced"])
                    for r in found.get("return_flow", {}).get(loan_id, [])
                    if r["kind"] == "refund"
                )
            ),
        }
    if "misuse" in request.analyses:
        purpose = str(loan["declared_purpose"])
        prohibited = matrix.prohibited_kinds(purpose)
        per_kind: dict[str, int] = defaultdict(int)
        for r in found.get("misuse", {}).get(loan_id, []):
            if r["kind"] in prohibited:
                per_kind[str(r["kind"])] += int(r["traced"])
        amount = sum(per_kind.values())
        verdict = rules.verdict(amount, fen, request.risk_share)
        verdicts.append(verdict)
        row |= {
            "misused_amount": rules.yuan(amount),
            "misused_share": rules.share(amount, fen),
            "top_misuse": (top := max(per_kind, key=lambda k: (per_kind[k], k)) if per_kind else None),
            "misuse_rule": matrix.cite(purpose, top) if top else None,
            "misuse_verdict": verdict,
        }
    overall = "risky" if "risky" in verdicts else ("attention" if "attention" in verdicts else "clean")
    return BatchRow(
        loan_id=loan_id,
        bank_code=str(loan["bank_code"]),
        borrower_uscc=str(loan["borrower_uscc"]),
        borrower_name=loan.get("borrower_name"),
        amount=rules.yuan(fen),
        disbursed_at=utc(loan["disbursed_at"]),
        declared_purpose=str(loan["declared_purpose"]),
        verdict=overall,
        **row,
    )


def batch_summary(rows: Sequence[BatchRow], found: Found, request: BatchRequest) -> BatchSummary:
    total = sum(fen_of(r.amount) for r in rows)
    risky_fen = 0
    for r in rows:
        if r.return_verdict == "risky" and r.returned_amount is not None:
            risky_fen += fen_of(r.returned_amount)
        if r.misuse_verdict == "risky" and r.misused_amount is not None:
            risky_fen += fen_of(r.misused_amount)
    kinds: dict[str, int] = defaultdict(int)
    for mode, wanted in (("return_flow", ("returned",)), ("misuse", rules.MISUSE_KINDS)):
        for loan_rows in found.get(mode, {}).values():
            for x in loan_rows:
                if x["kind"] in wanted:
                    kinds[str(x["kind"])] += int(x["traced"])
    return BatchSummary(
        loans=len(rows),
        amount=rules.yuan(total),
        risky_loans=sum(1 for r in rows if r.verdict == "risky"),
        risky_amount=rules.yuan(risky_fen),
        return_risky=sum(1 for r in rows if r.return_verdict == "risky"),
        returned_amount=rules.yuan(sum(fen_of(r.returned_amount or 0) for r in rows)),
        misuse_risky=sum(1 for r in rows if r.misuse_verdict == "risky"),
        misused_amount=rules.yuan(sum(fen_of(r.misused_amount or 0) for r in rows)),
        by_kind=[
            amount_line(k, kind_label(k), kinds[k], total)
            for k in ("returned", *rules.MISUSE_KINDS)
            if k in kinds
        ],
    )
