"""Planted refunds (generator 1.6): a supplier reversing a purchase the loan paid is not return flow.

Per scale 1 / 5 / 12 of each, on a random stream of its own, as the last part (every other dataset row stays
as it was; it adds loans, their disbursements and the transfers below). The borrower pays a quiet company
unrelated to it five minutes after the disbursement, and the company sends money back 30 to 90 minutes later
(nothing else moves in between on either quiet account, so under FIFO the traced amounts are the planted ones):

  refund_full           the whole purchase back, channel `reversal`, memo 退货退款: a refund (not return flow)
  refund_less_fee       the purchase less 0.5% (whole yuan) back, channel `online`, memo 退款: a refund
  round_trip_unmarked   the whole purchase back, channel `online`, memo 往来款: no refund mark, so it is return
                        flow at hop 2 (the control: the rule must not swallow it)

Labels (risk_labels.csv): analysis `return_flow`; expected kind `refund` (detectable false: tracing must not
count it as returned) or `returned`; hops 2; the amount sent back.
"""

from __future__ import annotations

from jinyu.synth.model import ONLINE, REVERSAL, Region
from jinyu.synth.risk_cases import CASES_PER_TYPE, _Planter

REFUND_CASES = ("refund_full", "refund_less_fee", "round_trip_unmarked")
_MINUTE = 60


def _plant(p: _Planter, case: str) -> None:
    loan = p.loan()
    cents = p.share(loan, 0.3, 0.5)
    supplier = p.borrower(loan.month).settlement  # a quiet company unrelated to the borrower
    bought = p.pay(loan.ts + 5 * _MINUTE, loan.account, supplier, cents, "货款")
    back_at = bought + p.rng.randint(30, 90) * _MINUTE
    if case == "refund_full":
        back = p.pay(back_at, supplier, loan.account, cents, "退货退款", REVERSAL)
        kind, amount = "refund", cents
    elif case == "refund_less_fee":
        amount = cents - round(cents * 0.005 / 100) * 100
        back = p.pay(back_at, supplier, loan.account, amount, "退款", ONLINE)
        kind = "refund"
    else:
        back = p.pay(back_at, supplier, loan.account, cents, "往来款", ONLINE)
        kind, amount = "returned", cents
    p.label(loan, case, "return_flow", kind, 2, back, amount, "direct")
    if kind == "refund":
        p.labels["detectable"][-1] = "false"  # must not be found as return flow


def plant_refund_cases(region: Region) -> None:
    """The generator part: each refund case a few times (by scale), labels after every other case's."""
    planter = _Planter(region, region.rng("risk_cases:refund"), labels=region.tables["risk_labels"])
    planter.used = {
        e.idx for e in region.enterprises if e.uscc in set(region.tables["loans"]["borrower_uscc"])
    }
    for _ in range(CASES_PER_TYPE.get(region.scale.name, 1)):
        for case in REFUND_CASES:
            _plant(planter, case)
