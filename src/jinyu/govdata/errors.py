"""Govdata errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import NotFound


class EnterpriseNotFound(NotFound):
    code = "enterprise_not_found"
    title = "企业不存在 / Enterprise not found"
