"""`jinyu credit ...`: credit information business cards at the console.

`card`, `snapshot`, `snapshots` and `views` act as a real user (`--as-user` with a password, or `--api-key`)
and see exactly what that user would see over the API, audited the same way. `snapshot-all` is an operator
job: it snapshots every registered enterprise's card in one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jinyu.consent.rules import Purpose
from jinyu.core import lazy
from jinyu.core.auth import SYSTEM, Perm, Principal
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.core.errors import NotFound, PermissionDenied
from jinyu.party.acting import acting_principal

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import analytics, config
    from jinyu.audit import service as audit
    from jinyu.core import runtime
    from jinyu.credit import batch, schemas, service
else:
    analytics = lazy.module("jinyu.analytics")
    audit = lazy.module("jinyu.audit.service")
    config = lazy.module("jinyu.config")
    runtime = lazy.module("jinyu.core.runtime")
    batch = lazy.module("jinyu.credit.batch")
    schemas = lazy.module("jinyu.credit.schemas")
    service = lazy.module("jinyu.credit.service")

app = typer.Typer(
    help="信用信息名片 / credit cards: `jinyu credit card 91500000MA5U000000 --as-user bank_risk`",
    no_args_is_help=True,
)
AS_USER = typer.Option(None, "--as-user", help="以该用户身份操作（需密码）/ act as this user (password)")
API_KEY = typer.Option(None, "--api-key", help="服务账号 API key / a service account's API key")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="从标准输入读密码 / read the password from stdin"
)
PURPOSE = typer.Option(Purpose.CREDIT_ASSESSMENT.value, "--purpose", help="用途 / purpose of the look")
JSON_OUT = typer.Option(False, "--json", help="输出 JSON / print JSON")


@contextmanager
def _engine() -> Iterator[analytics.DuckDBEngine]:
    engine = analytics.DuckDBEngine(config.get_settings().lake_dir)
    try:
        yield engine
    finally:
        engine.close()


def _who(as_user: str | None, api_key: str | None, password_stdin: bool) -> Principal:
    return acting_principal(config.get_settings(), as_user, api_key, password_stdin)


def _purpose(value: str) -> Purpose:
    try:
        return Purpose(value)
    except ValueError:
        choices = ", ".join(p.value for p in Purpose)
        raise typer.BadParameter(f"用途应为 / purpose must be one of: {choices}") from None


def _print_card(card: schemas.CardOut) -> None:
    console.print(
        f"[bold]{card.name}[/] {card.uscc}  版本 / version {card.snapshot.version}  basis {card.basis}"
    )
    console.print(f"快照哈希 / snapshot hash {card.snapshot.content_hash}")
    rows = []
    for key, section in card.sections.items():
        data = section.data or {}
        summary = ", ".join(
            f"{k}={v}" for k, v in data.items() if not isinstance(v, list | dict) and v is not None
        )
        rows.append([key, section.status, section.source.bureau, section.source.as_of, summary[:160]])
    print_table("信用信息名片 / credit card", ["section", "status", "source", "as of", "indicators"], rows)
    if card.not_shown:
        console.print(f"未获授权 / not covered: {', '.join(card.not_shown)}")


def _shown(principal: Principal, uscc: str, call: Callable[[], schemas.CardOut]) -> schemas.CardOut:
    """Run a card read; a refusal is audited afterwards in a transaction of its own (as the API does)."""
    try:
        return call()
    except (NotFound, PermissionDenied) as exc:
        audit.record_outcome(
            runtime.sessionmaker_for(config.get_settings()),
            principal,
            action="credit.card.view",
            subject_type="enterprise_uscc",
            subject_ids=[uscc],
            outcome="not_found" if isinstance(exc, NotFound) else "denied",
            detail={"code": exc.code, "via": "cli"},
        )
        raise


def _card(principal: Principal, uscc: str, why: Purpose) -> schemas.CardOut:
    with runtime.unit_of_work() as session, _engine() as engine:
        return service.card(session, principal, engine, uscc, why)


def _snapshot(principal: Principal, uscc: str, why: Purpose, version: int) -> schemas.CardOut:
    with runtime.unit_of_work() as session, _engine() as engine:
        return service.snapshot(session, principal, engine, uscc, why, version)


@app.command("card")
@handle_errors
def card(
    uscc: str = typer.Argument(..., help="统一社会信用代码 / the enterprise's USCC"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    purpose: str = PURPOSE,
    json_out: bool = JSON_OUT,
) -> None:
    """查看名片（记入访问记录）/ show a card as that user may see it (recorded and audited).

    Example: jinyu credit card 91500103MALKG8TQXH --as-user bank_risk --purpose credit_assessment --json
    """
    why = _purpose(purpose)
    principal = _who(as_user, api_key, password_stdin)
    result = _shown(principal, uscc, lambda: _card(principal, uscc, why))
    print_json(result) if json_out else _print_card(result)


@app.command("snapshot")
@handle_errors
def snapshot(
    uscc: str = typer.Argument(..., help="统一社会信用代码 / USCC"),
    version: int = typer.Argument(..., min=1, help="名片版本 / the version cited"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    purpose: str = PURPOSE,
    json_out: bool = JSON_OUT,
) -> None:
    """查看引用的名片版本（哈希校验）/ show a cited version, hash-checked.

    Example: jinyu credit snapshot 91500103MALKG8TQXH 1 --as-user bank_risk --json
    """
    why = _purpose(purpose)
    principal = _who(as_user, api_key, password_stdin)
    result = _shown(principal, uscc, lambda: _snapshot(principal, uscc, why, version))
    print_json(result) if json_out else _print_card(result)


@app.command("snapshots")
@handle_errors
def snapshots(
    uscc: str = typer.Argument(..., help="统一社会信用代码 / USCC"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    purpose: str = PURPOSE,
    limit: int = typer.Option(50, min=1, max=500),
    json_out: bool = JSON_OUT,
) -> None:
    """名片的历史版本 / list a card's versions.

    Example: jinyu credit snapshots 91500103MALKG8TQXH --as-user enterprise
    """
    why = _purpose(purpose)
    principal = _who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        page = service.list_snapshots(session, principal, uscc, why, limit, 0)
    if json_out:
        print_json(page)
        return
    print_table(
        f"名片版本 / versions ({page.total})",
        ["version", "created", "hash"],
        [[s.version, s.created_at, s.content_hash] for s in page.items],
    )


@app.command("views")
@handle_errors
def views(
    uscc: str = typer.Argument(..., help="统一社会信用代码 / USCC"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    limit: int = typer.Option(50, min=1, max=500),
    json_out: bool = JSON_OUT,
) -> None:
    """谁查看了我的名片 / who looked at the card.

    Example: jinyu credit views 91500103MALKG8TQXH --as-user enterprise
    """
    principal = _who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        page = service.list_views(session, principal, uscc, limit, 0)
    if json_out:
        print_json(page)
        return
    rows = [
        [v.viewed_at, v.viewer_org_name, v.viewer, v.basis, v.purpose, ",".join(v.sections),
         v.snapshot_version, v.rendering]
        for v in page.items
    ]  # fmt: skip
    print_table(
        f"访问记录 / access history ({page.total})",
        ["when", "organisation", "user", "basis", "purpose", "sections", "version", "as"],
        rows,
    )


@app.command("snapshot-all")
@handle_errors
def snapshot_all(
    json_out: bool = JSON_OUT,
    batch_size: int = typer.Option(
        2000,
        "--batch-size",
        min=1,
        help="每批写入并提交的快照数 / snapshots inserted and committed per batch",
    ),
    no_progress: bool = typer.Option(False, "--no-progress", help="不显示进度条 / no progress bar"),
) -> None:
    """为全部已登记企业生成名片快照（运维批处理，可中断后重跑）/ snapshot every registered enterprise's card
    (operator job; each batch is committed, so a re-run after an interruption writes only what is missing).

    Example: jinyu credit snapshot-all --json
    """
    operator = replace(SYSTEM, perms=SYSTEM.perms | {Perm.CREDIT_CARD_READ})
    with (
        Progress(
            TextColumn("[bold]名片快照 / snapshots"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=json_out or no_progress,
            transient=True,
        ) as bar,
        runtime.unit_of_work() as session,
        _engine() as engine,
    ):
        task = bar.add_task("snapshots", total=None)
        result = batch.snapshot_all(
            session,
            operator,
            engine,
            batch_size=batch_size,
            checkpoint=session.commit,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if json_out:
        print_json(result)
        return
    console.print(
        f"企业 / enterprises {result.enterprises}  新版本 / created {result.created}  "
        f"未变 / unchanged {result.unchanged}  未登记 / unregistered {result.skipped_unregistered}  "
        f"{result.seconds} s"
    )
