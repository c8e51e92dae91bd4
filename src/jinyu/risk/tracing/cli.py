"""`jinyu risk return-flow | misuse | batch`: fund-flow checks at the console, as a named bank user.

The command acts as a real principal (see `risk.cli_auth`): a bank user who logs in or a bank service account.
It sees exactly what that user would see over the API: its own bank's loans, tokens for outside accounts.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jinyu.core import lazy
from jinyu.core.auth import Principal
from jinyu.core.cli_kit import console, err_console, handle_errors, print_json, print_table
from jinyu.core.csvsafe import SafeWriter
from jinyu.core.errors import InvalidInput, NotFound, PermissionDenied
from jinyu.risk.cli_auth import API_KEY, AS_USER, PASSWORD_STDIN, acting_principal

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import analytics, config
    from jinyu.audit import service as audit
    from jinyu.core import runtime
    from jinyu.risk.tracing import schemas, service
else:
    analytics = lazy.module("jinyu.analytics")
    audit = lazy.module("jinyu.audit.service")
    config = lazy.module("jinyu.config")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.risk.tracing.schemas")
    service = lazy.module("jinyu.risk.tracing.service")

T = TypeVar("T")

POLICY = typer.Option("pro_rata", "--policy", help="传播策略 / policy: pro_rata | fifo")
POOL = typer.Option(
    "today", "--pool", help="比例法资金池 / pro rata's pool: today | balance (adds the balance of record)"
)
HOPS = typer.Option(3, "--hops", min=1, max=6, help="最大跳数 / hops (1-6)")
DAYS = typer.Option(30, "--days", min=1, max=180, help="时间窗口（天）/ window in days (1-180)")
DUST = typer.Option("1000.00", "--dust", help="尘埃阈值（元）/ dust threshold, yuan")
HUB = typer.Option(1000, "--hub-degree", min=10, help="枢纽阈值（窗口内转出笔数）/ hub threshold (transfers)")
RISK_SHARE = typer.Option("0.05", "--risk-share", help="风险比例阈值 / share that makes a finding risky")
JSON_OUT = typer.Option(False, "--json", help="输出 JSON / print JSON")


def _params(
    policy: str, hops: int, days: int, dust: str, hub: int, risk_share: str, pool: str = "today"
) -> schemas.TraceParams:
    try:
        return schemas.TraceParams.model_validate(
            {
                "policy": policy,
                "pool": pool,
                "max_hops": hops,
                "window_days": days,
                "dust": dust,
                "hub_degree": hub,
                "risk_share": risk_share,
            }
        )
    except ValueError as exc:
        raise InvalidInput(detail=f"参数有误 / bad parameters: {exc}") from None


@contextmanager
def _stores(settings: config.Settings) -> Iterator[service.Stores]:
    engine = analytics.DuckDBEngine(settings.lake_dir)
    try:
        yield service.Stores(engine, settings.lake_dir, settings.pseudonym_keys())
    finally:
        engine.close()


def _run(
    settings: config.Settings, principal: Principal, action: str, subject: str, call: Callable[..., T]
) -> T:
    """Run a check in its own transaction; a refusal is audited afterwards in a new one (as the API does)."""
    try:
        with runtime.unit_of_work(settings) as session, _stores(settings) as stores:
            return call(session, principal, stores)
    except (NotFound, PermissionDenied) as exc:
        audit.record_outcome(
            runtime.sessionmaker_for(settings),
            principal,
            action=action,
            subject_type="loan",
            subject_ids=[subject],
            outcome="not_found" if isinstance(exc, NotFound) else "denied",
            detail={"code": exc.code, "via": "cli"},
        )
        raise


@handle_errors
def return_flow(
    loan_id: str = typer.Argument(..., help="借据号 / loan id"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    policy: str = POLICY,
    pool: str = POOL,
    hops: int = HOPS,
    days: int = DAYS,
    dust: str = DUST,
    hub_degree: int = HUB,
    risk_share: str = RISK_SHARE,
    json_out: bool = JSON_OUT,
) -> None:
    """信贷资金回流核查 / return flow of one of your bank's loans.

    Example: jinyu risk return-flow B000120240115000123 --as-user hq_risk --hops 3 --days 30 --json
    With the balance pool: jinyu risk return-flow B000120240115000123 --as-user hq_risk --pool balance
    """
    settings = config.get_settings()
    params = _params(policy, hops, days, dust, hub_degree, risk_share, pool)
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    result = _run(
        settings,
        principal,
        "risk.tracing.return_flow",
        loan_id,
        lambda s, p, st: service.return_flow(s, p, st, loan_id, params),
    )
    if json_out:
        print_json(result)
        return
    _print_return_flow(result)


@handle_errors
def misuse(
    loan_id: str = typer.Argument(..., help="借据号 / loan id"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    policy: str = POLICY,
    pool: str = POOL,
    hops: int = HOPS,
    days: int = DAYS,
    dust: str = DUST,
    hub_degree: int = HUB,
    risk_share: str = RISK_SHARE,
    json_out: bool = JSON_OUT,
) -> None:
    """信贷资金挪用核查 / misappropriation of one of your bank's loans (vs its declared purpose).

    Example: jinyu risk misuse B000120240115000123 --as-user hq_risk --policy fifo
    """
    settings = config.get_settings()
    params = _params(policy, hops, days, dust, hub_degree, risk_share, pool)
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    result = _run(
        settings,
        principal,
        "risk.tracing.misuse",
        loan_id,
        lambda s, p, st: service.misuse(s, p, st, loan_id, params),
    )
    if json_out:
        print_json(result)
        return
    _print_misuse(result)


@handle_errors
def batch(
    from_date: str = typer.Option(..., "--from", help="放款日起 YYYY-MM-DD（含）/ disbursed on or after"),
    to_date: str = typer.Option(..., "--to", help="放款日止 YYYY-MM-DD（含）/ disbursed on or before"),
    bank: str | None = typer.Option(None, "--bank", help="本行内的机构编码 / a node of your bank"),
    analyses: str = typer.Option("return_flow,misuse", "--analyses", help="return_flow,misuse"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    policy: str = POLICY,
    pool: str = POOL,
    hops: int = HOPS,
    days: int = DAYS,
    dust: str = DUST,
    hub_degree: int = HUB,
    risk_share: str = RISK_SHARE,
    csv_out: Path | None = typer.Option(
        None, "--csv", help="全部结果写入 CSV / write every row to a CSV file"
    ),
    show_all: bool = typer.Option(
        False, "--all", help="表格列出全部贷款（默认只列风险与关注）/ list every loan"
    ),
    json_out: bool = JSON_OUT,
) -> None:
    """批量核查本行期间内发放的贷款 / check every loan your bank disbursed in a period.

    Example: jinyu risk batch --as-user hq_risk --from 2024-01-01 --to 2024-03-31 --csv risky.csv
    """
    settings = config.get_settings()
    params = _params(policy, hops, days, dust, hub_degree, risk_share, pool)
    try:
        request = schemas.BatchRequest.model_validate(
            {
                **params.model_dump(),
                "from_date": dt.date.fromisoformat(from_date),
                "to_date": dt.date.fromisoformat(to_date),
                "bank_code": bank,
                "analyses": [a.strip() for a in analyses.split(",") if a.strip()],
            }
        )
    except ValueError as exc:
        raise InvalidInput(detail=f"参数有误 / bad parameters: {exc}") from None
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=json_out and not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("追踪 tracing", total=None)

        def progress(done: int, total: int, loans: int) -> None:
            bar.update(task, completed=done, total=total, description=f"追踪 tracing: {loans} 笔 loans")

        result = _run(
            settings,
            principal,
            "risk.tracing.batch",
            request.bank_code or "-",
            lambda s, p, st: service.run_batch(s, p, st, request, progress),
        )
    if csv_out is not None:
        _write_csv(result, csv_out)
    if json_out:
        print_json(result)
        return
    _print_batch(result, show_all)


# -- output --------------------------------------------------------------------------------------------------


def _print_paths(paths: list[schemas.EvidencePath]) -> None:
    for i, path in enumerate(paths, start=1):
        console.print(
            f"[bold]证据 evidence {i}[/]: {path.label} {path.amount} ({path.share:.2%}), {path.hops} 跳 "
            f"hops, {path.days} 天 days"
        )
        for step in path.steps:
            who = step.relation_label or step.category_label or step.party
            console.print(
                f"  {step.hop}. {step.account}  {who}  {step.amount}  {step.first_at:%Y-%m-%d %H:%M}"
            )


def _print_return_flow(r: schemas.ReturnFlowResult) -> None:
    console.print(
        f"[bold]{r.loan.loan_id}[/] {r.loan.borrower_name or r.loan.borrower_uscc} {r.loan.amount} — "
        f"{r.verdict_label}: 回流 returned {r.returned_amount} ({r.returned_share:.2%})"
        + (
            f", 最早 first {r.first_return_hops} 跳 hops / {r.days_to_first_return} 天 days"
            if r.first_return_hops
            else ""
        )
    )
    print_table(
        "按关联关系 / by relation",
        ["relation", "amount", "share"],
        [[x.label, x.amount, f"{x.share:.2%}"] for x in r.by_relation],
    )
    _print_refunds(r)
    print_table(
        "资金去向 / where the money went",
        ["kind", "amount", "share"],
        [[x.label, x.amount, f"{x.share:.2%}"] for x in r.attribution],
    )
    _print_paths(r.evidence)
    console.print(
        f"依据 basis: {r.basis.policy_text}; 数据版本 data {r.basis.data_version.fingerprint}; "
        f"查询编号 inquiry {r.inquiry_id}"
    )


def _print_refunds(r: schemas.ReturnFlowResult) -> None:
    """Refunds are reported beside return flow, never in it: an analyst reading the table sees why money that
    came back to the borrower did not count."""
    if not r.refunds:
        return
    print_table(
        f"退款（不计入回流）/ refunds, not return flow: {r.refunded_amount}",
        ["hop", "payer", "payee", "amount", "share", "purchases", "refunds", "rule"],
        [
            [x.hop, f"{x.payer.account} ({x.payer.party})", f"{x.payee.account} ({x.payee.party})", x.amount,
             f"{x.share:.2%}", ", ".join(x.purchase_txn_ids), ", ".join(x.reversal_txn_ids), x.rule]
            for x in r.refunds
        ],
    )  # fmt: skip


def _print_misuse(r: schemas.MisuseResult) -> None:
    console.print(
        f"[bold]{r.loan.loan_id}[/] {r.loan.borrower_name or r.loan.borrower_uscc} {r.loan.amount} "
        f"({r.purpose.declared_purpose_label}) — {r.verdict_label}: 挪用 misused {r.misused_amount} "
        f"({r.misused_share:.2%})"
    )
    print_table(
        "按用途类别 / by category",
        ["category", "amount", "share", "prohibited", "risky"],
        [[x.label, x.amount, f"{x.share:.2%}", x.prohibited_for_purpose, x.risky] for x in r.by_category],
    )
    if r.purpose.consistent_share is not None:
        console.print(
            f"首跳与申报用途相符 first hop consistent with the purpose: {r.purpose.consistent_amount} "
            f"({r.purpose.consistent_share:.2%}) of {r.purpose.first_hop_amount}"
        )
    print_table(
        "资金去向 / where the money went",
        ["kind", "amount", "share"],
        [[x.label, x.amount, f"{x.share:.2%}"] for x in r.attribution],
    )
    _print_paths(r.evidence)
    console.print(
        f"依据 basis: {r.basis.policy_text}; 数据版本 data {r.basis.data_version.fingerprint}; "
        f"查询编号 inquiry {r.inquiry_id}"
    )


def _print_batch(r: schemas.BatchResult, show_all: bool) -> None:
    s = r.summary
    rows = r.rows if show_all else [x for x in r.rows if x.verdict != "clean"]
    print_table(
        f"批量核查 batch {r.batch_id} — {r.bank_code} {r.from_date}..{r.to_date}",
        ["loan", "borrower", "amount", "returned", "misused", "top misuse", "verdict"],
        [
            [x.loan_id, x.borrower_name or x.borrower_uscc, x.amount,
             f"{x.returned_share:.2%}" if x.returned_share is not None else "",
             f"{x.misused_share:.2%}" if x.misused_share is not None else "", x.top_misuse or "", x.verdict]
            for x in rows
        ],
    )  # fmt: skip
    console.print(
        f"贷款 loans {s.loans} ({s.amount}); 风险 risky {s.risky_loans} (金额 amount {s.risky_amount}); "
        f"回流风险 return {s.return_risky}; 挪用风险 misuse {s.misuse_risky}; 查询编号 inquiry {r.inquiry_id}"
    )


def _write_csv(r: schemas.BatchResult, path: Path) -> None:
    """Every row; cells a spreadsheet would run as formulas (a borrower named `=HYPERLINK(...)`) are neutralised."""
    fields = list(schemas.BatchRow.model_fields)
    with path.open("w", encoding="utf-8", newline="") as fh:
        SafeWriter(fh).dict_rows(fields, (row.model_dump(mode="json") for row in r.rows))
