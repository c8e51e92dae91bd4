"""The end of a load: the loan check's resident index and context prepared for the next server start.

`jinyu ingest`, `jinyu ingest-region` and `jinyu demo` end here (`--no-prepare`: they do not, and the first
server start builds both as before). The commands live in `jinyu.ingest.cli`; ingestion sits below the risk
domain, so this module, above both, mounts them (`jinyu.cli.LAZY`) with the preparation plugged in.
Preparing never fails a load: the load has committed, a failure is a warning and the server builds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from jinyu.core import lazy
from jinyu.core.cli_kit import err_console
from jinyu.ingest import cli as ingest_cli

if TYPE_CHECKING:  # imported when a load ends (jinyu.core.lazy): `jinyu ingest --help` stays fast
    from jinyu.risk.tracing.service import prepare as tracing
else:
    tracing = lazy.module("jinyu.risk.tracing.service.prepare")

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


ingest_cli.after_load.append(after_load)
ingest = ingest_cli.ingest
ingest_region = ingest_cli.ingest_region
