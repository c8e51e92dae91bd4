"""`jinyu claim books|reconcile|report`: the prepaid-fund ledger, daily reconciliation and the payout reports,
acting with the caller's credentials (cli_auth.py): an insurer's staff open and fund books, a hospital's system
reconciles its day, a regulator (or an insurer, for its own products) reads the reports."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from jinyu.claim import cli_auth
from jinyu.claim.rules import ledger
from jinyu.core import lazy
from jinyu.core.auth import OrgKind
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.core.errors import InvalidInput, NotFound, invalid

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from jinyu.claim import schemas, service
    from jinyu.core import runtime
    from jinyu.party.service import lookup
else:
    lookup = lazy.module("jinyu.party.service.lookup")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.claim.schemas")
    service = lazy.module("jinyu.claim.service")

books_app = typer.Typer(help="预付金账簿 / prepaid-fund books", no_args_is_help=True)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise invalid("file", f"无法读取 JSON / cannot read JSON from {path}: {exc}") from None


def model(cls: Any, data: Any) -> Any:
    import pydantic

    try:
        return cls.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(detail=str(exc).splitlines()[0], fields=[]) from None


def _book_holder(hospital: str | None, pharmacy: str | None) -> str:
    """The id of the hospital or pharmacy a book is for, named by its org code (exactly one)."""
    if bool(hospital) == bool(pharmacy):
        raise invalid("--hospital/--pharmacy", "须指定其一 / name exactly one of --hospital, --pharmacy")
    kind, code = (OrgKind.HOSPITAL, hospital) if hospital else (OrgKind.PHARMACY, pharmacy or "")
    with runtime.unit_of_work() as session:
        found = lookup.org_by_code(session, kind.value, code)
    if found is None:
        raise NotFound(detail=f"{kind.value} {code}")
    return found.id


@books_app.command("open")
@handle_errors
def open_book(
    hospital: str | None = typer.Option(None, help="医院编码 / the hospital's org code"),
    pharmacy: str | None = typer.Option(None, help="药店编码 / or a pharmacy's org code"),
    year: int = typer.Option(...),
    mode: ledger.BookMode = typer.Option(ledger.BookMode.PREPAID),
    fallback: ledger.Fallback = typer.Option(ledger.Fallback.ARREARS),
    threshold: str = typer.Option("0", help="余额预警线 / low-balance alert threshold"),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """开立账簿（保险公司）/ open a book (an insurer's staff).

    Example: jinyu claim books open --hospital H00001 --year 2025 --as-user insurer"""
    holder = _book_holder(hospital, pharmacy)
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.create_book(
            session,
            caller,
            schemas.LedgerBookIn(
                hospital_id=holder,
                product_year=year,
                mode=mode,
                fallback=fallback,
                low_balance_threshold=Decimal(threshold),
            ),
        )
    print_json(out) if json_out else console.print(f"book {out.id} {out.mode} {out.balances}")


@books_app.command("post")
@handle_errors
def post(
    book_id: str,
    kind: str = typer.Option(..., help="deposit | top_up | clawback | period_settlement"),
    amount: str | None = typer.Option(None, help="金额（元）/ amount (yuan)"),
    reference: str = typer.Option(..., help="业务参考号（幂等）/ reference (idempotent)"),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """记账（保险公司）/ post an entry (an insurer's staff).

    Example: jinyu claim books post BOOK --kind deposit --amount 500000 --reference PP-2025-01 --as-user insurer"""
    entry = model(schemas.LedgerEntryIn, {"kind": kind, "amount": amount, "reference": reference})
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.post_entry(session, caller, book_id, entry)
    print_json(out) if json_out else console.print(
        f"{out.kind} {out.amount}: {[(p.account, p.amount) for p in out.postings]}"
    )


@books_app.command("list")
@handle_errors
def list_books(
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """账簿与余额（元）/ books and balances (yuan). Example: jinyu claim books list --as-user hospital"""
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        page = service.list_books(session, caller, None, None, 500, 0)
    if json_out:
        print_json(page)
        return
    print_table(
        "预付金账簿 / books (yuan)",
        ["id", "hospital", "year", "mode", "prepaid", "held", "payable", "claims"],
        [
            [
                b.id,
                b.hospital_id,
                b.product_year,
                b.mode,
                *(b.balances[a] for a in ("prepaid", "held", "payable", "claims")),
            ]
            for b in page.items
        ],
    )


@handle_errors
def reconcile(
    file: Path = typer.Argument(...),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """日对账（医院系统）/ reconcile a hospital's day. Example: jinyu claim reconcile day.json --as-user hospital"""
    data = model(schemas.ReconFileIn, read_json(file))
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.reconcile(session, caller, data)
    if json_out:
        print_json(out)
        return
    console.print(
        f"{out.business_date} {out.status}: ours {out.our_count}/{out.our_total} theirs "
        f"{out.their_count}/{out.their_total}, corrections {out.corrections}, flags {out.discrepancies}"
    )
    print_table(
        "明细 / items",
        ["setl_id", "finding", "ours", "theirs", "corrected"],
        [[i.setl_id, i.finding, i.our_amount, i.their_amount, i.corrected] for i in out.items],
    )


@handle_errors
def report(
    by: str = typer.Option("insurer", help="insurer | hospital | liability | month | product"),
    month_from: str | None = typer.Option(None),
    month_to: str | None = typer.Option(None),
    top: int = typer.Option(10, help="集中度：前 N 家医院 / concentration: top N hospitals"),
    json_out: bool = cli_auth.JsonOpt,
    as_user: str | None = cli_auth.AS_USER,
    api_key: str | None = cli_auth.API_KEY,
    password_stdin: bool = cli_auth.PASSWORD_STDIN,
) -> None:
    """赔付报表（监管）/ payouts, counts, loss ratio and concentration (a regulator).

    Example: jinyu claim report --by month --as-user analyst"""
    caller = cli_auth.who(as_user, api_key, password_stdin)
    with runtime.unit_of_work() as session:
        out = service.report(session, caller, by, month_from, month_to)
        conc = service.concentration(session, caller, top)
    if json_out:
        print_json({"report": out.model_dump(mode="json"), "concentration": conc.model_dump(mode="json")})
        return
    print_table(
        f"赔付 / payouts by {by}",
        [by, "count", "payout (yuan)", "premium (yuan)", "loss ratio (%)"],
        [[r.key, r.count, r.payout, r.premium, _percent(r.loss_ratio)] for r in out.rows],
    )
    console.print(
        f"合计 total {out.total_count} 件 settlements / {out.total_payout} 元 yuan, "
        f"赔付率 loss ratio {_percent(out.loss_ratio)}"
    )
    if out.suppressed_rows or out.totals_withheld:
        console.print(
            f"不足 {out.k} 人的 {out.suppressed_rows} 行已抑制"
            f"{'，合计亦不给出' if out.totals_withheld else ''} / {out.suppressed_rows} rows of fewer than "
            f"{out.k} persons suppressed{', totals withheld' if out.totals_withheld else ''}"
        )
    console.print(f"前 {conc.top} 家医院占比 top-{conc.top} share {_percent(conc.top_share)}, HHI {conc.hhi}")


def _percent(ratio: Decimal | None) -> str:
    """A ratio (0.8523) for people: 85.23%. JSON keeps the ratio itself."""
    return "—" if ratio is None else f"{(ratio * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"
