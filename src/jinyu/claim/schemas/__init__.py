"""Input and output models of the claim domain.

Amounts are decimal yuan with at most two decimals (fen); in JSON they are written as strings ("123.45") or
numbers, and answered as strings. Resident ID numbers are secrets on input and masked on output.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jinyu.claim.schemas.books import (
    AlertOut,
    ConcentrationOut,
    ConcentrationRow,
    JournalOut,
    LedgerBookIn,
    LedgerBookOut,
    LedgerEntryIn,
    PostingOut,
    PrepaidLine,
    ReconFileIn,
    ReconItemOut,
    ReconRecord,
    ReconRunOut,
    ReportOut,
    ReportRow,
)
from jinyu.claim.schemas.types import Amount, CertNo, Code, MsgId

__all__ = [
    "Accumulators",
    "AlertOut",
    "Amount",
    "BillIn",
    "CancelIn",
    "CapState",
    "CertNo",
    "Code",
    "ConcentrationOut",
    "ConcentrationRow",
    "ConfirmIn",
    "DeductibleState",
    "EligibilityIn",
    "EligibilityOut",
    "EnrollmentIn",
    "EnrollmentOut",
    "EnrollmentStatusIn",
    "FeeLine",
    "InsurerPayout",
    "JournalOut",
    "LedgerBookIn",
    "LedgerBookOut",
    "LedgerEntryIn",
    "LiabilityPayout",
    "MsgId",
    "Outcome",
    "PostDischargeIn",
    "PostingOut",
    "PrepaidLine",
    "ProductIn",
    "ProductInsurerOut",
    "ProductOut",
    "ReasonOut",
    "ReconFileIn",
    "ReconItemOut",
    "ReconRecord",
    "ReconRunOut",
    "ReportOut",
    "ReportRow",
    "SetlInfo",
    "SettleIn",
    "SettlementOut",
    "SettlementSince",
    "SettlementSummary",
    "TransferIn",
]

# ------------------------------------------------------------------------------------------------ products


class ProductIn(BaseModel):
    definition: dict[str, Any] = Field(
        description="产品规则（与 YAML 同结构）/ the product rules, as in YAML"
    )
    activate: bool = Field(default=False, description="保存后立即启用 / activate once stored")


class ProductInsurerOut(BaseModel):
    org_code: str
    org_id: str | None
    share: Decimal
    lead: bool


class ProductOut(BaseModel):
    id: str
    code: str
    version: int
    name: str
    city: str
    year: int
    edition: str
    period_start: dt.date
    period_end: dt.date
    status: str
    insurers: list[ProductInsurerOut]
    definition: dict[str, Any]
    definition_hash: str
    created_at: dt.datetime
    activated_at: dt.datetime | None


# ------------------------------------------------------------------------------------------------ enrollment


class EnrollmentIn(BaseModel):
    product_code: Code
    certno: CertNo = Field(description="居民身份证号 / resident ID number")
    name: str | None = Field(
        default=None, max_length=50, description="姓名（仅保存掩码）/ name, stored masked"
    )
    pre_existing: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=list,
        max_length=200,
        description="既往症 ICD-10 编码或前缀，* 表示全部 / pre-existing conditions",
    )
    premium: Amount | None = Field(default=None, description="实缴保费，默认产品保费 / premium paid")
    enrolled_on: dt.date | None = None


class EnrollmentStatusIn(BaseModel):
    status: Literal["active", "suspended", "cancelled"]


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_code: str
    policy_year: int
    person_token: str
    id_masked: str
    name_masked: str | None
    pre_existing: list[str]
    premium: Decimal
    status: str
    enrolled_on: dt.date


class EligibilityIn(BaseModel):
    certno: CertNo
    product_code: Code | None = None
    on: dt.date | None = Field(default=None, description="日期（上海时间），默认今天 / date, default today")


class DeductibleState(BaseModel):
    code: str
    period: str
    amount: Decimal
    used: Decimal
    remaining: Decimal


class CapState(BaseModel):
    code: str
    name: str
    cap: Decimal | None
    paid: Decimal
    remaining: Decimal | None


class Accumulators(BaseModel):
    deductibles: list[DeductibleState]
    liabilities: list[CapState]
    overall: CapState


class EligibilityOut(BaseModel):
    enrollment_id: str
    product_code: str
    product_version: int
    policy_year: int
    status: str
    eligible: bool
    pre_existing_flagged: bool
    accumulators: Accumulators


# ------------------------------------------------------------------------------------------------ settlement


class SetlInfo(BaseModel):
    """国家医保结算信息 setlinfo（节选）/ the national medical-insurance settlement record (excerpt)."""

    mdtrt_id: Code = Field(description="就诊ID / visit id")
    setl_id: Code = Field(description="结算ID / settlement id")
    setl_time: dt.datetime = Field(
        description="结算时间（无时区视为上海时间）/ naive times are Asia/Shanghai"
    )
    medfee_sumamt: Amount = Field(description="医疗费总额 / total medical cost")
    fulamt_ownpay_amt: Amount = Field(description="全自费金额 / out-of-list")
    overlmt_selfpay: Amount = Field(default=Decimal("0"), description="超限价自费 / over-limit self-pay")
    preselfpay_amt: Amount = Field(default=Decimal("0"), description="先行自付 / pre-self-pay")
    inscp_scp_amt: Amount = Field(description="符合政策范围金额 / in-list amount")
    hifp_pay: Amount = Field(default=Decimal("0"), description="统筹基金支出 / BMI pooled fund")
    hifmi_pay: Amount = Field(default=Decimal("0"), description="大病保险 / serious-illness insurance")
    hifob_pay: Amount = Field(default=Decimal("0"), description="大额医疗补助 / large-amount subsidy")
    maf_pay: Amount = Field(default=Decimal("0"), description="医疗救助 / medical assistance")
    oth_pay: Amount = Field(default=Decimal("0"), description="其他支付 / other funds")
    acct_pay: Amount = Field(default=Decimal("0"), description="个人账户 / personal account")
    psn_cash_pay: Amount | None = Field(
        default=None, description="个人现金（校验用）/ patient cash (checked)"
    )
    bmi_settled: bool = Field(default=True, description="是否经本地医保结算 / settled through local BMI")
    dise_codg: str | None = Field(default=None, max_length=20, description="主诊断 ICD-10 / main diagnosis")
    diag_codes: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=50)
    med_type: str | None = Field(
        default=None,
        pattern=r"^\d{2,8}$",
        description="医疗类别（国家医保编码，缺省 21 普通住院）/ NHSA medical category, default 21 inpatient",
    )
    insutype: str | None = Field(
        default=None, pattern=r"^\d{3}$", description="险种类型，如 310 职工、390 居民 / insurance type"
    )
    psn_no: str | None = Field(
        default=None,
        min_length=1,
        max_length=30,
        description="医保人员编号（仅保存其密钥化标识）/ NHSA person number, stored only as a keyed token",
    )
    act_pay_dedc: Amount | None = Field(
        default=None, description="实际支付起付线 / BMI deductible the patient actually paid"
    )


class FeeLine(BaseModel):
    """费用明细 / one itemized line."""

    feedetl_sn: Annotated[str, Field(min_length=1, max_length=64)]
    med_list_codg: Annotated[str, Field(min_length=1, max_length=64)]
    med_list_name: str = Field(default="", max_length=200)
    det_item_fee_sumamt: Amount
    fulamt_ownpay_amt: Amount = Decimal("0")
    overlmt_amt: Amount = Decimal("0")
    preselfpay_amt: Amount = Decimal("0")
    inscp_scp_amt: Amount = Decimal("0")
    pharmacy_code: str | None = Field(default=None, max_length=64, description="外购药店编码 / pharmacy")
    dise_codg: str | None = Field(
        default=None, max_length=20, description="本明细对应诊断 ICD-10 / the diagnosis this line treats"
    )
    special_drug: bool | None = Field(
        default=None, description="申请特药待遇 / the special-drug benefit is asked for this line"
    )


class BillIn(BaseModel):
    certno: CertNo = Field(description="患者身份证号 / patient's resident ID")
    psn_name: str | None = Field(default=None, max_length=50)
    product_code: Code | None = None
    setlinfo: SetlInfo
    lines: list[FeeLine] = Field(default_factory=list, max_length=5000)
    lines_complete: bool | None = Field(
        default=None,
        description="明细是否完整（默认是；否：仅部分明细，如特药）/ the lines itemise the whole bill (default)",
    )


class SettleIn(BillIn):
    msg_id: MsgId
    auto_confirm: bool = Field(
        default=False, description="一步结算，无需确认 / settle in one step without a confirmation"
    )
    time_budget_ms: int | None = Field(
        default=None, ge=50, le=60_000, description="医院等待上限 / the hospital's time budget"
    )


class PostDischargeIn(BillIn):
    msg_id: MsgId
    hospital_id: str = Field(min_length=1, max_length=32, description="就诊医院机构 id / hospital org id")


class CancelIn(BaseModel):
    msg_id: MsgId
    reason: str = Field(min_length=2, max_length=500)


class ConfirmIn(BaseModel):
    msg_id: MsgId | None = None


class TransferIn(BaseModel):
    msg_id: MsgId


class ReasonOut(BaseModel):
    code: str
    message: str
    amount: Decimal
    line_sn: str | None = None


class LiabilityPayout(BaseModel):
    code: str
    name: str
    kind: str
    basis: Decimal
    deductible_pool: str | None
    deductible_applied: Decimal
    ratio: Decimal
    ratio_kind: str
    computed: Decimal
    payout: Decimal
    reasons: list[ReasonOut]


class InsurerPayout(BaseModel):
    insurer_id: str
    org_code: str
    amount: Decimal
    from_prepaid: Decimal
    in_arrears: Decimal


class Outcome(BaseModel):
    """The adjudication as answered to the hospital (stored, and answered again on a replay)."""

    payout: Decimal
    cash_before: Decimal
    cash_after: Decimal
    liabilities: list[LiabilityPayout]
    not_paid: list[ReasonOut]
    accumulators: Accumulators | None
    insurers: list[InsurerPayout]
    pre_existing: bool


class SettlementSince(BaseModel):
    """On a replay: what became of the settlement after its first answer (cancelled, voided, confirmed...)."""

    status: str
    at: dt.datetime | None
    note: str


class SettlementOut(BaseModel):
    id: str
    status: str
    channel: str
    hospital_id: str
    product_code: str | None
    product_version: int | None
    policy_year: int | None
    mdtrt_id: str
    setl_id: str
    setl_time: dt.datetime
    business_date: dt.date
    id_masked: str
    med_type: str = Field(description="医疗类别 / NHSA medical category")
    insutype: str | None = Field(default=None, description="险种类型 / insurance type")
    medfee_sumamt: Decimal
    funds: Decimal
    acct_pay: Decimal
    act_pay_dedc: Decimal = Field(description="实际支付起付线 / BMI deductible paid")
    payout: Decimal
    cash_before: Decimal
    cash_after: Decimal
    outcome: Outcome | None
    note: str
    origin_id: str | None
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    closed_at: dt.datetime | None
    since: SettlementSince | None = None  # replays only: the first answer is repeated, this says what changed


class SettlementSummary(BaseModel):
    id: str
    status: str
    channel: str
    hospital_id: str
    product_code: str | None
    mdtrt_id: str
    setl_id: str
    business_date: dt.date
    id_masked: str
    medfee_sumamt: Decimal
    payout: Decimal
    cash_after: Decimal
