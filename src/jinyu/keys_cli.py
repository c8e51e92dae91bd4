"""`jinyu keys`: pseudonym key versions, rotation (with a dry run) and translation of old tokens.

At the package root, not in `governance.keys`, because a rotation rewrites token columns of every domain's
tables and so needs `jinyu.models` (which a lower layer may not import). Run on the hub's host as its service
user: the command reads and writes the key files itself, and acts as the system principal; the audit entry
records the operating-system user too.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from jinyu.core import lazy
from jinyu.core.auth import SYSTEM
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import config, models
    from jinyu.core import runtime
    from jinyu.governance.keys import schemas, service
else:
    config = lazy.module("jinyu.config")
    models = lazy.module("jinyu.models")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.governance.keys.schemas")
    service = lazy.module("jinyu.governance.keys.service")

app = typer.Typer(
    help="假名密钥版本与轮换 / pseudonym key versions and rotation. Example: jinyu keys rotate --dry-run",
    no_args_is_help=True,
)
JSON_OUT = typer.Option(False, "--json", help="输出 JSON / print JSON")


def _stores() -> service.Stores:
    settings = config.get_settings()
    return service.Stores(settings.lake_dir, settings.keys_dir, settings.pseudonym_keys, models.metadata)


@app.command("list")
@handle_errors
def list_versions(json_out: bool = JSON_OUT) -> None:
    """密钥版本及状态（不显示密钥）/ key versions and their state (never the keys).

    Example: jinyu keys list --json
    """
    out = service.status(SYSTEM, config.get_settings().pseudonym_keys())
    if json_out:
        print_json(out)
        return
    console.print(
        f"当前版本 / current: v{out.current}  宽限期 / grace: {out.grace_days} d  {out.token_format}"
    )
    print_table(
        "假名密钥 / pseudonym keys",
        ["version", "state", "since", "old tokens resolve until"],
        [[f"v{v.version}", v.state, v.since or "-", v.old_tokens_resolve_until or "-"] for v in out.versions],
    )
    if out.rotation_in_progress:
        console.print(
            f"[yellow]轮换到 v{out.pending} 未完成：再次运行 jinyu keys rotate / unfinished: run it again"
        )


@app.command("rotate")
@handle_errors
def rotate(
    dry_run: bool = typer.Option(False, "--dry-run", help="只报告将改写什么及预计耗时 / report only"),
    json_out: bool = JSON_OUT,
) -> None:
    """生成新版本密钥并改写湖与库中的全部令牌 / roll out a new key version: re-tokenize lake and store.

    Pause data loads first (they are refused while it runs). Safe to re-run after a crash: it resumes.

    Example: jinyu keys rotate --dry-run --json && jinyu keys rotate
    """
    stores = _stores()
    if dry_run:
        with runtime.unit_of_work() as session:
            plan = service.plan(session, SYSTEM, stores)
        _print(plan, json_out)
        return
    with Progress(
        TextColumn("[bold]re-tokenizing 改写令牌"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=json_out,
        transient=True,
    ) as bar:
        task = bar.add_task("rows", total=None)

        def advance(rows: int, total: int) -> None:
            bar.update(task, total=total, advance=rows)

        # One lock from the pending key to its activation: a second `rotate` meanwhile is refused (409).
        with service.exclusive(stores):
            with runtime.unit_of_work() as session:
                out = service.rotate(session, SYSTEM, stores, advance)
            service.activate(stores, dt.datetime.now(dt.UTC))
    _print(out, json_out)


@app.command("translate")
@handle_errors
def translate(
    token: str = typer.Argument(..., help="任意版本的令牌 / a token of any version"),
    json_out: bool = JSON_OUT,
) -> None:
    """把旧版本令牌换算为当前版本（宽限期内）/ an old token as the current version (in the grace period).

    Example: jinyu keys translate pt_0123456789abcdef0123456789abcdef --json
    """
    out = service.translate_token(SYSTEM, config.get_settings().pseudonym_keys(), token)
    if json_out:
        print_json(out)
        return
    console.print(f"v{out.version} {out.token} → v{out.current_version} {out.current_token}")


def _print(out: schemas.RotationPlanOut, json_out: bool) -> None:
    if json_out:
        print_json(out)
        return
    head = "预演（未改动任何数据）/ dry run: nothing changed" if out.dry_run else "完成 / done"
    console.print(f"[bold]v{out.from_version} → v{out.to_version}[/] {head}")
    rows = [
        ["lake files 湖文件", out.lake_files],
        ["lake rows 湖行数", out.lake_rows],
        ["lake bytes 湖字节", out.lake_bytes],
        *[[f"store 库 {k}", v] for k, v in out.store_rows.items()],
    ]
    if out.dry_run:
        rows.append(["estimated seconds 预计秒数", out.estimated_seconds])
    if isinstance(out, schemas.RotationOut):
        rows.append(["audit 审计", out.audit_id])
    print_table("密钥轮换 / key rotation", ["item", "value"], rows)
