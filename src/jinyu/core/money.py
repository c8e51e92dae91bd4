"""Money is Decimal yuan rounded to the fen (0.01) with ROUND_HALF_UP at defined points."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from jinyu.core.errors import invalid

FEN = Decimal("0.01")


def to_fen(amount: Decimal | int | str) -> Decimal:
    """Round a yuan amount to the fen, half up (a Decimal as it is: `Decimal(d)` would only copy it)."""
    return (amount if type(amount) is Decimal else Decimal(amount)).quantize(FEN, rounding=ROUND_HALF_UP)


def parse_amount(text: str, field_name: str = "amount") -> Decimal:
    """Parse an exact yuan amount with at most two decimals; never goes through float."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise invalid(field_name, f"不是有效金额 / not a decimal amount: {text!r}") from None
    if not value.is_finite():
        raise invalid(field_name, "金额必须是有限数 / amount must be finite")
    if value != value.quantize(FEN):
        raise invalid(field_name, "金额最多两位小数（分）/ at most two decimals (fen)")
    return value.quantize(FEN)
