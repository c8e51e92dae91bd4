"""A tiny hand-made region for the credit card: two enterprises whose every indicator is worked out by hand
in test_rules.py (E1 has data in every source; E2 is sparse: headcount not covered, penalties not reported).

Written straight into a lake in the contracts' layout, as ingestion would leave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from jinyu.analytics import Lake
from jinyu.governance.contracts import CONTRACTS
from jinyu.ingest.pipeline import arrow_schema
from tests.fixtures.auth import uscc

E1, E2 = uscc(9_000_001), uscc(9_000_002)
AS_OF = date(2024, 12, 31)
BUREAU = {
    "registration": "市场监督管理局 / market regulation bureau",
    "tax": "税务局 / tax bureau",
    "headcount": "人力社保局 / social insurance bureau",
    "ip": "知识产权局 / IP office",
    "judicial": "法院 / courts",
    "penalties": "各执法部门 / enforcement authorities",
}


def _months(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def rows() -> dict[str, list[dict[str, Any]]]:
    d, m = date.fromisoformat, Decimal
    tax = [
        {"uscc": E1, "period": p, "sales_declared": m("1000.00"), "tax_paid": m("100.00")}
        for p in _months(2023)
    ]
    tax += [
        {
            "uscc": E1,
            "period": p,
            "sales_declared": m("0.00" if p == "2024-02" else "1500.00"),
            "tax_paid": m("0.00" if p == "2024-02" else "150.00"),
        }
        for p in _months(2024)
    ]
    tax.append({"uscc": E2, "period": "2024-12", "sales_declared": m("0.00"), "tax_paid": m("0.00")})
    coverage = [
        {"source": s, "uscc": E1, "bureau": BUREAU[s], "as_of": AS_OF, "covered": True} for s in BUREAU
    ] + [
        {"source": s, "uscc": E2, "bureau": BUREAU[s], "as_of": AS_OF, "covered": s != "headcount"}
        for s in ("registration", "tax", "headcount", "ip", "judicial")  # penalties: not reported
    ]
    return {
        "enterprises": [
            {"uscc": E1, "name": "重庆甲乙科技有限公司", "industry_code": "C3974", "district_code": "500103",
             "registered_capital": m("1000000.00"), "established_on": d("2018-03-01"),
             "address": "重庆市渝中区解放碑1号", "legal_rep_id": "tok-1", "legal_rep_name": "张**",
             "status": "active"},
            {"uscc": E2, "name": "重庆丙丁商贸有限公司", "industry_code": "F5172", "district_code": "500105",
             "registered_capital": m("100000.00"), "established_on": d("2024-01-15"),
             "address": "重庆市江北区观音桥2号", "legal_rep_id": "tok-2", "legal_rep_name": "李*",
             "status": "active"},
        ],
        "shareholders": [
            {"uscc": E1, "holder_type": "person", "holder_id": "tok-1", "holder_name": "张**",
             "share_ratio": m("60.00")},
            {"uscc": E1, "holder_type": "enterprise", "holder_id": E2, "holder_name": "重庆丙丁商贸有限公司",
             "share_ratio": m("40.00")},
        ],
        "registration_changes": [
            {"uscc": E1, "changed_on": d("2024-06-01"), "item": "address", "before_value": "旧址",
             "after_value": "重庆市渝中区解放碑1号"},
            {"uscc": E1, "changed_on": d("2022-01-10"), "item": "legal_rep", "before_value": "李**",
             "after_value": "张**"},
            {"uscc": E1, "changed_on": d("2020-05-05"), "item": "registered_capital", "before_value": "500000",
             "after_value": "1000000"},
        ],
        "tax_monthly": tax,
        "tax_credit_ratings": [
            {"uscc": E1, "year": 2022, "rating": "B", "rated_on": d("2023-04-20")},
            {"uscc": E1, "year": 2023, "rating": "A", "rated_on": d("2024-04-18")},
        ],
        "headcount_monthly": [
            {"uscc": E1, "period": p, "social_insurance_count": s, "provident_fund_count": f,
             "provident_fund_amount": m("1000.00")}
            for p, s, f in (("2023-12", 10, 5), ("2024-06", 12, 6), ("2024-12", 14, 7))
        ],
        "patents": [
            {"patent_no": "ZL202210000001.1", "uscc": E1, "kind": "invention", "title": "一种显示面板",
             "filed_on": d("2022-01-01"), "granted_on": d("2024-03-01")},
            {"patent_no": "ZL202420000002.2", "uscc": E1, "kind": "utility_model", "title": "一种支架",
             "filed_on": d("2024-05-01"), "granted_on": None},
            {"patent_no": "ZL202030000003.3", "uscc": E1, "kind": "design", "title": "外壳",
             "filed_on": d("2020-06-01"), "granted_on": d("2021-01-01")},
        ],
        "trademarks": [
            {"reg_no": "70000001", "uscc": E1, "nice_class": 9, "mark_name": "甲乙", "applied_on": d("2023-12-01"),
             "registered_on": d("2024-11-01")},
            {"reg_no": "70000002", "uscc": E1, "nice_class": 35, "mark_name": "甲乙优选",
             "applied_on": d("2024-10-01"), "registered_on": None},
        ],
        "copyrights": [
            {"reg_no": "2023软著登字0000001号", "uscc": E1, "kind": "software", "title": "甲乙管理系统V1.0",
             "registered_on": d("2023-06-01")},
        ],
        "judicial": [
            {"case_no": "（2024）渝0103执1号", "uscc": E1, "role": "executed", "case_type": "enforcement",
             "filed_on": d("2024-02-01"), "amount": m("50000.00"), "status": "open"},
            {"case_no": "（2021）渝0103民初2号", "uscc": E1, "role": "plaintiff", "case_type": "contract",
             "filed_on": d("2021-05-01"), "amount": m("20000.00"), "status": "closed"},
            {"case_no": "（2024）渝0103民初3号", "uscc": E1, "role": "defendant", "case_type": "loan",
             "filed_on": d("2024-08-01"), "amount": m("300000.00"), "status": "open"},
        ],
        "dishonest_debtors": [
            {"case_no": "（2024）渝0103执1号", "uscc": E1, "court": "重庆市渝中区人民法院",
             "amount": m("45000.00"), "listed_on": d("2024-06-01"), "removed_on": None},
        ],
        "admin_penalties": [
            {"decision_no": "渝0103应急罚〔2024〕1号", "uscc": E1, "authority": "应急管理局",
             "penalty_type": "fine", "amount": m("20000.00"), "decided_on": d("2024-09-09"),
             "reason": "违反安全生产管理规定"},
            {"decision_no": "渝0103市监罚〔2020〕2号", "uscc": E1, "authority": "市场监督管理局",
             "penalty_type": "suspension", "amount": m("0.00"), "decided_on": d("2020-01-01"),
             "reason": "无证经营"},
        ],
        "source_coverage": coverage,
    }  # fmt: skip


def load(lake_dir: Path, datasets: Sequence[str] | None = None) -> None:
    lake = Lake(lake_dir)
    for name, data in rows().items():
        if datasets is not None and name not in datasets:
            continue
        contract = CONTRACTS[name]
        schema = arrow_schema(contract)
        table = pa.table({f.name: [r.get(f.name) for r in data] for f in schema}, schema=schema)
        lake.append(name, table, "L1", partition_by=contract.partition_by, sort_by=contract.sort_by)
