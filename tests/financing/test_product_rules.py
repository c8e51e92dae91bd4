"""Product fit, table-driven with hand-computed cases: every range boundary is inclusive (docs/financing.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jinyu.financing.rules import DemandFacts, ProductTerms, best_fit, misfits, product_problems

# 100,000.00–5,000,000.00 yuan, 6–36 months, purpose keywords 设备/研发, collateral or guarantee, industry C36 or I65.
P = ProductTerms(
    code="KJD-01", min_amount=Decimal("100000.00"), max_amount=Decimal("5000000.00"), min_term_months=6,
    max_term_months=36, purposes=("设备", "研发"), security_kinds=("collateral", "guarantee"),
    industries=("C36", "I65"),
)  # fmt: skip


def demand(
    amount: str = "800000.00", term: int = 24, purpose: str = "设备更新", security: str = "collateral",
    industry: str | None = "C3670",
) -> DemandFacts:  # fmt: skip
    return DemandFacts(Decimal(amount), term, purpose, security, industry)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (demand(), []),
        (demand(amount="100000.00"), []),  # lower amount boundary: inclusive
        (demand(amount="5000000.00"), []),  # upper amount boundary: inclusive
        (demand(amount="99999.99"), ["amount"]),  # one fen below
        (demand(amount="5000000.01"), ["amount"]),  # one fen above
        (demand(term=6), []),
        (demand(term=36), []),
        (demand(term=5), ["term"]),
        (demand(term=37), ["term"]),
        (demand(purpose="购买研发设备"), []),  # contains a keyword
        (demand(purpose="采购原材料"), ["purpose"]),
        (demand(security="guarantee"), []),
        (demand(security="credit"), ["security"]),
        (demand(security="pledge"), ["security"]),
        (demand(industry="I6510"), []),  # I65 is a prefix of I6510
        (demand(industry="C3"), ["industry"]),  # shorter than the prefix: not covered
        (demand(industry="C35"), ["industry"]),
        (demand(industry=None), ["industry"]),  # unknown industry never fits a product that names industries
        (
            demand(amount="1.00", term=400, purpose="x", security="credit", industry="A01"),
            ["amount", "term", "purpose", "security", "industry"],
        ),
    ],
)
def test_fit_and_no_fit(facts: DemandFacts, expected: list[str]) -> None:
    assert misfits(P, facts) == expected


def test_open_purposes_and_industries_accept_anything() -> None:
    open_product = ProductTerms(
        code="X", min_amount=Decimal("1.00"), max_amount=Decimal("10.00"), min_term_months=1, max_term_months=1,
        purposes=(), security_kinds=("credit",), industries=(),
    )  # fmt: skip
    assert (
        misfits(
            open_product, demand(amount="10.00", term=1, purpose="随便", security="credit", industry=None)
        )
        == []
    )


def test_inactive_never_fits_and_lowest_code_wins() -> None:
    inactive = ProductTerms(**{**P.__dict__, "code": "AAA", "active": False})
    other = ProductTerms(**{**P.__dict__, "code": "BBB"})
    assert misfits(inactive, demand()) == ["inactive"]
    assert best_fit([other, P, inactive], demand()) == other  # "BBB" < "KJD-01"; "AAA" is inactive
    assert best_fit([inactive], demand()) is None


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({}, []),
        ({"min_amount": Decimal("0.00")}, ["min_amount"]),
        ({"min_amount": Decimal("6000000.00")}, ["min_amount"]),
        ({"min_term_months": 0}, ["min_term_months"]),
        ({"max_term_months": 361}, ["min_term_months"]),
        ({"security_kinds": ()}, ["security_kinds"]),
        ({"security_kinds": ("credit", "mortgage")}, ["security_kinds[1]"]),
        ({"industries": ("C36", "36")}, ["industries[1]"]),
        ({"purposes": ("设备", " ")}, ["purposes[1]"]),
    ],
)
def test_product_problems(changes: dict[str, object], fields: list[str]) -> None:
    product = ProductTerms(**{**P.__dict__, **changes})  # type: ignore[arg-type]
    assert [f for f, _ in product_problems(product)] == fields
