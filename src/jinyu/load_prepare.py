"""The end of a load: the loan check's resident index and context, and the chain page's answers, prepared for
the next server start.

`jinyu ingest`, `jinyu ingest-region` and `jinyu demo` end here (`--no-prepare`: they do not, and the first
server start builds both as before). The chain page's answers (`prepare_pages`): each chain's supply links,
segment flows, loans and borrowers of the last twelve months of transfers, its segment counts, member lists and
stored network, computed as the scheduler's warm-up computes them (`jinyu.chain.scheduler.warm_pages`) and kept
beside the lake (`<lake>.results/`, `jinyu.analytics.results`), so the first visitor of the chain page after a
server start reads a few small files instead of scanning the window's transfers. They are named by the lake files
they were read from: a later load makes them stale, never wrong.

The commands live in `jinyu.ingest.cli`; ingestion sits below the risk and chain domains, so this module, above
them, mounts them (`jinyu.cli.LAZY`) with the preparations plugged in. Preparing never fails a load: the load
has committed, a failure is a warning and the server (or the first visitor) computes instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jinyu.core import lazy
from jinyu.core.cli_kit import err_console
from jinyu.ingest import cli as ingest_cli

if TYPE_CHECKING:  # imported when a load ends (jinyu.core.lazy): `jinyu ingest --help` stays fast
    from sqlalchemy.orm import Session, sessionmaker

    from jinyu.chain import scheduler as chain_schedule
    from jinyu.core import runtime
    from jinyu.risk.tracing.service import prepare as tracing
else:
    tracing = lazy.module("jinyu.risk.tracing.service.prepare")
    chain_schedule = lazy.module("jinyu.chain.scheduler")
    runtime = lazy.module("jinyu.core.runtime")

log = logging.getLogger(__name__)
STATES = {"built": "已构建 / built", "kept": "已有 / already kept", "failed": "失败 / failed"}


def after_load(lake_root: Path, datasets: Iterable[str], say: Callable[[str], None]) -> bool | None:
    """Prepare both when the load changed what tracing reads; None when it did not (nothing to do), else
    whether both are kept now. Never raises."""
    try:
        if not tracing.needed(lake_root, datasets):
            return None
        say(
            "准备贷款核查的常驻转账索引与核查上下文 / preparing the loan check's resident index and context …"
        )
        result = tracing.prepare(lake_root)
    except Exception as exc:  # the load stands whatever happens here
        log.exception("resident tracing pieces not prepared", extra={"lake": str(lake_root)})
        _warn(str(exc))
        return False
    if not result.ok:
        _warn("见日志 / see the log")
    say(
        f"  转账索引 / transfer index: {STATES[result.index]}；核查上下文 / tracing context: "
        f"{STATES[result.context]}（{result.seconds} s）"
    )
    return result.ok


def _warn(why: str) -> None:
    err_console.print(
        "[yellow]警告 / warning[/]: 贷款核查的常驻索引未能准备，数据已加载，服务启动时再构建 / the loan check's "
        f"resident index was not prepared; the load stands and the server builds it at start: {why}"
    )


def prepare_pages(
    lake_root: Path,
    datasets: Iterable[str],
    say: Callable[[str], None],
    factory: sessionmaker[Session] | None = None,
) -> list[str] | None:
    """Compute and keep the chain page's answers for the lake's files as they are now (`factory`: the
    operational store holding the segment overrides; default the configured one, as `jinyu ingest` uses);
    None when the load changed nothing the page reads, else the months kept (empty on a failure, or when the
    lake has no transfers yet). Never raises: the load has committed, and the first visitor computes them."""
    if not chain_schedule.PAGE_INPUTS.intersection(datasets):
        return None
    say("准备产业链页面近十二个月的答案 / preparing the chain pages' answers of the last twelve months …")
    started = time.perf_counter()
    try:
        months = chain_schedule.warm_pages(factory or runtime.sessionmaker_for(), lake_root)
    except Exception as exc:  # the load stands whatever happens here
        log.exception("chain page answers not prepared", extra={"lake": str(lake_root)})
        err_console.print(
            "[yellow]警告 / warning[/]: 产业链页面的答案未能准备，数据已加载，首位访问者将计算 / the chain "
            f"pages' answers were not prepared; the load stands and the first visitor computes them: {exc}"
        )
        return []
    span = f"{months[0]}..{months[-1]}" if months else "-"
    say(f"  月份 / months: {span}（{time.perf_counter() - started:.1f} s）")
    return months


def prepare_command() -> None:
    """构建并保存服务启动与首位访问者读取的内容：贷款核查的常驻索引与上下文、产业链页面的答案 / build and keep
    what a server start and the first visitors read: the loan check's resident index and context, and the chain
    pages' answers, for the lake as it is now.

    A load does this at its end; run it after an upgrade, or when the log says kept files were unusable and
    removed (spoiled, or of another format): a server builds them again in the background, but keeps them
    only if it lives until that build ends. Kept files that pass their checks are left as they are. Exit 1
    when the index or the context could not be kept (the chain pages' answers only warn, as after a load).

    Example: JINYU_DATA_DIR=./var jinyu prepare"""
    from jinyu import config

    lake_dir = config.get_settings().lake_dir
    if not (lake_dir / "transfers").exists():
        err_console.print(
            f"湖中尚无转账数据，先接入 / no transfers in the lake yet ({lake_dir}): load them first, e.g. "
            "`jinyu ingest-region <dir>`"
        )
        raise typer.Exit(2)
    ok = after_load(lake_dir, ["transfers"], err_console.print)
    prepare_pages(lake_dir, ["transfers"], err_console.print)  # a failure warns (a lake without chains)
    if not ok:
        raise typer.Exit(1)


ingest_cli.after_load.append(after_load)
ingest_cli.after_load.append(prepare_pages)
ingest = ingest_cli.ingest
ingest_region = ingest_cli.ingest_region
