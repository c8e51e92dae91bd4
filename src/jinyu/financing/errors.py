"""Financing-domain errors, named as facts."""

from __future__ import annotations

from jinyu.core.errors import Conflict, InvalidInput, NotFound


class DemandNotFound(NotFound):
    code = "financing_demand_not_found"
    title = "融资需求不存在 / Financing demand not found"


class OrderNotFound(NotFound):
    code = "work_order_not_found"
    title = "工单不存在 / Work order not found"


class TransitionNotAllowed(Conflict):
    code = "work_order_transition_not_allowed"
    title = "工单当前状态不允许该操作 / The order's state does not allow this action"


class DemandInvalid(InvalidInput):
    code = "financing_demand_invalid"
    title = "融资需求无效 / Invalid financing demand"


class RejectionNeedsReason(InvalidInput):
    code = "rejection_needs_reason"
    title = "拒绝须给出编码原因 / A rejection needs a coded reason"


class NoBankAvailable(Conflict):
    code = "no_bank_available"
    title = "没有可派单的银行 / No bank can take this order"


class AssigneeInvalid(InvalidInput):
    code = "assignee_invalid"
    title = "网点或客户经理不属于该银行 / Outlet or customer manager not in this bank"


class AlreadyRated(Conflict):
    code = "work_order_already_rated"
    title = "该工单已评价 / The order is already rated"


class NoticeNotFound(NotFound):
    code = "guidance_notice_not_found"
    title = "窗口指导通知不存在 / Guidance notice not found"


class CalendarYearInvalid(InvalidInput):
    code = "calendar_year_invalid"
    title = "节假日表无效 / Invalid holiday table"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    title = "幂等键已用于不同的请求 / Idempotency key already used for a different request"
