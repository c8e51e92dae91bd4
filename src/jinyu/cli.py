"""The `jinyu` command: the Typer root mounting each domain's commands."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinyu.core.lazy_rich import defer

defer()  # before Typer: its help renderer's Markdown and Traceback load only when used

import typer  # noqa: E402
from typer.core import TyperCommand, TyperGroup  # noqa: E402

from jinyu.core.cli_kit import console, err_console, handle_errors, print_table  # noqa: E402

if TYPE_CHECKING:  # imported lazily at run time: `jinyu --help` stays fast
    from jinyu.config import Settings
    from jinyu.demo import Credential

# The domains' commands, imported only when one of them runs (or its own --help is asked for): importing them
# all pulled in SQLAlchemy, DuckDB, Arrow, sqlglot and every domain, ~5 s of CPU before `jinyu --help` answered.
# name -> (module, attribute: a Typer app, or a function that is one command; short help for the root's list).
LAZY: dict[str, tuple[str, str, str]] = {
    "audit": ("jinyu.audit.cli", "app", "审计日志 / audit trail: verify, search"),
    "datasets": ("jinyu.ingest.cli", "datasets_app", "数据集契约 / dataset contracts: list, show, docs"),
    "orgs": ("jinyu.party.cli", "orgs_app", "机构 / organisations: list, create"),
    "users": ("jinyu.party.cli", "users_app", "用户与服务账户 / users, service accounts, API keys"),
    "risk": ("jinyu.risk.cli", "app", "资金流向风险核查 / fund-flow risk checks for banks"),
    "claim": (
        "jinyu.claim.cli",
        "app",
        "惠民保一站式结算 / supplementary medical insurance, instant settlement",
    ),
    "ingest": ("jinyu.load_prepare", "ingest", "接入一个数据文件 / validate and load one file"),
    "ingest-region": ("jinyu.load_prepare", "ingest_region", "接入整个区域 / load every dataset of a region"),
    "prepare": (
        "jinyu.load_prepare",
        "prepare_command",
        "构建并保存贷款核查索引与产业链页面答案 / build and keep the loan check's index, the chain pages' answers",
    ),
    "ingest-quarantine": (
        "jinyu.ingest.cli_quarantine",
        "ingest_quarantine",
        "查看被拒绝的行（仅提供方）/ open a load's rejected rows (providing organisation only)",
    ),
    "governance": (
        "jinyu.governance.cli",
        "app",
        "数据治理 / data governance: sources, rules, check, report, remediation",
    ),
    "synth-quality": (
        "jinyu.synth.quality_cli",
        "command",
        "写出植入缺陷的三年趋势 / write the planted three-year quality trend",
    ),
    "financing": (
        "jinyu.financing.cli",
        "app",
        "融资对接工单与监管指标 / financing demands, work orders, indicators, window guidance",
    ),
    "synth": ("jinyu.synth.cli", "command", "生成合成区域 / write a deterministic synthetic region"),
    "credit": (
        "jinyu.credit.cli",
        "app",
        "信用信息名片 / credit cards: card, snapshot, snapshots, views, snapshot-all",
    ),
    "joint": ("jinyu.jointmodel.cli", "app", "联合建模 / joint modelling: PSI, vertical LR"),
    "chain": ("jinyu.chain.cli", "app", "产业链资金流与金融服务 / industrial-chain analytics"),
    "policy": (
        "jinyu.governance.policy.cli",
        "app",
        "数据安全策略与级别审批 / data-security policy, approvals",
    ),
    "keys": ("jinyu.keys_cli", "app", "假名密钥版本与轮换 / pseudonym key versions, rotation"),
}


def load_command(name: str) -> Any:
    """The click command of a lazily mounted name (imports its module)."""
    module, attribute, _ = LAZY[name]
    target: Any = getattr(importlib.import_module(module), attribute)
    if not isinstance(target, typer.Typer):
        single = typer.Typer()
        single.command(name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    _groups_coerce_missing_lazily(command)
    return command


class _NoneNeedsNoCoercion:
    """Typer (0.29) builds a parameter's coercion (a pydantic TypeAdapter) on the first value it processes, a
    missing one (None) too: the root's `--install-completion`/`--show-completion`, absent from every `jinyu
    <group> ...` line, imported pydantic — a quarter of `jinyu <group> --help`'s start-up — to coerce None to
    None. A missing value stays None here; a given one gets Typer's own coercion, built then."""

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None and not (param.multiple or param.nargs == -1):
            return None
        param._runtime_param = None
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)


def _coerce_missing_lazily(params: list[Any]) -> None:
    for param in params:
        # a Typer parameter whose coercion is not built yet (the help option may be a plain one)
        if getattr(param, "_runtime_param", False) is None:
            param._runtime_param = _NoneNeedsNoCoercion()


def _groups_coerce_missing_lazily(command: Any) -> None:
    """The same for a mounted group and its nested groups: they parse their own options (completion, help)
    before `jinyu <group> <command> --help` reaches the command."""
    if not hasattr(command, "commands"):
        return
    _coerce_missing_lazily([*command.params, command.get_help_option(typer.Context(command))])
    for nested in command.commands.values():
        _groups_coerce_missing_lazily(nested)


class LazyRoot(TyperGroup):
    """The root group: lists the lazy commands by their short help, imports one only to run it."""

    # Typer vendors its own click: contexts and commands are typed Any here rather than by that private module.
    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY and cmd_name not in self.commands:
            _, _, short = LAZY[cmd_name]
            return TyperCommand(cmd_name, help=short, short_help=short)  # listed, not loaded
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _coerce_missing_lazily(self.get_params(ctx))
        result: list[str] = super().parse_args(ctx, args)
        return result

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in LAZY:
            return args[0], load_command(args[0]), args[1:]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=LazyRoot,
    help="金渝 Jinyu — 金融数字化枢纽开放平台 / open platform of a regional financial regulator's digital-finance "
    "hub. Settings come from JINYU_* environment variables (see README).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="业务库 / operational store: `jinyu db upgrade`", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@handle_errors
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """升级数据库结构到最新 / migrate the operational store. Example: jinyu db upgrade"""
    from jinyu.config import get_settings
    from jinyu.migrate import upgrade

    settings = get_settings()
    upgrade(settings, revision)
    console.print(f"数据库已升级 / database at {revision}: {settings.resolved_database_url.split('@')[-1]}")


@app.command("serve")
@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址 / bind address"),
    port: int = typer.Option(8000, min=1, max=65535),
    workers: int = typer.Option(
        1,
        min=1,
        max=64,
        help="工作进程数（数据库在其他CPU核上时每核一个；与PostgreSQL共用两核时一个更省）/ worker processes "
        "(one per core when the database runs on other cores; sharing two cores with PostgreSQL, one costs less; "
        "each has its own listening socket)",
    ),
) -> None:
    """启动 API 服务 / serve the API (docs at /docs). Example: jinyu serve --port 8000 --workers 2"""
    _serve(host, port, workers)


def _serve(host: str, port: int, workers: int = 1) -> None:
    """Serve `serving_app` with `workers` processes, each on its own SO_REUSEPORT socket (`jinyu.serving`)."""
    import os

    from rich.markup import escape

    from jinyu import serving
    from jinyu.config import get_settings
    from jinyu.core.logging import configure as configure_logging

    # Every worker process builds its app with `serving_app`: the tracing index and context mapped from what
    # was kept beside the lake, or built (one worker at a time, the others then map), and after API loads.
    os.environ["JINYU_TRACING_WARM"] = "true"
    # ... and builds the due months of the stored chain network after loads (jinyu.chain.scheduler).
    os.environ.setdefault("JINYU_CHAIN_NETWORK_DUE_SECONDS", "30")
    get_settings.cache_clear()
    # The supervisor's own lines (workers started, restarted, stopped) in the same logs as the workers'.
    configure_logging(get_settings().log_level)
    try:
        serving.run(
            "jinyu.app:serving_app",
            host=host,
            port=port,
            workers=workers,
            factory=True,
            log_config=None,
            access_log=False,
        )
    except serving.ServingError as exc:
        err_console.print(f"[bold red]错误 / error[/]: {escape(str(exc))}")
        raise typer.Exit(1) from None


@app.command("demo")
@handle_errors
def demo(
    data_dir: Path = typer.Option(None, "--data-dir", help="数据目录 / data dir (default JINYU_DATA_DIR)"),
    port: int = typer.Option(8000, min=1, max=65535),
    no_serve: bool = typer.Option(False, "--no-serve"),
    prepare_tracing: bool = typer.Option(
        True,
        "--prepare/--no-prepare",
        help="加载后准备贷款核查的常驻索引与上下文 / prepare the loan check's resident index and context after "
        "the load (--no-prepare: the server builds them at its start)",
    ),
) -> None:
    """演示：生成小型合成区域、经接入流程加载、创建各角色用户并启动服务 / build and serve a demo region.

    Example: jinyu demo --data-dir ./var --port 8000
    """
    import os

    from jinyu.config import get_settings, load_settings
    from jinyu.demo import prepare

    if data_dir is not None:
        # The demo's data dir becomes the settings' data dir, so later `JINYU_DATA_DIR=DIR jinyu ...` agrees.
        os.environ["JINYU_DATA_DIR"] = str(data_dir)
        get_settings.cache_clear()
    settings = load_settings()
    creds = prepare(settings, tracing=prepare_tracing)
    print_table(
        f"演示账户 / demo users — {settings.data_dir / 'credentials.json'}",
        ["username", "password / API key", "role", "organisation"],
        [[c.username, c.password, c.role, c.organisation] for c in creds],
    )
    _print_planted_loans(settings, creds)
    _print_console_walk(creds)
    if not no_serve:
        console.print(
            f"控制台 / console: http://127.0.0.1:{port}/  —  用上表的用户名和密码登录 / log in as a user above"
        )
        console.print(f"API: http://127.0.0.1:{port}/docs  —  POST /api/v1/auth/token to log in")
        _serve("127.0.0.1", port)


def _print_console_walk(creds: list[Credential]) -> None:
    from jinyu.demo import CONSOLE_WALK

    names = {c.username for c in creds}
    print_table(
        "控制台上谁看什么 / who sees what in the console",
        ["username", "page", "what is there"],
        [[user, page, what] for user, page, what in CONSOLE_WALK if user in names],
    )


def _print_planted_loans(settings: Settings, creds: list[Credential]) -> None:
    from jinyu.demo_loans import planted_loans

    loans = planted_loans(settings, [(c.username, c.role, c.org_id) for c in creds])
    if loans:
        print_table(
            "埋设的风险贷款 / planted risk loans (risk_labels.csv) — 谁可以核查 / who can trace them",
            ["loan", "case", "analysis", "bank users who can see it"],
            [[p.loan_id, p.case, p.analysis, ", ".join(p.users) or "— (no demo user)"] for p in loans],
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
