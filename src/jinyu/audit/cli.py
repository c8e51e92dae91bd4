"""`jinyu audit ...`: verify the hash chain and search the trail from the console."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer

from jinyu.core import lazy
from jinyu.core.auth import SYSTEM, Perm
from jinyu.core.cli_kit import console, err_console, handle_errors, print_json, print_table
from jinyu.core.clock import local

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import config
    from jinyu.audit import anchor, checkpointing, schemas, service
    from jinyu.core import runtime
else:
    anchor = lazy.module("jinyu.audit.anchor")
    checkpointing = lazy.module("jinyu.audit.checkpointing")
    config = lazy.module("jinyu.config")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.audit.schemas")
    service = lazy.module("jinyu.audit.service")

app = typer.Typer(
    help="审计追踪：校验哈希链、签名检查点、检索审计记录 / Audit trail: verify the hash chain, signed "
    "checkpoints, search entries.",
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
    """校验整条审计哈希链并核对签名检查点；链被破坏、比最后一个检查点短或与之不符时以退出码 1 结束。
    Verify the whole audit hash chain and hold it against the signed checkpoints; exit code 1 naming the
    first bad entry, or the checkpoint, when it is broken, shorter than or different from the last one.

    示例 / example:  jinyu audit verify --json
    """
    anchors = anchor.anchors_for(config.get_settings())
    # The command's own audit entry must commit even when the chain is broken, so exit after the transaction.
    with runtime.unit_of_work() as session:
        result = schemas.VerifyResultOut.of(service.verify(session, CONSOLE, anchors=anchors))
    if json_out:
        print_json(result)
    elif result.ok:
        console.print(f"[bold green]✓[/] {result.message}")
        console.print(f"链头 / head: seq {result.head_seq} {result.head_hash or ''}")
    if not result.ok:
        err_console.print(f"[bold red]✗ {result.message}[/]")
        raise typer.Exit(1)


@app.command("checkpoint")
@handle_errors
def checkpoint(json_out: JsonFlag = False) -> None:
    """现在签名并追加一个检查点（先校验自上一个检查点以来的链）。
    Sign and append a checkpoint of the chain's head now (the chain since the last one is checked first).

    检查点文件与密钥见 JINYU_AUDIT_CHECKPOINTS、JINYU_AUDIT_CHECKPOINT_KEY。
    The file and key: JINYU_AUDIT_CHECKPOINTS, JINYU_AUDIT_CHECKPOINT_KEY.

    示例 / example:  jinyu audit checkpoint --json
    """
    anchors = anchor.anchors_for(config.get_settings())
    with runtime.unit_of_work() as session:
        cp = schemas.CheckpointOut.of_checkpoint(checkpointing.checkpoint(session, CONSOLE, anchors))
    if json_out:
        print_json(cp)
        return
    console.print(f"[bold green]✓[/] 检查点 / checkpoint #{cp.n}: seq {cp.seq} {cp.hash}")
    console.print(f"签名时间 / signed at: {local(cp.at):%Y-%m-%d %H:%M:%S} (Asia/Shanghai), key {cp.key}")
    console.print(f"文件 / file: {anchors.sink}")


@app.command("checkpoints")
@handle_errors
def list_checkpoints(
    limit: Annotated[int, typer.Option(help="条数 / how many, newest first", min=1, max=500)] = 20,
    json_out: JsonFlag = False,
) -> None:
    """列出签名检查点并校验整个检查点文件；文件不可信时以退出码 1 结束。
    List the signed checkpoints, newest first, checking the whole file; exit code 1 when it fails.

    示例 / example:  jinyu audit checkpoints --limit 5
    """
    anchors = anchor.anchors_for(config.get_settings())
    with runtime.unit_of_work() as session:
        items, check = checkpointing.list_checkpoints(session, CONSOLE, anchors, limit=limit)
    out = schemas.CheckpointListOut.of(items, check, str(anchors.sink))
    if json_out:
        print_json(out)
    else:
        print_table(
            f"签名检查点 / Signed checkpoints ({out.sink})",
            ("#", "seq", "时间 / at (Asia/Shanghai)", "hash", "key"),
            ((c.n, c.seq, f"{local(c.at):%Y-%m-%d %H:%M:%S}", c.hash[:16] + "…", c.key) for c in out.items),
        )
        if out.ok:
            console.print(f"[bold green]✓[/] {out.count} 个检查点均有效 / {out.count} checkpoints check out")
    if not out.ok:
        err_console.print(f"[bold red]✗ {out.problem}[/]")
        raise typer.Exit(1)


@app.command("public-key")
@handle_errors
def public_key() -> None:
    """打印校验检查点所用的 Ed25519 公钥（PEM），供审计方离线校验。
    Print the Ed25519 public key (PEM) that checkpoints verify with, for verifiers elsewhere.

    示例 / example:  jinyu audit public-key > checkpoint.pub.pem
    """
    typer.echo(anchor.anchors_for(config.get_settings()).public_pem(), nl=False)


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
    filters = schemas.build(
        schemas.AuditFilter,
        actor_id=actor,
        org_id=org,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome,
        since=since,
        until=until,
    )
    page_request = schemas.build(schemas.PageRequest, limit=limit, cursor=cursor)
    with runtime.unit_of_work() as session:
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


def _row(e: schemas.AuditEntryOut) -> tuple[object, ...]:
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
