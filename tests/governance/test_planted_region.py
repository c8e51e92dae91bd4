"""`jinyu synth --defects`: the region's head-count data, ingested like the bureau's file and checked, gives
back every planted rate per provider and month (within ±0.01 pp — here exactly, as counts), and the three
years improve as the regulator's did."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.core.auth import SYSTEM
from jinyu.governance import service
from jinyu.ingest import service as ingest
from jinyu.synth import generate
from jinyu.synth.defects import schedule
from tests.ingest.loading import load

PP = Decimal("0.01")  # the tolerance, in percentage points


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("region")
    generate(out, "small", 7, progress=False, defects=True)
    return out


def test_the_file_holds_what_the_manifest_says(region: Path) -> None:
    """Counted from the written file itself, not from the planting code: rows and defects per month."""
    table = pq.read_table(region / "headcount_monthly.parquet").to_pylist()
    rows = Counter(r["period"] for r in table)
    bad = Counter(r["period"] for r in table if r["provident_fund_count"] > r["social_insurance_count"])
    manifest = json.loads((region / "defects_manifest.json").read_text(encoding="utf-8"))
    assert [m["month"] for m in manifest] == [
        f"{y}-{m:02d}" for y in (2022, 2023, 2024) for m in range(1, 13)
    ]
    assert {m["month"]: (m["rows"], m["defects"]) for m in manifest} == {p: (rows[p], bad[p]) for p in rows}
    yearly = [
        sum(m["defects"] for m in manifest if m["month"].startswith(y)) for y in ("2022", "2023", "2024")
    ]
    assert yearly[0] > yearly[1] > yearly[2] > 0


def test_the_report_recovers_every_planted_rate(session: Session, tmp_path: Path, region: Path) -> None:
    stores = ingest.Stores(
        lake=Lake(tmp_path / "lake"),
        quarantine_dir=tmp_path / "q",
        pseudonym_key=b"p" * 32,
        quarantine_key=b"q" * 32,
    )
    for dataset, name in (
        ("enterprises", "enterprises.csv"),
        ("headcount_monthly", "headcount_monthly.parquet"),
    ):
        report = load(session, SYSTEM, dataset, region / name, stores)
        assert report.rejected == 0, report.rejected_by_reason
    engine = DuckDBEngine(stores.lake.root)
    try:
        [run] = service.check(
            session, SYSTEM, engine, stores.lake, "headcount_monthly", as_of=dt.date(2025, 1, 15)
        )
    finally:
        engine.close()
    found = {
        (p.provider, p.period): p for p in service.report(session, SYSTEM, dataset="headcount_monthly").trend
    }
    manifest = json.loads((region / "defects_manifest.json").read_text(encoding="utf-8"))
    assert len(found) == len(manifest) == 36
    for entry in manifest:
        point = found[(entry["provider"], entry["month"])]
        assert (point.checked, point.anomalous) == (entry["rows"], entry["defects"]), entry["month"]
        planted_pct = Decimal(entry["defects"]) * 100 / Decimal(entry["rows"])
        assert point.anomaly_rate_pct is not None and abs(point.anomaly_rate_pct - planted_pct) <= PP
    assert run.rows_anomalous == sum(e["defects"] for e in manifest)


def test_with_enough_rows_every_planted_rate_is_its_target() -> None:
    """At 10,000 rows a month (a month's count is within one defect of its target): every month is within
    ±0.01 pp of its target, and each year within ±0.01 pp of its January target times the mean of
    (1 - w/36) over w = 0..11, i.e. 1 - 66/432 (the targets fall linearly by a third over the year)."""
    plan = schedule({f"{y}-{m:02d}": 10_000 for y in (2022, 2023, 2024) for m in range(1, 13)})
    for p in plan:
        assert abs(Decimal(p.defects) / p.rows - Decimal(p.target)) * 100 <= PP, p.month
    jan = {2022: Decimal("0.007"), 2023: Decimal("0.001"), 2024: Decimal("0.0003")}
    for year, first in jan.items():
        cells = [p for p in plan if p.month.startswith(str(year))]
        rate = Decimal(sum(p.defects for p in cells)) / sum(p.rows for p in cells)
        mean_target = first * (1 - Decimal(sum(range(12))) / (12 * 36))  # 1 - 66/432
        assert abs(rate - mean_target) * 100 <= PP, year
