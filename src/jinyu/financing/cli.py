"""`jinyu financing`: demands and work orders, indicators, window guidance, chain chiefs, consultants, managers.

A command acts as the user named by `--as-user` (password prompted or `--password-stdin`) or the service
account of `--api-key`, through the same services and checks as the API; with neither it acts as the platform
operator at the console (reads everything, may manage chain chiefs, consultants and managers).
Order commands live here; the regulator's and the platform's in `cli_admin`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer

from jinyu.core import lazy
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.financing import cli_admin, cli_products, rules
from jinyu.financing.cli_common import API_KEY, AS_USER, JSON, PASSWORD_STDIN, _who, app

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import config
    from jinyu.core import runtime
    from jinyu.financing import calendars, schemas, service
    from jinyu.financing.service import demands
else:
    calendars = lazy.module("jinyu.financing.calendars")
    config = lazy.module("jinyu.config")
    demands = lazy.module("jinyu.financing.service.demands")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.financing.schemas")
    service = lazy.module("jinyu.financing.service")

__all__ = ["app", "cli_admin", "cli_products"]


def _show_order(order: schemas.OrderOut, json_out: bool) -> None:
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
    security: rules.Security = typer.Option(rules.Security.CREDIT, help="担保方式 / security"),
    security_note: str = typer.Option("", help="抵押物或担保人 / what secures it"),
    bank: list[str] = typer.Option(
        [], "--bank", help="意向银行总行 id，可多次 / preferred bank id, repeatable"
    ),
    chain: str | None = typer.Option(None, help="产业链代码 / industrial chain code"),
    idempotency_key: str | None = typer.Option(
        None, "--idempotency-key", help="幂等键：重试不重复发布 / retry-safe key (per enterprise)"
    ),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """企业发布融资需求并派单 / post a demand (as the enterprise's user). Example:
    jinyu financing demand --amount 3000000 --term-months 12 --purpose 采购 --as-user ent.admin --json"""
    principal = _who(as_user, api_key, password_stdin)
    data = schemas.DemandCreate(
        amount=Decimal(amount), term_months=term_months, purpose=purpose, security=security,
        security_note=security_note, preferred_bank_ids=bank, chain_code=chain,
    )  # fmt: skip
    with runtime.unit_of_work() as session:
        posted, replayed = demands.post_once(
            session, principal, data, calendars.load_calendar(config.get_settings().data_dir), idempotency_key
        )
    if replayed and not json_out:
        console.print("已发布过，返回原需求 / already posted with this key: the first demand")
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
    with runtime.unit_of_work() as session:
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
    with runtime.unit_of_work() as session:
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
    with runtime.unit_of_work() as session:
        order = service.assign(
            session, principal, order_id, schemas.Assignment(outlet_id=outlet, manager_id=manager)
        )
    _show_order(order, json_out)


@app.command("act")
@handle_errors
def act(
    order_id: str,
    action: rules.Action = typer.Argument(..., help="accept|contact|review|approve|reject|disburse|close"),
    reason: rules.RefusalReason | None = typer.Option(None, help="拒绝原因代码 / refusal code R01–R07, R99"),
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
    data = schemas.Transition(
        action=action, note=note, reason_code=reason, amount_approved=Decimal(amount) if amount else None
    )
    with runtime.unit_of_work() as session:
        order = service.act(
            session, principal, order_id, data, calendars.load_calendar(config.get_settings().data_dir)
        )
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
    with runtime.unit_of_work() as session:
        order = service.redispatch(
            session,
            principal,
            order_id,
            schemas.Redispatch(bank_id=bank, note=note),
            calendars.load_calendar(config.get_settings().data_dir),
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
    with runtime.unit_of_work() as session:
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
