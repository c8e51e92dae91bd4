"""Errors of the analytics layer, in the one hierarchy of `jinyu.core.errors`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

from jinyu.core.errors import JinyuError, NotFound

log = logging.getLogger(__name__)


class EngineUnavailable(JinyuError):
    """The engine cannot run here (e.g. PySpark not installed, or no Java for Spark)."""

    status: ClassVar[int] = 503
    code: ClassVar[str] = "engine_unavailable"
    title: ClassVar[str] = "分析引擎不可用 / Analytics engine unavailable"


def missing_dataset(dataset: str, root: Path) -> NotFound:
    """A query needs a dataset the lake has no files for (not loaded yet, or a typo in the SQL).

    The lake's path goes to the server log only: an answer never names the server's files (docs/security.md)."""
    log.warning("analytics: dataset %s has no files under %s", dataset, root)
    return NotFound(
        detail=f"数据湖中还没有数据集 {dataset} 的文件，请先导入（jinyu ingest-region）/ "
        f"dataset {dataset!r} has no files in the lake yet: load it first (jinyu ingest-region)"
    )
