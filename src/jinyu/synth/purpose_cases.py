"""Planted cases of the purpose matrix: uses a loan's declared purpose permits, and a loan repaid through an
intermediary (借新还旧 behind a third party). Per scale 1 / 5 / 12 of each, on their own random stream, right
after the other planted cases (so the guarantor and declared related-party parts after it pick as before
among the loans):

  compatible_real_estate   a real-estate development loan paying a developer's escrow (permitted: a
                           negative by design for misuse)
  compatible_refinancing   a refinancing loan repaying a loan at another bank (permitted: a negative)
  intermediary_repayment   a working-capital loan paid to an unrelated company, which pays 98% of it into the
                           lending bank's loan repayment account a day or three later (misuse at hop 2)
"""

from __future__ import annotations

from jinyu.synth.model import Region
from jinyu.synth.risk_cases import CASES_PER_TYPE, _Planter

PURPOSE_CASES = ("compatible_real_estate", "compatible_refinancing", "intermediary_repayment")
_HOUR, _DAY = 3600, 86400


def _negative(p: _Planter) -> None:
    p.labels["detectable"][-1] = "false"


def compatible_real_estate(p: _Planter) -> None:
    loan = p.loan("real_estate_development")
    cents = p.share(loan, 0.4, 0.7)
    escrow = p.category_account("real_estate_developer", loan.ts)
    at = p.pay(loan.ts + p.rng.randint(2, 120) * _HOUR, loan.account, escrow, cents, "工程款")
    p.label(loan, "compatible_real_estate", "misuse", "real_estate", 1, at, cents, "direct")
    _negative(p)


def compatible_refinancing(p: _Planter) -> None:
    loan = p.loan("refinancing")
    cents = p.share(loan, 0.6, 0.9)
    repayment = p.category_account("loan_repayment", loan.ts, not_bank=p.bank_of(loan.account))
    at = p.pay(loan.ts + p.rng.randint(2, 72) * _HOUR, loan.account, repayment, cents, "还款")
    p.label(loan, "compatible_refinancing", "misuse", "other_loan", 1, at, cents, "direct")
    _negative(p)


def intermediary_repayment(p: _Planter) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.4, 0.7)
    go_between = p.borrower(loan.month).settlement  # a quiet company unrelated to the borrower
    got = p.pay(loan.ts + p.rng.randint(2, 24) * _HOUR, loan.account, go_between, cents, "货款")
    repayment = p.category_account("loan_repayment", loan.ts, bank=p.bank_of(loan.account))
    moved = round(cents * 0.98 / 100) * 100
    at = p.pay(got + p.rng.randint(24, 72) * _HOUR, go_between, repayment, moved, "还款")
    p.label(loan, "intermediary_repayment", "misuse", "intermediary_repayment", 2, at, moved, "intermediary")


def plant_purpose_cases(region: Region) -> None:
    """The generator part: each purpose case a few times (by scale), labels after the other cases'."""
    planter = _Planter(region, region.rng("risk_cases:purpose"), labels=region.tables["risk_labels"])
    planter.used = {
        e.idx for e in region.enterprises if e.uscc in set(region.tables["loans"]["borrower_uscc"])
    }
    for _ in range(CASES_PER_TYPE.get(region.scale.name, 1)):
        for plant in (compatible_real_estate, compatible_refinancing, intermediary_repayment):
            plant(planter)
