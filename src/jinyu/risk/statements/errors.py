"""Statement-verification errors, named as facts. Field errors name the CSV line or the XML element."""

from __future__ import annotations

from jinyu.core.errors import FieldError, InvalidInput, NotFound, PermissionDenied


class StatementMalformed(InvalidInput):
    code = "statement_malformed"
    title = "对账单格式有误 / Malformed statement"


class StatementTooLarge(InvalidInput):
    status = 413
    code = "statement_too_large"
    title = "对账单文件过大 / Statement file too large"


class PeriodNotCovered(InvalidInput):
    code = "period_not_covered"
    title = "平台无该期间的流水数据 / The hub has no ledger data for this period"


class StatementAccountNotFound(NotFound):
    code = "account_not_found"
    title = "账户不存在 / Account not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "用户不存在或已停用 / No such active user"


class StatementConsentMissing(PermissionDenied):
    """Same code as the consent domain's refusal: to the bank both mean "no valid authorization"."""

    code = "consent_missing"
    title = "缺少企业有效授权 / No valid authorization from the enterprise"


def malformed(errors: list[FieldError]) -> StatementMalformed:
    """One error carrying every problem found (the field errors name each line or element)."""
    first = errors[0]
    more = f"（另 {len(errors) - 1} 处 / and {len(errors) - 1} more）" if len(errors) > 1 else ""
    return StatementMalformed(detail=f"{first.field}: {first.message}{more}", fields=list(errors))
