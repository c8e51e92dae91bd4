"""Errors of fund-flow tracing, named as facts."""

from __future__ import annotations

from jinyu.core.errors import InvalidInput, NotFound, PermissionDenied


class LoanNotFound(NotFound):
    """No such loan in the caller's bank tree (another bank's loan looks exactly like a missing one)."""

    code = "loan_not_found"
    title = "贷款不存在 / Loan not found"


class BankNodeNotFound(NotFound):
    code = "bank_node_not_found"
    title = "机构不在本行范围内 / Bank node not found in your bank"


class NotABankOrganisation(PermissionDenied):
    code = "not_a_bank"
    title = "仅银行机构可查询贷款资金流向 / Only bank organisations trace their loans"


class BatchTooLarge(InvalidInput):
    code = "batch_too_large"
    title = "批量过大 / Batch too large"


class FrontierTooLarge(InvalidInput):
    code = "frontier_too_large"
    title = "追踪范围过大 / Trace too wide"
