"""A settlement's answer, audit entry and row, old code beside new, alternating in one process (issue 20, h-bo).

Why: on a shared 2-core machine a whole-batch A/B moves by ±15 % between rounds, more than the few per cent
each of these changes cuts. Here each piece runs on the bench's own discharges (`bench_claims._request`, the
sample product, enrolled persons as `bench_claims.setup` makes them, batches of auto-confirmed settlements),
once per settlement as the settling thread runs it, the old code (kept verbatim below) and the new one in
alternating blocks; medians of the blocks' CPU (this thread's clock) and the paired ratios.

Pieces:
- `answer`: the outcome model, its stored form and the API model of the settlement — old: `model_dump(mode=
  "json")`, `settlement_out(row, outcome)`; new: `claim.service.answers` (the stored form written directly,
  `fresh_settlement_out` reading the row's `__dict__`). Both sides' documents and answers are checked equal
  first. (`model_construct` was tried for the models and measured slower than their validation: not kept.)
- `audit_content`: the settle audit entry's content (`audit.rules.content_of`) — old: `json.dumps` per call,
  the identifier screen per string; new: encoders built once, one screen over all strings.
- `request_hash`: the canonical bill's hash (`common.request_hash`), `json.dumps` per call or an encoder built
  once.
- `row`: the settlement row and its payout entries — old: `new_row`, then seven instrumented attribute sets,
  the payout parts read back from the stored split; new: the row made with its values, the plan's parts.

Usage: uv run python benchmarks/bench_claims_answer_pieces.py [--blocks 9] [--n 1500]
       [--out claims-answer-pieces-issue20-h-bo.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml
from bench_claims import _request, _resident_id
from machine import machine_info, python_loop_ms, result_path

from jinyu.audit import rules as audit_rules
from jinyu.audit.rules import Content
from jinyu.claim import repository as repo
from jinyu.claim.models import ClaimEnrollment, ClaimLedgerBook, ClaimProduct, ClaimSettlement
from jinyu.claim.rules.adjudicate import Adjudication, Reason, Usage, adjudicate
from jinyu.claim.rules.parse import parse_product
from jinyu.claim.rules.product import ZERO, DeductiblePeriod, Product
from jinyu.claim.schemas import (
    Accumulators,
    CapState,
    DeductibleState,
    InsurerPayout,
    LiabilityPayout,
    Outcome,
    ReasonOut,
    SettleIn,
)
from jinyu.claim.service import answers, booking
from jinyu.claim.service.common import LoadedProduct, business_date, request_hash, settlement_out
from jinyu.claim.service.intake import Claim, bill_of, claim_of, new_row, setl_time_of
from jinyu.core.clock import utcnow
from jinyu.core.db import detached, new_id

SAMPLE = Path(__file__).resolve().parents[1] / "src/jinyu/claim/products/sample_chongqing_2025.yaml"
KEY = b"bench-pseudonym-key-0123456789abcdef"

# ------------------------------------------------------------------------------------------------ old code
# Verbatim from fe1d4a5 (claim/service/intake.py `outcome`, `_reason`, `new_row` as called by
# `settling.record_settlement`; common.py `accumulator_view`; booking.py `payout_entries`; audit/rules.py
# `json_text`, `_refuse_raw_identifiers`, `content_of`; claim/rules/product.py `canonical_json`).


def old_outcome(loaded: LoadedProduct, result: Adjudication, p: booking.Plan | None) -> Outcome:
    codes = {v: k for k, v in loaded.insurer_ids.items()}
    insurers = []
    if p is not None:
        for iid, f in sorted(p.funding.items()):
            insurers.append(
                InsurerPayout(
                    insurer_id=iid,
                    org_code=codes.get(iid, ""),
                    amount=f.amount,
                    from_prepaid=f.from_prepaid,
                    in_arrears=f.in_arrears,
                )
            )
    return Outcome(
        payout=result.payout,
        cash_before=result.cash_before,
        cash_after=result.cash_after,
        liabilities=[
            LiabilityPayout(
                code=li.code,
                name=li.name,
                kind=li.kind.value,
                basis=li.basis,
                deductible_pool=li.deductible_pool,
                deductible_applied=li.deductible_applied,
                ratio=li.ratio,
                ratio_kind=li.ratio_kind,
                computed=li.computed,
                payout=li.payout,
                reasons=[_old_reason(r) for r in li.reasons],
            )
            for li in result.liabilities
        ],
        not_paid=[_old_reason(r) for r in result.not_paid],
        accumulators=old_accumulator_view(loaded.rules, result.after),
        insurers=insurers,
        pre_existing=result.pre_existing,
    )


def _old_reason(r: Reason) -> ReasonOut:
    return ReasonOut(code=r.code, message=r.message, amount=r.amount, line_sn=r.line_sn)


def old_accumulator_view(product: Product, usage: Usage) -> Accumulators:
    deductibles = [
        DeductibleState(
            code=d.code,
            period=d.period.value,
            amount=d.amount,
            used=usage.deductible_used.get(d.code, ZERO)
            if d.period == DeductiblePeriod.POLICY_YEAR
            else ZERO,
            remaining=max(d.amount - usage.deductible_used.get(d.code, ZERO), ZERO)
            if d.period == DeductiblePeriod.POLICY_YEAR
            else d.amount,
        )
        for d in product.deductibles
    ]
    liabilities = [
        CapState(
            code=li.code,
            name=li.name,
            cap=li.cap,
            paid=usage.liability_paid.get(li.code, ZERO),
            remaining=None if li.cap is None else max(li.cap - usage.liability_paid.get(li.code, ZERO), ZERO),
        )
        for li in product.liabilities
    ]
    overall = CapState(
        code="overall",
        name="年度总限额 / overall annual cap",
        cap=product.overall_cap,
        paid=usage.overall_paid,
        remaining=max(product.overall_cap - usage.overall_paid, ZERO),
    )
    return Accumulators(deductibles=deductibles, liabilities=liabilities, overall=overall)


def old_payout_rows(settlement: ClaimSettlement, *, sign: int) -> list[dict[str, Any]]:
    now = utcnow()
    month = business_month(settlement.setl_time)
    return [
        {
            "id": new_id(),
            "settlement_id": settlement.id,
            "insurer_id": part["insurer_id"],
            "hospital_id": settlement.hospital_id,
            "product_code": settlement.product_code or "",
            "liability": part["liability"],
            "month": month,
            "amount": Decimal(part["amount"]) * sign,
            "kind": "payout" if sign > 0 else "reversal",
            "at": now,
        }
        for part in settlement.funding.get("split", [])
    ]


def business_month(value: dt.datetime) -> str:
    from jinyu.claim.service.common import month_of

    return month_of(value)


def old_json_text(value: Any) -> str:
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=audit_rules._jsonable,
    )


def _old_refuse_raw_identifiers(field: str, value: Any) -> None:
    if any(audit_rules.looks_like_raw_identifier(s) for s in audit_rules._strings_in(value)):
        raise audit_rules._reject(field, "looks like a raw personal identifier")


def old_content_of(
    *,
    action: str,
    subject_type: str,
    subject_ids: Sequence[str] = (),
    purpose: str | None = None,
    outcome: str = audit_rules.Outcome.OK,
    detail: Mapping[str, Any] | None = None,
) -> Content:
    if not audit_rules._ACTION_RE.match(action) or len(action) > 100:
        raise audit_rules._reject("action", "bad")
    if not audit_rules._SUBJECT_TYPE_RE.match(subject_type) or len(subject_type) > 64:
        raise audit_rules._reject("subject_type", "bad")
    if isinstance(subject_ids, str):
        raise audit_rules._reject("subject_ids", "bad")
    ids = [str(i) for i in subject_ids]
    if len(ids) > audit_rules.MAX_SUBJECT_IDS:
        raise audit_rules._reject("subject_ids", "bad")
    if any(not i or len(i) > audit_rules.MAX_SUBJECT_ID_CHARS for i in ids):
        raise audit_rules._reject("subject_ids", "bad")
    if outcome not in audit_rules._OUTCOMES:
        raise audit_rules._reject("outcome", "bad")
    if purpose is not None and (not purpose.strip() or len(purpose) > audit_rules.MAX_PURPOSE_CHARS):
        raise audit_rules._reject("purpose", "bad")
    for name, value in (("purpose", purpose), ("detail", detail)):
        _old_refuse_raw_identifiers(name, value)
    return Content(
        action=action,
        subject_type=subject_type,
        subject_ids=old_json_text(ids),
        purpose=purpose,
        outcome=str(audit_rules.Outcome(outcome)),
        detail=_old_detail_text(detail),
    )


def _old_detail_text(detail: Mapping[str, Any] | None) -> str | None:
    if detail is None:
        return None
    if not isinstance(detail, Mapping):
        raise audit_rules._reject("detail", "bad")
    try:
        text = old_json_text(dict(detail))
    except (TypeError, ValueError) as exc:
        raise audit_rules._reject("detail", str(exc)) from None
    if len(text) > audit_rules.MAX_DETAIL_CHARS:
        raise audit_rules._reject("detail", "bad")
    return text


def old_request_hash(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def old_row(case: Case) -> ClaimSettlement:
    row = new_row(case.claim, case.bill, case.enrollment, case.product, status="settled")
    row.interim = case.loaded.rules.interim_settlements
    row.payout, row.cash_after = case.result.payout, case.result.cash_after
    row.policy_year = case.result.policy_year
    row.result = case.document
    row.funding = case.plan.as_json()
    row.confirmed_at = row.created_at
    return row


# ------------------------------------------------------------------------------------------------ inputs


class Case:
    """One discharge of the HTTP bench, adjudicated and funded as the batch does it."""

    def __init__(self, n: int, loaded: LoadedProduct, books: dict[str, ClaimLedgerBook]) -> None:
        rng = random.Random(n)
        data = SettleIn.model_validate(_request(_resident_id(n), n, rng))
        self.claim: Claim = claim_of(
            data, namespace="h-1", hospital_id="h-1", channel="direct", msg_id=data.msg_id, key=KEY
        )
        self.bill = bill_of(self.claim.doc, "h-1")
        self.loaded = loaded
        used = Decimal(rng.randint(0, 3_000_000)) / 100  # some of the year's deductible used before
        self.result = adjudicate(loaded.rules, self.bill, Usage({"annual": used}), pre_existing=False)
        self.plan = booking.plan(loaded, self.result, books)
        self.enrollment = detached(ClaimEnrollment, id=new_id(), policy_year=2025)
        self.product = detached(ClaimProduct, id=loaded.row_id, code="CQ-YKB-2025", version=1)
        self.document = answers.outcome_document(answers.outcome(loaded, self.result, self.plan))
        self.row = old_row(self)
        self.detail = {"person": self.claim.who.token, "status": "settled", "payout": str(self.result.payout)}
        self.hash_payload = {"person": self.claim.who.token, "hospital": "h-1", **self.claim.doc}


def make_cases(count: int) -> list[Case]:
    rules = parse_product(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))
    loaded = LoadedProduct("prod-1", rules, {"I0001": "ins-a", "I0002": "ins-b"}, {})
    books = {
        iid: detached(
            ClaimLedgerBook,
            id=f"book-{iid}",
            mode="prepaid",
            fallback="arrears",
            prepaid=Decimal("100000000.00"),
            held=ZERO,
            payable=ZERO,
            claims=ZERO,
            bank=ZERO,
        )
        for iid in ("ins-a", "ins-b")
    }
    return [Case(n, loaded, books) for n in range(count)]


# ------------------------------------------------------------------------------------------------ pieces


def piece_answer(old: bool, cases: list[Case]) -> float:
    t0 = time.thread_time()
    if old:
        for c in cases:
            o = old_outcome(c.loaded, c.result, c.plan)
            _ = o.model_dump(mode="json")
            settlement_out(c.row, o)
    else:
        for c in cases:
            o = answers.outcome(c.loaded, c.result, c.plan)
            _ = answers.outcome_document(o)
            answers.fresh_settlement_out(c.row, o)
    return time.thread_time() - t0


def piece_audit(old: bool, cases: list[Case]) -> float:
    make = old_content_of if old else audit_rules.content_of
    t0 = time.thread_time()
    for c in cases:
        make(
            action="claim.settlement.settle",
            subject_type="claim_settlement",
            subject_ids=[c.row.id],
            detail=c.detail,
        )
    return time.thread_time() - t0


def piece_hash(old: bool, cases: list[Case]) -> float:
    digest = old_request_hash if old else request_hash
    t0 = time.thread_time()
    for c in cases:
        digest(c.hash_payload)
    return time.thread_time() - t0


def piece_row(old: bool, cases: list[Case]) -> float:
    t0 = time.thread_time()
    if old:
        for c in cases:
            row = old_row(c)
            old_payout_rows(row, sign=1)
    else:
        for c in cases:
            row = new_row(
                c.claim,
                c.bill,
                c.enrollment,
                c.product,
                status="settled",
                interim=c.loaded.rules.interim_settlements,
                payout=c.result.payout,
                cash_after=c.result.cash_after,
                policy_year=c.result.policy_year,
                result=c.document,
                funding=c.plan.as_json(),
            )
            row.__dict__["confirmed_at"] = row.created_at
            booking.payout_entries(None, row, sign=1, split=c.plan.split)  # type: ignore[arg-type]
    return time.thread_time() - t0


PIECES: dict[str, Callable[[bool, list[Case]], float]] = {
    "answer": piece_answer,
    "audit_content": piece_audit,
    "request_hash": piece_hash,
    "row": piece_row,
}


def check_same(cases: list[Case]) -> None:
    """Both sides make the same bytes: documents, answers, audit content, hashes, rows and payout entries."""
    for c in cases:
        old_o, new_o = old_outcome(c.loaded, c.result, c.plan), answers.outcome(c.loaded, c.result, c.plan)
        assert json.dumps(old_o.model_dump(mode="json")) == json.dumps(answers.outcome_document(new_o))
        assert (
            settlement_out(c.row, old_o).model_dump_json()
            == answers.fresh_settlement_out(c.row, new_o).model_dump_json()
        )
        args: dict[str, Any] = {
            "action": "claim.settlement.settle",
            "subject_type": "claim_settlement",
            "subject_ids": [c.row.id],
            "detail": c.detail,
        }
        assert old_content_of(**args) == audit_rules.content_of(**args)
        assert old_request_hash(c.hash_payload) == request_hash(c.hash_payload) == c.claim.hash
    case = cases[0]
    old = old_row(case)
    new = new_row(
        case.claim,
        case.bill,
        case.enrollment,
        case.product,
        status="settled",
        interim=case.loaded.rules.interim_settlements,
        payout=case.result.payout,
        cash_after=case.result.cash_after,
        policy_year=case.result.policy_year,
        result=case.document,
        funding=case.plan.as_json(),
    )
    new.__dict__["confirmed_at"] = new.created_at
    skip = {"id", "created_at", "confirmed_at", "_sa_instance_state"}
    assert {k: v for k, v in old.__dict__.items() if k not in skip} == {
        k: v for k, v in new.__dict__.items() if k not in skip
    }
    assert business_date(setl_time_of(case.claim.doc)) == new.business_date


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=9)
    ap.add_argument("--n", type=int, default=1500, help="settlements per block")
    ap.add_argument("--out", default="claims-answer-pieces-issue20-h-bo.json")
    args = ap.parse_args()
    repo_add = repo.add_payout_entries
    repo.add_payout_entries = lambda _session, _rows: None  # type: ignore[assignment]  # rows built, not sent
    try:
        cases = make_cases(args.n)
        check_same(cases[:200])
        before = python_loop_ms()
        results: dict[str, Any] = {}
        for name, piece in PIECES.items():
            piece(True, cases[:200]), piece(False, cases[:200])  # warm
            old_us, new_us = [], []
            for _ in range(args.blocks):
                old_us.append(1e6 * piece(True, cases) / len(cases))
                new_us.append(1e6 * piece(False, cases) / len(cases))
            o, n = statistics.median(old_us), statistics.median(new_us)
            ratios = sorted(b / a for a, b in zip(old_us, new_us, strict=True))
            results[name] = {
                "old_us_per_settlement": round(o, 2),
                "new_us_per_settlement": round(n, 2),
                "saved_us_per_settlement": round(o - n, 2),
                "ratio_of_medians": round(n / o, 3),
                "paired_ratio_median": round(statistics.median(ratios), 3),
                "paired_ratio_min_max": [round(ratios[0], 3), round(ratios[-1], 3)],
                "blocks_lower": sum(1 for a, b in zip(old_us, new_us, strict=True) if b < a),
                "old_blocks_us": [round(x, 2) for x in old_us],
                "new_blocks_us": [round(x, 2) for x in new_us],
            }
            print(name, {k: v for k, v in results[name].items() if not k.endswith("blocks_us")})
        after = python_loop_ms()
    finally:
        repo.add_payout_entries = repo_add  # type: ignore[assignment]
    total = sum(r["saved_us_per_settlement"] for r in results.values())
    print(f"saved in all: {total:.1f} µs per settlement")
    out = {
        "benchmark": "settlement answer, audit content, request hash and row: old and new code alternating "
        "(issue 20, h-bo)",
        "command": " ".join(["benchmarks/bench_claims_answer_pieces.py", *sys.argv[1:]]),
        "blocks": args.blocks,
        "settlements_per_block": args.n,
        "pieces": results,
        "saved_us_per_settlement": round(total, 1),
        "calibration": {"before": before, "after": after},
        "machine": machine_info(),
    }
    target = result_path(args.out)
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
