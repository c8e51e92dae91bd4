"""Claim-domain errors, named as facts. Each carries its status; the boundaries render them."""

from __future__ import annotations

from jinyu.core.errors import Conflict, InvalidInput, NotFound


class ProductDefinitionInvalid(InvalidInput):
    code = "product_definition_invalid"
    title = "产品规则无效 / Product definition is invalid"


class ProductNotFound(NotFound):
    code = "claim_product_not_found"
    title = "产品不存在 / Product not found"


class ProductVersionExists(Conflict):
    code = "claim_product_version_exists"
    title = "该产品版本已存在 / This product version already exists"


class BillInvalid(InvalidInput):
    code = "bill_invalid"
    title = "结算单数据不一致 / Settlement record is inconsistent"


class PersonUnknown(InvalidInput):
    code = "person_unknown"
    title = "平台无此人员的参保记录 / Person unknown to the platform: never enrolled in any product"


class NotEnrolled(InvalidInput):
    code = "not_enrolled"
    title = "该人员在此日期未参保（或参保已中止）/ Person known, but not insured for this date or product"


class EnrollmentAmbiguous(InvalidInput):
    code = "enrollment_ambiguous"
    title = "参保多个产品，须指定产品 / Insured under several products: name product_code"


class EnrollmentExists(Conflict):
    code = "enrollment_exists"
    title = "已参保该产品 / Already enrolled in this product"


class EnrollmentNotFound(NotFound):
    code = "enrollment_not_found"
    title = "参保记录不存在 / Enrollment not found"


class SettlementNotFound(NotFound):
    code = "settlement_not_found"
    title = "结算记录不存在 / Settlement not found"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    title = "同一报文号或业务键已用于不同的请求 / Message id or business key re-used for a different request"


class SettlementStateConflict(Conflict):
    code = "settlement_state_conflict"
    title = "结算状态不允许此操作 / The settlement's state does not allow this"


class VisitAlreadySettled(Conflict):
    """A second pending or settled settlement of one hospital visit; `extra["existing"]` names the first."""

    code = "visit_already_settled"
    title = "该就诊已有有效结算，须先撤销 / This hospital visit already has a settlement in force: cancel it first"


class HospitalNotInScheme(Conflict):
    code = "hospital_not_in_scheme"
    title = "该医院未开通此产品的一站式结算 / Hospital not in direct settlement for this product"


class LedgerBookNotFound(NotFound):
    code = "ledger_book_not_found"
    title = "预付金账簿不存在 / Prepaid ledger book not found"


class LedgerBookExists(Conflict):
    code = "ledger_book_exists"
    title = "该预付金账簿已存在 / Ledger book already exists"


class InsufficientPrepaidBalance(Conflict):
    code = "insufficient_prepaid_balance"
    title = "预付金余额不足 / Prepaid balance insufficient"


class LedgerEntryConflict(Conflict):
    code = "ledger_entry_conflict"
    title = "同一业务参考号已用于不同的分录 / Reference re-used for a different entry"


class ReconciliationNotFound(NotFound):
    code = "reconciliation_not_found"
    title = "对账记录不存在 / Reconciliation run not found"


class ReconciliationFileInvalid(InvalidInput):
    code = "reconciliation_file_invalid"
    title = "对账文件无效 / Reconciliation file is invalid"
