"""Each platform query on tiny inline tables, with exact expected results (DuckDB engine)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jinyu.analytics import DuckDBEngine, Lake

from .tables import load

D = Decimal

BANKS = [
    ("H", "head_office", None),
    ("B1", "branch", "H"),
    ("O1", "outlet", "B1"),
    ("O2", "outlet", "H"),  # an outlet directly under its head office
    ("O1X", "outlet", "O1"),  # a fourth level does not exist in the contract and is not walked
    ("X", "head_office", None),
    ("XB", "branch", "X"),
]
ACCOUNTS = [  # account_no, bank_code, owner_id
    ("A008", "B1", "E2"),
    ("A003", "O1", "E1"),
    ("A001", "H", "E1"),
    ("A002", "B1", "E3"),
    ("A004", "O2", "P1"),
    ("A005", "X", "E1"),
    ("A006", "XB", "E4"),
    ("A007", "O1X", "E5"),
]


@pytest.fixture
def banking(lake: Lake) -> Lake:
    load(lake, "banks", [{"org_code": c, "level": lvl, "parent_code": p} for c, lvl, p in BANKS])
    load(
        lake,
        "accounts",
        [{"account_no": a, "bank_code": b, "owner_id": o, "opened_on": "2024-01-02"} for a, b, o in ACCOUNTS],
    )
    return lake


def _column(engine: DuckDBEngine, name: str, column: str, **params: object) -> list[object]:
    return list(engine.run(name, **params).column(column).to_pylist())


@pytest.mark.usefixtures("banking")
@pytest.mark.parametrize(
    ("head_code", "limit", "offset", "expected"),
    [
        ("H", 100, 0, ["A001", "A002", "A003", "A004", "A008"]),
        ("H", 2, 1, ["A002", "A003"]),
        ("H", 10, 5, []),
        ("X", 100, 0, ["A005", "A006"]),
        ("B1", 100, 0, []),  # a branch is not a head office
        ("NOPE", 100, 0, []),
    ],
)
def test_accounts_of_bank_tree(
    duck: DuckDBEngine, head_code: str, limit: int, offset: int, expected: list[str]
) -> None:
    params = {"head_code": head_code, "limit": limit, "offset": offset}
    assert _column(duck, "accounts_of_bank_tree", "account_no", **params) == expected


@pytest.mark.usefixtures("banking")
def test_accounts_of_owner(duck: DuckDBEngine) -> None:
    page = duck.run("accounts_of_owner", owner_id="E1", limit=10, offset=0)
    assert page.column_names == [
        "account_no", "bank_code", "owner_type", "owner_id", "owner_name", "category", "opened_on",
        "currency",
    ]  # fmt: skip
    assert page.column("account_no").to_pylist() == ["A001", "A003", "A005"]
    assert page.column("opened_on").to_pylist() == [date(2024, 1, 2)] * 3
    assert _column(duck, "accounts_of_owner", "account_no", owner_id="E1", limit=1, offset=1) == ["A003"]
    assert _column(duck, "accounts_of_owner", "account_no", owner_id="E9", limit=10, offset=0) == []


def test_transfer_monthly_totals(lake: Lake, duck: DuckDBEngine) -> None:
    def t(txn: str, ts: str, amount: str) -> dict[str, object]:
        return {"txn_id": txn, "ts": ts, "from_account": "A1", "to_account": "A2", "amount": amount}

    load(lake, "transfers", [t("T1", "2024-01-15T02:00:00+00:00", "100.10")], "L1")
    load(
        lake,
        "transfers",
        [
            t("T2", "2024-01-31T16:30:00+00:00", "0.01"),  # 1 February 00:30 in Shanghai
            t("T3", "2024-02-10T00:00:00+00:00", "200.00"),
            t("T4", "2024-03-31T15:59:59+00:00", "1234567890123.45"),  # 31 March 23:59:59 in Shanghai
            t("T5", "2024-03-31T16:00:00+00:00", "0.99"),  # 1 April in Shanghai
            t("T6", "2024-01-20T00:00:00+00:00", "0.20"),  # a second file for January
        ],
        "L2",
    )
    result = duck.run("transfer_monthly_totals")
    assert [str(f.type) for f in result.schema] == ["string", "int64", "decimal128(38, 2)"]
    assert result.to_pylist() == [
        {"month": "2024-01", "txn_count": 2, "total_amount": D("100.30")},
        {"month": "2024-02", "txn_count": 2, "total_amount": D("200.01")},
        {"month": "2024-03", "txn_count": 1, "total_amount": D("1234567890123.45")},
        {"month": "2024-04", "txn_count": 1, "total_amount": D("0.99")},
    ]


@pytest.fixture
def gov(lake: Lake) -> Lake:
    hc = [
        ("E1", "2024-01", 10, 5),
        ("E1", "2024-02", 12, 6),
        ("E1", "2024-04", 99, 99),
        ("E2", "2024-03", 500, 500),
    ]
    load(
        lake,
        "headcount_monthly",
        [
            {"uscc": u, "period": p, "social_insurance_count": s, "provident_fund_count": f}
            for u, p, s, f in hc
        ],
    )
    tax = [
        ("E1", "2023-03", "1.00", "100.00"),  # thirteen months before 2024-03: outside the window
        ("E1", "2023-04", "10.10", "1000.50"),
        ("E1", "2024-03", "20.20", "2000.25"),
        ("E1", "2024-04", "40.00", "4000.00"),  # after the as-of month
        ("E2", "2024-03", "7.00", "7.00"),
    ]
    load(
        lake,
        "tax_monthly",
        [{"uscc": u, "period": p, "tax_paid": t, "sales_declared": s} for u, p, t, s in tax],
    )
    patents = [
        ("P1", "E1", "invention", "2020-01-01"),
        ("P2", "E1", "invention", "2024-03-31"),
        ("P3", "E1", "design", "2024-04-01"),  # filed after the as-of month
        ("P4", "E1", "utility_model", "2023-05-05"),
        ("P5", "E2", "invention", "2021-01-01"),
    ]
    load(lake, "patents", [{"patent_no": n, "uscc": u, "kind": k, "filed_on": f} for n, u, k, f in patents])
    cases = [
        ("C1", "E1", "open", "2024-01-10", "1000.00"),
        ("C2", "E1", "closed", "2023-06-01", "50.00"),
        ("C3", "E1", "open", "2024-04-02", "7.00"),  # filed after the as-of month
        ("C4", "E1", "open", "2022-12-31", "0.50"),
        ("C5", "E2", "open", "2024-01-01", "999.00"),
    ]
    load(
        lake,
        "judicial",
        [{"case_no": c, "uscc": u, "status": s, "filed_on": f, "amount": a} for c, u, s, f, a in cases],
    )
    return lake


@pytest.mark.usefixtures("gov")
def test_enterprise_gov_summary(duck: DuckDBEngine) -> None:
    assert duck.run("enterprise_gov_summary", uscc="E1", as_of_month="2024-03").to_pylist() == [
        {
            "uscc": "E1", "as_of_month": "2024-03",
            "headcount_period": "2024-02", "social_insurance_count": 12, "provident_fund_count": 6,
            "tax_months": 2, "tax_paid_12m": D("30.30"), "sales_declared_12m": D("3000.75"),
            "invention_patents": 2, "utility_model_patents": 1, "design_patents": 0,
            "open_cases": 2, "open_case_amount": D("1000.50"),
        }
    ]  # fmt: skip


@pytest.mark.usefixtures("gov")
def test_enterprise_gov_summary_window_crosses_the_year(duck: DuckDBEngine) -> None:
    row = duck.run("enterprise_gov_summary", uscc="E1", as_of_month="2024-01").to_pylist()[0]
    # 2023-02 .. 2024-01
    assert (row["tax_months"], row["tax_paid_12m"], row["sales_declared_12m"]) == (
        2,
        D("11.10"),
        D("1100.50"),
    )
    assert (row["headcount_period"], row["social_insurance_count"]) == ("2024-01", 10)
    assert (row["invention_patents"], row["utility_model_patents"], row["open_cases"]) == (1, 1, 2)


@pytest.mark.usefixtures("gov")
def test_enterprise_gov_summary_of_an_enterprise_without_records(duck: DuckDBEngine) -> None:
    assert duck.run("enterprise_gov_summary", uscc="E9", as_of_month="2024-03").to_pylist() == [
        {
            "uscc": "E9", "as_of_month": "2024-03",
            "headcount_period": None, "social_insurance_count": None, "provident_fund_count": None,
            "tax_months": 0, "tax_paid_12m": D("0.00"), "sales_declared_12m": D("0.00"),
            "invention_patents": 0, "utility_model_patents": 0, "design_patents": 0,
            "open_cases": 0, "open_case_amount": D("0.00"),
        }
    ]  # fmt: skip


@pytest.fixture
def chain(lake: Lake) -> Lake:
    members = [("C", "materials", "E1"), ("C", "panels", "E2"), ("C", "modules", "E3"), ("D", "core", "E1")]
    load(lake, "chain_members", [{"chain_code": c, "segment": s, "uscc": u} for c, s, u in members])
    accounts = [
        ("A1", "E1"),
        ("A2", "E2"),
        ("A3", "E3"),
        ("A4", "E4"),
        ("A5", "E1"),
        ("P1", "110101199001011234"),
    ]
    load(lake, "accounts", [{"account_no": a, "owner_id": o} for a, o in accounts])
    transfers = [
        ("t1", "2024-01-05", "A1", "A2", "100.00"),
        ("t2", "2024-01-06", "A5", "A2", "50.50"),
        ("t3", "2024-01-07", "A2", "A3", "10.00"),
        ("t4", "2024-02-01", "A1", "A4", "999.00"),  # E4 is not in the chain
        ("t5", "2024-02-02", "A3", "A1", "30.00"),
        ("t6", "2024-02-03", "A1", "A5", "5.00"),  # within one enterprise, one segment
        ("t7", "2024-03-03", "A1", "A2", "77.00"),
        ("t8", "2024-02-04", "P1", "A1", "8.00"),  # a person's account
    ]
    load(
        lake,
        "transfers",
        [
            {"txn_id": t, "ts": f"{d}T04:00:00+00:00", "from_account": f, "to_account": to, "amount": a}
            for t, d, f, to, a in transfers
        ],
    )
    return lake


@pytest.mark.usefixtures("chain")
def test_chain_segment_flows(duck: DuckDBEngine) -> None:
    result = duck.run(
        "chain_segment_flows", chain_code="C", from_month="2024-01", to_month="2024-02", segment_overrides=""
    )
    assert result.to_pylist() == [
        {"month": "2024-01", "from_segment": "materials", "to_segment": "panels", "txn_count": 2,
         "total_amount": D("150.50")},
        {"month": "2024-01", "from_segment": "panels", "to_segment": "modules", "txn_count": 1,
         "total_amount": D("10.00")},
        {"month": "2024-02", "from_segment": "materials", "to_segment": "materials", "txn_count": 1,
         "total_amount": D("5.00")},
        {"month": "2024-02", "from_segment": "modules", "to_segment": "materials", "txn_count": 1,
         "total_amount": D("30.00")},
    ]  # fmt: skip


@pytest.mark.usefixtures("chain")
def test_chain_segment_flows_of_another_chain_and_month_range(duck: DuckDBEngine) -> None:
    rows = duck.run(
        "chain_segment_flows", chain_code="D", from_month="2024-01", to_month="2024-03", segment_overrides=""
    ).to_pylist()
    assert rows == [
        {
            "month": "2024-02",
            "from_segment": "core",
            "to_segment": "core",
            "txn_count": 1,
            "total_amount": D("5.00"),
        }
    ]
    assert (
        duck.run(
            "chain_segment_flows",
            chain_code="C",
            from_month="2024-04",
            to_month="2024-12",
            segment_overrides="",
        ).num_rows
        == 0
    )


@pytest.mark.usefixtures("chain")
def test_chain_segment_flows_follow_the_segment_overrides(duck: DuckDBEngine) -> None:
    # E2 moved from panels to modules in chain C; the override of E1 is for chain D (its core there stays
    # materials in C) and the one of E4 names a non-member (ignored: overrides never add members).
    overrides = "C:E2:modules;D:E1:upstream;C:E4:panels"
    rows = duck.run(
        "chain_segment_flows",
        chain_code="C",
        from_month="2024-01",
        to_month="2024-01",
        segment_overrides=overrides,
    ).to_pylist()
    # t1 + t2 (E1 → E2) are now materials → modules, t3 (E2 → E3) is inside modules.
    assert rows == [
        {"month": "2024-01", "from_segment": "materials", "to_segment": "modules", "txn_count": 2,
         "total_amount": D("150.50")},
        {"month": "2024-01", "from_segment": "modules", "to_segment": "modules", "txn_count": 1,
         "total_amount": D("10.00")},
    ]  # fmt: skip
