"""A small deterministic region for the engine parity suite: a few hundred rows across several months.

Seeded, so every run (and both engines) sees the same lake. It includes the cases engines tend to disagree
on: transfers on a month boundary in Asia/Shanghai, amounts with fen, gaps in monthly series, an outlet
hanging directly under a head office, enterprises in two chains, and people's accounts mixed in.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from jinyu.analytics import Lake
from jinyu.governance.contracts import CONTRACTS
from jinyu.governance.contracts.credit import CREDIT_ORDER
from jinyu.ingest.pipeline import arrow_schema
from tests.chain import parity_cases as chain_cases
from tests.credit import region as credit_region
from tests.financing import parity_rows as financing_rows
from tests.risk.tracing import parity_region as tracing_rows

from .tables import load

ENTERPRISES = [f"9150000000000000{i:02d}" for i in range(1, 13)]
PEOPLE = [f"50010119800101{i:04d}" for i in range(1, 7)]
BANKS = [
    ("H1", "head_office", None), ("H2", "head_office", None),
    ("H1-B1", "branch", "H1"), ("H1-B2", "branch", "H1"), ("H2-B1", "branch", "H2"),
    ("H1-B1-O1", "outlet", "H1-B1"), ("H1-B1-O2", "outlet", "H1-B1"), ("H1-B2-O1", "outlet", "H1-B2"),
    ("H2-B1-O1", "outlet", "H2-B1"), ("H2-O9", "outlet", "H2"),
]  # fmt: skip
MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]
SEGMENTS = {
    "new_display": ("materials", "panels", "modules", "devices", "dealers"),
    "auto": ("upstream", "core", "downstream"),
}


def build(lake: Lake) -> None:
    rng = random.Random(20240601)
    load(lake, "banks", _banks())
    accounts = _accounts()
    load(lake, "accounts", accounts)
    load(lake, "chain_members", _chain_members())
    _load_transfers(lake, rng, [a["account_no"] for a in accounts])
    load(lake, "tax_monthly", _tax(rng))
    load(lake, "headcount_monthly", _headcount(rng))
    load(lake, "patents", _patents(rng))
    load(lake, "judicial", _judicial(rng))
    tracing_rows.add(lake)  # enterprises, shareholders, loans and planted flows for the fund-tracing queries
    financing_rows.add(lake)  # work-order snapshots for the financing indicators
    chain_cases.add_stored_network(lake, ENTERPRISES)  # stored supply-network builds for chain_network_stored
    chain_cases.add_member_pairs(lake, ENTERPRISES)  # member-pair sums for chain_segment_flows_from_pairs
    _credit(lake)


def _credit(lake: Lake) -> None:
    """The credit card's own datasets (the tiny credit region's two enterprises, every section), and each
    source's coverage of this region's enterprises too, so that the bulk card statements read this region's
    registrations, tax, head-count, patents and cases; one source not covered for one enterprise."""
    credit_region.load(lake.root, CREDIT_ORDER)
    sources = ("registration", "tax", "headcount", "ip", "judicial", "penalties")
    coverage = [
        {"source": s, "uscc": e, "bureau": f"bureau {s}", "as_of": date(2024, 6, 30), "covered": (i, s) != (3, "tax")}
        for i, e in enumerate(ENTERPRISES) for s in sources
    ]  # fmt: skip
    schema = arrow_schema(CONTRACTS["source_coverage"])
    table = pa.table({f.name: [r.get(f.name) for r in coverage] for f in schema}, schema=schema)
    contract = CONTRACTS["source_coverage"]
    lake.append("source_coverage", table, "L2", partition_by=contract.partition_by, sort_by=contract.sort_by)


def _banks() -> list[dict[str, Any]]:
    return [
        {"org_code": c, "name": f"bank {c}", "level": lvl, "parent_code": p, "district_code": "500103"}
        for c, lvl, p in BANKS
    ]


def _accounts() -> list[dict[str, Any]]:
    owners = [("enterprise", e) for e in ENTERPRISES for _ in range(2)] + [("person", p) for p in PEOPLE]
    return [
        {
            "account_no": f"6222{i * 7919 % 100000:08d}",
            "bank_code": BANKS[i % len(BANKS)][0],
            "owner_type": kind,
            "owner_id": owner,
            "owner_name": f"owner {owner[-4:]}",
            "category": "corporate_settlement" if kind == "enterprise" else "personal",
            "opened_on": date(2020, 1, 1) + timedelta(days=37 * i),
            "currency": "CNY",
        }
        for i, (kind, owner) in enumerate(owners)
    ]


def _chain_members() -> list[dict[str, Any]]:
    rows = []
    for chain, members in (("new_display", ENTERPRISES[0:8]), ("auto", ENTERPRISES[4:10])):
        segments = SEGMENTS[chain]
        for i, uscc in enumerate(members):
            rows.append(
                {"chain_code": chain, "chain_name": chain, "segment": segments[i % len(segments)],
                 "uscc": uscc, "is_core": i == 0}
            )  # fmt: skip
    return rows


def _load_transfers(lake: Lake, rng: random.Random, accounts: list[str]) -> None:
    """Sixty transfers a month, each month its own load and March in two, as banks deliver them."""
    edge = [
        # 00:30 on 1 February in Shanghai: a February transfer although still January in UTC.
        ("2024-01-31T16:30:00+00:00", "2024-01"),
        # 23:59:59 on 31 March in Shanghai: still March.
        ("2024-03-31T15:59:59+00:00", "2024-03"),
    ]
    by_load: dict[str, list[dict[str, Any]]] = {}
    n = 0
    for month in MONTHS:
        start = datetime.fromisoformat(f"{month}-01T00:00:00+00:00")
        for k in range(60):
            n += 1
            ts = start + timedelta(seconds=rng.randrange(27 * 86400))
            load_id = f"T{month}" + ("b" if month == "2024-03" and k >= 30 else "")
            by_load.setdefault(load_id, []).append(_transfer(rng, accounts, n, ts))
    for text, load_id in edge:
        n += 1
        by_load[f"T{load_id}"].append(_transfer(rng, accounts, n, datetime.fromisoformat(text)))
    for load_id, rows in by_load.items():
        load(lake, "transfers", rows, load_id)


def _transfer(rng: random.Random, accounts: list[str], n: int, ts: datetime) -> dict[str, Any]:
    payer, payee = rng.sample(accounts, 2)
    return {
        "txn_id": f"TX{n:06d}",
        "ts": ts.astimezone(UTC),
        "from_account": payer,
        "to_account": payee,
        "amount": Decimal(rng.randrange(100, 10_000_000)) / 100,
        "currency": "CNY",
        "channel": rng.choice(("counter", "online", "mobile", "batch")),
        "memo": None if n % 5 else "货款",
    }


def _tax(rng: random.Random) -> list[dict[str, Any]]:
    periods = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13) if (y, m) <= (2024, 6)]
    return [
        {"uscc": uscc, "period": p, "sales_declared": Decimal(rng.randrange(0, 10**9)) / 100,
         "tax_paid": Decimal(rng.randrange(0, 10**7)) / 100}
        for uscc in ENTERPRISES[:10]
        for p in periods
        if rng.random() > 0.15  # some months missing
    ]  # fmt: skip


def _headcount(rng: random.Random) -> list[dict[str, Any]]:
    periods = [f"2023-{m:02d}" for m in range(6, 13)] + MONTHS
    return [
        {"uscc": uscc, "period": p, "social_insurance_count": rng.randrange(5, 500),
         "provident_fund_count": rng.randrange(0, 400),
         "provident_fund_amount": Decimal(rng.randrange(10**6)) / 100}
        for uscc in ENTERPRISES[:10]
        for p in periods
        if rng.random() > 0.2
    ]  # fmt: skip


def _patents(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for n in range(40):
        filed = date(2019, 1, 1) + timedelta(days=rng.randrange(2000))
        rows.append(
            {"patent_no": f"CN{n:07d}", "uscc": rng.choice(ENTERPRISES[:8]),
             "kind": rng.choice(("invention", "utility_model", "design")), "title": f"patent {n}",
             "filed_on": filed, "granted_on": filed + timedelta(days=400) if n % 3 else None}
        )  # fmt: skip
    return rows


def _judicial(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"case_no": f"(2023)渝01民初{n}号", "uscc": rng.choice(ENTERPRISES[:9]),
         "role": rng.choice(("plaintiff", "defendant", "executed")),
         "case_type": rng.choice(("contract", "loan", "labor")),
         "filed_on": date(2022, 6, 1) + timedelta(days=rng.randrange(750)),
         "amount": Decimal(rng.randrange(10**4, 10**9)) / 100, "status": rng.choice(("open", "closed"))}
        for n in range(30)
    ]  # fmt: skip
