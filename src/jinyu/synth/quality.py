"""A three-year quality trend planted at known rates: banks' loans, each month a known count of defects.

The regulator's three years of governance took the anomaly rate from 0.7 % to 0.1 % to 0.03 %. This writes
that history for a handful of banks: `banks.csv`, `enterprises.csv` and `accounts.csv` (what the loans refer
to), `loans.parquet` (36 months), and `quality_manifest.json` with, per bank and month, the rows written and
the defects planted. Every defect passes ingestion and fails exactly one standard rule, one kind in turn:
- a term of 600 months (`loans.term_months.range`, 1–360);
- an amount of 20 billion yuan (`loans.amount.range`, at most 10 billion);
- a borrower that is not a registered enterprise (`loans.borrower.registered`).
So the report must find, per bank and month, exactly the planted count: planted count / rows written.

Rates: the year's target (0.7 %, 0.1 %, 0.03 %) times a bank factor, falling linearly by a third within the
year; the planted count is the target times the rows, rounded half up. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from jinyu.synth.idgen import make_resident_id, make_uscc

YEAR_TARGETS = (Decimal("0.007"), Decimal("0.001"), Decimal("0.0003"))
BANK_FACTORS = (Decimal("1.2"), Decimal("1.0"), Decimal("0.8"), Decimal("0.6"))
DEFECTS = ("term", "amount", "borrower")
_DEC = pa.decimal128(18, 2)
LOAN_SCHEMA = pa.schema(
    [
        ("loan_id", pa.string()),
        ("bank_code", pa.string()),
        ("borrower_uscc", pa.string()),
        ("disbursement_account", pa.string()),
        ("amount", _DEC),
        ("disbursed_at", pa.timestamp("s", tz="UTC")),
        ("term_months", pa.int64()),
        ("declared_purpose", pa.string()),
    ]
)


@dataclass(frozen=True)
class Planted:
    bank: str
    month: str
    rows: int
    defects: int
    target: Decimal  # the intended rate, a fraction

    @property
    def rate(self) -> Decimal:
        return Decimal(self.defects) / Decimal(self.rows)


def month_label(first: dt.date, m: int) -> str:
    index = first.year * 12 + first.month - 1 + m
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def schedule(banks: int, months: int, rows: int, first: dt.date) -> list[Planted]:
    """Per bank and month: rows written and defects planted (pure; the manifest holds the same)."""
    out = []
    for b in range(banks):
        for m in range(months):
            year, within = divmod(m, 12)
            target = YEAR_TARGETS[min(year, 2)] * BANK_FACTORS[b % len(BANK_FACTORS)]
            target *= 1 - Decimal(within) / 36  # a third lower by the year's end
            defects = int((target * rows).to_integral_value(rounding=ROUND_HALF_UP))
            out.append(Planted(f"QB{b + 1}", month_label(first, m), rows, defects, target))
    return out


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_trend(
    out: Path, *, banks: int = 4, months: int = 36, rows: int = 5000, first: str = "2023-01", seed: int = 7
) -> list[Planted]:
    """Write the files described above into `out`; returns the schedule (also in quality_manifest.json)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    start = dt.date.fromisoformat(first + "-01")
    plan = schedule(banks, months, rows, start)
    used: set[str] = set()
    registered = [make_uscc(rng, used, "500103") for _ in range(20)]
    strangers = [make_uscc(rng, used, "500106") for _ in range(20)]  # valid codes, never registered
    codes = [f"QB{b + 1}" for b in range(banks)]
    _write_csv(
        out / "banks.csv",
        [
            {
                "org_code": c,
                "name": f"质量银行{c}",
                "level": "head_office",
                "parent_code": "",
                "district_code": "500103",
                "uscc": "",
            }
            for c in codes
        ],
    )
    ids: set[str] = set()
    _write_csv(
        out / "enterprises.csv",
        [
            {
                "uscc": u,
                "name": f"企业{u[-6:]}",
                "industry_code": "C3974",
                "district_code": "500103",
                "registered_capital": "1000000.00",
                "established_on": "2015-03-01",
                "address": "渝中区",
                "phone": "",
                "legal_rep_id": make_resident_id(rng, ids, "500103", dt.date(1980, 1, 1)),
                "legal_rep_name": "李四",
                "status": "active",
            }
            for u in registered
        ],
    )
    _write_csv(
        out / "accounts.csv",
        [
            {
                "account_no": f"62{b:02d}00000000000001",
                "bank_code": c,
                "owner_type": "enterprise",
                "owner_id": registered[0],
                "owner_name": "某公司",
                "category": "corporate_settlement",
                "opened_on": "2015-03-02",
                "currency": "CNY",
            }
            for b, c in enumerate(codes)
        ],
    )
    columns: dict[str, list[Any]] = {name: [] for name in LOAN_SCHEMA.names}
    for p in plan:
        b = codes.index(p.bank)
        year, month = (int(x) for x in p.month.split("-"))
        bad = set(rng.sample(range(p.rows), p.defects))
        for i in range(p.rows):
            defect = DEFECTS[i % len(DEFECTS)] if i in bad else None
            columns["loan_id"].append(f"{p.bank}-{p.month}-{i:05d}")
            columns["bank_code"].append(p.bank)
            columns["borrower_uscc"].append(rng.choice(strangers if defect == "borrower" else registered))
            columns["disbursement_account"].append(f"62{b:02d}00000000000001")
            columns["amount"].append(
                Decimal("20000000000.00") if defect == "amount" else Decimal(rng.randrange(10_000, 5_000_000))
            )
            # 04:00 UTC is noon in Asia/Shanghai: the same month in both.
            columns["disbursed_at"].append(dt.datetime(year, month, 1 + i % 27, 4, 0, tzinfo=dt.UTC))
            columns["term_months"].append(600 if defect == "term" else rng.choice((6, 12, 24, 36, 60)))
            columns["declared_purpose"].append("working_capital")
    pq.write_table(pa.table(columns, schema=LOAN_SCHEMA), out / "loans.parquet")
    manifest = [
        {"bank": p.bank, "month": p.month, "rows": p.rows, "defects": p.defects, "target": str(p.target)}
        for p in plan
    ]
    (out / "quality_manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return plan
