"""Tables the claim domain owns: products, enrollments and accumulators, settlements, the prepaid-fund
ledger, alerts and reconciliation runs.

Append-only: accumulator entries, payout entries, ledger journals and postings. Corrections and reversals are
new rows with the opposite sign. Cached balances (accumulators, book balances) are updated under the row lock
of their owner and can be recomputed from the entries.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from jinyu.core.clock import utcnow
from jinyu.core.db import PSEUDONYM, Base, IdColumn, Money, UTCDateTime, new_id

ZERO = Decimal("0.00")


class ClaimProduct(Base):
    """One version of a product's rules (immutable once stored; only its status changes)."""

    __tablename__ = "claim_products"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    edition: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # draft | active | retired
    lead_insurer_id: Mapped[str] = mapped_column(IdColumn, index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ClaimProductInsurer(Base):
    """The insurers of a product version and their shares (co-insurance)."""

    __tablename__ = "claim_product_insurers"
    __table_args__ = (UniqueConstraint("product_id", "insurer_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(ForeignKey("claim_products.id"))
    product_code: Mapped[str] = mapped_column(String(64), index=True)
    insurer_id: Mapped[str] = mapped_column(IdColumn, index=True)
    org_code: Mapped[str] = mapped_column(String(64))
    share: Mapped[str] = mapped_column(String(16))  # exact decimal text
    lead: Mapped[bool] = mapped_column(Boolean, default=False)


class ClaimEnrollment(Base):
    """An insured person in one product (= one policy year). The person is known only by token."""

    __tablename__ = "claim_enrollments"
    __table_args__ = (UniqueConstraint("product_code", "person_token"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    product_code: Mapped[str] = mapped_column(String(64), index=True)
    policy_year: Mapped[int] = mapped_column(Integer)
    person_token: Mapped[str] = mapped_column(String(40), index=True, info=PSEUDONYM)
    id_masked: Mapped[str] = mapped_column(String(18))
    name_masked: Mapped[str | None] = mapped_column(String(50))
    pre_existing: Mapped[list[str]] = mapped_column(JSON, default=list)  # ICD-10 codes or prefixes
    premium: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    status: Mapped[str] = mapped_column(String(16))  # active | suspended | cancelled
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClaimAccumulator(Base):
    """A running total of an enrollment: deductible used per pool, paid per liability, paid overall."""

    __tablename__ = "claim_accumulators"

    enrollment_id: Mapped[str] = mapped_column(ForeignKey("claim_enrollments.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # deductible | liability | overall
    # pool or liability code; a later policy year of a multi-year product: `code@year`
    code: Mapped[str] = mapped_column(String(72), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money, default=ZERO)


class ClaimAccumulatorEntry(Base):
    """Append-only: what one settlement added to (or, negative, gave back to) an accumulator."""

    __tablename__ = "claim_accumulator_entries"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    enrollment_id: Mapped[str] = mapped_column(IdColumn, index=True)
    settlement_id: Mapped[str] = mapped_column(ForeignKey("claim_settlements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(72))
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(16))  # settle | cancel | void
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


ACTIVE_STATUSES = ("pending", "settled")  # a settlement in force (held or paid)
# One active settlement per hospital visit unless the product allows interim settlements (docs/claims.md):
# the service checks it under the person-year's lock; this index is the database's own guard.
_ONE_ACTIVE_PER_VISIT = text("status IN ('pending', 'settled') AND NOT interim")


class ClaimSettlement(Base):
    """One adjudicated discharge (direct) or post-discharge claim and its state."""

    __tablename__ = "claim_settlements"
    __table_args__ = (
        UniqueConstraint("hospital_id", "mdtrt_id", "setl_id", "channel"),
        Index("ix_claim_settlements_hospital_day", "hospital_id", "business_date"),
        Index(
            "uq_claim_settlements_active_visit",
            "hospital_id",
            "mdtrt_id",
            unique=True,
            sqlite_where=_ONE_ACTIVE_PER_VISIT,
            postgresql_where=_ONE_ACTIVE_PER_VISIT,
        ),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))  # direct | post_discharge
    status: Mapped[str] = mapped_column(String(16), index=True)
    hospital_id: Mapped[str] = mapped_column(IdColumn)
    product_id: Mapped[str | None] = mapped_column(IdColumn, index=True)
    product_code: Mapped[str | None] = mapped_column(String(64), index=True)
    product_version: Mapped[int | None] = mapped_column(Integer)
    policy_year: Mapped[int | None] = mapped_column(Integer)
    enrollment_id: Mapped[str | None] = mapped_column(IdColumn, index=True)
    person_token: Mapped[str] = mapped_column(String(40), index=True, info=PSEUDONYM)
    id_masked: Mapped[str] = mapped_column(String(18))
    mdtrt_id: Mapped[str] = mapped_column(String(64))
    setl_id: Mapped[str] = mapped_column(String(64))
    interim: Mapped[bool] = mapped_column(Boolean, default=False)  # the product allows interim settlements
    msg_id: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    setl_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    business_date: Mapped[dt.date] = mapped_column(Date)  # Asia/Shanghai date of setl_time
    medfee_sumamt: Mapped[Decimal] = mapped_column(Money)
    med_type: Mapped[str] = mapped_column(String(8), server_default="21")  # NHSA 医疗类别
    insutype: Mapped[str | None] = mapped_column(String(3))  # 险种类型 (310 employees, 390 residents, …)
    psn_token: Mapped[str | None] = mapped_column(
        String(40), info=PSEUDONYM
    )  # keyed token of the NHSA psn_no
    act_pay_dedc: Mapped[Decimal] = mapped_column(Money, server_default="0")  # BMI deductible paid
    funds: Mapped[Decimal] = mapped_column(Money)  # hifp + hifmi + hifob + maf + oth
    acct_pay: Mapped[Decimal] = mapped_column(Money)
    cash_before: Mapped[Decimal] = mapped_column(Money)
    payout: Mapped[Decimal] = mapped_column(Money)
    cash_after: Mapped[Decimal] = mapped_column(Money)
    bill: Mapped[dict[str, Any]] = mapped_column(JSON)  # the record as received, minus the raw ID
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # the adjudication as answered
    funding: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # insurer id -> Funding
    note: Mapped[str] = mapped_column(String(500), default="")  # deferral, cancellation or voiding reason
    origin_id: Mapped[str | None] = mapped_column(IdColumn)  # post-discharge claim: the deferred settlement
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # cancelled, voided or transferred


class ClaimPayoutEntry(Base):
    """Append-only: a committed payout per liability and insurer (negative for reversals). Reports read it."""

    __tablename__ = "claim_payout_entries"
    __table_args__ = (Index("ix_claim_payout_entries_insurer_month", "insurer_id", "month"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    settlement_id: Mapped[str] = mapped_column(ForeignKey("claim_settlements.id"), index=True)
    insurer_id: Mapped[str] = mapped_column(IdColumn)
    hospital_id: Mapped[str] = mapped_column(IdColumn, index=True)
    product_code: Mapped[str] = mapped_column(String(64))
    liability: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))  # Asia/Shanghai month of the settlement
    amount: Mapped[Decimal] = mapped_column(Money)
    kind: Mapped[str] = mapped_column(String(16))  # payout | reversal
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClaimMessage(Base):
    """A hospital's message id, remembered so that a replay answers the same and a re-use is refused."""

    __tablename__ = "claim_messages"
    __table_args__ = (UniqueConstraint("hospital_id", "msg_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    hospital_id: Mapped[str] = mapped_column(IdColumn)
    msg_id: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(16))  # settle | cancel | post_discharge
    request_hash: Mapped[str] = mapped_column(String(64))
    settlement_id: Mapped[str] = mapped_column(ForeignKey("claim_settlements.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClaimLedgerBook(Base):
    """The prepaid-fund book of one (insurer, hospital, product year), with its cached balances."""

    __tablename__ = "claim_ledger_books"
    __table_args__ = (UniqueConstraint("insurer_id", "hospital_id", "product_year"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    insurer_id: Mapped[str] = mapped_column(IdColumn, index=True)
    hospital_id: Mapped[str] = mapped_column(IdColumn, index=True)
    product_year: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))  # prepaid | arrears | none
    fallback: Mapped[str] = mapped_column(String(16))  # arrears | defer
    low_balance_threshold: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    prepaid: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    held: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    payable: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    claims: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    bank: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClaimLedgerJournal(Base):
    """Append-only: one business event in a book (its postings add up to zero)."""

    __tablename__ = "claim_ledger_journals"
    __table_args__ = (UniqueConstraint("book_id", "reference"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    book_id: Mapped[str] = mapped_column(ForeignKey("claim_ledger_books.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(120))  # idempotency key within the book
    settlement_id: Mapped[str | None] = mapped_column(IdColumn, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    memo: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClaimLedgerPosting(Base):
    """Append-only: one side of a journal on one account (debit positive, credit negative)."""

    __tablename__ = "claim_ledger_postings"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    journal_id: Mapped[str] = mapped_column(ForeignKey("claim_ledger_journals.id"), index=True)
    book_id: Mapped[str] = mapped_column(IdColumn, index=True)
    account: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)


class ClaimAlert(Base):
    """A low prepaid balance or a settlement that needed the overdraw fallback."""

    __tablename__ = "claim_alerts"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    book_id: Mapped[str] = mapped_column(ForeignKey("claim_ledger_books.id"), index=True)
    insurer_id: Mapped[str] = mapped_column(IdColumn, index=True)
    hospital_id: Mapped[str] = mapped_column(IdColumn, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # low_balance | overdraw_fallback
    balance: Mapped[Decimal] = mapped_column(Money)
    threshold: Mapped[Decimal] = mapped_column(Money)
    message: Mapped[str] = mapped_column(String(500))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ClaimReconciliationRun(Base):
    """One daily reconciliation with a hospital's file (the same file twice is the same run)."""

    __tablename__ = "claim_reconciliation_runs"
    __table_args__ = (UniqueConstraint("hospital_id", "business_date", "file_hash"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    hospital_id: Mapped[str] = mapped_column(IdColumn, index=True)
    business_date: Mapped[dt.date] = mapped_column(Date)
    file_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # matched | corrected | discrepancies
    totals_match: Mapped[bool] = mapped_column(Boolean)
    their_count: Mapped[int] = mapped_column(Integer)
    their_total: Mapped[Decimal] = mapped_column(Money)
    our_count: Mapped[int] = mapped_column(Integer)
    our_total: Mapped[Decimal] = mapped_column(Money)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    discrepancies: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClaimReconciliationItem(Base):
    """A correction made or a discrepancy flagged by a reconciliation run."""

    __tablename__ = "claim_reconciliation_items"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("claim_reconciliation_runs.id"), index=True)
    mdtrt_id: Mapped[str] = mapped_column(String(64))
    setl_id: Mapped[str] = mapped_column(String(64))
    finding: Mapped[str] = mapped_column(String(24))
    settlement_id: Mapped[str | None] = mapped_column(IdColumn)
    our_status: Mapped[str | None] = mapped_column(String(16))
    our_amount: Mapped[Decimal | None] = mapped_column(Money)
    their_status: Mapped[str | None] = mapped_column(String(16))
    their_amount: Mapped[Decimal | None] = mapped_column(Money)
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
