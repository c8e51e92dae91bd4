"""`jinyu financing`: demands and work orders, indicators, window guidance, chain chiefs, consultants, managers.

A command acts as the user named by `--as-user` (password prompted or `--password-stdin`) or the service
account of `--api-key`, through the same services and checks as the API; with neither it acts as the platform
operator at the console (reads everything, may manage chain chiefs, consultants and managers).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from jinyu.config import get_settings
from jinyu.core.auth import SYSTEM, Principal
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.core.runtime import unit_of_work
from jinyu.financing import service
from jinyu.financing.calendars import load_calendar
from jinyu.financing.rules import REFUSAL_TEXT, Action, RefusalReason
from jinyu.financing.schemas import (
    Assignment,
    ChainChiefSet,
    ConsultantAssign,
    DemandCreate,
    NoticeAck,
    NoticeCreate,
    OrderOut,
    Redispatch,
    Security,
    Transition,
)
from jinyu.financing.sla import deadlines
from jinyu.party.acting import acting_principal

app = typer.Typer(
    help="融资对接工单 / financing work orders: `jinyu financing indicators --group-by outlet --sort overdue`",
    no_args_is_help=True,
)
guidance_app = typer.Typer(help="窗口指导 / window guidance: send, ack, list", no_args_is_help=True)
app.add_typer(guidance_app, name="guidance")

AS_USER = typer.Option(None, "--as-user", help="以该用户身份操作（需密码）/ act as this user (password)")
API_KEY = typer.Option(None, "--api-key", help="服务账号 API key / a service account's API key")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="从标准输入读密码 / read the password from stdin"
)
JSON = typer.Option(False, "--json", help="输出 JSON / print JSON")


def _who(as_user: str | None, api_key: str | None, password_stdin: bool) -> Principal:
    if not as_user and not api_key:
        return SYSTEM
    return acting_principal(get_settings(), as_user, api_key, password_stdin)


def _show_order(order: OrderOut, json_out: bool) -> None:
    if json_out:
        print_json(order)
        return
    console.print(
        f"{order.id} {order.state.value} bank={order.bank_id} outlet={order.outlet_id or '-'} "
        f"contact_due={order.contact_due} decision_due={order.decision_due} overdue={order.overdue}"
    )


@app.command("demand")
@handle_errors
def post_demand(
    amount: str = typer.Option(..., help="金额（元）/ yuan, e.g. 3000000.00"),
    term_months: int = typer.Option(..., "--term-months", help="期限（月）/ months"),
    purpose: str = typer.Option(..., help="用途 / purpose"),
    security: Security = typer.Option(Security.CREDIT, help="担保方式 / security"),
    security_note: str = typer.Option("", help="抵押物或担保人 / what secures it"),
    bank: list[str] = typer.Option(
        [], "--bank", help="意向银行总行 id，可多次 / preferred bank id, repeatable"
    ),
    chain: str | None = typer.Option(None, help="产业链代码 / industrial chain code"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """企业发布融资需求并派单 / post a demand (as the enterprise's user). Example:
    jinyu financing demand --amount 3000000 --term-months 12 --purpose 采购 --as-user ent.admin --json"""
    principal = _who(as_user, api_key, password_stdin)
    data = DemandCreate(
        amount=Decimal(amount), term_months=term_months, purpose=purpose, security=security,
        security_note=security_note, preferred_bank_ids=bank, chain_code=chain,
    )  # fmt: skip
    with unit_of_work() as session:
        posted = service.post_demand(session, principal, data, load_calendar(get_settings().data_dir))
    print_json(posted) if json_out else _show_order(posted.order, False)


@app.command("orders")
@handle_errors
def list_orders(
    state: str | None = typer.Option(None, help="状态 / state, e.g. dispatched"),
    bank: str | None = typer.Option(None),
    outlet: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=500),
    offset: int = typer.Option(0, min=0),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """列出可见的工单 / list the orders you may see. Example: jinyu financing orders --state dispatched --json"""
    principal = _who(as_user, api_key, password_stdin)
    filters = {k: v for k, v in {"state": state, "bank": bank, "outlet": outlet}.items() if v}
    with unit_of_work() as session:
        page = service.list_orders(session, principal, filters, limit, offset)
    if json_out:
        print_json(page)
        return
    rows = [[o.id, o.state.value, o.bank_id, o.outlet_id, o.amount_requested, o.overdue] for o in page.items]
    print_table(f"工单 / orders ({page.total})", ["id", "state", "bank", "outlet", "amount", "overdue"], rows)


@app.command("show")
@handle_errors
def show(
    order_id: str,
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """一张工单及其历史 / one order with its history. Example: jinyu financing show 01J... --json"""
    principal = _who(as_user, api_key, password_stdin)
    with unit_of_work() as session:
        detail = service.get_order(session, principal, order_id)
    if json_out:
        print_json(detail)
        return
    _show_order(detail, False)
    rows = [[e.seq, e.at, e.action, e.from_state, e.to_state, e.actor_id, e.note] for e in detail.events]
    print_table("历史 / history", ["#", "at", "action", "from", "to", "actor", "note"], rows)


@app.command("assign")
@handle_errors
def assign(
    order_id: str,
    outlet: str = typer.Option(..., help="网点机构 id / outlet org id"),
    manager: str | None = typer.Option(None, help="客户经理用户 id / manager user id"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """银行分派网点与客户经理 / assign an outlet and manager. Example:
    jinyu financing assign ORDER --outlet OUTLET_ID --manager USER_ID --as-user bank.hq"""
    principal = _who(as_user, api_key, password_stdin)
    with unit_of_work() as session:
        order = service.assign(session, principal, order_id, Assignment(outlet_id=outlet, manager_id=manager))
    _show_order(order, json_out)


@app.command("act")
@handle_errors
def act(
    order_id: str,
    action: Action = typer.Argument(..., help="accept|contact|review|approve|reject|disburse|close"),
    reason: RefusalReason | None = typer.Option(None, help="拒绝原因代码 / refusal code R01–R07, R99"),
    amount: str | None = typer.Option(None, help="批准金额（元）/ approved yuan"),
    note: str = typer.Option(""),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """承办银行推进工单 / the handling bank's step. Example:
    jinyu financing act ORDER reject --reason R02 --note 抵押不足 --as-user mgr.zhang"""
    principal = _who(as_user, api_key, password_stdin)
    data = Transition(
        action=action, note=note, reason_code=reason, amount_approved=Decimal(amount) if amount else None
    )
    with unit_of_work() as session:
        order = service.act(session, principal, order_id, data, load_calendar(get_settings().data_dir))
    _show_order(order, json_out)


@app.command("redispatch")
@handle_errors
def redispatch(
    order_id: str,
    bank: str | None = typer.Option(None, help="改派银行 id；省略按规则 / bank id, or route by rules"),
    note: str = typer.Option(""),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """改派被拒或超时的工单 / re-dispatch a rejected or overdue order. Example: jinyu financing redispatch ORDER"""
    principal = _who(as_user, api_key, password_stdin)
    with unit_of_work() as session:
        order = service.redispatch(
            session,
            principal,
            order_id,
            Redispatch(bank_id=bank, note=note),
            load_calendar(get_settings().data_dir),
        )
    _show_order(order, json_out)


@app.command("indicators")
@handle_errors
def indicators(
    group_by: str = typer.Option(
        "bank", "--group-by", help="bank|branch|outlet|manager|district|industry|chain|month"
    ),
    where: list[str] = typer.Option([], "--where", help="下钻筛选 key=value，可多次 / drill-down filter"),
    sort: str = typer.Option("overdue", help="排序指标（降序）/ sort by, largest first"),
    limit: int = typer.Option(20, min=1, max=500),
    as_of: str | None = typer.Option(None, "--as-of", help="统计日 YYYY-MM-DD / as of date"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """指标体系 / the indicator table. Example:
    jinyu financing indicators --group-by outlet --where bank=BANK_ID --sort overdue --json"""
    principal = _who(as_user, api_key, password_stdin)
    filters = dict(w.split("=", 1) for w in where if "=" in w)
    day = dt.date.fromisoformat(as_of) if as_of else None
    with unit_of_work() as session:
        table = service.indicators(session, principal, group_by, filters, sort, limit, day)
    if json_out:
        print_json(table)
        return
    cols = [
        "key",
        "name",
        "orders",
        "contact_rate",
        "avg_days_to_contact",
        "approval_rate",
        "overdue",
        "overdue_rate",
    ]
    rows: list[list[Any]] = [[getattr(r, c) for c in cols] for r in table.rows]
    print_table(f"指标 / indicators by {group_by} (as of {table.as_of})", cols, rows)


@app.command("refusal-reasons")
@handle_errors
def refusal_reasons() -> None:
    """拒绝原因代码表 / the refusal reason codes. Example: jinyu financing refusal-reasons"""
    print_table(
        "拒绝原因 / refusal reasons", ["code", "meaning"], [[c.value, t] for c, t in REFUSAL_TEXT.items()]
    )


@app.command("sla")
@handle_errors
def sla(
    dispatched: str = typer.Argument(..., help="派单日 YYYY-MM-DD（上海时间）/ dispatch date"),
    json_out: bool = JSON,
) -> None:
    """按工作日日历计算时限 / SLA due dates for a dispatch date. Example: jinyu financing sla 2026-09-30"""
    cal = load_calendar(get_settings().data_dir)
    day = dt.date.fromisoformat(dispatched)
    due = deadlines(cal, day)
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
    with unit_of_work() as session:
        service.set_chain_chief(session, SYSTEM, ChainChiefSet(chain_code=chain, bank_id=bank))
    console.print(f"chain {chain} → chief bank {bank}")


@app.command("assign-consultant")
@handle_errors
def assign_consultant(
    consultant: str = typer.Argument(..., help="金融顾问用户 id / consultant user id"),
    enterprise: str = typer.Argument(..., help="企业机构 id / enterprise org id"),
) -> None:
    """为企业指派金融顾问 / assign a consultant. Example: jinyu financing assign-consultant USER_ID ORG_ID"""
    with unit_of_work() as session:
        service.assign_consultant(
            session, SYSTEM, ConsultantAssign(consultant_id=consultant, enterprise_id=enterprise)
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
    with unit_of_work() as session:
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
    with unit_of_work() as session:
        notice = service.guidance.send(
            session, principal, NoticeCreate(bank_id=bank, indicator=indicator, message=message)
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
    with unit_of_work() as session:
        notice = service.guidance.acknowledge(session, principal, notice_id, NoticeAck(note=note))
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
    with unit_of_work() as session:
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
    with unit_of_work() as session:
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
        report = deliver(sessionmaker_for(get_settings()), client, limit=limit)
    if json_out:
        print_json({"delivered": report.delivered, "failed": report.failed, "pending": report.pending})
    else:
        console.print(f"delivered {report.delivered}, failed {report.failed}, still pending {report.pending}")
