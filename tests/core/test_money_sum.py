"""`fen_sum`: sums of Money columns exact to the fen on both databases (SQLite adds text decimals as doubles)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import Column, Engine, MetaData, String, Table, func, insert, select

from jinyu.core.db import Money, fen_sum, yuan_of_fen


def test_a_long_sum_of_large_amounts_is_exact_to_the_fen(db_engine: Engine) -> None:
    table = Table(
        f"money_sum_{uuid.uuid4().hex[:8]}", MetaData(), Column("k", String(8)), Column("v", Money())
    )
    amounts = [Decimal("12345678.91"), Decimal("0.29"), Decimal("-0.07"), Decimal("987654321.99")]
    rows = [{"k": "a", "v": amounts[i % len(amounts)]} for i in range(40_000)]
    expected = sum((r["v"] for r in rows), Decimal("0.00"))
    with db_engine.connect() as conn:
        table.create(conn)
        try:
            conn.execute(insert(table), rows)
            exact = yuan_of_fen(conn.scalar(select(fen_sum(table.c.v))))
            naive = Decimal(str(conn.scalar(select(func.sum(table.c.v))))).quantize(Decimal("0.01"))
        finally:
            table.drop(conn)
            conn.rollback()
    assert exact == expected
    if db_engine.dialect.name == "sqlite":
        assert naive != expected  # why fen_sum exists: SQLite's own SUM drifts


def test_an_empty_sum_is_zero() -> None:
    assert yuan_of_fen(None) == Decimal("0.00")
