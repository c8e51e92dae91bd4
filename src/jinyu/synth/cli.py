"""`jinyu synth`: generate a synthetic region. Registered by jinyu/cli.py as app.command("synth")(command)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from jinyu.core import lazy
from jinyu.core.errors import JinyuError
from jinyu.synth.scales import SCALES, get_scale

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu.synth import generator
else:
    generator = lazy.module("jinyu.synth.generator")


def synth(
    scale: str = typer.Option("small", "--scale", help=f"规模 / scale: {', '.join(SCALES)}"),
    seed: int = typer.Option(
        7, "--seed", help="随机种子，相同种子生成相同文件 / seed; same seed, same bytes"
    ),
    out: Path = typer.Option(Path("./region"), "--out", help="输出目录 / output directory"),
    json_out: bool = typer.Option(False, "--json", help="以JSON输出清单 / print the manifest as JSON"),
    no_progress: bool = typer.Option(False, "--no-progress", help="不显示进度条 / no progress bars"),
    defects: bool = typer.Option(
        False,
        "--defects",
        help="植入已知比例的数据缺陷（社保数据 2022–2024 三年改善趋势）/ plant data defects at known rates "
        "(head-count 2022-2024, a three-year improving trend; ground truth in defects_manifest.json)",
    ),
) -> None:
    """生成确定性的合成区域数据（企业、政务、银行账户与交易流水），按接入格式写出。

    Generate a deterministic synthetic region (enterprises, government data, bank accounts and transfers)
    in the documented ingestion formats, with a manifest.json of row counts and SHA-256 digests.

    示例 / example:  jinyu synth --scale small --seed 7 --out ./region
    示例 / example:  jinyu synth --scale medium --defects --out ./region   (docs/synthetic-region.md)
    """
    try:
        get_scale(scale)
        manifest = generator.generate(out, scale, seed, progress=not no_progress, defects=defects)
    except JinyuError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if json_out:
        typer.echo(manifest.to_json(), nl=False)
        return
    table = Table(title=f"合成区域 synthetic region: {scale}, seed {seed} -> {out}")
    for header in ("数据集 dataset", "格式 format", "行数 rows", "文件 files"):
        table.add_column(header, justify="right" if header.startswith("行数") else "left")
    for ds in manifest.datasets.values():
        table.add_row(ds.name, ds.format, f"{ds.rows:,}", str(len(ds.files)))
    Console().print(table)


command = synth
