"""Errors of the data-security policy and its level approvals."""

from __future__ import annotations

from jinyu.core.errors import Conflict


class GrantNotInForce(Conflict):
    code = "grant_not_in_force"
    title = "授权未生效或已失效 / The grant is not in force"
