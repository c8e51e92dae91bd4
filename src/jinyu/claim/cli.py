"""`jinyu claim`: products, enrollment, settlement, the prepaid ledger, reconciliation and reports.

Commands act for an organisation named by its code (`--insurer I0001`, `--hospital H00001`), with that
organisation's claim role, and are audited under `cli@<code>`. Reports act as the regulator.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from jinyu.claim.rules import ledger
from jinyu.core import lazy
from jinyu.core.auth import SYSTEM, OrgKind, Principal, Role
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.core.errors import InvalidInput, NotFound, invalid

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from sqlalchemy import orm

    from jinyu import config
    from jinyu.claim import schemas, service
    from jinyu.core import runtime
    from jinyu.party import service as party
else:
    config = lazy.module("jinyu.config")
    party = lazy.module("jinyu.party.service")
    runtime = lazy.module("jinyu.core.runtime")
    schemas = lazy.module("jinyu.claim.schemas")
    service = lazy.module("jinyu.claim.service")

app = typer.Typer(
    help="一站式理赔 / claims: `jinyu claim products load FILE --insurer I0001 --activate`",
    no_args_is_help=True,
)
products_app = typer.Typer(help="产品规则 / products", no_args_is_help=True)
books_app = typer.Typer(help="预付金账簿 / prepaid-fund books", no_args_is_help=True)
app.add_typer(products_app, name="products")
app.add_typer(books_app, name="books")

JsonOpt = typer.Option(False, "--json", help="输出 JSON / print JSON")


def _acting(session: orm.Session, kind: OrgKind, code: str) -> Principal:
    page = party.list_orgs(session, SYSTEM, kind.value, code, 20, 0)
    org = next((o for o in page.items if o.code == code), None)
    if org is None:
        raise NotFound(detail=f"{kind.value} {code}")
    role = {
        OrgKind.INSURER: Role.INSURER_STAFF,
        OrgKind.HOSPITAL: Role.HOSPITAL_SYSTEM,
        OrgKind.PHARMACY: Role.PHARMACY_SYSTEM,
    }[kind]
    return Principal(
        subject_id=f"cli:{code}",
        username=f"cli@{code}",
        org_id=org.id,
        org_kind=kind,
        tenant_id=org.tenant_id,
        org_path=f"/{org.id}/",  # insurers and hospitals are roots; claim scoping goes by org id
        roles=frozenset({role}),
        is_service=True,
    )


def _as(session: orm.Session, insurer: str | None, hospital: str | None) -> Principal:
    if bool(insurer) == bool(hospital):
        raise invalid("--insurer/--hospital", "须指定其一 / name exactly one of --insurer, --hospital")
    return (
        _acting(session, OrgKind.INSURER, insurer)
        if insurer
        else _acting(session, OrgKind.HOSPITAL, hospital or "")
    )


def _settler(session: orm.Session, hospital: str | None, pharmacy: str | None) -> Principal:
    """The hospital's or the pharmacy's system (exactly one)."""
    if bool(hospital) == bool(pharmacy):
        raise invalid("--hospital/--pharmacy", "须指定其一 / name exactly one of --hospital, --pharmacy")
    if hospital:
        return _acting(session, OrgKind.HOSPITAL, hospital)
    return _acting(session, OrgKind.PHARMACY, pharmacy or "")


REGULATOR = Principal(
    subject_id="cli:regulator",
    username="cli@regulator",
    org_id="regulator",
    org_kind=OrgKind.REGULATOR,
    tenant_id="regulator",
    org_path="/",
    roles=frozenset({Role.REGULATOR_ANALYST}),
    is_service=True,
)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise invalid("file", f"无法读取 JSON / cannot read JSON from {path}: {exc}") from None


def _model(cls: Any, data: Any) -> Any:
    import pydantic

    try:
        return cls.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(detail=str(exc).splitlines()[0], fields=[]) from None


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
    insurer: str = typer.Option(..., help="承保公司编码 / the insurer's org code"),
    activate: bool = typer.Option(False, "--activate", help="保存后启用 / activate"),
    json_out: bool = JsonOpt,
) -> None:
    """校验并保存产品 / validate and store a product version.

    Example: jinyu claim products load src/jinyu/claim/products/sample_chongqing_2025.yaml --insurer I0001 --activate
    """
    definition = service.read_definition(file)
    with runtime.unit_of_work() as session:
        out = service.create_product(
            session,
            _acting(session, OrgKind.INSURER, insurer),
            schemas.ProductIn(definition=definition, activate=activate),
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
    insurer: str | None = typer.Option(None),
    hospital: str | None = typer.Option(None),
    json_out: bool = JsonOpt,
) -> None:
    """列出产品 / list products. Example: jinyu claim products list --insurer I0001"""
    with runtime.unit_of_work() as session:
        page = service.list_products(session, _as(session, insurer, hospital), None, 500, 0)
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
    insurer: str = typer.Option(...),
    product: str = typer.Option(..., help="产品编码 / product code"),
    certno: str = typer.Option(..., prompt=True, hide_input=True, help="身份证号 / resident ID"),
    pre_existing: list[str] = typer.Option([], help="既往症 ICD-10，可多次 / pre-existing, repeatable"),
    json_out: bool = JsonOpt,
) -> None:
    """参保登记 / enroll a person. Example: jinyu claim enroll --insurer I0001 --product CQ-YKB-2025"""
    import pydantic

    with runtime.unit_of_work() as session:
        out = service.enroll(
            session,
            _acting(session, OrgKind.INSURER, insurer),
            schemas.EnrollmentIn(
                product_code=product, certno=pydantic.SecretStr(certno), pre_existing=pre_existing
            ),
            config.get_settings().key("pseudonym_key"),
        )
    print_json(out) if json_out else console.print(f"{out.id_masked} → {out.product_code} ({out.status})")


@app.command("eligibility")
@handle_errors
def eligibility(
    hospital: str | None = typer.Option(None),
    insurer: str | None = typer.Option(None),
    certno: str = typer.Option(..., prompt=True, hide_input=True),
    on: str | None = typer.Option(None, help="日期 / date YYYY-MM-DD"),
    json_out: bool = JsonOpt,
) -> None:
    """剩余免赔额与限额 / remaining deductible and caps. Example: jinyu claim eligibility --hospital H00001"""
    import pydantic

    day = dt.date.fromisoformat(on) if on else None
    with runtime.unit_of_work() as session:
        out = service.eligibility(
            session,
            _as(session, insurer, hospital),
            schemas.EligibilityIn(certno=pydantic.SecretStr(certno), on=day),
            config.get_settings().key("pseudonym_key"),
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
    hospital: str | None = typer.Option(None, help="医院机构编码 / the settling hospital's code"),
    pharmacy: str | None = typer.Option(
        None, help="药店机构编码（购药，医疗类别 41）/ a pharmacy (purchases)"
    ),
    json_out: bool = JsonOpt,
) -> None:
    """即时结算 / settle a discharge or a pharmacy purchase.

    Example: jinyu claim settle request.json --hospital H00001 --json"""
    data = _model(schemas.SettleIn, _read_json(file))
    with runtime.unit_of_work() as session:
        who = _settler(session, hospital, pharmacy)
        out = service.settle(session, who, data, config.get_settings().key("pseudonym_key"))
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
def confirm(settlement_id: str, hospital: str = typer.Option(...), json_out: bool = JsonOpt) -> None:
    """确认结算 / confirm a pending settlement. Example: jinyu claim confirm ID --hospital H00001"""
    with runtime.unit_of_work() as session:
        out = service.confirm(session, _acting(session, OrgKind.HOSPITAL, hospital), settlement_id)
    print_json(out) if json_out else _show_settlement(out)


@app.command("cancel")
@handle_errors
def cancel(
    settlement_id: str,
    hospital: str = typer.Option(...),
    msg_id: str = typer.Option(..., help="报文号 / message id"),
    reason: str = typer.Option(...),
    json_out: bool = JsonOpt,
) -> None:
    """撤销结算 / cancel. Example: jinyu claim cancel ID --hospital H00001 --msg-id C1 --reason 重新结算"""
    with runtime.unit_of_work() as session:
        out = service.cancel(
            session,
            _acting(session, OrgKind.HOSPITAL, hospital),
            settlement_id,
            schemas.CancelIn(msg_id=msg_id, reason=reason),
        )
    print_json(out.settlement) if json_out else _show_settlement(out.settlement)


@app.command("show")
@handle_errors
def show(
    settlement_id: str,
    hospital: str | None = typer.Option(None),
    insurer: str | None = typer.Option(None),
    fhir: bool = typer.Option(False, "--fhir", help="FHIR R4 ClaimResponse"),
    json_out: bool = JsonOpt,
) -> None:
    """查看结算 / show a settlement. Example: jinyu claim show ID --insurer I0001 --fhir"""
    with runtime.unit_of_work() as session:
        who = _as(session, insurer, hospital)
        if fhir:
            print_json(service.export_fhir(session, who, settlement_id))
            return
        out = service.get_settlement(session, who, settlement_id)
    print_json(out) if json_out else _show_settlement(out)


# ------------------------------------------------------------------------------------------------ ledger


@books_app.command("open")
@handle_errors
def open_book(
    insurer: str = typer.Option(...),
    hospital: str | None = typer.Option(None, help="医院编码 / the hospital's org code"),
    pharmacy: str | None = typer.Option(None, help="药店编码 / or a pharmacy's org code"),
    year: int = typer.Option(...),
    mode: ledger.BookMode = typer.Option(ledger.BookMode.PREPAID),
    fallback: ledger.Fallback = typer.Option(ledger.Fallback.ARREARS),
    threshold: str = typer.Option("0", help="余额预警线 / low-balance alert threshold"),
    json_out: bool = JsonOpt,
) -> None:
    """开立账簿 / open a book. Example: jinyu claim books open --insurer I0001 --hospital H00001 --year 2025"""
    with runtime.unit_of_work() as session:
        target = _settler(session, hospital, pharmacy)
        out = service.create_book(
            session,
            _acting(session, OrgKind.INSURER, insurer),
            schemas.LedgerBookIn(
                hospital_id=target.org_id,
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
    insurer: str = typer.Option(...),
    kind: str = typer.Option(..., help="deposit | top_up | clawback | period_settlement"),
    amount: str | None = typer.Option(None),
    reference: str = typer.Option(..., help="业务参考号（幂等）/ reference (idempotent)"),
    json_out: bool = JsonOpt,
) -> None:
    """记账 / post an entry. Example: jinyu claim books post BOOK --insurer I0001 --kind deposit --amount 500000
    --reference PP-2025-01"""
    entry = _model(schemas.LedgerEntryIn, {"kind": kind, "amount": amount, "reference": reference})
    with runtime.unit_of_work() as session:
        out = service.post_entry(session, _acting(session, OrgKind.INSURER, insurer), book_id, entry)
    print_json(out) if json_out else console.print(
        f"{out.kind} {out.amount}: {[(p.account, p.amount) for p in out.postings]}"
    )


@books_app.command("list")
@handle_errors
def list_books(
    insurer: str | None = typer.Option(None),
    hospital: str | None = typer.Option(None),
    json_out: bool = JsonOpt,
) -> None:
    """列出账簿与余额 / books and balances. Example: jinyu claim books list --insurer I0001"""
    with runtime.unit_of_work() as session:
        page = service.list_books(session, _as(session, insurer, hospital), None, None, 500, 0)
    if json_out:
        print_json(page)
        return
    print_table(
        "预付金账簿 / books",
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


# ------------------------------------------------------------------------------------------------ reconciliation


@app.command("reconcile")
@handle_errors
def reconcile(
    file: Path = typer.Argument(...), hospital: str = typer.Option(...), json_out: bool = JsonOpt
) -> None:
    """日对账 / reconcile a hospital's day. Example: jinyu claim reconcile day.json --hospital H00001"""
    data = _model(schemas.ReconFileIn, _read_json(file))
    with runtime.unit_of_work() as session:
        out = service.reconcile(session, _acting(session, OrgKind.HOSPITAL, hospital), data)
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


# ------------------------------------------------------------------------------------------------ reports


@app.command("report")
@handle_errors
def report(
    by: str = typer.Option("insurer", help="insurer | hospital | liability | month | product"),
    month_from: str | None = typer.Option(None),
    month_to: str | None = typer.Option(None),
    top: int = typer.Option(10, help="集中度：前 N 家医院 / concentration: top N hospitals"),
    json_out: bool = JsonOpt,
) -> None:
    """赔付报表（监管视角）/ payouts, counts, loss ratio and concentration. Example: jinyu claim report --by month"""
    with runtime.unit_of_work() as session:
        out = service.report(session, REGULATOR, by, month_from, month_to)
        conc = service.concentration(session, REGULATOR, top)
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
