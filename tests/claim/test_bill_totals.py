"""A bill's funds and cash share, worked out once per (frozen) bill: by hand, and anew for a changed copy."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D

from jinyu.claim.rules.bill import Bill


def _bill(**changes: D) -> Bill:
    # 500.00 in all: 120.00 from the BMI fund, 30.00 critical illness, 10.00 other funds, 40.00 account
    base = Bill(
        medfee_sumamt=D("500.00"),
        fulamt_ownpay_amt=D("100.00"),
        overlmt_selfpay=D("0.00"),
        preselfpay_amt=D("0.00"),
        inscp_scp_amt=D("400.00"),
        hifp_pay=D("120.00"),
        hifmi_pay=D("30.00"),
        oth_pay=D("10.00"),
        acct_pay=D("40.00"),
    )
    return dataclasses.replace(base, **changes)


def test_funds_and_cash_share_by_hand() -> None:
    bill = _bill()
    assert bill.funds == D("160.00")  # 120 + 30 + 0 + 0 + 10
    assert bill.cash_before == D("300.00")  # 500 - 160 - 40
    assert bill.cash_before == D("300.00")  # read again: the same


def test_a_changed_copy_is_worked_out_anew() -> None:
    bill = _bill()
    assert bill.cash_before == D("300.00")
    richer = dataclasses.replace(bill, maf_pay=D("50.00"))
    assert (richer.funds, richer.cash_before) == (D("210.00"), D("250.00"))
    assert (bill.funds, bill.cash_before) == (D("160.00"), D("300.00"))


def test_reading_them_changes_neither_equality_nor_hash() -> None:
    read, unread = _bill(), _bill()
    assert read.cash_before == D("300.00")
    assert read == unread and hash(read) == hash(unread)
    assert "cash_before" not in repr(read)
