"""Ingestion errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import NotFound


class UnknownDataset(NotFound):
    code = "unknown_dataset"
    title = "未知数据集 / Unknown dataset"


class LoadNotFound(NotFound):
    code = "load_not_found"
    title = "加载记录不存在 / Load not found"
