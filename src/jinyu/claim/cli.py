"""`jinyu claim`: products, enrollment, settlement, the prepaid ledger, reconciliation and reports.

Commands act for a user or service account with the same credentials as the API (`--as-user insurer
--password-stdin`, `--api-key ...`; see cli_auth.py): the services check the caller's role and organisation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jinyu.claim import cli_auth, cli_ledger
from jinyu.core import lazy
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import config
    from jinyu.claim import schemas, service
    from jinyu.core import runtime
else:
    config = lazy.module("jinyu.config")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.claim.schemas")
    service = lazy.module("jinyu.claim.service")

app = typer.Typer(
    help="一站式理赔 / claims: `jinyu claim products load FILE --activate --as-user insurer`",
    no_args_is_help=True,
)
products_app = typer.Typer(help="产品规则 / products", no_args_is_help=True)
app.add_typer(products_app, name="products")
app.add_typer(cli_ledger.books_app, name="books")
app.command("reconcile")(cli_ledger.reconcile)
app.command("report")(cli_ledger.report)


def _show_settlement(s: schemas.SettlementOut) -> None:
    console.print(
        f"[bold]{s.id}[/] {s.status} {s.mdtrt_id}/{s.setl_id} 总费用 {s.medfee_sumamt} 赔付 payout "
        f"[bold green]{s.payout}[/] 个人现金 cash {s.cash_after}"
    )
    if s.outcome:
        print_table(
            "责任 / liabilities",
            ["code", "basis", "deductible", "ratio", "payout", "reasons"],
            [
                [
                    li.code,
                    li.basis,
                    li.deductible_applied,
                    li.ratio,
                    li.payout,
                    "; ".join(r.code for r in li.reasons),
                ]
                for li in s.outcome.liabilities
            ],
        )
        for r in s.outcome.not_paid:
            console.print(f"  不赔 / not paid: {r.code} {r.amount} {r.line_sn or ''}")


# ------------------------------------------------------------------------------------------------ products


@products_app.command("load")
@handle_errors
def load_product(
    file: Path = typer.Argument(..., help="YAML 或 JSON / a YAML or JSON definition"),
    activate: bool = typer.Option(False, "--activate", help="保存后启用 / activate"),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """校验并保存产品（保险公司）/ validate and store a product version (an insurer's staff).

    Example: jinyu claim products load src/jinyu/claim/products/sample_chongqing_2025.yaml --activate --as-user insurer
    """
    definition = service.read_definition(file)
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.create_product(
            session, caller, schemas.ProductIn(definition=definition, activate=activate)
        )
    print_json(out) if json_out else console.print(f"{out.code} v{out.version} {out.status} id={out.id}")


@products_app.command("check")
@handle_errors
def check_product(file: Path = typer.Argument(...)) -> None:
    """只校验不保存 / validate a definition only. Example: jinyu claim products check product.yaml"""
    from jinyu.claim.rules.parse import parse_product

    p = parse_product(service.read_definition(file))
    console.print(f"有效 / valid: {p.code} v{p.version} {p.name} ({len(p.liabilities)} liabilities)")


@products_app.command("list")
@handle_errors
def list_products(
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """列出产品 / list products. Example: jinyu claim products list --as-user insurer"""
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        page = service.list_products(session, caller, None, 500, 0)
    if json_out:
        print_json(page)
        return
    print_table(
        "产品 / products",
        ["id", "code", "version", "status", "name"],
        [[p.id, p.code, p.version, p.status, p.name] for p in page.items],
    )


# ------------------------------------------------------------------------------------------------ people


@app.command("enroll")
@handle_errors
def enroll(
    product: str = typer.Option(..., help="产品编码 / product code"),
    certno: str = typer.Option(..., prompt=True, hide_input=True, help="身份证号 / resident ID"),
    pre_existing: list[str] = typer.Option([], help="既往症 ICD-10，可多次 / pre-existing, repeatable"),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """参保登记 / enroll a person. Example: jinyu claim enroll --product CQ-YKB-2025 --as-user insurer"""
    import pydantic

    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.enroll(
            session,
            caller,
            schemas.EnrollmentIn(
                product_code=product, certno=pydantic.SecretStr(certno), pre_existing=pre_existing
            ),
            config.get_settings().pseudonym_keys(),
        )
    print_json(out) if json_out else console.print(f"{out.id_masked} → {out.product_code} ({out.status})")


@app.command("eligibility")
@handle_errors
def eligibility(
    certno: str = typer.Option(..., prompt=True, hide_input=True),
    on: str | None = typer.Option(None, help="日期 / date YYYY-MM-DD"),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """剩余免赔额与限额 / remaining deductible and caps. Example: jinyu claim eligibility --as-user hospital"""
    import pydantic

    day = dt.date.fromisoformat(on) if on else None
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.eligibility(
            session,
            caller,
            schemas.EligibilityIn(certno=pydantic.SecretStr(certno), on=day),
            config.get_settings().pseudonym_keys(),
        )
    if json_out:
        print_json(out)
        return
    for e in out:
        acc = e.accumulators
        console.print(f"[bold]{e.product_code}[/] v{e.product_version} {e.status}")
        for d in acc.deductibles:
            console.print(
                f"  免赔额 deductible {d.code}: {d.used} / {d.amount}, 剩余 remaining {d.remaining}"
            )
        for c in [*acc.liabilities, acc.overall]:
            console.print(f"  限额 cap {c.code}: paid {c.paid} / {c.cap}, remaining {c.remaining}")


# ------------------------------------------------------------------------------------------------ settlement


@app.command("settle")
@handle_errors
def settle(
    file: Path = typer.Argument(..., help="结算请求 JSON / a settlement request (see docs/claims.md)"),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """即时结算（医院或药店系统）/ settle a discharge or a pharmacy purchase (a hospital's or pharmacy's system).

    Example: jinyu claim settle var/claims/discharge-3-large.json --as-user hospital --json"""
    data = cli_ledger.model(schemas.SettleIn, cli_ledger.read_json(file))
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.settle(session, caller, data, config.get_settings().pseudonym_keys())
    if json_out:
        print_json(out.settlement)
        return
    if out.replayed:
        console.print("重放 / replay of an earlier request: its first answer")
    since = out.settlement.since
    if since is not None:
        console.print(f"此后已变为 / since then: {since.status} {since.at or ''} {since.note}")
    _show_settlement(out.settlement)


@app.command("confirm")
@handle_errors
def confirm(
    settlement_id: str,
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """确认结算 / confirm a pending settlement. Example: jinyu claim confirm ID --as-user hospital"""
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.confirm(session, caller, settlement_id)
    print_json(out) if json_out else _show_settlement(out)


@app.command("cancel")
@handle_errors
def cancel(
    settlement_id: str,
    msg_id: str = typer.Option(..., help="报文号 / message id"),
    reason: str = typer.Option(...),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """撤销结算 / cancel. Example: jinyu claim cancel ID --msg-id C1 --reason 重新结算 --as-user hospital"""
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.cancel(
            session,
            caller,
            settlement_id,
            schemas.CancelIn(msg_id=msg_id, reason=reason),
        )
    print_json(out.settlement) if json_out else _show_settlement(out.settlement)


@app.command("show")
@handle_errors
def show(
    settlement_id: str,
    fhir: bool = typer.Option(False, "--fhir", help="FHIR R4 ClaimResponse"),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """查看结算 / show a settlement. Example: jinyu claim show ID --fhir --as-user insurer"""
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        if fhir:
            print_json(service.export_fhir(session, caller, settlement_id))
            return
        out = service.get_settlement(session, caller, settlement_id)
    print_json(out) if json_out else _show_settlement(out)
