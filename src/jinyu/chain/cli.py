"""`jinyu chain ...`: industrial-chain analytics at the console, acting as a named user.

The command logs in as a regulator user (`--as-user`, password prompted or `--password-stdin`) or a service
account (`--api-key`) and sees what that user would see over the API; every read is audited the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from jinyu.chain import cli_network as _cli_network
from jinyu.consent.rules import Purpose
from jinyu.core import lazy
from jinyu.core.auth import Principal
from jinyu.core.cli_kit import console, handle_errors, print_json, print_table
from jinyu.party.acting import acting_principal

if TYPE_CHECKING:  # imported when a command runs (jinyu.core.lazy): --help stays fast
    from sqlalchemy import orm

    from jinyu import analytics, config
    from jinyu.chain import counterparties as parties
    from jinyu.chain import portraits, scoring, service
    from jinyu.core import runtime
else:
    analytics = lazy.module("jinyu.analytics")
    config = lazy.module("jinyu.config")
    portraits = lazy.module("jinyu.chain.portraits")
    runtime = lazy.module("jinyu.core.runtime")
    scoring = lazy.module("jinyu.chain.scoring")
    service = lazy.module("jinyu.chain.service")
    parties = lazy.module("jinyu.chain.counterparties")

T = TypeVar("T")

app = typer.Typer(
    help="产业链资金流与金融服务 / industrial-chain analytics: `jinyu chain flows new_display "
    "--from-month 2024-01 --to-month 2024-06 --as-user analyst`",
    no_args_is_help=True,
)

AS_USER = typer.Option(None, "--as-user", help="以该用户身份操作（需密码）/ act as this user (password)")
API_KEY = typer.Option(None, "--api-key", help="服务账号 API key / a service account's API key")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="从标准输入读密码 / read the password from stdin"
)
JSON_OUT = typer.Option(False, "--json", help="输出 JSON / print JSON")
CODE = typer.Argument(..., help="产业链代码 / chain code, e.g. new_display")
USCC = typer.Argument(..., help="成员企业统一社会信用代码 / member enterprise's USCC")
FROM = typer.Option(..., "--from-month", help="起始月份 / first month YYYY-MM")
TO = typer.Option(..., "--to-month", help="结束月份 / last month YYYY-MM")
AS_OF = typer.Option(..., "--as-of-month", help="截至月份 / as-of month YYYY-MM")


def _run(
    as_user: str | None,
    api_key: str | None,
    password_stdin: bool,
    call: Callable[[orm.Session, Principal, analytics.Engine], T],
) -> T:
    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)
    engine = analytics.DuckDBEngine(settings.lake_dir)
    try:
        with runtime.unit_of_work(settings) as session:
            return call(session, principal, engine)
    finally:
        engine.close()


def _out(result: Any, json_out: bool, title: str, columns: list[str], rows: list[list[Any]]) -> None:
    if json_out:
        import pydantic

        print_json(result.model_dump(mode="json") if isinstance(result, pydantic.BaseModel) else result)
        return
    print_table(title, columns, rows)


@app.command("list")
@handle_errors
def list_chains(
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """产业链与环节 / chains and segments. Example: jinyu chain list --as-user analyst --json"""
    chains = _run(as_user, api_key, password_stdin, service.list_chains)
    rows = [
        [c.code, c.name, c.chief_bank_name, c.members, " → ".join(s.code for s in c.segments)] for c in chains
    ]
    _out(
        [c.model_dump(mode="json") for c in chains],
        json_out,
        "产业链 / chains",
        ["code", "name", "chief bank", "members", "segments"],
        rows,
    )


@app.command("members")
@handle_errors
def members(
    code: str = CODE,
    segment: str | None = typer.Option(None, "--segment", help="环节 / segment"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    offset: int = typer.Option(0, "--offset", min=0),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """产业链成员（链主在前）/ members, core enterprise first.

    Example: jinyu chain members new_display --segment panels --as-user analyst --json
    """
    page = _run(
        as_user,
        api_key,
        password_stdin,
        lambda s, p, e: service.list_members(s, p, e, code, segment, limit, offset),
    )
    _out(
        page,
        json_out,
        f"产业链成员 / members ({page.total})",
        ["uscc", "name", "segment", "core", "industry", "mapped segment"],
        [[m.uscc, m.name, m.segment, m.is_core, m.industry_code, m.mapped_segment] for m in page.items],
    )


@app.command("flows")
@handle_errors
def flows(
    code: str = CODE,
    from_month: str = FROM,
    to_month: str = TO,
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """环节间月度资金流与净流入 / monthly flows between segments and net inflows.

    Example: jinyu chain flows new_display --from-month 2024-01 --to-month 2024-06 --as-user analyst
    """
    r = _run(
        as_user, api_key, password_stdin, lambda s, p, e: service.flows(s, p, e, code, from_month, to_month)
    )
    _out(
        r,
        json_out,
        "环节间资金流 / flows between segments",
        ["month", "from", "to", "count", "amount"],
        [[f.month, f.from_segment, f.to_segment, f.txn_count, f.total_amount] for f in r.flows],
    )
    if not json_out:
        print_table(
            "环节净流入 / net inflow",
            ["month", "segment", "in", "out", "net"],
            [[n.month, n.segment, n.inflow, n.outflow, n.net] for n in r.net],
        )


@app.command("gaps")
@handle_errors
def gaps(
    code: str = CODE,
    from_month: str = FROM,
    to_month: str = TO,
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """延链、补链、强链建议 / where to extend, supplement, strengthen.

    Example: jinyu chain gaps new_display --from-month 2024-01 --to-month 2024-12 --as-user analyst --json
    """
    r = _run(
        as_user, api_key, password_stdin, lambda s, p, e: service.gaps(s, p, e, code, from_month, to_month)
    )
    _out(
        [g.model_dump(mode="json") for g in r],
        json_out,
        "产业链缺口 / gaps",
        ["segment", "members", "paid in chain", "paid outside", "leak share", "advice"],
        [
            [g.segment, g.members, g.paid_in_chain, g.paid_outside_chain, g.leak_share, ",".join(g.advice)]
            for g in r
        ],
    )


@app.command("network")
@handle_errors
def network(
    code: str = CODE,
    as_of_month: str = AS_OF,
    top: int = typer.Option(20, "--top", min=1, max=1000, help="前 N 名 / top N"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """核心企业（加权 PageRank、介数）/ core enterprises by network position.

    Example: jinyu chain network new_display --as-of-month 2024-06 --top 10 --as-user analyst
    """
    r = _run(
        as_user,
        api_key,
        password_stdin,
        lambda s, p, e: service.network_position(s, p, e, code, as_of_month, top),
    )
    _out(
        r,
        json_out,
        "核心企业 / core enterprises",
        ["uscc", "name", "segment", "core", "pagerank (supplier)", "pagerank (buyer)", "betweenness"],
        [
            [c.uscc, c.name, c.segment, c.is_core, c.pagerank_supplier, c.pagerank_buyer, c.betweenness]
            for c in r.ranking
        ],
    )


@app.command("counterparties")
@handle_errors
def counterparties(
    code: str = CODE,
    uscc: str = USCC,
    as_of_month: str = AS_OF,
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """上游供应商与下游经销商健康状况 / health of a member's suppliers and dealers.

    Example: jinyu chain counterparties new_display 91500000MA... --as-of-month 2024-03 --as-user analyst
    """
    r = _run(
        as_user,
        api_key,
        password_stdin,
        lambda s, p, e: parties.counterparty_health(s, p, e, code, uscc, as_of_month),
    )
    rows = [["supplier", c.uscc, c.name, c.amount, c.tax_change, _verdict(c)] for c in r.suppliers]
    rows += [["dealer", c.uscc, c.name, c.amount, c.tax_change, _verdict(c)] for c in r.dealers]
    _out(
        r,
        json_out,
        f"{uscc} 上下游健康 / counterparties' health",
        ["side", "uscc", "name", "amount", "tax change", "flags"],
        rows,
    )
    if not json_out:
        console.print(
            f"健康供应商占比 / healthy suppliers: {r.healthy_supplier_share}; "
            f"健康经销商占比 / healthy dealers: {r.healthy_dealer_share}"
        )


@app.command("contagion")
@handle_errors
def contagion(
    code: str = CODE,
    uscc: str = USCC,
    as_of_month: str = AS_OF,
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """若该企业停止付款的风险传染（DebtRank）/ contagion if this member stops paying.

    Example: jinyu chain contagion new_display 91500000MA... --as-of-month 2024-06 --as-user analyst --json
    """
    r = _run(
        as_user,
        api_key,
        password_stdin,
        lambda s, p, e: parties.contagion_of(s, p, e, code, uscc, as_of_month),
    )
    _out(
        r,
        json_out,
        f"风险传染 / contagion (total loss {r.total_loss})",
        ["uscc", "name", "tier", "exposure", "buffer", "distress", "loss"],
        [[x.uscc, x.name, x.tier, x.exposure, x.buffer, x.distress, x.loss] for x in r.exposed],
    )


@app.command("loans")
@handle_errors
def loans(
    code: str = CODE,
    from_month: str = FROM,
    to_month: str = TO,
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """产业链贷款（季度、期限、中长期占比、覆盖面）/ loans to the chain by quarter and term.

    Example: jinyu chain loans new_display --from-month 2024-01 --to-month 2024-12 --as-user analyst --json
    """
    r = _run(
        as_user,
        api_key,
        password_stdin,
        lambda s, p, e: service.chain_loans(s, p, e, code, from_month, to_month),
    )
    _out(
        r,
        json_out,
        f"产业链贷款 / loans (medium-long share {r.medium_long_share}, coverage {r.coverage_share})",
        ["quarter", "loans", "amount", "medium-long share", "growth q/q", "manufacturing growth q/q"],
        [
            [
                x["quarter"],
                x["loan_count"],
                x["amount"],
                x["medium_long_share"],
                x["growth_qoq"],
                x["manufacturing_growth_qoq"],
            ]
            for x in r.by_quarter
        ],
    )


@app.command("portraits")
@handle_errors
def portrait_batch(
    code: str = CODE,
    as_of_month: str = AS_OF,
    purpose: Purpose = typer.Option(Purpose.CREDIT_ASSESSMENT, "--purpose", help="用途 / purpose"),
    calibrate: bool = typer.Option(
        True,
        "--calibrate/--uncalibrated",
        help="默认：M−9 训练、M−6 保序校准；--uncalibrated：M−6 训练不校准 / default: trained on M−9, isotonic on "
        "M−6; --uncalibrated: trained on M−6",
    ),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """批量画像；银行仅获得已授权企业 / batch portraits; banks get only members that authorised them.

    Example: jinyu chain portraits new_display --as-of-month 2024-06 --api-key jy... --json > batch.json
    """
    r = _run(
        as_user,
        api_key,
        password_stdin,
        lambda s, p, e: portraits.portrait_batch(s, p, e, code, as_of_month, purpose, calibrate),
    )
    m = r.score_model
    _out(
        r,
        json_out,
        f"批量画像 / portraits: {r.exported} of {r.members} (withheld {r.withheld}); model trained on "
        f"{m.train_month}, calibrated ({m.calibration_method or '—'}) on {m.calibration_month or '—'}",
        ["uscc", "name", "segment", "flags", "points", "band", "top factors", "basis"],
        [
            [
                i.uscc,
                i.name,
                i.segment,
                _verdict(i.health),
                i.score.points if i.score else None,
                i.score.band if i.score else None,
                ", ".join(str(f["feature"]) for f in i.score.factors) if i.score else None,
                i.basis,
            ]
            for i in r.items
        ],
    )


@app.command("scorecard")
@handle_errors
def scorecard(
    code: str = CODE,
    train_month: str = typer.Option(..., "--train-month", help="训练截至月 / as-of month to train on"),
    test_month: str = typer.Option(..., "--test-month", help="留出评估月（≥ 6 个月后）/ held-out month"),
    calibration_month: str | None = typer.Option(
        None, "--calibration-month", help="校准月（训练月后、评估月前 ≥ 6 个月）/ month to calibrate on"
    ),
    calibration_method: str = typer.Option(
        "isotonic",
        "--calibration-method",
        help="校准方法 isotonic（默认）或 platt / isotonic (default) or platt",
    ),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON_OUT,
) -> None:
    """评分卡与留出评估（AUC、KS、校准）/ scorecard with held-out evaluation.

    Example: jinyu chain scorecard new_display --train-month 2023-09 --calibration-month 2023-12
    --test-month 2024-06 --as-user analyst
    """
    r = _run(
        as_user,
        api_key,
        password_stdin,
        lambda s, p, e: scoring.run(
            s, p, e, code, train_month, test_month, calibration_month, calibration_method
        ),
    )
    _out(
        r,
        json_out,
        f"评分卡 / scorecard: AUC {r.auc}, KS {r.ks}, Brier {r.brier} ({r.test_bad} of {r.test_size} "
        f"distressed; calibrated ({r.calibration_method or '—'}) on {r.calibration_month or '—'})",
        ["uscc", "points", "band", "probability", "top factors", "distressed"],
        [
            [
                i.uscc,
                i.points,
                i.band,
                i.probability,
                ", ".join(str(f["feature"]) for f in i.factors),
                i.observed_bad,
            ]
            for i in r.items
        ],
    )
    if not json_out:
        print_table(
            "可靠性（按预测概率十分位）/ reliability by decile of predicted PD",
            ["decile", "members", "mean predicted", "observed bad rate"],
            [
                [n + 1, int(g["count"]), f"{g['predicted']:.4f}", f"{g['observed']:.4f}"]
                for n, g in enumerate(r.reliability)
            ],
        )


def _verdict(health: Any) -> str:
    """The flags, `healthy`, or a note that the verdict rests on data this caller is not shown (policy)."""
    flags = ",".join(health.flags)
    if health.healthy is None:
        withheld = "未授权数据不在判断内 / verdict withheld: rests on data not released to you"
        return f"{flags} ({withheld})" if flags else withheld
    return flags or "healthy"


def _definition_commands() -> None:
    from jinyu.chain import cli_definitions  # it imports this module's options: registered once both exist

    app.add_typer(cli_definitions.app, name="definition")


_definition_commands()


# Kept in its own module (cli_network.py): a lake batch, not a read acting as a user.
app.command("network-build")(_cli_network.network_build)
