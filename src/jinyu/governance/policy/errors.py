"""Errors of the data-security policy and its level approvals."""

from __future__ import annotations

from jinyu.core.errors import Conflict, NotFound


class GrantNotInForce(Conflict):
    code = "grant_not_in_force"
    title = "授权未生效或已失效 / The grant is not in force"


class ApprovalNotFound(NotFound):
    code = "approval_not_found"
    title = "未找到该级别审批 / No such level approval on this grant"


class ApprovalNotInForce(Conflict):
    code = "approval_not_in_force"
    title = "审批已撤销或已到期 / The approval is already revoked or ended"
