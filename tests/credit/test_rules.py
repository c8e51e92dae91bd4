"""The card's indicators on the tiny region, worked out by hand (see region.py), and golden cards.

The golden files pin the whole card of each enterprise; after a deliberate change of the rules, read the diff
and regenerate with: JINYU_UPDATE_GOLDEN=1 .venv/bin/pytest tests/credit/test_rules.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.analytics.serving import ServingEngine
from jinyu.credit import queries
from jinyu.credit.rules import add_months, build_card, months_before, ratio
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema
from tests.credit import region

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    lake = tmp_path_factory.mktemp("credit") / "lake"
    region.load(lake)
    eng = DuckDBEngine(lake)
    yield eng
    eng.close()


def _card(engine: DuckDBEngine, uscc: str) -> dict[str, Any]:
    return build_card(uscc, "name", queries.card_facts(engine, uscc))


def test_registration(engine: DuckDBEngine) -> None:
    data = _card(engine, region.E1)["sections"]["registration"]["data"]
    assert data["registered_capital"] == "1000000.00" and data["legal_rep_name"] == "张**"
    assert [s["share_ratio"] for s in data["shareholders"]] == ["60.00", "40.00"]
    # As of 2024-12-31: 2024-06-01 is within 12 months; 2022-01-10 within 36; 2020-05-05 in neither.
    assert (data["changes_12m"], data["changes_36m"], data["legal_rep_changes_36m"]) == (1, 2, 1)
    assert [c["changed_on"] for c in data["changes"]] == ["2024-06-01", "2022-01-10", "2020-05-05"]


def test_tax_trend_and_rating_history(engine: DuckDBEngine) -> None:
    data = _card(engine, region.E1)["sections"]["tax"]["data"]
    # 2024: 11 months x 150.00 (February nothing) = 1650.00; 2023: 12 x 100.00 = 1200.00; 450/1200 = 0.375.
    assert (data["tax_paid_12m"], data["tax_paid_prev_12m"], data["tax_paid_growth"]) == (
        "1650.00",
        "1200.00",
        "0.3750",
    )
    assert (data["sales_12m"], data["sales_prev_12m"]) == ("16500.00", "12000.00")
    assert (data["months_filed_12m"], data["zero_sales_months_12m"]) == (12, 1)
    assert data["latest_rating"] == "A"
    assert [(r["year"], r["rating"]) for r in data["ratings"]] == [(2023, "A"), (2022, "B")]
    assert len(data["months"]) == 24 and data["months"][0]["period"] == "2023-01"


def test_headcount_trend(engine: DuckDBEngine) -> None:
    data = _card(engine, region.E1)["sections"]["headcount"]["data"]
    assert (data["latest_period"], data["social_insurance_latest"], data["provident_fund_latest"]) == (
        "2024-12",
        14,
        7,
    )
    assert (data["social_insurance_12m_ago"], data["social_insurance_change_12m"]) == (10, 4)
    assert data["provident_fund_change_12m"] == 2


def test_ip_counts_and_recent_grants(engine: DuckDBEngine) -> None:
    data = _card(engine, region.E1)["sections"]["ip"]["data"]
    assert data["patents"] == {
        "invention": {"granted": 1, "pending": 0},
        "utility_model": {"granted": 0, "pending": 1},
        "design": {"granted": 1, "pending": 0},
    }
    assert data["trademarks"] == {"registered": 1, "pending": 1}
    assert data["copyrights"] == {"software": 1, "work": 0}
    assert data["grants_12m"] == 2  # the invention (2024-03-01) and the trademark (2024-11-01)
    assert [g["on"] for g in data["recent_grants"]] == [
        "2024-11-01",
        "2024-03-01",
        "2023-06-01",
        "2021-01-01",
    ]


def test_judicial_and_penalty_flags(engine: DuckDBEngine) -> None:
    sections = _card(engine, region.E1)["sections"]
    judicial = sections["judicial"]["data"]
    assert (judicial["open_cases"], judicial["open_case_amount"]) == (2, "350000.00")
    assert (judicial["cases_36m"], judicial["defendant_cases_36m"]) == (2, 2)
    assert judicial["dishonest_debtor"] is True
    assert judicial["flags"] == [
        {"flag": "dishonest_debtor", "since": "2024-06-01"},
        {"flag": "open_enforcement", "since": "2024-02-01"},
        {"flag": "loan_dispute_defendant", "since": "2024-08-01"},
    ]
    penalties = sections["penalties"]["data"]
    # The 2020 suspension is older than 36 months: counted in the list, not in the window or the flag.
    assert (penalties["penalties_36m"], penalties["amount_36m"], penalties["latest_on"]) == (
        1,
        "20000.00",
        "2024-09-09",
    )
    assert penalties["severe_36m"] is False and penalties["flags"] == []
    assert len(penalties["items"]) == 2


def test_no_data_is_not_zero(engine: DuckDBEngine) -> None:
    sections = _card(engine, region.E2)["sections"]
    # Covered with no records: zeros.
    assert sections["judicial"]["status"] == "ok" and sections["judicial"]["data"]["open_cases"] == 0
    assert sections["ip"]["data"]["trademarks"] == {"registered": 0, "pending": 0}
    # The bureau says it holds no records of the enterprise: no data, with the bureau and its as-of date.
    assert sections["headcount"] == {
        "status": "no_data",
        "source": {"bureau": region.BUREAU["headcount"], "as_of": "2024-12-31"},
        "data": None,
    }
    # The source has not reported on the enterprise at all: no data, no source.
    assert sections["penalties"] == {
        "status": "no_data",
        "source": {"bureau": None, "as_of": None},
        "data": None,
    }
    # Nothing to compare with is not a growth of zero.
    assert sections["tax"]["data"]["tax_paid_growth"] is None


def test_an_enterprise_with_no_facts_has_only_no_data(engine: DuckDBEngine) -> None:
    card = _card(engine, "91500000MA99999999")
    assert {s["status"] for s in card["sections"].values()} == {"no_data"}


@pytest.mark.parametrize(
    ("period", "months", "expected"),
    [
        ("2024-12", -11, "2024-01"),
        ("2024-01", -1, "2023-12"),
        ("2024-12", 1, "2025-01"),
        ("2024-03", -24, "2022-03"),
    ],
)
def test_add_months(period: str, months: int, expected: str) -> None:
    assert add_months(period, months) == expected


def test_months_before_clamps_to_month_end() -> None:
    assert months_before(dt.date(2024, 3, 31), 1) == dt.date(2024, 2, 29)
    assert months_before(dt.date(2024, 12, 31), 12) == dt.date(2023, 12, 31)


def test_ratio() -> None:
    assert ratio(Decimal("150"), Decimal("100")) == "0.5000"
    assert ratio(Decimal("1"), Decimal("3")) == "-0.6667"  # (1 - 3) / 3, half-even to four places
    assert ratio(Decimal("0"), Decimal("3")) == "-1.0000"
    assert ratio(Decimal("5"), Decimal("0")) is None


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServingEngine]:
    lake = tmp_path_factory.mktemp("credit-serving") / "lake"
    region.load(lake)
    eng = ServingEngine(lake)
    yield eng
    eng.close()


def _facts(how: str, engine: DuckDBEngine, serving: ServingEngine, uscc: str) -> list[dict[str, Any]]:
    """The three ways facts are read: one statement per card (views), the serving engine's resident bulk
    result (per card, no statement) and the batch's bulk statement; the golden cards hold for each."""
    if how == "statement":
        return queries.card_facts(engine, uscc)
    if how == "resident":
        return queries.card_facts(serving, uscc)
    return dict(queries.all_card_facts(engine))[uscc]


@pytest.mark.parametrize("how", ["statement", "resident", "bulk"])
@pytest.mark.parametrize("name", ["E1", "E2"])
def test_golden_cards(engine: DuckDBEngine, serving: ServingEngine, name: str, how: str) -> None:
    uscc = getattr(region, name)
    card = build_card(uscc, "name", _facts(how, engine, serving, uscc))
    card["uscc"] = name  # the test USCC's check character is computed; the name keeps the file stable
    text = json.dumps(card, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    path = GOLDEN / f"card-{name}.json"
    if os.environ.get("JINYU_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden {path.name}: regenerate with JINYU_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_resident_facts_see_a_new_load(tmp_path: Path) -> None:
    """The serving engine's resident result is rebuilt when a dataset's files change: the next card sees a
    penalty loaded after the first card was shown (as views would)."""
    lake_dir = tmp_path / "lake"
    region.load(lake_dir)
    eng = ServingEngine(lake_dir)
    try:
        before = [f for f in queries.card_facts(eng, region.E1) if f["source"] == "penalty"]
        rows = [r for r in region.rows()["admin_penalties"] if r["uscc"] == region.E1][:1]
        assert rows, "the tiny region gives E1 a penalty to copy"
        new = {**rows[0], "decision_no": "渝罚〔2024〕999号"}
        schema = arrow_schema(CONTRACTS["admin_penalties"])
        table = pa.table({f.name: [new.get(f.name)] for f in schema}, schema=schema)
        contract = CONTRACTS["admin_penalties"]
        Lake(lake_dir).append("admin_penalties", table, "L2", partition_by=contract.partition_by,
                              sort_by=contract.sort_by)  # fmt: skip
        after = [f for f in queries.card_facts(eng, region.E1) if f["source"] == "penalty"]
        assert len(after) == len(before) + 1
        assert "渝罚〔2024〕999号" in {f["text2"] for f in after}
    finally:
        eng.close()
