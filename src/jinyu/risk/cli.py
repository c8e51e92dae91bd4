"""`jinyu risk ...`: the risk services at the console."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.cli_kit import handle_errors, print_json, print_table
from jinyu.risk.cli_auth import API_KEY, AS_USER, PASSWORD_STDIN, acting_principal
from jinyu.risk.purposes import cli as purposes_cli
from jinyu.risk.statements import cli as statements_cli
from jinyu.risk.tracing import cli as tracing_cli

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import config
    from jinyu.core import runtime
    from jinyu.risk import inquiries
else:
    config = lazy.module("jinyu.config")
    inquiries = lazy.module("jinyu.risk.inquiries")
    runtime = lazy.module("jinyu.core.runtime")

app = typer.Typer(help="资金流风险核查 / fund-flow risk services: `jinyu risk stats`", no_args_is_help=True)


@app.command("stats")
@handle_errors
def stats(
    from_month: str | None = typer.Option(None, help="起始月份 / first month, YYYY-MM"),
    to_month: str | None = typer.Option(None, help="截止月份 / last month, YYYY-MM"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """各银行按月的查询统计（监管）/ inquiries by bank and month (regulators).

    Example: jinyu risk stats --as-user analyst --from-month 2026-01 --json"""
    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    with runtime.unit_of_work(settings) as session:
        rows = inquiries.inquiry_stats(session, principal, from_month, to_month)
    if json_out:
        print_json(rows)
        return
    print_table(
        "风险查询统计 / risk inquiries",
        ["bank", "month", "kind", "inquiries", "risky", "risky amount (yuan)"],
        [[r.bank_name, r.month, r.kind, r.inquiries, r.risky, r.risky_amount] for r in rows],
    )


# Commands of the risk services are added here, one line each: app.command("...")(<module>.cli.<function>)
app.command("statement-check")(statements_cli.statement_check)
app.command("return-flow")(tracing_cli.return_flow)
app.command("misuse")(tracing_cli.misuse)
app.command("batch")(tracing_cli.batch)
app.command("purpose-matrix")(purposes_cli.purpose_matrix)
