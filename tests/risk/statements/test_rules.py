"""The matching passes, the running-balance check and the verdict, table-driven on tiny inputs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from jinyu.risk.statements.rules import (
    DEFAULT_THRESHOLDS,
    Change,
    LedgerLine,
    MatchKind,
    StatementLine,
    Verdict,
    reconcile,
    similarity,
    summarise,
)
from jinyu.risk.statements.rules.balance import balance_breaks

from .builders import lline, sline, statement

EX, KEY, TOL, NET, ALT = (
    MatchKind.EXACT_REFERENCE,
    MatchKind.EXACT_KEY,
    MatchKind.TOLERANT,
    MatchKind.NETTED,
    MatchKind.ALTERED,
)
B, P = "6222000000000001", "6222000000000002"  # counterparties: a company and a person


@dataclass(frozen=True)
class Case:
    name: str
    statement: list[StatementLine]
    ledger: list[LedgerLine]
    matches: list[tuple[MatchKind, tuple[int, ...], tuple[int, ...], tuple[Change, ...]]]
    fabricated: list[int]
    hidden: list[int]


CASES = [
    Case(
        "reference is the txn_id",
        [sline("2024-03-05", "-100.00", B, "重庆乙贸易有限公司", "T1")],
        [lline("T1", "2024-03-05 10:00", "-100.00", B, "重庆乙贸易有限公司")],
        [(EX, (0,), (0,), ())],
        [],
        [],
    ),
    Case(
        "reference matches but the amount was changed",
        [sline("2024-03-05", "-1000.00", B, "重庆乙贸易有限公司", "T1")],
        [lline("T1", "2024-03-05 10:00", "-100.00", B, "重庆乙贸易有限公司")],
        [(ALT, (0,), (0,), (Change.AMOUNT,))],
        [],
        [],
    ),
    Case(
        "reference matches but the date moved beyond tolerance",
        [sline("2024-03-15", "-100.00", B, None, "T1")],
        [lline("T1", "2024-03-05 10:00", "-100.00", B)],
        [(ALT, (0,), (0,), (Change.DATE,))],
        [],
        [],
    ),
    Case(
        "same date, amount and counterparty account",
        [sline("2024-03-05", "250.50", B)],
        [lline("T1", "2024-03-05 23:59", "250.50", B, "乙")],
        [(KEY, (0,), (0,), ())],
        [],
        [],
    ),
    Case(
        "same date, amount and exact name when the statement shows no account",
        [sline("2024-03-05", "250.50", None, "重庆乙贸易有限公司")],
        [lline("T1", "2024-03-05 09:00", "250.50", B, "重庆乙贸易有限公司")],
        [(KEY, (0,), (0,), ())],
        [],
        [],
    ),
    Case(
        "booked a day later than the ledger time (tolerant)",
        [sline("2024-03-06", "-80.00", B)],
        [lline("T1", "2024-03-05 23:50", "-80.00", B)],
        [(TOL, (0,), (0,), ())],
        [],
        [],
    ),
    Case(
        "a name written differently (tolerant, fuzzy)",
        [sline("2024-03-05", "-80.00", None, "重庆乙贸易有限责任公司")],
        [lline("T1", "2024-03-05 11:00", "-80.00", B, "重庆乙贸易有限公司")],
        [(TOL, (0,), (0,), ())],
        [],
        [],
    ),
    Case(
        "a person's name against the hub's masked name",
        [sline("2024-03-05", "500.00", None, "张三丰")],
        [lline("T1", "2024-03-05 11:00", "500.00", P, "张**")],
        [(TOL, (0,), (0,), ())],
        [],
        [],
    ),
    Case(
        "a payroll batch printed as one line (netting, many ledger to one)",
        [sline("2024-03-08", "-18000.00", None, None, memo="代发工资")],
        [
            lline("T1", "2024-03-08 09:10", "-6000.00", "P1", "张*", memo="代发工资"),
            lline("T2", "2024-03-08 09:10", "-5000.00", "P2", "李*", memo="代发工资"),
            lline("T3", "2024-03-08 09:11", "-7000.00", "P3", "王*", memo="代发工资"),
            lline("T4", "2024-03-08 15:00", "-999.00", B, "乙", memo="货款"),
        ],
        [(NET, (0,), (0, 1, 2), ())],
        [],
        [3],
    ),
    Case(
        "one transfer split into two statement lines (netting, many statement to one)",
        [sline("2024-03-09", "-60.00", B), sline("2024-03-09", "-40.00", B)],
        [lline("T1", "2024-03-09 10:00", "-100.00", B)],
        [(NET, (0, 1), (0,), ())],
        [],
        [],
    ),
    Case(
        "a pair of same-counterparty transfers summing to one line (netting by search)",
        [sline("2024-03-09", "300.00", B)],
        [
            lline("T1", "2024-03-09 10:00", "120.00", B),
            lline("T2", "2024-03-09 11:00", "55.00", P),
            lline("T3", "2024-03-09 12:00", "180.00", B),
        ],
        [(NET, (0,), (0, 2), ())],
        [],
        [1],
    ),
    Case(
        "a line with no ledger counterpart is fabricated, a left-off transfer hidden",
        [sline("2024-03-10", "88888.00", "9999", "虚构公司")],
        [lline("T1", "2024-03-11 10:00", "-500.00", B)],
        [],
        [0],
        [0],
    ),
    Case(
        "amount changed, no reference (altered pair)",
        [sline("2024-03-12", "-5000.00", B, "乙")],
        [lline("T1", "2024-03-12 10:00", "-500.00", B, "乙")],
        [(ALT, (0,), (0,), (Change.AMOUNT,))],
        [],
        [],
    ),
    Case(
        "counterparty changed (altered pair)",
        [sline("2024-03-12", "-500.00", "1234567", "丙")],
        [lline("T1", "2024-03-12 10:00", "-500.00", B, "乙")],
        [(ALT, (0,), (0,), (Change.COUNTERPARTY,))],
        [],
        [],
    ),
    Case(
        "date moved by four days (altered pair)",
        [sline("2024-03-16", "-500.00", B)],
        [lline("T1", "2024-03-12 10:00", "-500.00", B)],
        [(ALT, (0,), (0,), (Change.DATE,))],
        [],
        [],
    ),
    Case(
        "the sign matters: a debit is not a credit",
        [sline("2024-03-12", "500.00", None, None)],
        [lline("T1", "2024-03-12 10:00", "-500.00", B)],
        [],
        [0],
        [0],
    ),
    Case(
        "duplicates pair in time order; the extra transfer is hidden",
        [sline("2024-03-12", "-20.00", B, time="09:00:00")],
        [lline("T1", "2024-03-12 09:00", "-20.00", B), lline("T2", "2024-03-12 17:00", "-20.00", B)],
        [(KEY, (0,), (0,), ())],
        [],
        [1],
    ),
    Case(
        "a context-day transfer outside the period matches tolerantly, and is never hidden when unused",
        [sline("2024-03-01", "-70.00", B)],
        [lline("T0", "2024-02-29 23:30", "-70.00", B), lline("T9", "2024-02-29 08:00", "-1.00", B)],
        [(TOL, (0,), (0,), ())],
        [],
        [],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_passes(case: Case) -> None:
    rec = reconcile(statement(case.statement), case.ledger)
    got = [(m.kind, m.statement, m.ledger, m.changes) for m in rec.matches]
    assert got == case.matches
    assert rec.fabricated == case.fabricated
    assert rec.hidden == case.hidden


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("重庆乙贸易有限公司", "重庆乙贸易有限公司", 1.0),
        ("张**", "张三丰", 1.0),
        ("张*", "张三丰", 0.0),  # a mask keeps the length
        ("李**", "张三丰", 0.0),
        ("", "张三", 0.0),
    ],
)
def test_similarity(a: str, b: str, expected: float) -> None:
    assert similarity(a, b) == expected


def test_fuzzy_names_pass_the_threshold_and_strangers_do_not() -> None:
    assert similarity("重庆乙贸易有限责任公司", "重庆乙贸易有限公司") >= DEFAULT_THRESHOLDS.name_similarity
    assert similarity("成都丁建设集团", "重庆乙贸易有限公司") < DEFAULT_THRESHOLDS.name_similarity


@pytest.mark.parametrize(
    ("lines", "opening", "closing", "breaks"),
    [
        ([("100.00", "100.00"), ("-30.00", "70.00")], "0.00", "70.00", []),
        ([("100.00", "100.00"), ("-30.00", "80.00")], "0.00", "80.00", [(1, "70.00", "80.00")]),
        # a line deleted but the balances left as they were: the break shows at the next line
        ([("100.00", "100.00"), ("-5.00", "65.00")], "0.00", "65.00", [(1, "95.00", "65.00")]),
        ([("100.00", "100.00")], "0.00", "90.00", [(-1, "100.00", "90.00")]),
        # no running balances (as in camt.053): opening plus the lines must give the closing balance
        ([("100.00", None), ("-30.00", None)], "10.00", "90.00", [(-1, "80.00", "90.00")]),
    ],
)
def test_balance_breaks(
    lines: list[tuple[str, str | None]], opening: str, closing: str, breaks: list[tuple[int, str, str]]
) -> None:
    stmt = statement([sline("2024-03-02", a, balance=b) for a, b in lines], opening, closing)
    got = [(b.index, str(b.expected), str(b.stated)) for b in balance_breaks(stmt)]
    assert got == breaks


def _ledger(n: int) -> list[LedgerLine]:
    return [lline(f"T{k}", f"2024-03-{1 + k % 28:02d} 10:00", f"-{100 + k}.00", B) for k in range(n)]


def _statement_of(ledger: list[LedgerLine]) -> list[StatementLine]:
    return [sline(str(x.booked_on), str(x.amount), x.counterparty_account, None, x.txn_id) for x in ledger]


def _verdict(lines: list[StatementLine], ledger: list[LedgerLine], closing: str | None = None) -> Verdict:
    stmt = statement(lines, closing=closing)
    return summarise(stmt, ledger, reconcile(stmt, ledger), DEFAULT_THRESHOLDS).verdict


def test_verdicts() -> None:
    ledger = _ledger(400)
    genuine = _statement_of(ledger)
    assert _verdict(genuine, ledger) == Verdict.GENUINE
    # one hidden transfer in 400 is within the tolerance for the hub's own data anomalies (coverage 99.75%)
    assert _verdict(genuine[1:], ledger) == Verdict.GENUINE
    fake = [sline("2024-03-20", "90.00", "X", "虚构", None) for _ in range(5)]
    assert _verdict(genuine + fake, ledger) == Verdict.SUSPICIOUS
    big_fake = [sline("2024-03-20", "9000.00", "X", "虚构", None) for _ in range(5)]
    assert _verdict(genuine + big_fake, ledger) == Verdict.FABRICATED  # 27% of the money is invented
    assert _verdict(genuine, ledger, closing="1.00") == Verdict.SUSPICIOUS  # a balance break alone
    invented = [sline("2024-03-20", f"{k}.00", "X", "虚构") for k in range(1, 200)]
    assert _verdict(genuine[:100] + invented, ledger) == Verdict.FABRICATED


def test_rates_amounts_and_reasons() -> None:
    ledger = _ledger(4)  # amounts 100..103
    lines = [*_statement_of(ledger[:3]), sline("2024-03-20", "50.00", "X", "虚构")]
    stmt = statement(lines)
    summary = summarise(stmt, ledger, reconcile(stmt, ledger), DEFAULT_THRESHOLDS)
    assert (summary.fabricated, summary.hidden, summary.altered) == (1, 1, 0)
    assert summary.match_rate_count == Decimal("0.7500")
    assert summary.match_rate_amount == Decimal("0.8584")  # 303 / 353
    assert summary.ledger_coverage_count == Decimal("0.7500")
    assert (summary.fabricated_amount, summary.hidden_amount) == (Decimal("50.00"), Decimal("103.00"))
    assert summary.risky_amount == Decimal("153.00")
    assert summary.matched_lines["exact_reference"] == 3
    assert summary.verdict == Verdict.FABRICATED  # a quarter of the lines: below the 80% count threshold
    assert any("(fabricated)" in r for r in summary.reasons) and any("(hidden)" in r for r in summary.reasons)


def test_empty_statement_of_a_quiet_account_is_genuine() -> None:
    stmt = statement([], "10.00", "10.00")
    assert summarise(stmt, [], reconcile(stmt, []), DEFAULT_THRESHOLDS).verdict == Verdict.GENUINE


def test_netting_search_is_bounded_and_says_so() -> None:
    ledger = [lline(f"T{k}", "2024-03-08 09:00", f"-{k + 1}.00", f"P{k}") for k in range(30)]
    lines = [sline("2024-03-08", "-7.77", None, None)]
    rec = reconcile(statement(lines), ledger, replace(DEFAULT_THRESHOLDS, netting_budget=5))
    assert not rec.netting_complete
    assert rec.fabricated == [0]
