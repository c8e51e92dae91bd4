"""`jinyu audit ...`: verify the hash chain and search the trail from the console."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from jinyu.audit import service
from jinyu.audit.schemas import AuditEntryOut, AuditFilter, PageRequest, VerifyResultOut, build
from jinyu.core.auth import SYSTEM, Perm
from jinyu.core.cli_kit import console, err_console, handle_errors, print_json, print_table
from jinyu.core.clock import local
from jinyu.core.runtime import unit_of_work

app = typer.Typer(
    help="审计追踪：校验哈希链、检索审计记录 / Audit trail: verify the hash chain, search entries.",
    no_args_is_help=True,
)

# The console acts as SYSTEM and is recorded as such. SYSTEM (a platform admin) lacks audit.read, which is
# for regulators on the HTTP surface; an operator at the console already holds the database itself, so the
# console is given audit.read explicitly here rather than widening the platform-admin role.
CONSOLE = dataclasses.replace(SYSTEM, perms=SYSTEM.perms | {Perm.AUDIT_READ, Perm.AUDIT_VERIFY})

JsonFlag = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]


@app.command("verify")
@handle_errors
def verify(json_out: JsonFlag = False) -> None:
    """校验整条审计哈希链；链被破坏时以退出码 1 结束并指出第一条问题记录。
    Verify the whole audit hash chain; exit code 1 naming the first bad entry when it is broken.

    示例 / example:  jinyu audit verify --json
    """
    # The command's own audit entry must commit even when the chain is broken, so exit after the transaction.
    with unit_of_work() as session:
        result = VerifyResultOut.of(service.verify(session, CONSOLE))
    if json_out:
        print_json(result)
    elif result.ok:
        console.print(f"[bold green]✓[/] {result.message}")
        console.print(f"链头 / head: seq {result.head_seq} {result.head_hash or ''}")
    if not result.ok:
        err_console.print(f"[bold red]✗ {result.message}[/]")
        raise typer.Exit(1)


@app.command("search")
@handle_errors
def search(
    actor: Annotated[str | None, typer.Option(help="操作者 id / actor id")] = None,
    org: Annotated[str | None, typer.Option(help="操作者机构 id / actor's organisation id")] = None,
    action: Annotated[
        str | None, typer.Option(help="动作，精确或前缀 party.* / action, exact or prefix")
    ] = None,
    subject_type: Annotated[str | None, typer.Option(help="对象类型 / subject type")] = None,
    subject_id: Annotated[str | None, typer.Option(help="对象 id / subject id")] = None,
    outcome: Annotated[str | None, typer.Option(help="ok|denied|not_found|error|failed")] = None,
    since: Annotated[str | None, typer.Option(help="起（含），ISO 8601，无时区按北京时间 / from")] = None,
    until: Annotated[str | None, typer.Option(help="止（不含），ISO 8601 / to (exclusive)")] = None,
    limit: Annotated[int, typer.Option(help="条数 ≤500 / page size")] = 50,
    cursor: Annotated[str | None, typer.Option(help="翻页游标 / next_cursor of the previous page")] = None,
    json_out: JsonFlag = False,
) -> None:
    """检索审计记录，最新在前。
    Search audit entries, newest first.

    示例 / example:  jinyu audit search --action 'party.*' --since 2025-01-01 --limit 20
    """
    filters = build(
        AuditFilter,
        actor_id=actor,
        org_id=org,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome,
        since=since,
        until=until,
    )
    page_request = build(PageRequest, limit=limit, cursor=cursor)
    with unit_of_work() as session:
        page = service.search(session, CONSOLE, filters, page_request)
    if json_out:
        print_json(page)
        return
    print_table("审计记录 / Audit entries", _COLUMNS, (_row(e) for e in page.items))
    if page.next_cursor:
        console.print(f"更多 / more: --cursor {page.next_cursor}")


_COLUMNS = (
    "seq",
    "时间 / at (Asia/Shanghai)",
    "操作者 / actor",
    "机构 / org",
    "动作 / action",
    "对象 / subject",
    "结果 / outcome",
    "目的 / purpose",
)


def _row(e: AuditEntryOut) -> tuple[object, ...]:
    ids = ", ".join(e.subject_ids[:3]) + (f" (+{len(e.subject_ids) - 3})" if len(e.subject_ids) > 3 else "")
    subject = f"{e.subject_type}: {ids}" if ids else e.subject_type
    return (
        e.seq,
        local(e.at).strftime("%Y-%m-%d %H:%M:%S"),
        e.actor_name,
        e.org_id,
        e.action,
        subject,
        e.outcome.value,
        e.purpose,
    )
