"""`jinyu risk statement-check FILE --as-user USERNAME [--json]`: verify a statement as a real bank user (who
logs in) or bank service account (`--api-key`), see `risk.cli_auth`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.cli_kit import console, err_console, handle_errors, print_json, print_table
from jinyu.core.errors import JinyuError
from jinyu.risk.cli_auth import API_KEY, AS_USER, PASSWORD_STDIN, acting_principal

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu import analytics, config
    from jinyu.core import runtime
    from jinyu.risk.statements import parsing, schemas, service
else:
    analytics = lazy.module("jinyu.analytics")
    config = lazy.module("jinyu.config")
    parsing = lazy.module("jinyu.risk.statements.parsing")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.risk.statements.schemas")
    service = lazy.module("jinyu.risk.statements.service")


@handle_errors
def statement_check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV 或 camt.053 XML"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    fmt: parsing.StatementFormat | None = typer.Option(
        None, "--format", help="csv / camt053（默认自动识别 / auto)"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """核验企业提交的对公流水 / verify a statement an enterprise presented.

    Example: jinyu risk statement-check ./stmt.csv --as-user bank_risk --json
    """
    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    with file.open("rb") as fh:
        data = fh.read(parsing.MAX_BYTES + 1)
    engine = analytics.DuckDBEngine(settings.lake_dir)
    try:
        with runtime.unit_of_work(settings) as session:
            result = service.verify_statement(
                session, principal, engine, settings.pseudonym_keys(), data, fmt
            )
    except JinyuError as exc:
        service.record_refusal(runtime.sessionmaker_for(settings), principal, exc)
        raise
    finally:
        engine.close()
    if json_out:
        print_json(result)
        return
    _print(result)


def _print(result: schemas.VerificationResult) -> None:
    colour = {"genuine": "green", "suspicious": "yellow", "fabricated": "red"}[result.verdict]
    console.print(
        f"[bold {colour}]{result.verdict_label}[/]  {result.enterprise_name} {result.account} "
        f"{result.period_start}–{result.period_end}  查询编号 / inquiry {result.inquiry_id}"
    )
    for reason in result.reasons:
        console.print(f"  - {reason}")
    c, r = result.counts, result.rates
    print_table(
        "核验概要 / summary",
        ["statement lines", "ledger lines", "fabricated", "hidden", "altered", "balance breaks",
         "match rate (count)", "match rate (amount)", "ledger coverage"],
        [[c.statement_lines, c.ledger_lines, c.fabricated, c.hidden, c.altered, c.balance_breaks,
          r.match_rate_count, r.match_rate_amount, r.ledger_coverage_count]],
    )  # fmt: skip
    ev = result.evidence
    if ev.fabricated:
        print_table(
            "疑似伪造 / fabricated lines",
            ["where", "date", "amount", "counterparty", "reference"],
            [[x.source, x.booked_on, x.amount, x.counterparty_name or x.counterparty_account, x.reference]
             for x in ev.fabricated],
        )  # fmt: skip
    if ev.hidden:
        print_table(
            "疑似隐匿 / hidden ledger transfers",
            ["txn_id", "date", "amount", "counterparty"],
            [
                [x.txn_id, x.booked_on, x.amount, x.counterparty_name or x.counterparty_account]
                for x in ev.hidden
            ],
        )
    if ev.altered:
        print_table(
            "疑似改动 / altered lines",
            ["where", "changes", "stated", "ledger txn", "ledger amount"],
            [[a.statement.source, ",".join(a.changes), a.statement.amount, a.ledger.txn_id, a.ledger.amount]
             for a in ev.altered],
        )  # fmt: skip
    if ev.balance_breaks:
        print_table(
            "余额断点 / balance breaks",
            ["where", "expected", "stated", "difference"],
            [[b.source, b.expected, b.stated, b.difference] for b in ev.balance_breaks],
        )
    if ev.truncated:
        err_console.print(
            f"证据仅列前 {ev.limit} 条 / evidence lists show the first {ev.limit} items (use --json)"
        )
