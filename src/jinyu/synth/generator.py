"""`generate()`: build a region part by part into a shared `Region`, then write the datasets and manifest.

Parts run in dependency order and only add to the region; later parts (planted risk cases, hospitals and
claims) slot into `PARTS` after the ones they build on. Datasets are written only after all parts have run,
so a later part may still add enterprises, accounts or events.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from jinyu.synth.accounts import account_table, build_accounts
from jinyu.synth.banks import bank_table, build_banks, build_customer_managers
from jinyu.synth.calendar import Calendar
from jinyu.synth.chain_cases import plant_chain_cases, write_chain_cases, write_chain_declines
from jinyu.synth.claims import build_claims
from jinyu.synth.credit import build_credit_sources
from jinyu.synth.defects import MANIFEST as DEFECTS_MANIFEST
from jinyu.synth.defects import plant_defects
from jinyu.synth.defects import write_manifest as write_defects
from jinyu.synth.flows import build_flows
from jinyu.synth.govdata import build_judicial, build_monthly, build_patents
from jinyu.synth.guarantees import build_guarantees
from jinyu.synth.institutions import build_institutions
from jinyu.synth.loans import build_loans
from jinyu.synth.manifest import MANIFEST_NAME, DatasetFiles, Manifest
from jinyu.synth.model import Region
from jinyu.synth.parties import (
    assign_employees,
    build_enterprises,
    build_persons,
    build_shareholders,
    build_supply_network,
    chain_member_table,
    enterprise_table,
)
from jinyu.synth.purpose_cases import plant_purpose_cases
from jinyu.synth.refund_cases import plant_refund_cases
from jinyu.synth.related_cases import plant_related_cases
from jinyu.synth.risk_cases import build_risk_cases, plant_guarantor_cases, write_labels
from jinyu.synth.scales import get_scale
from jinyu.synth.schema import DATASETS
from jinyu.synth.statements import write_statements
from jinyu.synth.transfers import write_transfers
from jinyu.synth.writers import write_dataset

# Bump whenever the same seed and scale would produce different bytes. 1.1: loan_guarantees; 1.2: the
# claim_insured and claim_visits datasets (every dataset file of 1.1 is unchanged); 1.3: the credit-card sources
# (registration_changes ... source_coverage; every dataset file of 1.2 is unchanged).
# 1.4: the planted contagion case of the new-display chain (chain_cases.py: enterprises, accounts, members,
# transfers).
# 1.5: related_parties and its planted cases (holding companies added to enterprises and shareholders), the
# purpose-matrix cases (new loans and transfers), opening_balances (an empty file).
# 1.6: planted refunds (refund_cases.py: loans, transfers with channel `reversal`, labels) and balances of
# record (opening_balances for the presented statements' accounts) with a planted opening-balance break.
# 1.7: `--defects` (defects.py): head-count data back-filled to 2022 with a planted three-year trend of
# anomalies; without the flag every file is that of 1.6 (only manifest.json's version changes).
# 1.8: planted head-count declines of 15 % of the chains' non-core members (govdata.plant_declines, own random
# stream; ground truth chain_declines.csv), the scorecard's learnable signal: headcount_monthly, and the social
# insurance and provident fund transfers of the declining members, differ from 1.7; nothing else.
GENERATOR_VERSION = "1.8"

PARTS: tuple[tuple[str, Callable[[Region], None]], ...] = (
    ("居民 persons", build_persons),
    ("企业 enterprises", build_enterprises),
    ("股东 shareholders", build_shareholders),
    ("供应网络 supply network", build_supply_network),
    ("雇佣 employment", assign_employees),
    ("机构 institutions", build_institutions),
    ("银行 banks", build_banks),
    ("客户经理 customer managers", build_customer_managers),
    ("账户 accounts", build_accounts),
    ("纳税与社保 tax and head-count", build_monthly),
    ("专利 patents", build_patents),
    ("司法 judicial", build_judicial),
    ("信用名片来源 credit-card sources", build_credit_sources),
    ("贷款 loans", build_loans),
    ("资金流 flows", build_flows),
    ("风险案例 risk cases", build_risk_cases),
    ("用途矩阵案例 purpose cases", plant_purpose_cases),
    ("担保回流案例 guarantor return cases", plant_guarantor_cases),
    ("担保 loan guarantees", build_guarantees),
    ("申报关联方案例 declared related-party cases", plant_related_cases),
    ("理赔 claims", build_claims),
    ("产业链传染案例 chain contagion case", plant_chain_cases),
    ("退款案例 refund cases", plant_refund_cases),
)

# Datasets whose rows are derived from the region's entities at write time rather than stored by a part.
_DERIVED: dict[str, Callable[[Region], dict[str, list[Any]]]] = {
    "banks": bank_table,
    "enterprises": enterprise_table,
    "chain_members": chain_member_table,
    "accounts": account_table,
    # Balances of record come from the presented statements (written after the ledger): empty until then.
    "opening_balances": lambda region: (
        region.tables.get("opening_balances") or {c: [] for c in DATASETS["opening_balances"].column_names}
    ),
}


class _Task:
    def __init__(self, progress: Progress, task_id: TaskID, label: str) -> None:
        self._progress, self._id, self._label = progress, task_id, label

    def advance(self, steps: int = 1) -> None:
        self._progress.advance(self._id, steps)

    def describe(self, detail: str) -> None:
        self._progress.update(self._id, description=f"{self._label}: {detail}")


class _Bar:
    """Rich progress on stderr (stdout stays clean for --json), or nothing."""

    def __init__(self, enabled: bool) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[_Bar]:
        with self._progress:
            yield self

    def task(self, label: str, total: int) -> _Task:
        return _Task(self._progress, self._progress.add_task(label, total=total), label)


def generate(out: Path, scale: str, seed: int, progress: bool = True, defects: bool = False) -> Manifest:
    """Write a whole synthetic region into `out` and return its manifest (also written as manifest.json).

    `defects`: plant the known data defects of `defects.py` (and write their ground truth)."""
    params = get_scale(scale)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous(out)
    region = Region(params, seed, Calendar())
    bar = _Bar(progress)
    with bar.running():
        build = bar.task("生成 building", len(PARTS))
        for label, part in PARTS:
            build.describe(label)
            part(region)
            build.advance()
        # Last, so no other part's draws move; its own random stream.
        planted = plant_defects(region) if defects else None
        files = _write_datasets(region, out, bar)
        write_statements(region, out)  # presented statements for verification: after the ledger
        files["opening_balances"] = _write_one(region, out, "opening_balances")  # their balances of record
        write_labels(region, out)  # risk_labels.csv: ground truth of the planted risk cases, not ingested
        write_chain_cases(region, out)  # chain_cases.csv: ground truth of the planted contagion case
        write_chain_declines(region, out)  # chain_declines.csv: ground truth of the planted declines
        if planted is not None:
            write_defects(out, planted)  # defects_manifest.json: ground truth of the planted defects
    cal = region.calendar
    manifest = Manifest(
        params.name,
        seed,
        GENERATOR_VERSION,
        cal.end.isoformat(),
        cal.period(0),
        cal.period(cal.months - 1),
        files,
    )
    manifest.write(out)
    return manifest


def _write_datasets(region: Region, out: Path, bar: _Bar) -> dict[str, DatasetFiles]:
    names = [n for n in DATASETS if n != "transfers"]
    write = bar.task("写入 writing", len(names))
    files: dict[str, DatasetFiles] = {}
    for name in names:
        write.describe(name)
        spec = DATASETS[name]
        columns = _DERIVED[name](region) if name in _DERIVED else region.tables[name]
        record = write_dataset(out, spec, columns)
        files[name] = DatasetFiles(name, "parquet" if spec.parquet else "csv", (record,))
        write.advance()
    months = bar.task("交易流水 transfers (月 months)", region.calendar.months)
    records = write_transfers(region, out, lambda _rows: months.advance())
    files["transfers"] = DatasetFiles("transfers", "parquet", tuple(records))
    return {name: files[name] for name in DATASETS}  # the manifest lists datasets in load order


def _write_one(region: Region, out: Path, name: str) -> DatasetFiles:
    spec = DATASETS[name]
    columns = _DERIVED[name](region) if name in _DERIVED else region.tables[name]
    return DatasetFiles(name, "parquet" if spec.parquet else "csv", (write_dataset(out, spec, columns),))


def _remove_previous(out: Path) -> None:
    """Delete files an earlier run may have left (e.g. monthly parts of another scale); nothing else."""
    for spec in DATASETS.values():
        (out / spec.filename).unlink(missing_ok=True)
    parts = out / "transfers"
    if parts.is_dir():
        for part in parts.glob("part-*.parquet"):
            part.unlink()
        with contextlib.suppress(OSError):
            parts.rmdir()
    (out / MANIFEST_NAME).unlink(missing_ok=True)
    (out / DEFECTS_MANIFEST).unlink(missing_ok=True)
