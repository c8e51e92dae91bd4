from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jinyu.core.errors import InvalidInput
from jinyu.core.money import parse_amount, to_fen
from jinyu.core.privacy import mask, mask_name, pseudonymize


@pytest.mark.parametrize(
    ("raw", "fen"), [("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"), ("-1.005", "-1.01")]
)
def test_to_fen_rounds_half_up(raw: str, fen: str) -> None:
    assert to_fen(raw) == Decimal(fen)


@pytest.mark.parametrize("bad", ["1.001", "abc", "NaN", "Infinity", ""])
def test_parse_amount_rejects(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(bad)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_parse_amount_is_exact(value: Decimal) -> None:
    assert parse_amount(str(value)) == value


def test_pseudonyms_are_keyed_and_domain_separated() -> None:
    a = pseudonymize(b"k1" * 16, "500101198506141234", "person")
    assert a == pseudonymize(b"k1" * 16, "500101198506141234", "person")
    assert a != pseudonymize(b"k2" * 16, "500101198506141234", "person")
    assert a != pseudonymize(b"k1" * 16, "500101198506141234", "account")
    assert "500101" not in a


def test_masks() -> None:
    assert mask("500101198506141234", 6, 4) == "500101********1234"
    assert mask("123") == "***"
    assert mask_name("张三丰") == "张**"
