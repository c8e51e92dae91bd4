"""Loans from bank branches to enterprises, and the transfers they cause.

Each loan is disbursed from the lending branch's internal account into the borrower's account at the same
bank, is spent within days on what it was declared for (suppliers, equipment makers, builders, R&D firms),
then pays interest monthly and its principal at maturity into the branch's loan repayment account. These are
clean loans: planted misuse and return flows are a separate part.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from jinyu.synth.calendar import add_months, epoch
from jinyu.synth.model import INTERNAL, ONLINE, Enterprise, Region

CORE_LOAN_CENTS = 50_000_000 * 100  # the article's pure-credit loan to the new-display core enterprise
_PURPOSES = ("working_capital", "equipment", "construction", "trade", "rnd", "other")
_PURPOSE_WEIGHTS = {
    "C": (55, 30, 0, 0, 10, 5),
    "E": (40, 10, 45, 0, 0, 5),
    "K": (40, 0, 55, 0, 0, 5),
    "F": (45, 0, 0, 50, 0, 5),
    "I": (50, 5, 0, 0, 40, 5),
    "M": (45, 10, 0, 0, 40, 5),
}
_DEFAULT_WEIGHTS = (75, 5, 0, 5, 5, 10)
_TERMS = (6, 12, 12, 12, 24, 36, 60)
_USE_MEMO = {
    "working_capital": "货款",
    "equipment": "设备款",
    "construction": "工程款",
    "trade": "货款",
    "rnd": "技术服务费",
    "other": "往来款",
}


def build_loans(region: Region) -> None:
    rng = region.rng("loans")
    cols: dict[str, list[Any]] = {
        c: []
        for c in (
            "loan_id",
            "bank_code",
            "borrower_uscc",
            "disbursement_account",
            "amount",
            "disbursed_at",
            "term_months",
            "declared_purpose",
        )
    }
    pools = _purpose_pools(region.enterprises)
    last = region.calendar.months - 1
    for ent in region.enterprises:
        if ent.kind in ("processor", "securities") or ent.status != "active" or ent.start_month > last - 3:
            continue
        if ent.is_core and ent.chain == "new_display":
            _loan(region, rng, cols, pools, ent, CORE_LOAN_CENTS, "working_capital", 36, month=15)
        chance = min(0.8, 0.15 + 0.06 * math.log1p(ent.size))
        while rng.random() < chance:
            chance *= 0.5
            purpose = rng.choices(_PURPOSES, _PURPOSE_WEIGHTS.get(ent.industry[0], _DEFAULT_WEIGHTS))[0]
            yuan = math.exp(rng.gauss(math.log(1_500_000) + 0.7 * math.log(max(ent.size, 1) / 10), 0.7))
            cents = max(50_000, min(500_000_000, int(round(yuan, -4)))) * 100
            term = rng.choice(_TERMS) * (2 if purpose in ("construction", "equipment") else 1)
            month = rng.randint(ent.start_month, last)
            _loan(region, rng, cols, pools, ent, cents, purpose, term, month)
    region.tables["loans"] = cols


def _purpose_pools(ents: list[Enterprise]) -> dict[str, list[Enterprise]]:
    """Whom loan money is paid to, by declared purpose."""
    # Chain members are paid only by their own chain's next segment; loan money goes to everyone else.
    active = [
        e for e in ents if e.status == "active" and e.kind not in ("processor", "securities") and not e.chain
    ]
    return {
        "equipment": [e for e in active if e.industry.startswith(("C34", "C35", "C36", "C38", "C39"))]
        or active,
        "construction": [e for e in active if e.kind == "construction"] or active,
        "rnd": [e for e in active if e.industry.startswith(("I65", "M73"))] or active,
        "any": active,
    }


def _loan(
    region: Region,
    rng: random.Random,
    cols: dict[str, list[Any]],
    pools: dict[str, list[Enterprise]],
    ent: Enterprise,
    cents: int,
    purpose: str,
    term: int,
    month: int,
) -> None:
    cal, banks, book = region.calendar, region.banks, region.accounts
    # Some loans go to the general account, if it was open before the loan's month.
    general_open = ent.general >= 0 and cal.month_of(book.opened[ent.general]) < month
    account = ent.general if general_open and rng.random() < 0.2 else ent.settlement
    branch = banks.outlet_branch[book.outlet[account]]
    day = rng.choice(cal.working_days[month])
    ts = epoch(day, rng.randint(9 * 3600, 16 * 3600 + 1800))
    seq = len(cols["loan_id"]) + 1
    loan_id = f"{banks.heads[banks.branches[branch].bank_no].code[:5]}{day:%Y%m%d}{seq:06d}"
    for col, value in zip(
        cols.values(),
        (loan_id, banks.branches[branch].code, ent.uscc, book.numbers[account], cents, ts, term, purpose),
        strict=True,
    ):
        col.append(value)
    events, memos = region.events, region.memos
    events.add(
        ts, banks.internal_account[branch], account, cents, INTERNAL, memos.code(f"贷款发放 {loan_id}"), month
    )
    _spend(region, rng, pools, ent, account, cents, purpose, ts, month)
    _service(region, rng, account, banks.repayment_account[branch], loan_id, cents, term, day)


def _spend(
    region: Region,
    rng: random.Random,
    pools: dict[str, list[Enterprise]],
    ent: Enterprise,
    account: int,
    cents: int,
    purpose: str,
    disbursed: int,
    month: int,
) -> None:
    """Pay 60-95% of the loan to counterparties that match the declared purpose, within ten days."""
    ents = region.enterprises
    if purpose in ("working_capital", "trade", "other") and ent.suppliers:
        payees = [ents[i] for i in ent.suppliers]
    else:
        payees = pools.get(purpose, pools["any"])
    parts = rng.randint(1, 3)
    budget = round(cents * rng.uniform(0.6, 0.95))
    memo = region.memos.code(_USE_MEMO[purpose])
    for k in range(parts):
        payee = _payee(rng, payees, ent, month)
        if payee is None:
            continue
        amount = budget // parts if k < parts - 1 else budget - (budget // parts) * (parts - 1)
        ts = disbursed + rng.randint(1800, 10 * 86400)
        region.events.add(ts, account, payee.settlement, amount, ONLINE, memo, _month_of_ts(region, ts))


def _payee(rng: random.Random, payees: list[Enterprise], ent: Enterprise, month: int) -> Enterprise | None:
    """A payee whose account is open and who is still in business that month (rejection sampling)."""
    for _ in range(20):
        payee = rng.choice(payees)
        if payee.idx != ent.idx and payee.start_month <= month <= payee.end_month:
            return payee
    return None


def _service(
    region: Region,
    rng: random.Random,
    account: int,
    repayment: int,
    loan_id: str,
    cents: int,
    term: int,
    disbursed: dt.date,
) -> None:
    """Monthly interest on the 20th and the principal at maturity, while inside the window."""
    cal, memos = region.calendar, region.memos
    rate = rng.uniform(0.032, 0.058)
    interest = round(cents * rate / 12)
    for k in range(1, term + 1):
        m = cal.month_of(add_months(disbursed, k))
        if m >= cal.months:
            break
        due = cal.nth_working_day(m, 13)  # about the 20th
        events = region.events
        events.add(
            epoch(due, rng.randint(28_800, 32_400)),
            account,
            repayment,
            interest,
            INTERNAL,
            memos.code(f"贷款利息 {loan_id}"),
            m,
        )
        if k == term:
            events.add(
                epoch(due, rng.randint(32_400, 36_000)),
                account,
                repayment,
                cents,
                INTERNAL,
                memos.code(f"归还贷款本金 {loan_id}"),
                m,
            )


def _month_of_ts(region: Region, ts: int) -> int:
    local = dt.datetime.fromtimestamp(ts + 8 * 3600, dt.UTC).date()
    return region.calendar.month_of(local)
