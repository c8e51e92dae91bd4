"""`jinyu ingest` and `jinyu datasets`: thin commands over the ingestion service."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jinyu.core import lazy
from jinyu.core.auth import SYSTEM
from jinyu.core.cli_kit import console, err_console, handle_errors, print_json, print_table
from jinyu.core.errors import JinyuError

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import analytics, config
    from jinyu.core import runtime
    from jinyu.governance import contracts as _governance_contracts
    from jinyu.governance import tasks
    from jinyu.ingest import docs, reader, schemas, service
else:
    _governance_contracts = lazy.module("jinyu.governance.contracts")
    analytics = lazy.module("jinyu.analytics")
    config = lazy.module("jinyu.config")
    docs = lazy.module("jinyu.ingest.docs")
    reader = lazy.module("jinyu.ingest.reader")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.ingest.schemas")
    service = lazy.module("jinyu.ingest.service")
    tasks = lazy.module("jinyu.governance.tasks")

# What a load's end does besides the quality check, plugged in by the module that mounts these commands
# (`jinyu.load_prepare`: the loan check's resident index, a layer above ingestion): (lake, datasets, say).
after_load: list[Callable[[Path, Iterable[str], Callable[[str], None]], object]] = []
PREPARE_HELP = (
    "加载后准备贷款核查的常驻索引与上下文及产业链页面的答案，下次启动服务即可直接使用 / prepare the loan check's "
    "resident index and context, and the chain pages' answers, after the load, so the next server start maps "
    "them (--no-prepare: the server and the first visitors build them)"
)

datasets_app = typer.Typer(help="数据契约 / dataset contracts: `jinyu datasets list`", no_args_is_help=True)


def _stores() -> service.Stores:
    s = config.get_settings()
    return service.Stores(
        lake=analytics.Lake(s.lake_dir),
        quarantine_dir=s.data_dir / "quarantine",
        pseudonym_key=s.pseudonym_keys(),
        quarantine_key=s.key("quarantine_key"),
    )


def _load(dataset: str, path: Path, show_progress: bool, encoding: str = "auto") -> schemas.LoadReport:
    service.contract_for(dataset)  # an unknown dataset is named before the files are looked at
    files = reader.files_of(path)
    totals = [reader.row_count(f) for f in files]
    total = None if None in totals else sum(t or 0 for t in totals)
    with Progress(
        TextColumn(f"[bold]{dataset}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as bar:
        task = bar.add_task(dataset, total=total)
        with runtime.unit_of_work() as session:
            return service.ingest(
                session,
                SYSTEM,
                dataset,
                path,
                _stores(),
                progress=lambda n: bar.advance(task, n),
                encoding=encoding,
            )


def _print_report(report: schemas.LoadReport) -> None:
    state = (
        "已加载过（未重复写入）/ already loaded, nothing written" if report.already_loaded else "完成 / done"
    )
    console.print(f"[bold]{report.dataset}[/] {report.file_name}: {state}")
    print_table(
        "加载报告 / load report",
        ["rows", "accepted", "rejected", "quarantine"],
        [[report.rows_total, report.accepted, report.rejected, report.quarantine_file or "-"]],
    )
    if report.rejected_by_reason:
        print_table(
            "拒绝原因 / rejected by reason", ["reason", "rows"], sorted(report.rejected_by_reason.items())
        )


@handle_errors
def ingest(
    dataset: str = typer.Argument(..., help="数据集名 / dataset name (see `jinyu datasets list`)"),
    path: Path = typer.Argument(..., help="CSV 或 Parquet 文件，或分片目录 / file or directory of parts"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print the report as JSON"),
    no_progress: bool = typer.Option(False, "--no-progress", help="不显示进度条 / no progress bar"),
    check: bool = typer.Option(
        True, "--check/--no-check", help="加载后运行质量检查 / run the quality check after the load"
    ),
    encoding: str = typer.Option(
        "auto",
        "--encoding",
        help="CSV 编码 / CSV encoding: auto (UTF-8, or GB18030 when no line is UTF-8), utf-8, gbk, gb18030",
    ),
    prepare: bool = typer.Option(True, "--prepare/--no-prepare", help=PREPARE_HELP),
) -> None:
    """接入一个数据文件：校验、入库、隔离不合格行并输出加载报告 / validate and load one file.

    同一文件重复接入不会重复写入 / the same file loads once. 不可读的行逐行隔离 / unreadable lines are
    quarantined one by one with their line number.

    Example: jinyu ingest transfers ./region/transfers.csv --encoding gb18030 --json
    """
    report = _load(dataset, path, show_progress=not (json_out or no_progress), encoding=encoding)
    print_json(report) if json_out else _print_report(report)
    if check:
        _post_load_check(dataset, report.id, quiet=json_out)
    if prepare and not report.already_loaded:
        _after_load([dataset], quiet=json_out)


@handle_errors
def ingest_region(
    directory: Path = typer.Argument(..., help="synth 输出目录 / a directory written by `jinyu synth`"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print reports as JSON"),
    check: bool = typer.Option(
        True, "--check/--no-check", help="加载后运行质量检查 / run the quality check after the loads"
    ),
    prepare: bool = typer.Option(True, "--prepare/--no-prepare", help=PREPARE_HELP),
) -> None:
    """按依赖顺序接入整个区域的全部数据集 / load every dataset of a region in dependency order.

    Example: jinyu ingest-region ./region
    """
    reports = [
        r
        for r in (
            _load_if_present(directory, name, not json_out) for name in _governance_contracts.LOAD_ORDER
        )
        if r
    ]
    if check and reports:
        _post_load_check(None, None, quiet=json_out)
    if prepare:
        _after_load([r.dataset for r in reports if not r.already_loaded], quiet=json_out)
    if json_out:
        print_json(reports)
        return
    rows = [
        [r.dataset, r.rows_total, r.accepted, r.rejected, "yes" if r.already_loaded else ""] for r in reports
    ]
    print_table("区域加载 / region load", ["dataset", "rows", "accepted", "rejected", "already"], rows)


def _post_load_check(dataset: str | None, load_id: str | None, quiet: bool) -> None:
    """The post-load quality check, after the load committed; a failing check does not undo the load."""
    s = config.get_settings()
    try:
        runs = tasks.check_after_load(runtime.sessionmaker_for(s), s.lake_dir, dataset, load_id)
    except JinyuError as exc:
        err_console.print(f"质量检查未完成（数据已加载）/ quality check failed, the load stands: {exc}")
        return
    if not quiet:
        print_table(
            "质量检查 / quality check",
            ["dataset", "rows", "anomalous", "rate %"],
            [[r.dataset, r.rows_checked, r.rows_anomalous, r.anomaly_rate_pct] for r in runs],
        )


def _after_load(datasets: list[str], quiet: bool) -> None:
    """The plugged-in steps after the load committed (each reports and never raises; --json: silent)."""
    lake_dir = config.get_settings().lake_dir
    for step in after_load:
        step(lake_dir, datasets, (lambda _line: None) if quiet else console.print)


def _load_if_present(directory: Path, dataset: str, show_progress: bool) -> schemas.LoadReport | None:
    for candidate in (directory / f"{dataset}.parquet", directory / f"{dataset}.csv", directory / dataset):
        if candidate.exists():
            return _load(dataset, candidate, show_progress)
    return None


@datasets_app.command("list")
@handle_errors
def list_datasets(json_out: bool = typer.Option(False, "--json")) -> None:
    """列出所有数据契约 / list dataset contracts. Example: jinyu datasets list --json"""
    contracts = service.list_contracts()
    if json_out:
        print_json(contracts)
        return
    print_table(
        "数据契约 / dataset contracts",
        ["name", "title", "key", "partition"],
        [[c.name, c.title, ",".join(c.key), c.partition_by or "-"] for c in contracts],
    )


@datasets_app.command("show")
@handle_errors
def show_dataset(name: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """显示一个数据契约的列定义 / show one contract. Example: jinyu datasets show transfers"""
    c = service.describe_contract(name)
    if json_out:
        print_json(c)
        return
    console.print(f"[bold]{c.name}[/] — {c.title} — {c.provider}; key {c.key}")
    print_table(
        "columns",
        ["name", "type", "level", "required", "check", "description"],
        [[x.name, x.kind, x.level, x.required, x.check or x.protect or "", x.description] for x in c.columns],
    )


@datasets_app.command("docs")
@handle_errors
def dataset_docs(
    out: Path = typer.Option(Path("docs/data-formats.md"), help="输出文件 / output file"),
) -> None:
    """由契约生成数据格式文档 / write docs/data-formats.md from the contracts. Example: jinyu datasets docs"""
    out.write_text(docs.render_markdown(_governance_contracts.CONTRACTS.values()), encoding="utf-8")
    console.print(f"wrote {out}")


__all__ = ["datasets_app", "ingest", "ingest_region"]
