"""Writing a settlement's effects, and taking them back exactly: accumulators, ledger journals, payouts.

A settlement moves three things, all under the enrollment's row lock (and the books' row locks):
- the person's accumulators (deductible used, paid per liability and overall), with append-only entries;
- the prepaid-fund ledger of each insurer at the hospital: hold (pending), commit, or both at once;
- payout entries per liability and insurer, written when the payout is committed (reports read them).
Cancelling, voiding and reversing write new entries with the opposite sign; nothing is updated in place
except cached totals and the settlement's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from jinyu.claim import repository as repo
from jinyu.claim.errors import HospitalNotInScheme
from jinyu.claim.models import ClaimLedgerBook, ClaimSettlement
from jinyu.claim.rules import ledger as ledger_rules
from jinyu.claim.rules.adjudicate import Adjudication, Usage, split_shares
from jinyu.claim.rules.ledger import BookMode, Fallback, Funding, JournalKind
from jinyu.claim.service import ledger
from jinyu.claim.service.common import LoadedProduct, month_of
from jinyu.core.clock import utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import FieldError

ZERO = Decimal("0.00")


# ------------------------------------------------------------------------------------------------ accumulators


def _deltas(consumed: Usage, suffix: str) -> list[tuple[str, str, Decimal]]:
    items = [("deductible", k, v) for k, v in consumed.deductible_used.items()]
    items += [("liability", k, v) for k, v in consumed.liability_paid.items()]
    items.append(("overall", "overall", consumed.overall_paid))
    return [(kind, code + suffix, v) for kind, code, v in items if v != 0]


def consume(
    session: Session,
    enrollment_id: str,
    settlement_id: str,
    consumed: Usage,
    amounts: dict[tuple[str, str], Decimal],
    suffix: str = "",
) -> None:
    """Add a settlement's consumption to the person's accumulators (enrollment locked by the caller);
    `suffix` keys a later policy year's counters (`Product.counter_suffix`)."""
    _apply(session, enrollment_id, settlement_id, _deltas(consumed, suffix), amounts, "settle")


def restore(session: Session, settlement: ClaimSettlement, reason: str) -> None:
    """Give back exactly what a settlement consumed (new negative entries)."""
    assert settlement.enrollment_id is not None
    entries = [e for e in repo.accumulator_entries_of(session, settlement.id) if e.reason == "settle"]
    amounts = repo.accumulator_amounts(session, settlement.enrollment_id)
    deltas = [(e.kind, e.code, -e.amount) for e in entries]
    _apply(session, settlement.enrollment_id, settlement.id, deltas, amounts, reason)


def _apply(
    session: Session,
    enrollment_id: str,
    settlement_id: str,
    deltas: list[tuple[str, str, Decimal]],
    amounts: dict[tuple[str, str], Decimal],
    reason: str,
) -> None:
    """Append one entry per delta and set the cached totals they move (`amounts` is updated in place)."""
    now = utcnow()
    entries = []
    changed: dict[tuple[str, str], Decimal] = {}
    for kind, code, amount in deltas:
        entries.append(
            {
                "id": new_id(),
                "enrollment_id": enrollment_id,
                "settlement_id": settlement_id,
                "kind": kind,
                "code": code,
                "amount": amount,
                "reason": reason,
                "at": now,
            }
        )
        key = (kind, code)
        amounts[key] = changed[key] = amounts.get(key, ZERO) + amount
    repo.add_accumulator_entries(session, entries)
    repo.store_accumulators(session, enrollment_id, changed)


# ------------------------------------------------------------------------------------------------ funding


@dataclass(frozen=True)
class Plan:
    """How a payout is shared among insurers, per liability, and where each insurer's share comes from."""

    split: list[tuple[str, str, Decimal]]  # (liability, insurer id, amount)
    totals: dict[str, Decimal]  # insurer id -> amount
    books: dict[str, ClaimLedgerBook]  # insurer id -> locked book
    funding: dict[str, Funding]  # insurer id -> funding

    def as_json(self) -> dict[str, Any]:
        return {
            "insurers": {
                iid: {"book_id": self.books[iid].id, **ledger_rules.funding_to(f)}
                for iid, f in self.funding.items()
            },
            "split": [{"liability": li, "insurer_id": iid, "amount": str(v)} for li, iid, v in self.split],
        }


class Deferral(Exception):
    """The claim cannot be paid directly now; it goes to the post-discharge path (a state, not an error)."""

    def __init__(self, code: str, message: str, book_ids: tuple[str, ...] = ()) -> None:
        super().__init__(code)
        self.code, self.message, self.book_ids = code, message, book_ids


def split(loaded: LoadedProduct, result: Adjudication) -> list[tuple[str, str, Decimal]]:
    out: list[tuple[str, str, Decimal]] = []
    for li in result.liabilities:
        if li.payout == 0:
            continue
        for code, amount in split_shares(li.payout, loaded.rules.insurers).items():
            if amount:
                out.append((li.code, loaded.insurer_ids[code], amount))
    return out


def direct_books(loaded: LoadedProduct, books: dict[str, ClaimLedgerBook]) -> dict[str, ClaimLedgerBook]:
    """The hospital's (locked) direct-settlement books of the product's insurers; refused when one is missing."""
    for insurer_id in loaded.insurer_ids.values():
        book = books.get(insurer_id)
        if book is None or book.mode == BookMode.NONE.value:
            message = (
                f"本院未开通产品 {loaded.rules.code} 的一站式结算 / this hospital is not in direct settlement "
                f"for product {loaded.rules.code} (no book with insurer {insurer_id})"
            )
            raise HospitalNotInScheme(
                detail=f"{loaded.rules.code} / insurer {insurer_id}",
                fields=[FieldError("product_code", message)],
            )
    return books


def plan(loaded: LoadedProduct, result: Adjudication, books: dict[str, ClaimLedgerBook]) -> Plan:
    """Fund each insurer's share from its (locked) book; Deferral when a book's fallback says so."""
    parts = split(loaded, result)
    totals: dict[str, Decimal] = {}
    for _, iid, amount in parts:
        totals[iid] = totals.get(iid, ZERO) + amount
    funding: dict[str, Funding] = {}
    for iid, amount in sorted(totals.items()):
        book = books[iid]
        f = ledger_rules.fund(amount, ledger.balances(book), BookMode(book.mode), Fallback(book.fallback))
        if f is None:
            raise Deferral(
                "prepaid_insufficient",
                f"预付金余额不足（{book.prepaid} < {amount}），转出院后理赔 / prepaid balance {book.prepaid} below "
                f"{amount}: the claim goes to the post-discharge path",
                (book.id,),
            )
        funding[iid] = f
    return Plan(parts, totals, {iid: books[iid] for iid in totals}, funding)


def postings_of(f: Funding, *, confirm: bool) -> list[ledger_rules.Posting]:
    """A settlement's postings on one book: paid at once (confirmed) or held until the hospital confirms."""
    return list(ledger_rules.settle(f) if confirm else ledger_rules.hold(f))


def book_hold_or_settle(
    session: Session, settlement: ClaimSettlement, p: Plan, *, confirm: bool, actor: str
) -> None:
    kind = JournalKind.SETTLE if confirm else JournalKind.HOLD
    reference = f"settlement:{settlement.id}:{kind.value}"
    funded = sorted(p.funding.items())
    entries = [
        ledger.Entry(p.books[i], kind, reference, f.amount, postings_of(f, confirm=confirm), settlement.id)
        for i, f in funded
    ]
    ledger.post_all(session, entries, actor)
    for iid, f in funded:
        book = p.books[iid]
        if f.in_arrears and book.mode == BookMode.PREPAID.value:
            ledger.raise_alert(
                session,
                book,
                "overdraw_fallback",
                f"预付金不足，{f.in_arrears} 转为垫付待期间结算 / prepaid short: {f.in_arrears} advanced by the "
                "hospital, to be paid in the period settlement",
            )


def _stored_funding(settlement: ClaimSettlement) -> dict[str, tuple[str, Funding]]:
    insurers: dict[str, dict[str, str]] = settlement.funding.get("insurers", {})
    return {iid: (f["book_id"], ledger_rules.funding_from(f)) for iid, f in insurers.items()}


def _journal_each(
    session: Session, settlement: ClaimSettlement, kind: JournalKind, actor: str, reference: str
) -> None:
    stored = _stored_funding(settlement)
    books = repo.lock_books(session, [b for b, _ in stored.values()])
    builders = {
        JournalKind.COMMIT: ledger_rules.commit,
        JournalKind.RELEASE: ledger_rules.release,
        JournalKind.REVERSAL: ledger_rules.reverse,
    }
    ref = f"settlement:{settlement.id}:{reference}"
    entries = [
        ledger.Entry(books[book_id], kind, ref, f.amount, builders[kind](f), settlement.id)
        for _iid, (book_id, f) in sorted(stored.items())
    ]
    ledger.post_all(session, entries, actor)


def payout_entries(
    session: Session,
    settlement: ClaimSettlement,
    *,
    sign: int,
    split: list[tuple[str, str, Decimal]] | None = None,
) -> None:
    """One entry per (liability, insurer) part of the payout, signed; the parts are the settlement's stored
    `funding["split"]`, or `split` (the plan's own parts, as stored) for a settlement being made."""
    if split is None:
        stored = settlement.funding.get("split", [])
        split = [(p["liability"], p["insurer_id"], Decimal(p["amount"])) for p in stored]
    now = utcnow()
    month = month_of(settlement.setl_time)
    kind = "payout" if sign > 0 else "reversal"
    product_code = settlement.product_code or ""
    repo.add_payout_entries(
        session,
        [
            {
                "id": new_id(),
                "settlement_id": settlement.id,
                "insurer_id": insurer_id,
                "hospital_id": settlement.hospital_id,
                "product_code": product_code,
                "liability": liability,
                "month": month,
                "amount": amount * sign,
                "kind": kind,
                "at": now,
            }
            for liability, insurer_id, amount in split
        ],
    )


# ------------------------------------------------------------------------------------------------ transitions


def commit(session: Session, settlement: ClaimSettlement, actor: str) -> None:
    """pending → settled: the held money becomes a paid claim."""
    _journal_each(session, settlement, JournalKind.COMMIT, actor, "commit")
    payout_entries(session, settlement, sign=1)
    settlement.status = "settled"
    settlement.confirmed_at = utcnow()


def release(session: Session, settlement: ClaimSettlement, actor: str, status: str, note: str) -> None:
    """pending → cancelled or voided: the hold is released and the accumulators given back."""
    _journal_each(session, settlement, JournalKind.RELEASE, actor, "release")
    restore(session, settlement, "cancel" if status == "cancelled" else "void")
    settlement.status = status
    settlement.closed_at = utcnow()
    settlement.note = note[:500]


def reverse(session: Session, settlement: ClaimSettlement, actor: str, note: str) -> None:
    """settled → cancelled: negative journals and payout entries, accumulators given back exactly."""
    if settlement.channel == "direct":
        _journal_each(session, settlement, JournalKind.REVERSAL, actor, "reversal")
    else:
        stored = _stored_funding(settlement)
        books = repo.lock_books(session, [b for b, _ in stored.values()])
        kind = JournalKind.POST_DISCHARGE_REVERSAL
        ref = f"settlement:{settlement.id}:reversal"
        entries = [
            ledger.Entry(
                books[b], kind, ref, f.amount, ledger_rules.post_discharge_reversal(f.amount), settlement.id
            )
            for _iid, (b, f) in sorted(stored.items())
        ]
        ledger.post_all(session, entries, actor)
    payout_entries(session, settlement, sign=-1)
    restore(session, settlement, "cancel")
    settlement.status = "cancelled"
    settlement.closed_at = utcnow()
    settlement.note = note[:500]
