"""The prepaid-fund ledger: books per (insurer, hospital, product year), journals, alerts.

`post()` is the one place that writes a journal: it checks the postings balance, that the prepaid balance
never goes negative, updates the book's cached balances (the caller holds the book's row lock) and raises or
resolves the low-balance alert when the balance crosses the book's threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from jinyu.audit import service as audit
from jinyu.claim import repository as repo
from jinyu.claim.errors import LedgerBookExists, LedgerBookNotFound, LedgerEntryConflict
from jinyu.claim.models import ClaimAlert, ClaimLedgerBook, ClaimLedgerJournal, ClaimLedgerPosting
from jinyu.claim.rules import ledger as rules
from jinyu.claim.rules.ledger import Balances, BookMode, JournalKind, Posting
from jinyu.claim.schemas import (
    AlertOut,
    JournalOut,
    LedgerBookIn,
    LedgerBookOut,
    LedgerEntryIn,
    PostingOut,
    PrepaidLine,
)
from jinyu.claim.service.common import SETTLING_KINDS, require_org
from jinyu.core.auth import OrgKind, Perm, Principal
from jinyu.core.clock import utcnow
from jinyu.core.db import new_id
from jinyu.core.errors import invalid
from jinyu.core.pagination import Page
from jinyu.governance.policy.protect import Reader, protect
from jinyu.party import service as party

ZERO = Decimal("0.00")


def balances(book: ClaimLedgerBook) -> Balances:
    return Balances(book.prepaid, book.held, book.payable, book.claims, book.bank)


@dataclass(frozen=True)
class Entry:
    """One journal to append to a locked book."""

    book: ClaimLedgerBook
    kind: JournalKind
    reference: str
    amount: Decimal
    postings: Sequence[Posting]
    settlement_id: str | None = None
    memo: str = ""
    # the book's balances now, when the caller has them (a plan made on this locked book just before)
    before: Balances | None = None


def post(
    session: Session,
    book: ClaimLedgerBook,
    kind: JournalKind,
    reference: str,
    amount: Decimal,
    postings: Sequence[Posting],
    *,
    actor_id: str,
    settlement_id: str | None = None,
    memo: str = "",
) -> str:
    """Append one journal to a locked book and move its cached balances; the journal's id."""
    return post_all(session, [Entry(book, kind, reference, amount, postings, settlement_id, memo)], actor_id)[
        0
    ]


def post_all(session: Session, entries: Sequence[Entry], actor_id: str) -> list[str]:
    """Append journals to locked books in one statement per table and move the books' cached balances.

    Each journal must balance and keep the prepaid balance non-negative, checked in order (a book may appear
    more than once); nothing is written if any of them fails."""
    at = utcnow()
    first: dict[str, Balances] = {}
    last: dict[str, Balances] = {}
    books: dict[str, ClaimLedgerBook] = {}
    journals: list[dict[str, object]] = []
    postings: list[dict[str, object]] = []
    for e in entries:
        book_id = e.book.id
        books[book_id] = e.book
        before = last.get(book_id)
        if before is None:
            before = first[book_id] = e.before if e.before is not None else balances(e.book)
        last[book_id] = before.apply(e.postings)
        journal_id = new_id()
        journals.append(
            {
                "id": journal_id,
                "book_id": book_id,
                "kind": e.kind.value,
                "reference": e.reference,
                "settlement_id": e.settlement_id,
                "amount": e.amount,
                "memo": e.memo,
                "actor_id": actor_id,
                "at": at,
            }
        )
        postings += [
            {"id": new_id(), "journal_id": journal_id, "book_id": book_id, "account": a.value, "amount": v}
            for a, v in e.postings
        ]
    repo.add_journals(session, journals, postings)
    repo.store_book_balances(session, [(books[b], after.as_dict()) for b, after in last.items()], at)
    for book_id, after in last.items():
        _watch_balance(session, books[book_id], first[book_id], after)
    return [str(j["id"]) for j in journals]


def _watch_balance(session: Session, book: ClaimLedgerBook, before: Balances, after: Balances) -> None:
    if book.mode != BookMode.PREPAID.value or book.low_balance_threshold <= 0:
        return
    threshold = book.low_balance_threshold
    if before.prepaid >= threshold > after.prepaid:
        raise_alert(
            session,
            book,
            "low_balance",
            f"预付金余额 ¥{after.prepaid:,.2f} 低于预警线 ¥{threshold:,.2f}，请及时补充 / prepaid balance "
            f"¥{after.prepaid:,.2f} below the alert threshold ¥{threshold:,.2f}: top up",
        )
    elif before.prepaid < threshold <= after.prepaid:
        alert = repo.open_alert(session, book.id, "low_balance")
        if alert is not None:
            alert.resolved_at = utcnow()


def raise_alert(session: Session, book: ClaimLedgerBook, kind: str, message: str) -> None:
    session.add(
        ClaimAlert(
            id=new_id(),
            book_id=book.id,
            insurer_id=book.insurer_id,
            hospital_id=book.hospital_id,
            kind=kind,
            balance=book.prepaid,
            threshold=book.low_balance_threshold,
            message=message[:500],
            at=utcnow(),
        )
    )


def book_out(book: ClaimLedgerBook) -> LedgerBookOut:
    return LedgerBookOut(
        id=book.id,
        insurer_id=book.insurer_id,
        hospital_id=book.hospital_id,
        product_year=book.product_year,
        mode=book.mode,
        fallback=book.fallback,
        low_balance_threshold=book.low_balance_threshold,
        balances=balances(book).as_dict(),
        created_at=book.created_at,
    )


def journal_out(journal: ClaimLedgerJournal, postings: Sequence[ClaimLedgerPosting]) -> JournalOut:
    return JournalOut(
        id=journal.id,
        book_id=journal.book_id,
        kind=journal.kind,
        reference=journal.reference,
        settlement_id=journal.settlement_id,
        amount=journal.amount,
        memo=journal.memo,
        at=journal.at,
        postings=[PostingOut(account=p.account, amount=p.amount) for p in postings],
    )


def create_book(session: Session, principal: Principal, data: LedgerBookIn) -> LedgerBookOut:
    """Open the caller's book with a hospital for a product year: prepaid, arrears, or none."""
    principal.require(Perm.CLAIM_MANAGE)
    require_org(principal, OrgKind.INSURER)
    hospital = party.resolve_org(session, data.hospital_id)
    if hospital is None or hospital.kind not in SETTLING_KINDS:
        raise invalid("hospital_id", "不是医院或药店机构 / not a hospital or pharmacy organisation")
    if repo.find_book(session, principal.org_id, data.hospital_id, data.product_year) is not None:
        raise LedgerBookExists(detail=f"{hospital.code} {data.product_year}")
    book = ClaimLedgerBook(
        id=new_id(),
        insurer_id=principal.org_id,
        hospital_id=data.hospital_id,
        product_year=data.product_year,
        mode=data.mode.value,
        fallback=data.fallback.value,
        low_balance_threshold=data.low_balance_threshold,
        prepaid=ZERO,
        held=ZERO,
        payable=ZERO,
        claims=ZERO,
        bank=ZERO,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(book)
    session.flush()
    audit.record(
        session,
        principal,
        action="claim.ledger.book_create",
        subject_type="claim_ledger_book",
        subject_ids=[book.id],
        detail={"hospital_id": book.hospital_id, "year": book.product_year, "mode": book.mode},
    )
    return book_out(book)


def _book_or_404(session: Session, principal: Principal, book_id: str) -> ClaimLedgerBook:
    book = repo.get_book(session, principal, book_id)
    if book is None:
        raise LedgerBookNotFound(detail=book_id)
    return book


def get_book(session: Session, principal: Principal, book_id: str) -> LedgerBookOut:
    principal.require(Perm.CLAIM_READ)
    return book_out(_book_or_404(session, principal, book_id))


def list_books(
    session: Session, principal: Principal, hospital_id: str | None, year: int | None, limit: int, offset: int
) -> Page[LedgerBookOut]:
    principal.require(Perm.CLAIM_READ)
    rows, total = repo.list_books(session, principal, hospital_id, year, limit, offset)
    page = Page[LedgerBookOut](items=[book_out(b) for b in rows], total=total, limit=limit, offset=offset)
    return protect(page, Reader(principal))  # the console's claims page reads this too


def prepaid_by_insurer(session: Session, principal: Principal) -> list[PrepaidLine]:
    """Prepaid balances summed per insurer (regulators: every insurer; an insurer: its own books). Sums of
    exact Decimals; the read is audited."""
    principal.require(Perm.CLAIM_REPORT)
    lines: dict[str, PrepaidLine] = {}
    books = repo.reported_books(session, principal)
    for book in books:
        empty = PrepaidLine(
            insurer_id=book.insurer_id, books=0, prepaid=ZERO, held=ZERO, payable=ZERO, below_threshold=0
        )
        line = lines.setdefault(book.insurer_id, empty)
        line.books += 1
        line.prepaid += book.prepaid
        line.held += book.held
        line.payable += book.payable
        low = book.mode == BookMode.PREPAID.value and book.prepaid < book.low_balance_threshold
        line.below_threshold += int(low)
    audit.record(
        session,
        principal,
        action="claim.prepaid.report",
        subject_type="ledger_book",
        subject_ids=[b.id for b in books],
    )
    return list(lines.values())


def post_entry(session: Session, principal: Principal, book_id: str, data: LedgerEntryIn) -> JournalOut:
    """Deposit, top up, claw back prepaid money, or settle a period's arrears; idempotent by reference."""
    principal.require(Perm.CLAIM_MANAGE)
    require_org(principal, OrgKind.INSURER)
    book = repo.lock_book(session, _book_or_404(session, principal, book_id).id)
    kind = JournalKind(data.kind)
    reference = f"{kind.value}:{data.reference}"
    existing = repo.journal_by_reference(session, book.id, reference)
    if existing is not None:
        if data.amount is not None and existing.amount != data.amount:
            raise LedgerEntryConflict(detail=data.reference)
        return journal_out(existing, repo.postings_of(session, [existing.id])[existing.id])
    if kind == JournalKind.PERIOD_SETTLEMENT:
        amount, postings = rules.period_settlement(balances(book))
    else:
        if data.amount is None:
            raise invalid("amount", "必填 / required")
        if kind in (JournalKind.DEPOSIT, JournalKind.TOP_UP) and book.mode != BookMode.PREPAID.value:
            raise invalid("kind", "仅预付模式账簿可存入预付金 / deposits go to prepaid books only")
        amount = data.amount
        postings = rules.clawback(amount) if kind == JournalKind.CLAWBACK else rules.deposit(amount)
    journal_id = post(
        session, book, kind, reference, amount, postings, actor_id=principal.subject_id, memo=data.memo
    )
    audit.record(
        session,
        principal,
        action=f"claim.ledger.{kind.value}",
        subject_type="claim_ledger_book",
        subject_ids=[book.id],
        detail={"journal": journal_id, "amount": str(amount)},
    )
    journal = repo.journal_by_reference(session, book.id, reference)
    assert journal is not None  # written just above, in this transaction
    return journal_out(journal, repo.postings_of(session, [journal_id])[journal_id])


def list_journal(
    session: Session, principal: Principal, book_id: str, limit: int, offset: int
) -> Page[JournalOut]:
    principal.require(Perm.CLAIM_READ)
    book = _book_or_404(session, principal, book_id)
    rows, postings, total = repo.journals(session, book.id, limit, offset)
    return Page[JournalOut](
        items=[journal_out(j, postings[j.id]) for j in rows], total=total, limit=limit, offset=offset
    )


def list_alerts(
    session: Session, principal: Principal, open_only: bool, limit: int, offset: int
) -> Page[AlertOut]:
    principal.require(Perm.CLAIM_READ)
    rows, total = repo.list_alerts(session, principal, open_only, limit, offset)
    page = Page[AlertOut](
        items=[AlertOut.model_validate(a) for a in rows], total=total, limit=limit, offset=offset
    )
    return protect(page, Reader(principal))
