"""Governance errors, named as facts."""

from __future__ import annotations

from typing import ClassVar

from jinyu.core.errors import Conflict, NotFound


class RemediationNotFound(NotFound):
    code: ClassVar[str] = "remediation_not_found"
    title: ClassVar[str] = "没有该整改单 / No such remediation item"


class RuleNotFound(NotFound):
    code: ClassVar[str] = "rule_not_found"
    title: ClassVar[str] = "没有该规则 / No such rule"


class DatasetNotLoaded(NotFound):
    code: ClassVar[str] = "dataset_not_loaded"
    title: ClassVar[str] = "数据集尚未加载 / Dataset not loaded yet"


class DatasetNotFound(NotFound):
    code: ClassVar[str] = "dataset_not_found"
    title: ClassVar[str] = "没有该数据集 / No such dataset"


class RuleAlreadyRetired(Conflict):
    code: ClassVar[str] = "rule_already_retired"
    title: ClassVar[str] = "规则已停用 / The rule is already retired"
