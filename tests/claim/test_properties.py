"""Property tests (hypothesis) of the money invariants: adjudication, co-insurance splits and the ledger."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from jinyu.claim.errors import InsufficientPrepaidBalance
from jinyu.claim.rules import ledger
from jinyu.claim.rules.adjudicate import (
    Bill,
    BillLine,
    Usage,
    adjudicate,
    bill_problems,
    invariant_holds,
    split_shares,
)
from jinyu.claim.rules.product import InsurerShare, Product
from tests.claim.factories import sample_product

FEN = Decimal("0.01")
fen = st.integers(min_value=0, max_value=50_000_000).map(lambda n: Decimal(n) * FEN)
ratio = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n) / 10_000)


@st.composite
def bills(draw: st.DrawFn) -> Bill:
    parts = [draw(fen) for _ in range(4)]  # fulamt, overlmt, preselfpay, inscp
    medfee = sum(parts, Decimal("0.00"))
    left = medfee
    funds = []
    for _ in range(5):  # hifp, hifmi, hifob, maf, acct: each a part of what is left
        share = draw(st.integers(0, 100))
        amount = (left * share / 100).quantize(FEN)
        funds.append(amount)
        left -= amount
    bmi = draw(st.booleans())
    if not bmi:
        funds[:4] = [Decimal("0.00")] * 4
    return Bill(
        medfee_sumamt=medfee,
        fulamt_ownpay_amt=parts[0],
        overlmt_selfpay=parts[1],
        preselfpay_amt=parts[2],
        inscp_scp_amt=parts[3],
        hifp_pay=funds[0],
        hifmi_pay=funds[1],
        hifob_pay=funds[2],
        maf_pay=funds[3],
        acct_pay=funds[4],
        bmi_settled=bmi,
        med_type=draw(st.sampled_from(["11", "21", "2101", "28", "41", "52"])),
        act_pay_dedc=(parts[3] * draw(st.integers(0, 100)) / 100).quantize(FEN, rounding=ROUND_DOWN),
        lines_complete=False,  # only the drug lines are itemised
        lines=tuple(
            BillLine(f"{n}", code, code, amount, amount, pharmacy_code=pharmacy, diagnosis=diagnosis)
            for n, (code, amount, pharmacy, diagnosis) in enumerate(
                draw(
                    st.lists(
                        st.tuples(
                            st.sampled_from(["L01FF02", "L01FD01", "L01XL03", "X99"]),
                            st.just((parts[0] / 2).quantize(FEN, rounding=ROUND_DOWN)),
                            st.sampled_from([None, "PH0001", "PH9999"]),
                            st.sampled_from([None, "C34.1", "C50.9"]),
                        ),
                        max_size=2,
                    )
                )
            )
        ),
        diagnoses=tuple(draw(st.lists(st.sampled_from(["C34.1", "C50.9", "K35.8"]), max_size=2))),
    )


@st.composite
def products(draw: st.DrawFn) -> Product:
    base = sample_product()
    liabilities = []
    for li in base.raw["liabilities"]:
        r = {k: str(draw(ratio)) for k in ("standard", "pre_existing", "non_bmi", "pre_existing_non_bmi")}
        cap = draw(st.one_of(st.none(), fen.filter(lambda v: v > 0)))
        in_cap = cap is None or draw(st.booleans())
        liabilities.append(
            {**li, "ratios": r, "cap": None if cap is None else str(cap), "in_overall_cap": in_cap}
        )
    return sample_product(
        liabilities=liabilities,
        overall_cap=str(draw(fen.filter(lambda v: v > 0))),
        rounding=draw(st.sampled_from(["half_up", "half_even", "down"])),
        deductibles=[
            {
                "code": "annual",
                "amount": str(draw(fen)),
                "period": draw(st.sampled_from(["policy_year", "per_claim"])),
            }
        ],
    )


@settings(max_examples=300, deadline=None)
@given(products(), st.lists(bills(), min_size=1, max_size=4), st.booleans())
def test_every_claim_adds_up_to_the_fen_and_respects_deductible_and_caps(
    product: Product, claims: list[Bill], pre_existing: bool
) -> None:
    usage = Usage()
    total = Decimal("0.00")
    for bill in claims:
        assert bill_problems(bill) == []
        r = adjudicate(product, bill, usage, pre_existing=pre_existing)
        assert invariant_holds(bill, r)
        assert r.payout == sum((li.payout for li in r.liabilities), Decimal("0.00"))
        for li in r.liabilities:
            assert li.payout >= 0 and li.payout == li.payout.quantize(FEN)
            assert li.payout <= li.computed <= li.basis - li.deductible_applied
            spec = next(x for x in product.liabilities if x.code == li.code)
            if spec.cap is not None:
                assert r.after.liability_paid[li.code] <= spec.cap
        assert r.after.overall_paid <= product.overall_cap
        for code, used in r.after.deductible_used.items():
            assert 0 <= used <= product.deductible(code).amount
        # the accumulators move by exactly what this claim consumed
        inside = {x.code for x in product.liabilities if x.in_overall_cap}
        in_cap = sum((li.payout for li in r.liabilities if li.code in inside), Decimal("0.00"))
        assert r.after.overall_paid - usage.overall_paid == r.consumed.overall_paid == in_cap
        usage = r.after
        total += in_cap
    assert usage.overall_paid == total


@given(fen, st.lists(st.integers(1, 10_000), min_size=1, max_size=13))
def test_co_insurance_split_is_exact(amount: Decimal, weights: list[int]) -> None:
    whole = sum(weights)
    shares = [Decimal(w) / whole for w in weights]
    shares = [s.quantize(Decimal("0.000001")) for s in shares]
    shares[0] += Decimal(1) - sum(shares)
    insurers = [InsurerShare(f"I{n}", s, n == 0) for n, s in enumerate(shares)]
    parts = split_shares(amount, insurers)
    assert sum(parts.values()) == amount
    assert all(v >= 0 and v == v.quantize(FEN) for v in parts.values())
    for ins in insurers:  # nobody is more than a fen away from the exact share
        assert abs(parts[ins.org_code] - amount * ins.share) < FEN


ops = st.lists(
    st.tuples(
        st.sampled_from(["deposit", "clawback", "hold", "settle", "release", "commit", "reverse", "period"]),
        fen.filter(lambda v: v > 0),
        st.sampled_from(list(ledger.Fallback)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(ops, st.sampled_from([ledger.BookMode.PREPAID, ledger.BookMode.ARREARS]))
def test_ledger_balances_and_never_goes_negative(
    steps: list[tuple[str, Decimal, ledger.Fallback]], mode: ledger.BookMode
) -> None:
    book = ledger.Balances()
    journal: list[tuple[ledger.Account, Decimal]] = []
    held: list[ledger.Funding] = []
    committed: list[ledger.Funding] = []
    for op, amount, fallback in steps:
        if op == "deposit":
            postings = ledger.deposit(amount)
        elif op == "clawback":
            postings = ledger.clawback(amount)
        elif op in ("hold", "settle"):
            f = ledger.fund(amount, book, mode, fallback)
            if f is None:
                assert fallback == ledger.Fallback.DEFER and amount > book.prepaid
                continue
            assert f.from_prepaid + f.in_arrears == amount and f.from_prepaid <= book.prepaid
            postings = ledger.hold(f) if op == "hold" else ledger.settle(f)
            (held if op == "hold" else committed).append(f)
        elif op in ("release", "commit") and held:
            f = held.pop()
            postings = ledger.release(f) if op == "release" else ledger.commit(f)
            if op == "commit":
                committed.append(f)
        elif op == "reverse" and committed:
            postings = ledger.reverse(committed.pop())
        elif op == "period":
            _, postings = ledger.period_settlement(book)
        else:
            continue
        try:
            book = book.apply(postings)
        except InsufficientPrepaidBalance:
            assert op == "clawback" and amount > book.prepaid
            continue
        journal.extend(postings)
        assert book.prepaid >= 0 and book.held >= 0
        assert sum(book.as_dict().values(), Decimal(0)) == 0
    assert book == ledger.balances_of((a.value, v) for a, v in journal)
    assert book.held == sum((f.amount for f in held), Decimal("0.00"))
    assert book.claims == sum((f.amount for f in committed), Decimal("0.00"))
