"""`jinyu policy`: show the data-security policy; record and list level approvals on consent grants; take a
de-identified extract of a dataset."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.party.acting import acting_principal

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import analytics, config
    from jinyu.core import runtime
    from jinyu.governance.policy import extract, protect, schemas, service, table
else:
    analytics = lazy.module("jinyu.analytics")
    config = lazy.module("jinyu.config")
    extract = lazy.module("jinyu.governance.policy.extract")
    protect = lazy.module("jinyu.governance.policy.protect")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.governance.policy.schemas")
    service = lazy.module("jinyu.governance.policy.service")
    table = lazy.module("jinyu.governance.policy.table")

app = typer.Typer(
    help="数据安全策略与级别审批 / data-security policy and level approvals. Example: jinyu policy show",
    no_args_is_help=True,
)
AS_USER = typer.Option(None, "--as-user", help="以该用户身份（需密码）/ act as this user (password)")
API_KEY = typer.Option(None, "--api-key", help="服务账号 API key / a service account's API key")
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="从标准输入读密码 / password on stdin")
JSON_OUT = typer.Option(False, "--json", help="输出 JSON / print JSON")


@app.command("show")
@handle_errors
def show(json_out: bool = JSON_OUT) -> None:
    """显示当前策略：数据类别、级别与各角色所见 / the policy: classes, levels and what each role sees.

    Example: jinyu policy show --json
    """
    policy = protect.current()
    rows = table.role_class_rows(policy)
    if json_out:
        print_json(
            {
                "version": policy.version,
                "classes": {n: vars(c) for n, c in policy.classes.items()},
                "rules": [
                    {
                        "id": r.id,
                        "classes": sorted(r.classes),
                        "roles": sorted(r.roles),
                        "action": r.action.label,
                    }
                    | ({"approval": True} if r.approval else {})
                    | ({"purposes": sorted(r.purposes)} if r.purposes else {})
                    for r in policy.rules
                ],
                "derived": {
                    name: {"sources": sorted(d.sources), "items": dict(d.items)}
                    for name, d in policy.derived.items()
                },
                "default": policy.default.label,
                "table": [dict(zip(rows[0], r, strict=True)) for r in rows[1:]],
            }
        )
        return
    console.print(f"[bold]{policy.title}[/] {policy.version}")
    # Ten role columns do not fit a terminal: one line per class, roles grouped by what they get.
    roles = rows[0][4:]
    listed = []
    for row in rows[1:]:
        groups: dict[str, list[str]] = {}
        for role, action in zip(roles, row[4:], strict=True):
            groups.setdefault(action, []).append(role)
        listed.append([row[0], row[1], row[2], "\n".join(f"{a}: {', '.join(r)}" for a, r in groups.items())])
    print_table(
        "数据类别与各角色所见 / classes and what each role sees", ["class", "level", "PFI", "roles"], listed
    )


@app.command("approve")
@handle_errors
def approve(
    grant_id: str = typer.Argument(..., help="授权编号 / the consent grant's id"),
    level: int = typer.Option(5, "--level", help="开放的级别 4 或 5 / the level opened, 4 or 5"),
    reason: str = typer.Option(..., "--reason", help="审批理由 / why"),
    days: int = typer.Option(30, "--days", help="有效天数（最长 90）/ days in force (at most 90)"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """监管主管在授权上开放 4–5 级数据（限时、已审计）/ a supervisor opens level 4-5 data on a grant.

    Example: jinyu policy approve 01J9Z... --level 5 --reason "贷前审查需纳税明细" --days 30 --as-user sup1
    """
    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    data = schemas.ApprovalCreate(level=level, reason=reason, valid_until=until)
    with runtime.unit_of_work(settings) as session:
        out = service.approve(session, principal, grant_id, data)
    _print([out], json_out, one=True)


@app.command("approvals")
@handle_errors
def approvals(
    grant_id: str = typer.Argument(..., help="授权编号 / the consent grant's id"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """列出授权上的级别审批 / the level approvals recorded on a grant.

    Example: jinyu policy approvals 01J9Z... --as-user bank_officer --password-stdin --json
    """
    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    with runtime.unit_of_work(settings) as session:
        out = service.list_approvals(session, principal, grant_id)
    _print(out, json_out)


@app.command("revoke-approval")
@handle_errors
def revoke_approval(
    grant_id: str = typer.Argument(..., help="授权编号 / the consent grant's id"),
    approval_id: str = typer.Argument(..., help="审批编号 / the approval's id"),
    reason: str = typer.Option(..., "--reason", help="撤销理由 / why it ends early"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """监管主管提前撤销级别审批，立即生效（已审计）/ a supervisor ends a level approval now (audited).

    Example: jinyu policy revoke-approval 01J9Z... 01JA0... --reason "贷款已结清" --as-user sup1 --json
    """
    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    with runtime.unit_of_work(settings) as session:
        out = service.revoke(session, principal, grant_id, approval_id, schemas.ApprovalRevoke(reason=reason))
    _print([out], json_out, one=True)


@app.command("extract")
@handle_errors
def extract_rows(
    dataset: str = typer.Argument(..., help="数据集 / the lake dataset, e.g. claim_visits"),
    columns: str = typer.Option(..., "--columns", help="逗号分隔的列 / comma-separated columns"),
    reason: str = typer.Option(..., "--reason", help="用途（记入审计）/ what it is for (audited)"),
    out: Path | None = typer.Option(None, "--out", help="写入 CSV 文件 / write the rows to this CSV file"),
    from_month: str | None = typer.Option(None, "--from-month", help="YYYY-MM"),
    to_month: str | None = typer.Option(None, "--to-month", help="YYYY-MM"),
    limit: int = typer.Option(100_000, "--limit", help="最多读取行数 / rows read at most (≤ 1,000,000)"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """脱敏提取：直接标识按本次提取重新假名化、准标识 k-匿名、4 级以上列拒绝（监管，已审计）/ a de-identified
    extract (regulators; audited): direct identifiers re-keyed for this extract only, quasi-identifiers made
    k-anonymous (what was generalised or left out is reported), level 4+ columns refused.

    Example: jinyu policy extract claim_visits --columns person_id,setl_time,medfee_sumamt --reason "费用研究"
    --out visits.csv --as-user analyst
    """
    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    data = schemas.ExtractIn(
        dataset=dataset,
        columns=[c.strip() for c in columns.split(",") if c.strip()],
        reason=reason,
        from_month=from_month,
        to_month=to_month,
        limit=limit,
    )
    engine = analytics.DuckDBEngine(settings.lake_dir)
    try:
        with runtime.unit_of_work(settings) as session:
            result = extract.extract(session, principal, engine, analytics.Lake(settings.lake_dir), data)
    finally:
        engine.close()
    if out is not None:
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=result.columns)
            writer.writeheader()
            writer.writerows(result.rows)
    if json_out:
        print_json(result.model_dump(exclude={"rows"} if out is not None else set()))
        return
    d = result.disclosure
    console.print(
        f"{result.dataset}: 读取 {result.rows_read} 行，输出 {len(result.rows)} 行 / read {result.rows_read}, "
        f"kept {len(result.rows)}; k={d['k']}（按 {result.counted_by} 计 / counted by {result.counted_by}）, "
        f"suppressed {d['suppressed']}, generalised {d['generalised'] or '{}'}; "
        f"pseudonymized {result.pseudonymized or '[]'}" + (f"; → {out}" if out is not None else "")
    )
    if out is None:  # a first look; --out or --json carries every row
        shown = result.rows[:20]
        print_table(
            "前 20 行 / first 20 rows", result.columns, [[r[c] for c in result.columns] for r in shown]
        )


def _print(rows: list[schemas.ApprovalOut], json_out: bool, one: bool = False) -> None:
    if json_out:
        print_json(rows[0] if one else rows)
        return
    print_table(
        "级别审批 / level approvals",
        ["id", "level", "in force", "valid_until", "approved_by", "reason", "revoked_at"],
        [[a.id, a.level, a.in_force, a.valid_until, a.approved_by, a.reason, a.revoked_at] for a in rows],
    )
