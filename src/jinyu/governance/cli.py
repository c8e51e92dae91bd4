"""`jinyu governance ...`: providers, rules, checks and the anomaly-rate report at the console.

Commands act as the platform's operator (SYSTEM, the hub's data team); providers use the API for their items.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.auth import SYSTEM
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import analytics, config
    from jinyu.core import runtime
    from jinyu.governance import chart, registry, service, versions
    from jinyu.governance import cli_remediation as remediation_cli
    from jinyu.governance import rules as _governance_rules
else:
    _governance_rules = lazy.module("jinyu.governance.rules")
    analytics = lazy.module("jinyu.analytics")
    chart = lazy.module("jinyu.governance.chart")
    config = lazy.module("jinyu.config")
    registry = lazy.module("jinyu.governance.registry")
    remediation_cli = lazy.module("jinyu.governance.cli_remediation")
    runtime = lazy.module("jinyu.core.runtime")
    service = lazy.module("jinyu.governance.service")
    versions = lazy.module("jinyu.governance.versions")

app = typer.Typer(
    help="数据治理 / data governance: quality rules, anomaly rate, remediation. Example: jinyu governance report",
    no_args_is_help=True,
)
rules_app = typer.Typer(help="质量规则 / quality rules: `jinyu governance rules list`", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(remediation_cli.app, name="remediation")


@app.command("sources")
@handle_errors
def sources(json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON")) -> None:
    """数据提供方及其数据集 / data providers and their datasets. Example: jinyu governance sources --json"""
    items = [p.model_dump() for p in registry.providers()]
    if json_out:
        print_json(items)
        return
    print_table(
        "数据提供方 / data providers",
        ["code", "kind", "name", "datasets", "per row"],
        [[p["code"], p["kind"], p["name"], ", ".join(p["datasets"]), p["per_row"]] for p in items],
    )


@app.command("contracts")
@handle_errors
def contracts(
    dataset: str | None = typer.Argument(None, help="数据集；空 = 全部 / dataset; empty: all"),
    record: bool = typer.Option(
        False, "--record", help="把变更记为新版本（开发用）/ record changed contracts"
    ),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """契约版本、变更与列分级 / contract versions, changes and column classification.
    Example: jinyu governance contracts claim_visits"""
    if record:
        target = Path(versions.__file__).with_name(versions.FILE)
        versions.write(target, versions.record(versions.history()))
        console.print(f"wrote {target}")
    items = service.contract_versions(SYSTEM, dataset)
    if json_out:
        print_json(items)
        return
    if dataset is None:
        print_table(
            "数据契约版本 / contract versions",
            ["dataset", "version", "recorded", "personal columns"],
            [[c.dataset, c.version, c.recorded, sum(x.personal for x in c.columns)] for c in items],
        )
        return
    [item] = items
    console.print(f"[bold]{item.dataset}[/] v{item.version}")
    print_table(
        "列分级 / column classification (JR/T 0171, JR/T 0197)",
        ["column", "kind", "level", "personal", "JR/T 0171", "JR/T 0197", "identifier"],
        [
            [c.column, c.kind, c.level, c.personal, c.jrt0171 or "-", c.jrt0197, c.identifier]
            for c in item.columns
        ],
    )
    for version in item.history:
        changes = f"+{version['added']} -{version['dropped']} ~{version['retyped']}"
        console.print(f"v{version['version']}: {'breaking ' if version['breaking'] else ''}{changes}")


@rules_app.command("list")
@handle_errors
def rules_list(
    dataset: str | None = typer.Option(None, help="只看一个数据集 / one dataset only"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """生效的规则 / the rules in force. Example: jinyu governance rules list --dataset loans"""
    with runtime.unit_of_work() as session:
        rules = service.list_rules(session, SYSTEM, dataset)
    if json_out:
        print_json(rules)
        return
    print_table(
        "质量规则 / quality rules",
        ["code", "dataset", "kind", "version", "source", "title"],
        [[r.code, r.dataset, r.kind, r.version, r.source, r.title] for r in rules],
    )


@rules_app.command("add")
@handle_errors
def rules_add(
    path: Path = typer.Argument(..., help="YAML 文件，顶层为 rules: 列表 / YAML file with a `rules:` list"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """新增规则或新版本（已审计）/ add rules or new versions, audited. Example: jinyu governance rules add my.yaml"""
    rules = _governance_rules.parse_rules(path.read_text(encoding="utf-8"), path.name)
    with runtime.unit_of_work() as session:
        saved = [service.put_rule(session, SYSTEM, r) for r in rules]
    if json_out:
        print_json(saved)
        return
    for r in saved:
        console.print(f"{r.code} v{r.version} ✓")


@rules_app.command("retire")
@handle_errors
def rules_retire(
    code: str = typer.Argument(..., help="规则编号 / rule code"),
    reason: str = typer.Option(
        ..., "--reason", help="停用原因（记入审计）/ why, recorded in the audit trail"
    ),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """停用规则：存为 active=false 的新版本，历史版本保留（已审计）/ retire a rule: a new inactive version,
    earlier versions kept, audited. Example: jinyu governance rules retire loans.term_months.range --reason 口径调整"""
    with runtime.unit_of_work() as session:
        saved = service.retire_rule(session, SYSTEM, code, reason)
    if json_out:
        print_json(saved)
        return
    console.print(f"{saved.code} v{saved.version} 已停用 / retired")


@app.command("check")
@handle_errors
def check(
    dataset: str | None = typer.Argument(None, help="数据集；空 = 全部 / dataset; empty: every loaded one"),
    as_of: str | None = typer.Option(None, help="检查日 YYYY-MM-DD / check day (default today)"),
    engine: str = typer.Option("duckdb", help="duckdb 或 spark / duckdb or spark"),
    full: bool = typer.Option(
        False,
        "--full",
        help="重新扫描全部文件，不用已存的逐文件计数 / scan every file again, no cached counts",
    ),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """运行质量检查并保存结果；只扫描尚未检查的文件 / run the quality check and store it; only files not yet
    checked under the same rules are scanned (--full: all). Example: jinyu governance check loans --json"""
    settings = config.get_settings()
    day = dt.date.fromisoformat(as_of) if as_of else None
    runner = analytics.open_engine("spark" if engine == "spark" else "duckdb", settings.lake_dir)
    try:
        with runtime.unit_of_work() as session:
            runs = service.check(
                session, SYSTEM, runner, analytics.Lake(settings.lake_dir), dataset, as_of=day, full=full
            )
    finally:
        runner.close()
    if json_out:
        print_json(runs)
        return
    print_table(
        "质量检查 / quality check",
        ["dataset", "rows", "anomalous", "rate %", "skipped", "files scanned", "run"],
        [
            [
                r.dataset,
                r.rows_checked,
                r.rows_anomalous,
                r.anomaly_rate_pct,
                len(r.findings.get("skipped", {})),
                f"{r.findings['scan']['scanned_files']}/{r.findings['scan']['files']}",
                r.id,
            ]
            for r in runs
        ],
    )


@app.command("report")
@handle_errors
def report(
    provider: str | None = typer.Option(None, help="只看一个提供方 / one provider"),
    dataset: str | None = typer.Option(None, help="只看一个数据集 / one dataset"),
    yearly: bool = typer.Option(False, "--yearly", help="按年汇总 / by year instead of month"),
    chart_path: Path | None = typer.Option(None, "--chart", help="写趋势图 .svg 或 .png / write the chart"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """异常率趋势与背后的规则 / anomaly-rate trend and the rules behind it.
    Example: jinyu governance report --yearly --chart trend.svg"""
    with runtime.unit_of_work() as session:
        out = service.report(session, SYSTEM, provider=provider, dataset=dataset)
    if chart_path is not None:
        fmt = chart_path.suffix.lstrip(".").lower()
        if fmt not in ("svg", "png"):
            raise typer.BadParameter("--chart 须为 .svg 或 .png / must end in .svg or .png")
        chart_path.write_bytes(chart.trend_chart(out.trend, fmt))
    if json_out:
        print_json(out)
        return
    points = out.by_year if yearly else out.trend
    print_table(
        "数据异常率 / data anomaly rate",
        ["provider", "period", "checked", "anomalous", "rate %"],
        [[p.provider, p.period, p.checked, p.anomalous, p.anomaly_rate_pct] for p in points],
    )
    print_table(
        "规则 / rules behind it",
        ["provider", "dataset", "rule", "failed", "rate %"],
        [[r.provider, r.dataset, r.rule_code, r.failed, r.failure_rate_pct] for r in out.rules[:30]],
    )
    console.print(out.definition)
