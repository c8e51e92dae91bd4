"""`jinyu ingest-quarantine`: a load's rejected rows in clear, for the providing organisation's engineers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.core.errors import JinyuError
from jinyu.party.acting import acting_principal

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import config
    from jinyu.audit import service as audit
    from jinyu.core import runtime, sealed
    from jinyu.ingest import quarantine
else:
    audit = lazy.module("jinyu.audit.service")
    config = lazy.module("jinyu.config")
    quarantine = lazy.module("jinyu.ingest.quarantine")
    runtime = lazy.module("jinyu.core.runtime")
    sealed = lazy.module("jinyu.core.sealed")


@handle_errors
def ingest_quarantine(
    load_id: str = typer.Argument(..., help="加载编号 / load id (from the load report)"),
    as_user: str | None = typer.Option(
        None, "--as-user", help="以提供方数据工程师身份（需密码）/ act as this provider user (password)"
    ),
    api_key: str | None = typer.Option(
        None, "--api-key", help="提供方服务账号 API key / a provider's API key"
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="从标准输入读密码 / password on stdin"
    ),
    json_out: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """解密查看被拒绝的行（仅限提供该文件的机构，已审计）/ open a load's rejected rows (providing org only; audited).

    Example: jinyu ingest-quarantine 01J9Z... --as-user bank_engineer --password-stdin --json
    """
    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    try:
        with runtime.unit_of_work(settings) as session:
            out = quarantine.open_rows(
                session,
                principal,
                load_id,
                settings.data_dir / "quarantine",
                sealed.Sealer(settings.key("quarantine_key")),
            )
    except JinyuError as exc:
        if exc.status in (403, 404):
            audit.record_outcome(
                runtime.sessionmaker_for(settings),
                principal,
                action="ingest.quarantine.open",
                subject_type="load",
                subject_ids=[load_id],
                outcome="denied" if exc.status == 403 else "not_found",
                detail={"code": exc.code},
            )
        raise
    if json_out:
        print_json(out)
        return
    console.print(f"[bold]{out.dataset}[/] load {out.load_id}: {len(out.rows)} 行 / rows")
    columns = sorted({c for r in out.rows for c in r.values})
    print_table(
        "隔离行 / quarantined rows",
        ["row", "reasons", *columns],
        [[r.row_number, "; ".join(r.reasons), *(r.values.get(c) for c in columns)] for r in out.rows],
    )
