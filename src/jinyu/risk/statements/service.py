"""Statement verification use case: a bank checks a statement an enterprise presented to it.

Order of checks: the caller's permission; the file (422 naming the line or element); the account (404 when
the hub does not know it); the enterprise's consent for scope `statements`, purpose
`statement_verification` (403 `consent_missing`, also for accounts no registered enterprise owns); the
currency and the period the hub covers (422); then matching, the verdict, the inquiry count and the audit
entry, in the caller's transaction. Refusals are audited by the boundary (the API's error handler, or the
CLI through `record_refusal`).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from jinyu.analytics import Engine
from jinyu.audit import service as audit
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import SHANGHAI
from jinyu.core.errors import FieldError, JinyuError
from jinyu.core.privacy import ACCOUNT_DOMAIN, Keys, mask, pseudonymize
from jinyu.governance.policy.protect import Reader, protect
from jinyu.party import service as party
from jinyu.party.schemas import OrgOut
from jinyu.risk.inquiries import record_inquiry
from jinyu.risk.statements import evidence, parsing, queries, rules
from jinyu.risk.statements.errors import (
    PeriodNotCovered,
    StatementAccountNotFound,
    StatementConsentMissing,
    malformed,
)
from jinyu.risk.statements.parsing import StatementFormat
from jinyu.risk.statements.rules import DEFAULT_THRESHOLDS, LedgerLine, Statement, Thresholds
from jinyu.risk.statements.schemas import VerificationResult

ACTION = "risk.statement.verify"


def verify_statement(
    session: Session,
    principal: Principal,
    engine: Engine,
    pseudonym_key: Keys,
    data: bytes,
    fmt: StatementFormat | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> VerificationResult:
    principal.require(Perm.RISK_QUERY)
    with cycle_collector_paused():
        return _verify(session, principal, engine, pseudonym_key, data, fmt, thresholds)


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """A 10,000-line check allocates some 10^5 objects, none in reference cycles, yet each allocation burst
    sets off the cyclic collector's passes over the whole heap: about 40% of the time, measured. Paused for the
    check (reference counting still frees everything), resumed after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _verify(
    session: Session,
    principal: Principal,
    engine: Engine,
    pseudonym_key: Keys,
    data: bytes,
    fmt: StatementFormat | None,
    thresholds: Thresholds,
) -> VerificationResult:
    statement = parsing.parse(data, fmt)
    account = queries.account(engine, statement.account_no)
    if account is None:
        raise StatementAccountNotFound(detail=mask(statement.account_no) or "")
    owner, basis = _consented_owner(session, principal, account)
    _check_currency(statement, account.currency)
    _check_coverage(engine, statement)
    ledger = ledger_lines(engine, statement, thresholds.date_tolerance_days)
    rec = rules.reconcile(statement, ledger, thresholds)
    record = balance_of_record(engine, statement)
    if record is not None and (found := rules.opening_of_record_break(statement, *record)) is not None:
        rec.balance_breaks.insert(0, found)
    summary = rules.summarise(statement, ledger, rec, thresholds)
    token = pseudonymize(pseudonym_key, account.account_no, ACCOUNT_DOMAIN)
    inquiry_id = _count_and_audit(session, principal, token, basis, statement, summary, thresholds)
    result = VerificationResult(
        inquiry_id=inquiry_id,
        verdict=summary.verdict.value,
        verdict_label=rules.VERDICT_LABELS[summary.verdict],
        reasons=list(summary.reasons),
        account=mask(account.account_no) or "",
        enterprise_name=owner.name,
        basis=basis,
        format=statement.format,
        currency=statement.currency,
        period_start=statement.period_start,
        period_end=statement.period_end,
        counts=evidence.counts(summary),
        rates=evidence.rates(summary),
        balances=evidence.balances(statement, ledger, record),
        risky_amount=summary.risky_amount,
        thresholds=evidence.thresholds(thresholds),
        name_matcher=rules.NAME_MATCHER,
        netting_complete=rec.netting_complete,
        evidence=evidence.evidence(statement, ledger, rec),
    )
    return protect(result, Reader(principal, pseudonym_key))


def _consented_owner(
    session: Session, principal: Principal, account: queries.AccountRow
) -> tuple[OrgOut, str]:
    owner = party.find_enterprise(session, account.owner_id) if account.owner_type == "enterprise" else None
    if owner is None:
        raise StatementConsentMissing(
            detail="账户不属于已注册企业 / the account is no registered enterprise's"
        )
    basis = consent.require_consent(
        session, principal, owner.id, Scope.STATEMENTS, Purpose.STATEMENT_VERIFICATION
    )
    return owner, basis


def _check_currency(statement: Statement, currency: str) -> None:
    if statement.currency != currency:
        message = f"对账单币种 {statement.currency} 与账户币种 {currency} 不符 / currency differs from the account's"
        raise malformed([FieldError(statement.currency_source, message)])


def _months(first: dt.date, last: dt.date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _check_coverage(engine: Engine, statement: Statement) -> None:
    wanted = _months(statement.period_start, statement.period_end)
    missing = sorted(set(wanted) - queries.months_loaded(engine, wanted[0], wanted[-1]))
    if missing:
        message = f"平台无以下月份的流水 / the hub has no transfers for {', '.join(missing)}"
        raise PeriodNotCovered(detail=message, fields=[FieldError("period", message)])


def balance_of_record(engine: Engine, statement: Statement) -> tuple[str, Decimal] | None:
    """(as_of, balance at the start of the period) from the latest balance of record on or before its first
    day plus the ledger's net flow from that day to the first day; None when the hub holds no balance for
    the account, or lacks transfers of a month in between (the figure could not be established)."""
    found = queries.balance_of_record(engine, statement.account_no, statement.period_start)
    if found is None:
        return None
    as_of, balance = found
    if as_of < statement.period_start:
        months = _months(as_of, statement.period_start - dt.timedelta(days=1))
        if set(months) - queries.months_loaded(engine, months[0], months[-1]):
            return None
        cols = queries.ledger_columns(
            engine,
            statement.account_no,
            dt.datetime.combine(as_of, dt.time(0), SHANGHAI),
            dt.datetime.combine(statement.period_start, dt.time(0), SHANGHAI),
            months[0],
            months[-1],
        )
        balance += sum(cols.amount, Decimal("0.00"))
    return as_of.isoformat(), balance


def ledger_lines(engine: Engine, statement: Statement, context_days: int) -> list[LedgerLine]:
    """The account's transfers in the period plus `context_days` either side (candidates for the tolerant
    pass only), with Shanghai booking dates."""
    first = statement.period_start - dt.timedelta(days=context_days)
    last = statement.period_end + dt.timedelta(days=context_days)
    cols = queries.ledger_columns(
        engine,
        statement.account_no,
        dt.datetime.combine(first, dt.time(0), SHANGHAI),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), SHANGHAI),
        f"{first:%Y-%m}",
        f"{last:%Y-%m}",
    )
    start, end = statement.period_start, statement.period_end
    lines = []
    for k, local in enumerate(cols.local):
        day = local.date()
        lines.append(
            LedgerLine(
                cols.txn_id[k], day, cols.amount[k], cols.counterparty_account[k], local.time(),
                cols.counterparty_name[k], cols.memo[k], cols.channel[k], start <= day <= end,
                cols.counterparty_category[k],
            )
        )  # fmt: skip
    return lines


def _count_and_audit(
    session: Session,
    principal: Principal,
    token: str,
    basis: str,
    statement: Statement,
    summary: rules.Summary,
    thresholds: Thresholds,
) -> str:
    detail = {
        "basis": basis,
        "format": statement.format,
        "period": f"{statement.period_start}/{statement.period_end}",
        "statement_lines": summary.statement_lines,
        "ledger_lines": summary.ledger_lines,
        "fabricated": summary.fabricated,
        "hidden": summary.hidden,
        "altered": summary.altered,
        "balance_breaks": summary.balance_breaks,
        "match_rate_count": str(summary.match_rate_count),
        "match_rate_amount": str(summary.match_rate_amount),
        "thresholds": thresholds.version,
    }
    inquiry_id = record_inquiry(
        session,
        principal,
        kind="statement",
        subject=token,
        verdict=summary.verdict.value,
        risky=summary.verdict != rules.Verdict.GENUINE,
        risky_amount=summary.risky_amount,
        detail=detail,
    )
    audit.record(
        session,
        principal,
        action=ACTION,
        subject_type="account",
        subject_ids=[token],
        purpose=Purpose.STATEMENT_VERIFICATION.value,
        detail={**detail, "inquiry_id": inquiry_id, "verdict": summary.verdict.value},
    )
    return inquiry_id


def record_refusal(factory: sessionmaker[Session], principal: Principal, exc: JinyuError) -> None:
    """For the CLI: audit a refused (403) or not-found (404) check in its own transaction, as the API does."""
    if exc.status not in (403, 404):
        return
    audit.record_outcome(
        factory,
        principal,
        action=ACTION,
        subject_type="account",
        outcome="denied" if exc.status == 403 else "not_found",
        detail={"code": exc.code},
    )
