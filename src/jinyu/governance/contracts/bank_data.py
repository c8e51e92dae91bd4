"""Foundation datasets from the banks and the registry of institutions: banks, customer managers, institutions,
accounts, transfers, loans, guarantees, related parties and opening balances."""

from __future__ import annotations

from jinyu.core.privacy import PHONE_DOMAIN
from jinyu.governance.contracts.base import (
    DT,
    INT,
    PER,
    PUB,
    SEN,
    TS,
    B,
    Check,
    Contract,
    D,
    N,
    Protect,
    S,
    col,
)
from jinyu.governance.contracts.org_kinds import BANK_KINDS, BUREAUS, REGULATOR

ACCOUNT_CATEGORIES = (
    "corporate_settlement",
    "corporate_general",
    "personal",
    "securities_settlement",
    "real_estate_developer",
    "payment_processor",
    "bank_internal",
    "loan_repayment",
    "tax_authority",
    "social_fund",
)
# Declared loan purposes (the code list of docs/risk-tracing.md; the purpose matrix has one row per code:
# jinyu.risk.purposes.rules.PURPOSES, kept equal by tests/risk/purposes).
LOAN_PURPOSES = (
    "working_capital",
    "raw_materials",
    "equipment",
    "construction",
    "technology_upgrade",
    "rnd",
    "trade",
    "trade_finance",
    "real_estate_development",
    "property_purchase",
    "equity_acquisition",
    "refinancing",
    "other",
)


BANKS = Contract(
    name="banks",
    title="银行机构 / Bank head offices, branches and outlets",
    provider="金融监管局 / financial regulator",
    columns=(
        col("org_code", S, PUB, "金融机构编码 / institution code"),
        col("name", S, PUB, "机构名称 / name"),
        col("level", S, PUB, "层级 / level", choices=("head_office", "branch", "outlet")),
        col("parent_code", S, PUB, "上级机构编码 / parent institution", required=False),
        col("district_code", S, PUB, "行政区划代码 / district code", check=Check.DISTRICT),
        col("uscc", S, PUB, "统一社会信用代码 / USCC", check=Check.USCC, required=False),
    ),
    key=("org_code",),
    registers_parties=True,
    references={"parent_code": "banks.org_code"},
    provided_by=REGULATOR,
)

CUSTOMER_MANAGERS = Contract(
    name="customer_managers",
    title="客户经理 / Customer managers",
    provider="银行 / banks",
    columns=(
        col("staff_id", S, INT, "员工号 / staff id"),
        col(
            "org_code",
            S,
            PUB,
            "所属网点或支行 / outlet or branch",
        ),
        col("name", S, PER, "姓名 / name", protect=Protect.MASK_NAME),
        col("phone", S, SEN, "手机号 / mobile phone", protect=Protect.TOKEN, token_domain=PHONE_DOMAIN),
    ),
    key=("staff_id",),
    references={"org_code": "banks.org_code"},
    provided_by=BANK_KINDS,
    owner_column="org_code",
)

INSTITUTIONS = Contract(
    name="institutions",
    title="其他机构 / Insurers, hospitals, pharmaceutical companies, bureaus",
    provider="金融监管局、卫健委 / regulator, health commission",
    columns=(
        col("org_code", S, PUB, "机构编码 / institution code"),
        col("name", S, PUB, "机构名称 / name"),
        col("kind", S, PUB, "类别 / kind", choices=("insurer", "hospital", "pharma", "bureau")),
        col("district_code", S, PUB, "行政区划代码 / district code", check=Check.DISTRICT),
        col("uscc", S, PUB, "统一社会信用代码 / USCC", check=Check.USCC, required=False),
        col(
            "hospital_grade",
            S,
            PUB,
            "医院等级 / hospital grade",
            required=False,
            choices=("3A", "3B", "2A", "2B", "1A", "other"),
        ),
        col("in_prepayment", B, PUB, "是否纳入预付金机制 / in the insurer prepayment scheme", required=False),
    ),
    key=("org_code",),
    registers_parties=True,
    provided_by=REGULATOR | BUREAUS,
)

ACCOUNTS = Contract(
    name="accounts",
    title="银行账户 / Bank accounts",
    provider="银行 / banks",
    columns=(
        col("account_no", S, SEN, "账号 / account number"),
        col("bank_code", S, PUB, "开户机构编码 / bank branch or outlet code"),
        col(
            "owner_type",
            S,
            INT,
            "户主类型 / owner type",
            choices=("enterprise", "person", "bank", "processor"),
        ),
        col(
            "owner_id",
            S,
            PER,
            "户主证件（统一社会信用代码或身份证号）/ owner's USCC or resident ID",
            protect=Protect.TOKEN,
            protect_if=("owner_type", "person"),
        ),
        col(
            "owner_name",
            S,
            SEN,
            "户名 / account name",
            protect=Protect.MASK_NAME,
            protect_if=("owner_type", "person"),
        ),
        col("category", S, INT, "账户类别 / account category", choices=ACCOUNT_CATEGORIES),
        col("opened_on", DT, INT, "开户日期 / opened on"),
        col("currency", S, PUB, "币种 / currency", choices=("CNY",)),
    ),
    key=("account_no",),
    sort_by=("account_no",),
    references={"bank_code": "banks.org_code"},
    provided_by=BANK_KINDS,
    owner_column="bank_code",
)

TRANSFERS = Contract(
    name="transfers",
    title="交易流水 / Account-to-account transfers",
    provider="银行 / banks",
    columns=(
        col("txn_id", S, INT, "交易流水号 / transaction id"),
        col("ts", TS, INT, "交易时间 / time (Asia/Shanghai unless an offset is given)"),
        col("from_account", S, SEN, "付款账号 / payer account"),
        col("to_account", S, SEN, "收款账号 / payee account"),
        col("amount", D, SEN, "金额（元）/ amount, yuan", min_value=0.01),
        col("currency", S, PUB, "币种 / currency", choices=("CNY",)),
        col(
            "channel",
            S,
            INT,
            "渠道（reversal：冲正/退款）/ channel (reversal: a reversal or refund)",
            choices=("counter", "online", "mobile", "batch", "internal", "reversal"),
        ),
        col("memo", S, SEN, "摘要 / memo", required=False),
    ),
    key=("txn_id",),
    partition_by="ts",
    sort_by=("from_account", "ts"),
    references={"from_account": "accounts.account_no", "to_account": "accounts.account_no"},
    mirrors={"transfers_by_counterparty": ("to_account", "ts")},
    provided_by=BANK_KINDS,
    owner_via=(
        ("from_account", "accounts.account_no", "bank_code"),
        ("to_account", "accounts.account_no", "bank_code"),
    ),
)

LOANS = Contract(
    name="loans",
    title="贷款发放 / Loan disbursements",
    provider="银行 / banks",
    columns=(
        col("loan_id", S, INT, "借据号 / loan id"),
        col("bank_code", S, PUB, "放款机构编码 / lending branch code"),
        col("borrower_uscc", S, PUB, "借款企业 / borrower", check=Check.USCC),
        col("disbursement_account", S, SEN, "放款账号 / disbursement account"),
        col("amount", D, SEN, "放款金额（元）/ amount, yuan", min_value=0.01),
        col("disbursed_at", TS, INT, "放款时间 / disbursed at"),
        col("term_months", N, INT, "期限（月）/ term in months", min_value=1),
        col(
            "declared_purpose",
            S,
            INT,
            "申报用途 / declared purpose",
            choices=LOAN_PURPOSES,
        ),
    ),
    key=("loan_id",),
    partition_by="disbursed_at",
    sort_by=("bank_code", "disbursed_at"),
    references={"bank_code": "banks.org_code", "disbursement_account": "accounts.account_no"},
    provided_by=BANK_KINDS,
    owner_column="bank_code",
    hashed=("borrower_uscc",),
)

LOAN_GUARANTEES = Contract(
    name="loan_guarantees",
    title="贷款担保 / Loan guarantees",
    provider="银行 / banks",
    columns=(
        col("loan_id", S, INT, "借据号 / loan id"),
        col("guarantor_type", S, PUB, "担保人类型 / guarantor type", choices=("enterprise", "person")),
        col(
            "guarantor_id",
            S,
            PER,
            "担保人证件（统一社会信用代码或身份证号）/ guarantor's USCC or resident ID",
            check_when=(
                ("guarantor_type", "enterprise", Check.USCC),
                ("guarantor_type", "person", Check.RESIDENT_ID),
            ),
            protect=Protect.TOKEN,
            protect_if=("guarantor_type", "person"),
        ),
        col(
            "guarantor_name",
            S,
            PER,
            "担保人名称 / guarantor's name",
            protect=Protect.MASK_NAME,
            protect_if=("guarantor_type", "person"),
        ),
        col(
            "guarantee_type",
            S,
            INT,
            "担保方式 / guarantee type",
            choices=("joint_liability", "general", "mortgage", "pledge"),
        ),
        col("amount", D, SEN, "担保金额（元）/ amount guaranteed, yuan", min_value=0.01),
        col("signed_on", DT, INT, "担保合同签订日 / guarantee signed on"),
    ),
    key=("loan_id", "guarantor_id", "guarantee_type"),
    partition_by="signed_on",
    sort_by=("loan_id",),
    references={"loan_id": "loans.loan_id"},
    provided_by=BANK_KINDS,
    owner_via=(("loan_id", "loans.loan_id", "bank_code"),),
)


# Relation kinds a bank or the registry declares between a customer and another party (see
# docs/risk-tracing.md "Declared related parties"); sources say where the declaration comes from.
RELATION_KINDS = (
    "affiliate",  # 关联企业
    "actual_controller",  # 实际控制人
    "group_member",  # 同一集团成员
    "family",  # 家庭成员（法定代表人、实际控制人的近亲属）
    "key_personnel",  # 董事、监事、高级管理人员
    "mutual_guarantee",  # 互保、联保圈成员
    "disclosed_related",  # 信贷档案披露的其他关联方
)
RELATION_SOURCES = ("credit_file", "customer_declared", "group_registry", "public_registry", "regulator")

RELATED_PARTIES = Contract(
    name="related_parties",
    title="申报的关联方 / Declared related parties",
    provider="银行（本行客户）、登记机关 / banks (their own customers), the registry",
    columns=(
        col("owner_uscc", S, PUB, "客户（企业）/ the customer the relation is about", check=Check.USCC),
        col("related_type", S, PUB, "关联方类型 / related party type", choices=("enterprise", "person")),
        col(
            "related_id",
            S,
            PER,
            "关联方证件（统一社会信用代码或身份证号）/ related party's USCC or resident ID",
            check_when=(
                ("related_type", "enterprise", Check.USCC),
                ("related_type", "person", Check.RESIDENT_ID),
            ),
            protect=Protect.TOKEN,
            protect_if=("related_type", "person"),
        ),
        col(
            "related_name",
            S,
            PER,
            "关联方名称 / related party's name",
            protect=Protect.MASK_NAME,
            protect_if=("related_type", "person"),
        ),
        col("relation", S, PUB, "关联关系 / relation kind", choices=RELATION_KINDS),
        col("source", S, INT, "来源 / where the declaration comes from", choices=RELATION_SOURCES),
        col(
            "bank_code",
            S,
            PUB,
            "申报银行机构编码（登记机关提供的行为空）/ declaring bank node; empty for the registry's rows",
            required=False,
        ),
        col("valid_from", DT, INT, "生效日 / valid from"),
        col(
            "valid_to",
            DT,
            INT,
            "失效日（含，空为长期）/ valid to, inclusive; empty: open-ended",
            required=False,
        ),
    ),
    # bank_code is part of the key: two banks declaring the same relation are two declarations (each sees
    # only its own); without it the second bank's row was refused as an existing key. Empty for the
    # registry: null keys compare equal at ingestion (pipeline._key_text, Lake.existing_keys_mask).
    key=("owner_uscc", "related_id", "relation", "source", "bank_code"),
    sort_by=("owner_uscc",),
    references={"owner_uscc": "enterprises.uscc", "bank_code": "banks.org_code"},
    provided_by=BANK_KINDS | BUREAUS,
    owner_column="bank_code",
    shared_rows_by=BUREAUS,
)


OPENING_BALANCES = Contract(
    name="opening_balances",
    title="账户余额（记账余额）/ Balances of record",
    provider="银行 / banks",
    columns=(
        col("account_no", S, SEN, "账号 / account number"),
        col(
            "as_of", DT, INT, "余额日（当日日初，北京时间）/ balance at the start of this day, Asia/Shanghai"
        ),
        col("balance", D, SEN, "余额（元）/ balance, yuan (may be negative for an overdraft)"),
        col("currency", S, PUB, "币种 / currency", choices=("CNY",)),
    ),
    key=("account_no", "as_of"),
    sort_by=("account_no", "as_of"),
    references={"account_no": "accounts.account_no"},
    provided_by=BANK_KINDS,
    owner_via=(("account_no", "accounts.account_no", "bank_code"),),
)
