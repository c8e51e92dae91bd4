"""The settling thread's small leftovers (issue 20, h-br): same tokens, canonical claims, bills, plans and
journals as before, each checked against values worked out here by hand or by an independent computation."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from jinyu.claim.models import ClaimLedgerBook, ClaimSettlement
from jinyu.claim.rules.adjudicate import Usage, adjudicate
from jinyu.claim.rules.ledger import Balances
from jinyu.claim.rules.parse import parse_product
from jinyu.claim.schemas import SettleIn
from jinyu.claim.service import booking, ledger
from jinyu.claim.service.common import LoadedProduct
from jinyu.claim.service.intake import bill_of, claim_of
from jinyu.core import money
from jinyu.core.db import detached
from jinyu.core.ids import compact, validate_resident_id
from jinyu.core.privacy import pseudonymize
from jinyu.core.pseudokeys import Keyring

SAMPLE = Path(__file__).resolve().parents[2] / "src/jinyu/claim/products/sample_chongqing_2025.yaml"
K1, K2, K3 = b"k1" * 16, b"k2" * 16, b"k3" * 16
ID = "11010519491231002X"  # GB 11643's own example number


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def test_a_token_is_the_hmac_of_domain_and_value_carried_through_each_key_version() -> None:
    v1 = "pt_" + _hmac_hex(K1, f"person\x1f{ID}")[:32]
    v2 = "pt_v2_" + _hmac_hex(K2, f"rotate\x1f{v1}")[:32]
    v3 = "pt_v3_" + _hmac_hex(K3, f"rotate\x1f{v2}")[:32]
    assert pseudonymize(K1, ID, "person") == v1
    assert pseudonymize(Keyring({1: K1}), ID, "person") == v1
    assert pseudonymize(Keyring({1: K1, 2: K2}, current=2), ID, "person") == v2
    assert pseudonymize(Keyring({1: K1, 2: K2, 3: K3}, current=3), ID, "person") == v3


@pytest.mark.parametrize("raw", ["110105 19491231 002x", "110105-19491231-002X", "\t11010519491231002x\n"])
def test_separators_and_case_are_dropped_before_the_check(raw: str) -> None:
    assert compact(raw) == ID
    assert validate_resident_id(raw) == ID


@pytest.mark.parametrize(
    ("amount", "fen"),
    [
        (Decimal("1.005"), "1.01"),
        (Decimal("-2.675"), "-2.68"),
        (Decimal("0"), "0.00"),
        (Decimal("12345678901234.5"), "12345678901234.50"),
        (Decimal("0.004999"), "0.00"),
        (7, "7.00"),
        ("3.145", "3.15"),
    ],
)
def test_to_fen_rounds_a_decimal_it_is_given_half_up(amount: Decimal | int | str, fen: str) -> None:
    got = money.to_fen(amount)
    assert type(got) is Decimal and str(got) == fen


def _request(psn_no: str | None = "P123") -> SettleIn:
    body: dict[str, Any] = {
        "msg_id": "m-1",
        "certno": ID,
        "product_code": "CQ-YKB-2025",
        "setlinfo": {
            "mdtrt_id": "V1",
            "setl_id": "S1",
            "setl_time": "2025-03-01T07:30:00",  # Shanghai wall clock: 2025-02-28T23:30Z
            "medfee_sumamt": "1000",
            "fulamt_ownpay_amt": "100.5",
            "inscp_scp_amt": "899.50",
            "hifp_pay": "500.00",
            "act_pay_dedc": "0",
        },
    }
    if psn_no is not None:
        body["setlinfo"]["psn_no"] = psn_no
    return SettleIn.model_validate(body)


def test_the_canonical_claim_written_out_by_hand() -> None:
    data = _request()
    c = claim_of(data, namespace="h-1", hospital_id="h-1", channel="direct", msg_id="m-1", key=K1)
    expected_setlinfo = {
        "mdtrt_id": "V1",
        "setl_id": "S1",
        "setl_time": "2025-02-28T23:30:00+00:00",
        "medfee_sumamt": "1000.00",
        "fulamt_ownpay_amt": "100.50",
        "overlmt_selfpay": "0.00",
        "preselfpay_amt": "0.00",
        "inscp_scp_amt": "899.50",
        "hifp_pay": "500.00",
        "hifmi_pay": "0.00",
        "hifob_pay": "0.00",
        "maf_pay": "0.00",
        "oth_pay": "0.00",
        "acct_pay": "0.00",
        "psn_cash_pay": None,
        "bmi_settled": True,
        "dise_codg": None,
        "diag_codes": [],
        "psn_no": "pt_" + _hmac_hex(K1, "psn_no\x1fP123")[:32],
        "act_pay_dedc": "0.00",
    }  # med_type and insutype not sent: left out (format 2 fields)
    assert list(c.doc) == ["product_code", "setlinfo", "lines"]
    assert c.doc["setlinfo"] == expected_setlinfo
    assert list(c.doc["setlinfo"]) == list(expected_setlinfo)  # the record's field order (the hash's input)
    assert c.doc["lines"] == []
    assert c.who.token == "pt_" + _hmac_hex(K1, f"person\x1f{ID}")[:32]
    assert c.who.masked == "110105********002X"
    text = json.dumps(
        {"person": c.who.token, "hospital": "h-1", **c.doc},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    assert c.hash == hashlib.sha256(text.encode()).hexdigest()
    without = claim_of(
        _request(None), namespace="h-1", hospital_id="h-1", channel="direct", msg_id="m", key=K1
    )
    assert "psn_no" not in without.doc["setlinfo"]
    assert data.setlinfo.psn_no == "P123"  # the request itself is left as it came


def _loaded() -> LoadedProduct:
    rules = parse_product(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))
    return LoadedProduct("prod-1", rules, {"I0001": "ins-a", "I0002": "ins-b"}, {})


def _book(iid: str, prepaid: str) -> ClaimLedgerBook:
    zero = Decimal("0.00")
    return detached(
        ClaimLedgerBook,
        id=f"book-{iid}",
        mode="prepaid",
        fallback="arrears",
        prepaid=Decimal(prepaid),
        held=zero,
        payable=zero,
        claims=zero,
        bank=zero,
        low_balance_threshold=zero,
    )


def test_the_bill_is_the_same_with_the_day_handed_in() -> None:
    c = claim_of(_request(), namespace="h-1", hospital_id="h-1", channel="direct", msg_id="m-1", key=K1)
    bill = bill_of(c.doc, "h-1", day=dt.date(2025, 3, 1))
    assert bill == bill_of(c.doc, "h-1")
    assert bill.day == dt.date(2025, 3, 1)  # 07:30 in Shanghai on 1 March (23:30 UTC the day before)


def test_a_plan_is_booked_from_the_balances_it_was_funded_from(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two settlements on the same books, one after the other: each journal starts from the book as the one
    before left it, the first one's plan from the opening balances (as `post_all` reads them itself)."""
    from jinyu.claim import repository as repo

    journals: list[list[dict[str, object]]] = []
    monkeypatch.setattr(repo, "add_journals", lambda _s, j, _p: journals.append(j))

    def store(_s: object, moved: Any, _at: object) -> None:
        for book, balances in moved:
            book.__dict__.update(balances)

    monkeypatch.setattr(repo, "store_book_balances", store)
    loaded = _loaded()
    books = {"ins-a": _book("ins-a", "1000000.00"), "ins-b": _book("ins-b", "1000000.00")}
    c = claim_of(_request(), namespace="h-1", hospital_id="h-1", channel="direct", msg_id="m-1", key=K1)
    result = adjudicate(
        loaded.rules, bill_of(c.doc, "h-1"), Usage({"annual": Decimal("100000")}), pre_existing=False
    )
    assert result.payout > 0
    row = detached(ClaimSettlement, id="s-1")
    opened = {i: ledger.balances(b) for i, b in books.items()}
    p1 = booking.plan(loaded, result, books)
    assert p1.balances == {i: opened[i] for i in p1.funding}
    booking.book_hold_or_settle(None, row, p1, confirm=True, actor="t")  # type: ignore[arg-type]
    p2 = booking.plan(loaded, result, books)
    for iid, f in p1.funding.items():  # paid from prepaid: prepaid down, claims up by the share
        assert p2.balances[iid] == Balances(
            prepaid=opened[iid].prepaid - f.amount, claims=opened[iid].claims + f.amount
        )
    booking.book_hold_or_settle(None, row, p2, confirm=True, actor="t")  # type: ignore[arg-type]
    for iid, f in p1.funding.items():
        assert books[iid].prepaid == opened[iid].prepaid - 2 * f.amount
        assert books[iid].claims == 2 * f.amount
    assert [len(j) for j in journals] == [len(p1.funding), len(p2.funding)]
    assert len(p1.funding) == 2  # both insurers share it (the sample product's split)
    assert sum(f.amount for f in p1.funding.values()) == result.payout
