"""`jinyu financing products`: a bank's financing products (list; add and update as the bank's user)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.cli_kit import handle_errors, print_json, print_table
from jinyu.financing.cli_common import API_KEY, AS_USER, JSON, PASSWORD_STDIN, _who, app

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu.core import runtime
    from jinyu.financing import schemas
    from jinyu.financing.service import products
else:
    products = lazy.module("jinyu.financing.service.products")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.financing.schemas")

products_app = typer.Typer(
    help="银行融资产品 / bank financing products: `jinyu financing products list --bank BANK_ID --json`",
    no_args_is_help=True,
)
app.add_typer(products_app, name="products")

CODE = typer.Option(..., "--code", help="产品代码 / product code, e.g. KJD-01")
NAME = typer.Option(..., "--name", help="产品名称 / product name")
MIN_AMOUNT = typer.Option(..., "--min-amount", help="最低金额（元，含）/ minimum yuan, inclusive")
MAX_AMOUNT = typer.Option(..., "--max-amount", help="最高金额（元，含）/ maximum yuan, inclusive")
MIN_TERM = typer.Option(..., "--min-term", help="最短期限（月，含）/ shortest term, months, inclusive")
MAX_TERM = typer.Option(..., "--max-term", help="最长期限（月，含）/ longest term, months, inclusive")
PURPOSE = typer.Option([], "--purpose", help="用途关键词，可多次；不填为不限 / purpose keyword, repeatable")
SECURITY = typer.Option(..., "--security", help="credit|collateral|pledge|guarantee，可多次 / repeatable")
INDUSTRY = typer.Option([], "--industry", help="GB/T 4754 前缀，可多次；不填为不限 / industry prefix")
INACTIVE = typer.Option(False, "--inactive", help="登记为停用 / register as inactive")


def _show(rows: list[schemas.ProductOut], json_out: bool) -> None:
    if json_out:
        print_json(rows)
        return
    print_table(
        "融资产品 / financing products",
        ["id", "bank", "code", "name", "amount", "term", "security", "industries", "active"],
        [
            [p.id, p.bank_id, p.code, p.name, f"{p.min_amount}–{p.max_amount}",
             f"{p.min_term_months}–{p.max_term_months}", ",".join(p.security_kinds),
             ",".join(p.industries) or "*", "yes" if p.active else "no"]
            for p in rows
        ],
    )  # fmt: skip


@products_app.command("list")
@handle_errors
def list_products(
    bank: str | None = typer.Option(None, "--bank", help="银行总行 id / bank head office id"),
    active: bool | None = typer.Option(None, "--active/--inactive", help="仅启用或停用 / active or inactive"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """列出融资产品 / list financing products. Example: jinyu financing products list --bank BANK_ID --json"""
    principal = _who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        rows = products.list_products(session, principal, bank, active)
    _show(rows, json_out)


def _data(code: str, name: str, min_amount: str, max_amount: str, min_term: int, max_term: int,
          purpose: list[str], security: list[str], industry: list[str],
          inactive: bool) -> schemas.ProductIn:  # fmt: skip
    return schemas.ProductIn(
        code=code, name=name, min_amount=Decimal(min_amount), max_amount=Decimal(max_amount),
        min_term_months=min_term, max_term_months=max_term, purposes=purpose, security_kinds=security,
        industries=industry, active=not inactive,
    )  # fmt: skip


@products_app.command("add")
@handle_errors
def add_product(
    code: str = CODE, name: str = NAME, min_amount: str = MIN_AMOUNT, max_amount: str = MAX_AMOUNT,
    min_term: int = MIN_TERM, max_term: int = MAX_TERM, purpose: list[str] = PURPOSE,
    security: list[str] = SECURITY, industry: list[str] = INDUSTRY, inactive: bool = INACTIVE,
    as_user: str | None = AS_USER, api_key: str | None = API_KEY, password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:  # fmt: skip
    """银行登记本行产品 / a bank registers one of its products (as the bank's user). Example:
    jinyu financing products add --code KJD-01 --name 科技贷 --min-amount 100000 --max-amount 5000000
    --min-term 6 --max-term 36 --purpose 研发 --security credit --industry I65 --as-user bank.hq --json"""
    principal = _who(as_user, api_key, password_stdin)
    data = _data(
        code, name, min_amount, max_amount, min_term, max_term, purpose, security, industry, inactive
    )
    with runtime.unit_of_work() as session:
        out = products.create(session, principal, data)
    _show([out], json_out)


@products_app.command("update")
@handle_errors
def update_product(
    product_id: str = typer.Argument(..., help="产品 id / product id"),
    code: str = CODE, name: str = NAME, min_amount: str = MIN_AMOUNT, max_amount: str = MAX_AMOUNT,
    min_term: int = MIN_TERM, max_term: int = MAX_TERM, purpose: list[str] = PURPOSE,
    security: list[str] = SECURITY, industry: list[str] = INDUSTRY, inactive: bool = INACTIVE,
    as_user: str | None = AS_USER, api_key: str | None = API_KEY, password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:  # fmt: skip
    """银行整体替换本行产品（停用用 --inactive）/ a bank replaces one of its products. Example:
    jinyu financing products update PRODUCT_ID --code KJD-01 --name 科技贷 --min-amount 100000
    --max-amount 5000000 --min-term 6 --max-term 36 --security credit --inactive --as-user bank.hq --json"""
    principal = _who(as_user, api_key, password_stdin)
    data = _data(
        code, name, min_amount, max_amount, min_term, max_term, purpose, security, industry, inactive
    )
    with runtime.unit_of_work() as session:
        out = products.update(session, principal, product_id, data)
    _show([out], json_out)
