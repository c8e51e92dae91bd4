"""Planted risk cases in the small region: labels, their loans and flows, and that tracing finds them."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.governance.contracts import CONTRACTS, LOAD_ORDER
from jinyu.ingest.pipeline import ARROW_TYPES
from jinyu.risk.tracing import queries, service
from jinyu.risk.tracing.rules import RELATION_NAMES
from jinyu.risk.tracing.schemas import TraceParams
from jinyu.synth.purpose_cases import PURPOSE_CASES
from jinyu.synth.refund_cases import REFUND_CASES
from jinyu.synth.related_cases import RELATED_CASES
from jinyu.synth.risk_cases import CASES, GUARANTOR_CASES, LABEL_COLUMNS, LABELS_FILE, read_labels

Rows = Callable[[str], list[dict[str, Any]]]
GUARANTOR_RANK = RELATION_NAMES.index("guarantor") + 1


@pytest.fixture(scope="module")
def labels(region_dir: Path) -> list[dict[str, str]]:
    return read_labels(region_dir / LABELS_FILE)


def test_every_case_type_is_planted_and_labelled(labels: list[dict[str, str]], region_dir: Path) -> None:
    header = (region_dir / LABELS_FILE).read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(LABEL_COLUMNS)
    assert {x["case"] for x in labels} == (
        {name for name, _ in CASES}
        | set(GUARANTOR_CASES)
        | set(RELATED_CASES)
        | set(PURPOSE_CASES)
        | set(REFUND_CASES)
    )
    assert [x["case"] for x in labels][-1] in REFUND_CASES  # planted last, on a stream of their own
    assert {(x["analysis"], x["expected_kind"]) for x in labels} >= {
        ("return_flow", "returned"),
        ("misuse", "securities"),
        ("misuse", "real_estate"),
        ("misuse", "other_loan"),
        ("misuse", "shell"),
    }
    hops = {x["case"]: int(x["hops"]) for x in labels if x["analysis"] == "return_flow"}
    assert sorted(set(hops.values())) == [1, 2, 3, 4]
    negatives = {x["case"] for x in labels if x["detectable"] == "false"}
    assert negatives == {
        "return_4hops",
        "return_late",
        "return_dust",
        "return_via_stop",
        "declared_by_other_bank",
        "declared_expired",
        "compatible_real_estate",
        "compatible_refinancing",
        "refund_full",  # refunds: not return flow
        "refund_less_fee",
    }


def test_planted_loans_are_ordinary_loans(labels: list[dict[str, str]], rows: Rows) -> None:
    loans = {loan["loan_id"]: loan for loan in rows("loans")}
    accounts = {a["account_no"]: a for a in rows("accounts")}
    for label in labels:
        loan = loans[label["loan_id"]]
        assert loan["amount"] == Decimal(label["loan_amount"])
        assert accounts[loan["disbursement_account"]]["owner_id"] == loan["borrower_uscc"]
        assert Decimal(label["planted_amount"]) > 0 and float(label["days"]) >= 0


def test_shells_have_a_registration_and_nothing_else(rows: Rows) -> None:
    shells = {e["uscc"] for e in rows("enterprises") if e["name"].endswith("商务咨询有限公司")}
    assert shells
    active = {r["uscc"] for r in rows("tax_monthly")} | {r["uscc"] for r in rows("headcount_monthly")}
    assert not shells & active
    held = Counter(h["uscc"] for h in rows("shareholders"))
    assert all(held[s] == 1 for s in shells)


@pytest.fixture(scope="module")
def lake(region_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The region's files written straight into a lake (no pseudonymization: raw ids join just the same)."""
    root = tmp_path_factory.mktemp("risk_lake") / "lake"
    target = Lake(root)
    for name in LOAD_ORDER:
        contract = CONTRACTS[name]
        schema = pa.schema([(c.name, ARROW_TYPES[c.kind]) for c in contract.columns])
        path = region_dir / f"{name}.csv"
        if path.exists():
            options = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True)
            table = pacsv.read_csv(path, convert_options=options)
        else:
            table = pq.read_table(region_dir / f"{name}.parquet")
        table = table.select(schema.names).cast(schema)
        target.append(
            name,
            table,
            "L1",
            partition_by=contract.partition_by,
            sort_by=contract.sort_by,
            mirrors=dict(contract.mirrors) or None,
        )
    return root


@pytest.mark.parametrize("policy", ["pro_rata", "fifo"])
def test_tracing_finds_what_is_detectable_and_only_that(
    labels: list[dict[str, str]], rows: Rows, lake: Path, policy: str
) -> None:
    branches = {loan["loan_id"]: loan["bank_code"] for loan in rows("loans")}
    engine = DuckDBEngine(lake)
    stores = service.Stores(engine, lake, b"k" * 32)
    verdicts: dict[tuple[str, str], str] = {}
    kinds: dict[str, set[str]] = defaultdict(set)
    for label in labels:
        loan_id, analysis = label["loan_id"], label["analysis"]
        loan = queries.loan(engine, loan_id, branches[loan_id])
        assert loan is not None
        traced = service.trace_loan(
            stores, loan, TraceParams(policy=policy), analysis, str(loan["bank_code"])
        )
        found = defaultdict(int)
        for n in traced.trace.nodes:
            found[n["kind"]] += int(n["traced"])
        share = Decimal(found[label["expected_kind"]]) / traced.loan_fen
        verdicts[(loan_id, analysis)] = "found" if share >= Decimal("0.05") else "missed"
        kinds[loan_id] |= {k for k, v in found.items() if v}
    engine.close()
    for label in labels:
        # A permitted use (compatible_*) is traced like any other; the purpose matrix, not tracing, clears it.
        # A refund is traced too (kind `refund`); that it is not return flow: test_planted_refunds.py.
        found_anyway = label["case"].startswith("compatible_") or label["expected_kind"] == "refund"
        expected = "found" if label["detectable"] == "true" or found_anyway else "missed"
        assert verdicts[(label["loan_id"], label["analysis"])] == expected, (label, kinds[label["loan_id"]])


def test_labels_are_in_the_window(labels: list[dict[str, str]], rows: Rows) -> None:
    loans = {loan["loan_id"]: loan for loan in rows("loans")}
    end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for label in labels:
        disbursed = loans[label["loan_id"]]["disbursed_at"]
        assert disbursed + dt.timedelta(days=float(label["days"])) < end


def test_the_guarantor_cases_guarantor_is_related_only_as_the_guarantor(
    labels: list[dict[str, str]], rows: Rows, lake: Path
) -> None:
    cases = [x for x in labels if x["case"] in GUARANTOR_CASES]
    assert cases and all(x["detectable"] == "true" and x["hops"] == "1" for x in cases)
    engine = DuckDBEngine(lake)
    try:
        for label in cases:
            loan = next(x for x in rows("loans") if x["loan_id"] == label["loan_id"])
            guarantors = {
                g["guarantor_id"] for g in rows("loan_guarantees") if g["loan_id"] == label["loan_id"]
            }
            ctx = queries.context(
                engine,
                "return_flow",
                {"loan_id": loan["loan_id"], "loan_month": loan["disbursed_at"].strftime("%Y-%m"),
                 "root_code": loan["bank_code"], "window_days": 30, "shell_age_days": 365},
                batch=False,
            )  # fmt: skip
            ranks: dict[str, set[int]] = defaultdict(set)
            for r in ctx:
                ranks[r["owner_id"]].add(r["rel_rank"])
            only_guarantor = {owner for owner, found in ranks.items() if found == {GUARANTOR_RANK}}
            assert only_guarantor & guarantors, (label, dict(ranks))
    finally:
        engine.close()
