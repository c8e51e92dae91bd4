"""`jinyu governance remediation ...`: remediation items at the console (the hub's data team)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.auth import SYSTEM
from jinyu.core.cli_kit import handle_errors, print_json, print_table

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu.core import runtime
    from jinyu.governance import remediation, schemas
else:
    remediation = lazy.module("jinyu.governance.remediation")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.governance.schemas")

app = typer.Typer(
    help="整改单 / remediation items: `jinyu governance remediation list --status open`", no_args_is_help=True
)


@app.command("list")
@handle_errors
def list_items(
    status: str | None = typer.Option(None, help="open | assigned | fixed | verified"),
    provider: str | None = typer.Option(None, help="提供方代码 / provider code"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """整改单列表 / list items. Example: jinyu governance remediation list --status open --json"""
    with runtime.unit_of_work() as session:
        items = remediation.list_items(session, SYSTEM, status=status, provider=provider)
    if json_out:
        print_json(items)
        return
    print_table(
        "整改单 / remediation",
        ["id", "provider", "dataset", "rule", "period", "failed", "status"],
        [[i.id, i.provider, i.dataset, i.rule_code, i.period, i.failed_now, i.status] for i in items],
    )


@app.command("assign")
@handle_errors
def assign(
    item_id: str = typer.Argument(..., help="整改单 id / item id"),
    assignee: str | None = typer.Option(None, help="提供方联系人 / contact at the provider"),
    note: str | None = typer.Option(None, help="说明 / note"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """派给提供方（已审计）/ assign to the provider, audited. Example: jinyu governance remediation assign ID"""
    with runtime.unit_of_work() as session:
        item = remediation.assign(session, SYSTEM, item_id, schemas.AssignIn(assignee=assignee, note=note))
    if json_out:
        print_json(item)
        return
    print_table("整改单 / remediation", ["id", "status", "assignee"], [[item.id, item.status, item.assignee]])


@app.command("history")
@handle_errors
def history(
    item_id: str = typer.Argument(..., help="整改单 id / item id"),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """状态变更记录 / the item's moves. Example: jinyu governance remediation history ID"""
    with runtime.unit_of_work() as session:
        events = remediation.history(session, SYSTEM, item_id)
    if json_out:
        print_json(events)
        return
    print_table(
        "变更 / moves",
        ["at", "from", "to", "actor", "note"],
        [[e["at"], e["from"], e["to"], e["actor"], e["note"]] for e in events],
    )
