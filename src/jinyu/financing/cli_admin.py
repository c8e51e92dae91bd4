"""`jinyu financing` commands of the regulator and the platform: indicators (live and from the lake),
window guidance, SLA dates, refusal codes, chain chiefs, consultants, managers, webhooks, lake export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from jinyu.core import lazy
from jinyu.core.auth import SYSTEM
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.financing import rules
from jinyu.financing.cli_common import (
    API_KEY,
    AS_USER,
    JSON,
    PASSWORD_STDIN,
    REGULATOR_AT_CONSOLE,
    _who,
    app,
    guidance_app,
)

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import analytics, config
    from jinyu.core import runtime
    from jinyu.financing import calendars, schemas, service
    from jinyu.financing import sla as _financing_sla
else:
    _financing_sla = lazy.module("jinyu.financing.sla")
    analytics = lazy.module("jinyu.analytics")
    calendars = lazy.module("jinyu.financing.calendars")
    config = lazy.module("jinyu.config")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.financing.schemas")
    service = lazy.module("jinyu.financing.service")


@app.command("refusal-reasons")
@handle_errors
def refusal_reasons() -> None:
    """拒绝原因代码表 / the refusal reason codes. Example: jinyu financing refusal-reasons"""
    print_table(
        "拒绝原因 / refusal reasons",
        ["code", "meaning"],
        [[c.value, t] for c, t in rules.REFUSAL_TEXT.items()],
    )


@app.command("sla")
@handle_errors
def sla(
    dispatched: str = typer.Argument(..., help="派单日 YYYY-MM-DD（上海时间）/ dispatch date"),
    json_out: bool = JSON,
) -> None:
    """按工作日日历计算时限 / SLA due dates for a dispatch date. Example: jinyu financing sla 2026-09-30"""
    cal = calendars.load_calendar(config.get_settings().data_dir)
    day = dt.date.fromisoformat(dispatched)
    due = _financing_sla.deadlines(cal, day)
    out: dict[str, Any] = {
        "dispatched_on": day,
        "contact_due": due.contact_due,
        "decision_due": due.decision_due,
    }
    out["calendar"] = {str(y): cal.source(y) for y in sorted({day.year, due.decision_due.year})}
    print_json(out) if json_out else console.print(out)


@app.command("chain-chief")
@handle_errors
def chain_chief(
    chain: str = typer.Argument(..., help="产业链代码 / chain code"),
    bank: str = typer.Argument(..., help="银行总行 id / bank head office id"),
) -> None:
    """指定链长主办行 / appoint a chain's chief bank. Example: jinyu financing chain-chief AUTO BANK_ID"""
    with runtime.unit_of_work() as session:
        service.set_chain_chief(session, SYSTEM, schemas.ChainChiefSet(chain_code=chain, bank_id=bank))
    console.print(f"chain {chain} → chief bank {bank}")


@app.command("assign-consultant")
@handle_errors
def assign_consultant(
    consultant: str = typer.Argument(..., help="金融顾问用户 id / consultant user id"),
    enterprise: str = typer.Argument(..., help="企业机构 id / enterprise org id"),
) -> None:
    """为企业指派金融顾问 / assign a consultant. Example: jinyu financing assign-consultant USER_ID ORG_ID"""
    with runtime.unit_of_work() as session:
        service.assign_consultant(
            session, SYSTEM, schemas.ConsultantAssign(consultant_id=consultant, enterprise_id=enterprise)
        )
    console.print(f"consultant {consultant} → enterprise {enterprise}")


@app.command("enroll-managers")
@handle_errors
def enroll_managers(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV: username,display_name,outlet_code"
    ),
    out: Path = typer.Option(
        ..., "--out", help="初始密码写入此文件（0600）/ initial passwords go here (0600)"
    ),
    json_out: bool = JSON,
) -> None:
    """把客户经理登记为可登录用户 / enroll customer managers as users with logins. Example:
    jinyu financing enroll-managers managers.csv --out initial-passwords.csv"""
    with runtime.unit_of_work() as session:
        report = service.enroll_managers(session, SYSTEM, file.read_text("utf-8-sig"), out)
    if json_out:
        print_json({"enrolled": report.enrolled, "existing": report.existing, "rejected": report.rejected})
        return
    console.print(
        f"enrolled {report.enrolled}, already present {report.existing}, rejected {len(report.rejected)}"
    )
    for line, reason in report.rejected:
        console.print(f"  line {line}: {reason}")


@guidance_app.command("send")
@handle_errors
def guidance_send(
    bank: str = typer.Option(..., help="银行总行 id / bank id"),
    indicator: str = typer.Option("overdue_rate"),
    message: str = typer.Option(...),
    as_user: str | None = AS_USER,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """发出窗口指导（监管用户）/ send guidance as a regulator user. Example:
    jinyu financing guidance send --bank BANK_ID --message 请整改 --as-user reg.li"""
    principal = _who(as_user, None, password_stdin)
    with runtime.unit_of_work() as session:
        notice = service.guidance.send(
            session, principal, schemas.NoticeCreate(bank_id=bank, indicator=indicator, message=message)
        )
    print_json(notice) if json_out else console.print(f"notice {notice.id} baseline={notice.baseline}")


@guidance_app.command("ack")
@handle_errors
def guidance_ack(
    notice_id: str,
    note: str = typer.Option(...),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """银行确认窗口指导 / the bank acknowledges. Example: jinyu financing guidance ack ID --note 已整改 --as-user hq"""
    principal = _who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        notice = service.guidance.acknowledge(session, principal, notice_id, schemas.NoticeAck(note=note))
    print_json(notice) if json_out else console.print(
        f"notice {notice.id} acknowledged {notice.acknowledged_at}"
    )


@guidance_app.command("list")
@handle_errors
def guidance_list(
    as_user: str | None = AS_USER, password_stdin: bool = PASSWORD_STDIN, json_out: bool = JSON
) -> None:
    """窗口指导列表 / list notices with the indicator then and now. Example: jinyu financing guidance list --json"""
    principal = _who(as_user, None, password_stdin)
    with runtime.unit_of_work() as session:
        page = service.guidance.list_notices(session, principal, 100, 0)
    if json_out:
        print_json(page)
        return
    rows = [
        [n.id, n.bank_id, n.indicator, n.baseline, n.current, n.change, n.acknowledged_at] for n in page.items
    ]
    print_table(
        "窗口指导 / guidance", ["id", "bank", "indicator", "baseline", "now", "change", "acknowledged"], rows
    )


@app.command("webhook-endpoint")
@handle_errors
def webhook_endpoint(
    bank: str = typer.Argument(..., help="银行总行 id / bank head office id"),
    url: str = typer.Argument(..., help="接收地址 / receiver URL"),
) -> None:
    """登记银行系统的 webhook 地址，打印签名密钥（仅一次）/ set a bank's webhook URL; prints the secret once.
    Example: jinyu financing webhook-endpoint BANK_ID https://bank.example/hooks"""
    with runtime.unit_of_work() as session:
        secret = service.outbox.set_endpoint(session, SYSTEM, bank, url)
    console.print(f"secret / 密钥: {secret}")


@app.command("deliver-webhooks")
@handle_errors
def deliver_webhooks(
    limit: int = typer.Option(500, min=1, max=100_000, help="本轮最多发送条数 / most messages this round"),
    timeout: float = typer.Option(10.0, min=0.1, help="每次请求超时秒数 / seconds per request"),
    json_out: bool = JSON,
) -> None:
    """投递待发送的工单事件（至少一次，失败退避重试）/ deliver due webhook messages (at least once, back-off).
    Example: jinyu financing deliver-webhooks --json"""
    import httpx

    from jinyu.core.runtime import sessionmaker_for
    from jinyu.financing.tasks import deliver_webhooks as deliver

    with httpx.Client(timeout=timeout) as client:
        report = deliver(sessionmaker_for(config.get_settings()), client, limit=limit)
    if json_out:
        print_json({"delivered": report.delivered, "failed": report.failed, "pending": report.pending})
    else:
        console.print(f"delivered {report.delivered}, failed {report.failed}, still pending {report.pending}")


@app.command("export-lake")
@handle_errors
def export_lake(
    load_id: str = typer.Option(..., "--load-id", help="本次导出的批次号（不可重复）/ this export's load id"),
    json_out: bool = JSON,
) -> None:
    """把工单快照追加到数据湖 financing_orders / append a snapshot of every order to the lake. Example:
    jinyu financing export-lake --load-id fin-2026-12-06"""
    from jinyu.analytics import Lake

    settings = config.get_settings()
    with runtime.unit_of_work() as session:
        rows = service.export_orders(session, SYSTEM, Lake(settings.lake_dir), load_id)
    print_json({"load_id": load_id, "rows": rows}) if json_out else console.print(f"exported {rows} orders")


@app.command("lake-indicators")
@handle_errors
def lake_indicators(
    group_by: str = typer.Option(
        "outlet", "--group-by", help="bank|branch|outlet|manager|district|industry|chain|month"
    ),
    as_of: str = typer.Option(..., "--as-of", help="统计日 YYYY-MM-DD / as of date"),
    bank: str = typer.Option("", help="只看该银行 / one bank's orders"),
    month: str = typer.Option("", help="只看该月派单 YYYY-MM / one dispatch month"),
    engine_kind: str = typer.Option("duckdb", "--engine", help="duckdb | spark"),
    limit: int = typer.Option(20, min=1, max=100_000),
    as_user: str | None = AS_USER,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """全区域指标（数据湖，DuckDB 或 Spark）/ region-wide indicators from the lake. Example:
    jinyu financing lake-indicators --group-by outlet --as-of 2026-12-31 --engine duckdb --json"""
    from jinyu.analytics import open_engine

    principal = _who(as_user, None, password_stdin)
    if principal is SYSTEM:
        principal = REGULATOR_AT_CONSOLE
    settings = config.get_settings()
    kind: analytics.EngineKind = "spark" if engine_kind == "spark" else "duckdb"
    engine = open_engine(kind, settings.lake_dir, spark_master=settings.spark_master)
    try:
        table = service.lake_indicators(
            engine, principal, group_by, dt.date.fromisoformat(as_of), bank, month
        )
    finally:
        engine.close()
    table.rows = table.rows[:limit]
    if json_out:
        print_json(table)
        return
    cols = [
        "key",
        "orders",
        "contact_rate",
        "avg_days_to_contact",
        "approval_rate",
        "overdue",
        "overdue_rate",
    ]
    print_table(
        f"指标 / lake indicators by {group_by}", cols, [[getattr(r, c) for c in cols] for r in table.rows]
    )


@app.command("synth-orders")
@handle_errors
def synth_orders(
    orders: int = typer.Option(100_000, min=1, max=5_000_000, help="工单数 / number of orders"),
    year: int = typer.Option(2026, min=2004, max=2100),
    seed: int = typer.Option(7),
    load_id: str = typer.Option(..., "--load-id", help="写入数据湖的批次号 / lake load id"),
    json_out: bool = JSON,
) -> None:
    """生成一年的合成工单（含预置的慢网点与高拒绝网点）写入数据湖 / write a synthetic year of orders with planted
    slow and refusing outlets to the lake. Example: jinyu financing synth-orders --orders 100000 --load-id syn1"""
    from jinyu.analytics import Lake
    from jinyu.financing.service.lake_export import DATASET
    from jinyu.financing.synthetic import Shape, planted, synthetic_orders

    settings = config.get_settings()
    table = synthetic_orders(orders, calendars.load_calendar(settings.data_dir), year=year, seed=seed)
    Lake(settings.lake_dir).append(
        DATASET, table, load_id, partition_by="dispatched_on", sort_by=["bank_id", "outlet_id"]
    )
    slow, refusing = planted(Shape())
    out = {"rows": table.num_rows, "load_id": load_id, "slow_outlets": slow, "refusing_outlets": refusing}
    print_json(out) if json_out else console.print(out)
