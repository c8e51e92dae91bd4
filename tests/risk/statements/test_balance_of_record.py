"""The stated opening balance against the hub's balance of record (`opening_balances`), hand-computed.

A's balance of record on 1 February 2024 is 49,950.00; its only transfer from then to the period's first
day is T08 (+50.00 on 29 February), so the balance of record at the start of March is 50,000.00 — the
genuine statement's opening balance (world.OPENING).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from jinyu.analytics import Lake
from jinyu.governance.contracts import CONTRACTS
from jinyu.risk.statements import rules
from jinyu.risk.statements.rules.model import Statement
from tests.risk.tracing.lake import table

from .test_service import World, world
from .world import GENUINE, OPENING, A, csv_statement

__all__ = ["world"]


def _record(world: World, *rows: tuple[str, str]) -> None:
    contract = CONTRACTS["opening_balances"]
    data = [{"account_no": A, "as_of": day, "balance": amount, "currency": "CNY"} for day, amount in rows]
    Lake(Path(world.engine.lake_root)).append(
        "opening_balances", table("opening_balances", data), "OB", partition_by=None, sort_by=contract.sort_by
    )


def test_a_statement_opening_at_the_balance_of_record_is_genuine(world: World) -> None:
    _record(world, ("2024-01-01", "1.00"), ("2024-02-01", "49950.00"))  # the latest on or before 1 March
    result = world.verify(csv_statement(GENUINE))
    assert (result.verdict, result.counts.balance_breaks) == ("genuine", 0)
    assert (result.balances.of_record, result.balances.of_record_from) == (OPENING, "2024-02-01")


def test_an_opening_balance_off_the_record_is_a_break(world: World) -> None:
    _record(world, ("2024-02-01", "49950.00"))
    # Internally consistent: every running balance and the closing one follow from the stated opening.
    result = world.verify(csv_statement(GENUINE, opening=Decimal("60000.00")))
    assert result.verdict != "genuine"
    [found] = result.evidence.balance_breaks
    assert (found.source, found.expected, found.stated, found.difference) == (
        "opening_balance_of_record@2024-02-01",
        Decimal("50000.00"),
        Decimal("60000.00"),
        Decimal("10000.00"),
    )


def test_a_record_on_the_first_day_is_used_as_it_is(world: World) -> None:
    _record(world, ("2024-03-01", "50000.01"))
    result = world.verify(csv_statement(GENUINE))
    assert [b.expected for b in result.evidence.balance_breaks] == [Decimal("50000.01")]


def test_no_record_or_a_gap_in_the_ledger_checks_nothing(world: World) -> None:
    assert world.verify(csv_statement(GENUINE)).balances.of_record is None  # the lake has no balances at all
    _record(world, ("2023-12-01", "7.00"))  # December 2023 has no transfers in the hub: not established
    result = world.verify(csv_statement(GENUINE))
    assert (result.verdict, result.balances.of_record) == ("genuine", None)


def test_the_rule_alone() -> None:
    day = dt.date(2024, 1, 1)
    statement = Statement(
        format="csv", account_no=A, currency="CNY", period_start=day, period_end=day,
        opening_balance=Decimal("10.00"), closing_balance=Decimal("10.00"), lines=(),
    )  # fmt: skip
    assert rules.opening_of_record_break(statement, "2024-01-01", Decimal("10.00")) is None
    found = rules.opening_of_record_break(statement, "2024-01-01", Decimal("9.99"))
    assert found is not None and (found.index, found.difference) == (rules.OPENING_OF_RECORD, Decimal("0.01"))
