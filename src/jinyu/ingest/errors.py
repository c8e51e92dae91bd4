"""Ingestion errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import Conflict, NotFound, PermissionDenied


class UnknownDataset(NotFound):
    code = "unknown_dataset"
    title = "未知数据集 / Unknown dataset"


class LoadNotFound(NotFound):
    code = "load_not_found"
    title = "加载记录不存在 / Load not found"


class DatasetNotProvidable(PermissionDenied):
    """The caller's kind of organisation does not provide this dataset (the contract's `provided_by`)."""

    code = "dataset_not_providable"
    title = "无权提供该数据集 / Your organisation does not provide this dataset"


class QuarantineNotSealed(Conflict):
    """A quarantine file written before rows were sealed: it holds raw rows and is not served."""

    code = "quarantine_not_sealed"
    title = "隔离文件早于加密版本 / Quarantine file predates sealing"
