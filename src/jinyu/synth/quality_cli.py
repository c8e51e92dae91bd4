"""`jinyu synth-quality`: write the planted three-year quality trend (see `jinyu.synth.quality`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.cli_kit import handle_errors, print_json, print_table

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu.synth import quality
else:
    quality = lazy.module("jinyu.synth.quality")


@handle_errors
def synth_quality(
    out: Path = typer.Option(Path("./quality-trend"), "--out", help="输出目录 / output directory"),
    banks: int = typer.Option(4, min=1, max=4, help="银行数 / banks"),
    months: int = typer.Option(36, min=1, max=36, help="月数（从 2023-01 起）/ months from 2023-01"),
    rows: int = typer.Option(5000, min=1, max=1_000_000, help="每行每月贷款数 / loans per bank and month"),
    seed: int = typer.Option(7, help="随机种子 / seed"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print the planted schedule as JSON"),
) -> None:
    """写出按已知比率植入缺陷的三年贷款数据 / write three years of loans with defects planted at known rates.

    Then: jinyu ingest banks OUT/banks.csv; ... enterprises, accounts, loans OUT/loans.parquet;
    jinyu governance report --dataset loans --yearly. The planted counts are in OUT/quality_manifest.json.

    Example: jinyu synth-quality --out ./quality-trend --rows 5000
    """
    plan = quality.write_trend(out, banks=banks, months=months, rows=rows, seed=seed)
    if json_out:
        print_json([{"bank": p.bank, "month": p.month, "rows": p.rows, "defects": p.defects} for p in plan])
        return
    print_table(
        "植入缺陷 / planted defects",
        ["bank", "month", "rows", "defects", "rate %"],
        [[p.bank, p.month, p.rows, p.defects, f"{p.rate * 100:.4f}"] for p in plan],
    )


command = synth_quality
