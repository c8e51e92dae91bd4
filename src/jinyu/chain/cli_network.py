"""`jinyu chain network-build`: store each month's decayed supply network in the lake (see docs/chains.md)."""

from __future__ import annotations

import contextlib
import fcntl
import sys
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jinyu.core.auth import SYSTEM
from jinyu.core.cli_kit import console, err_console, handle_errors, print_json
from jinyu.core.errors import invalid

MONTH = typer.Option(None, "--month", help="（第一个）截至月份 / (first) as-of month YYYY-MM")
DUE = typer.Option(
    False,
    "--due",
    help="只构建到期的月份：有交易、尚未构建或其数据在上次构建后有新文件（可重复运行）/ build only the due "
    "months: with transfers, never built, or with files written since their last build (idempotent)",
)
THROUGH = typer.Option(None, "--through", help="最后一个截至月份（含）/ last as-of month, inclusive")
MAX_MONTHS = 120
JSON_OUT = typer.Option(False, "--json", help="输出 JSON / print JSON")


def months_to_build(month: str, through: str | None) -> list[str]:
    """The as-of months from `month` to `through` (default: just `month`); field errors for bad months."""
    from jinyu.analytics import Month
    from jinyu.analytics.params import bind
    from jinyu.chain import rules

    last = through or month
    bind({"month": Month, "through": Month}, {"month": month, "through": last})
    span = rules.months_between(month, last)
    if span < 0:
        raise invalid("through", "结束月份不能早于开始月份 / --through must not be before --month")
    if span >= MAX_MONTHS:
        raise invalid("through", f"一次最多 {MAX_MONTHS} 个月 / at most {MAX_MONTHS} months at once")
    return [rules.add_months(month, i) for i in range(span + 1)]


def _chosen_months(month: str | None, through: str | None, due: bool) -> list[str] | None:
    """The months asked for, or None for --due (found once the lake is open)."""
    if due and (month or through):
        raise invalid("due", "--due 不能与 --month/--through 同用 / --due takes no --month or --through")
    if due:
        return None
    if month is None:
        raise invalid("month", "请给出 --month 或 --due / give --month or --due")
    return months_to_build(month, through)


@contextlib.contextmanager
def _build_lock(lake_dir: Path, wait: bool) -> Iterator[bool]:
    """The lake's build lock, the one `jinyu serve`'s scheduled builds take (`scheduler.LOCK_FILE`, flock):
    True when held; with `wait` false, False at once when another process holds it."""
    from jinyu.chain.scheduler import LOCK_FILE

    lake_dir.mkdir(parents=True, exist_ok=True)
    with (lake_dir / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True  # released when the file closes


@handle_errors
def network_build(
    month: str | None = MONTH, through: str | None = THROUGH, due: bool = DUE, json_out: bool = JSON_OUT
) -> None:
    """按月构建并存储各产业链的衰减供应网络（可重复：新版本覆盖旧版本的读取）/ build and store every chain's
    decayed supply network for each month (rerunning appends a newer build, which reads then use).
    最新月份写入前，先计算各产业链的排名并保存在数据湖旁，供服务读取 / before the latest month is appended,
    every chain's ranking of it is kept beside the lake, where the server reads it instead of ranking.

    With --due it builds only the months that are due and exits 0 when none is, or when another build (a
    server's, another cron run's) holds the lake's build lock: safe to run from cron or a systemd timer.
    Examples: jinyu chain network-build --month 2024-01 --through 2024-06 --json;
    from cron after transfers loads: jinyu chain network-build --due --json"""
    from jinyu import analytics, config
    from jinyu.audit import service as audit
    from jinyu.chain import definitions, due_months, stored
    from jinyu.chain.scheduler import rank_before_append
    from jinyu.core import runtime

    chosen = _chosen_months(month, through, due)
    defs = definitions.load()
    stored.check_exact(defs.parameters)
    chains = [c.code for c in defs.chains]
    settings = config.get_settings()
    written: dict[str, int] = {}
    # --due skips when the lock is held (the holder builds what is due); given months wait for it.
    with _build_lock(Path(settings.lake_dir), wait=chosen is not None) as held:
        if not held:
            _report({}, json_out, skipped=True)
            return
        engine, lake = analytics.DuckDBEngine(settings.lake_dir), analytics.Lake(settings.lake_dir)
        try:
            months = due_months.due_months(engine, lake, defs.parameters) if chosen is None else chosen
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                disable=json_out and not sys.stderr.isatty(),
            ) as bar:
                task = bar.add_task("供应网络 / network", total=len(months))
                # The latest month's ranking is kept beside the lake before its build is appended, as the
                # scheduled build keeps it: the server's workers read it instead of ranking it.
                rank = (
                    rank_before_append(Path(settings.lake_dir), max(months), hold=False) if months else None
                )
                for m in months:
                    written[m] = stored.build_month(engine, lake, m, chains, defs.parameters, rank)
                    bar.advance(task)
        finally:
            engine.close()
    if written:  # a run that built nothing (nothing due) is not audited, as the scheduler's
        with runtime.unit_of_work(settings) as session:
            audit.record(
                session, SYSTEM, action="chain.network.build", subject_type="dataset",
                subject_ids=[stored.DATASET], detail={"months": months, "links": written, "due": due},
            )  # fmt: skip
    _report(written, json_out, skipped=False)


def _report(written: dict[str, int], json_out: bool, skipped: bool) -> None:
    from jinyu.chain import stored

    if json_out:
        months = [{"month": m, "links": n} for m, n in written.items()]
        print_json({"dataset": stored.DATASET, "months": months, "skipped": skipped})
        return
    for m, n in written.items():
        console.print(f"{m}: {n} links / 条边")
    if skipped:
        console.print("另一构建正在进行，本次跳过 / another build holds the lock: skipped, nothing built")
    elif not written:
        console.print("没有到期的月份 / no month is due")
