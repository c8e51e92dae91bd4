"""What protect() (the data-security policy on a read path) costs, against building the same answer.

The answer is a statement check's evidence at its cap: 200 fabricated statement lines and 200 hidden ledger lines
(every counterparty tokenized for a bank officer: the most work protect() does per field). The baseline is
building those 400 line models (what the read path does anyway); protect() is timed on the built answer for a
bank officer (tokens) and a regulator supervisor (clear). Figures are medians over N runs, interleaved, with
ratios to the baseline measured in the same run.

Usage: python -m benchmarks.bench_protect [--runs 30] [--out protect.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from benchmarks.machine import machine_info
from jinyu.core.auth import OrgKind, Principal, Role
from jinyu.governance.policy.protect import Reader, current, protect
from jinyu.risk.statements.schemas import BalanceBreakOut, Evidence, LedgerLineOut, StatementLineOut

RESULTS = Path(__file__).resolve().parent / "results"
KEY = b"b" * 32
LINES = 200


def build() -> Evidence:
    day = dt.date(2024, 3, 1)
    statement = [
        StatementLineOut(
            source=f"line {i}", booked_on=day, time=None, amount=Decimal("-12.50"),
            counterparty_account=f"62220202{i:011d}", counterparty_name=f"重庆某{i}有限公司",
            counterparty_category="corporate_settlement", balance=None, reference=f"R{i}",
        )
        for i in range(LINES)
    ]  # fmt: skip
    ledger = [
        LedgerLineOut(
            txn_id=f"T{i}", ts=dt.datetime(2024, 3, 1, tzinfo=dt.UTC), booked_on=day, amount=Decimal("12.50"),
            counterparty_account=f"62220303{i:011d}", counterparty_name=f"重庆另{i}有限公司",
            counterparty_category="personal", channel="online", memo="货款",
        )
        for i in range(LINES)
    ]  # fmt: skip
    breaks = [BalanceBreakOut(source="line 1", expected=Decimal(1), stated=Decimal(2), difference=Decimal(1))]
    return Evidence(
        fabricated=statement, hidden=ledger, altered=[], netted=[], balance_breaks=breaks, truncated=False,
        limit=LINES,
    )  # fmt: skip


def reader(role: Role, kind: OrgKind) -> Reader:
    return Reader(Principal("u", "u", "o", kind, "o", "/o", frozenset({role})), KEY)


def _time(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out", default="protect.json", help="file name under benchmarks/results/")
    args = parser.parse_args()
    current()  # parse the policy once, as a serving process does at its first read
    answer = build()
    cases: dict[str, Callable[[], object]] = {
        "baseline: build 400 evidence lines": build,
        "protect, bank officer (tokens)": lambda: protect(
            answer, reader(Role.BANK_HQ_RISK, OrgKind.BANK_HEAD_OFFICE)
        ),
        "protect, supervisor (clear)": lambda: protect(
            answer, reader(Role.REGULATOR_SUPERVISOR, OrgKind.REGULATOR)
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):  # interleaved, so a noisy moment hits every case alike
        for name, fn in cases.items():
            samples[name].append(_time(fn))
    base = statistics.median(samples["baseline: build 400 evidence lines"])
    figures = {}
    for name, runs in samples.items():
        median = statistics.median(runs)
        figures[name] = {"ms_median": round(median * 1000, 3), "ratio_to_baseline": round(median / base, 2)}
        print(f"{name:38s} {median * 1000:8.3f} ms  ({median / base:5.2f}x baseline)")
    result = {"runs": args.runs, "lines": 2 * LINES, "figures": figures, "machine": machine_info()}
    RESULTS.mkdir(exist_ok=True)
    out = Path(args.out) if Path(args.out).is_absolute() else RESULTS / args.out
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
