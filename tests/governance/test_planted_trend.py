"""The synthetic three-year trend: ingested like any provider's files, checked, and the report finds every
planted rate (per bank and month) within ±0.01 percentage points — here exactly, as counts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from jinyu.analytics import DuckDBEngine, Lake
from jinyu.core.auth import SYSTEM
from jinyu.governance import service
from jinyu.ingest import service as ingest
from jinyu.synth.quality import YEAR_TARGETS, schedule, write_trend
from tests.ingest.loading import load

PP = Decimal("0.01")  # the tolerance, in percentage points


@pytest.fixture
def stores(tmp_path: Path) -> ingest.Stores:
    return ingest.Stores(
        lake=Lake(tmp_path / "lake"),
        quarantine_dir=tmp_path / "quarantine",
        pseudonym_key=b"p" * 32,
        quarantine_key=b"q" * 32,
    )


def test_the_report_recovers_every_planted_rate(
    session: Session, tmp_path: Path, stores: ingest.Stores
) -> None:
    planted = write_trend(tmp_path / "trend", banks=3, months=36, rows=400, seed=11)
    for dataset, name in (("banks", "banks.csv"), ("enterprises", "enterprises.csv"),
                          ("accounts", "accounts.csv"), ("loans", "loans.parquet")):  # fmt: skip
        report = load(session, SYSTEM, dataset, tmp_path / "trend" / name, stores)
        assert report.rejected == 0, report.rejected_by_reason
    # Ingestion wrote hashed keys beside the codes, so the reference rule below compares 64-bit keys.
    assert stores.lake.keyed_columns("loans") == {"borrower_uscc"}
    assert stores.lake.keyed_columns("enterprises") == {"uscc"}
    engine = DuckDBEngine(stores.lake.root)
    try:
        [run] = service.check(session, SYSTEM, engine, stores.lake, "loans", as_of=dt.date(2026, 12, 6))
    finally:
        engine.close()
    assert run.rows_checked == 3 * 36 * 400
    found = {(p.provider, p.period): p for p in service.report(session, SYSTEM, dataset="loans").trend}
    manifest = json.loads((tmp_path / "trend" / "quality_manifest.json").read_text())
    assert len(manifest) == len(planted) == len(found) == 3 * 36
    for entry in manifest:
        point = found[(entry["bank"], entry["month"])]
        assert (point.checked, point.anomalous) == (entry["rows"], entry["defects"])
        planted_pct = Decimal(entry["defects"]) * 100 / Decimal(entry["rows"])
        assert point.anomaly_rate_pct is not None and abs(point.anomaly_rate_pct - planted_pct) <= PP
    assert sum(e["defects"] for e in manifest) == run.rows_anomalous


def test_at_the_standard_size_the_planted_rates_are_the_targets_and_fall_by_year() -> None:
    """5,000 loans per bank and month: every planted rate is within ±0.01 pp of its target, and the yearly
    rates fall from about 0.7 % to 0.1 % to 0.03 % as the regulator's did."""
    plan = schedule(banks=4, months=36, rows=5000, first=dt.date(2023, 1, 1))
    assert all(abs(p.rate - p.target) * 100 <= PP for p in plan)
    yearly = []
    for year in range(3):
        cells = [p for p in plan if int(p.month[:4]) == 2023 + year]
        yearly.append(Decimal(sum(p.defects for p in cells)) / sum(p.rows for p in cells))
    assert yearly[0] > yearly[1] > yearly[2]
    for rate, target in zip(yearly, YEAR_TARGETS, strict=True):
        assert target * Decimal("0.7") <= rate <= target  # the bank factors average 0.9, the months 5/6
