"""Dataset contracts: the documented ingestion format of every dataset the hub takes in.

Each contract names its columns (type, required, classification, check), its key, and how the lake stores it
(partition column, sort order). Ingestion validates against these; the synthetic region writes them; the
docs page `docs/data-formats.md` is generated from them (`jinyu datasets docs`).

Classification levels (数据分级), lowest first:
- public    公开: may be shown to any authenticated user
- internal  内部: platform users with a business need
- sensitive 敏感: shown masked unless the role and a grant allow it
- personal  个人信息: personal identifiers; stored pseudonymized or masked on output
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    STRING = "string"
    INT = "int"
    DECIMAL = "decimal"  # yuan, exactly two decimals (fen); Parquet decimal(18,2)
    DATE = "date"  # YYYY-MM-DD
    TIMESTAMP = "timestamp"  # ISO 8601; without an offset it is Asia/Shanghai; stored UTC
    BOOL = "bool"  # true/false/1/0
    MONTH = "month"  # YYYY-MM


class Level(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    SENSITIVE = "sensitive"
    PERSONAL = "personal"


class Protect(StrEnum):
    """How ingestion protects a personal value before it reaches the lake."""

    TOKEN = "token"  # keyed HMAC pseudonym (joinable, not reversible)
    MASK_NAME = "mask_name"  # 张** — keeps the family name for display


class Check(StrEnum):
    USCC = "uscc"  # unified social credit code with check character
    RESIDENT_ID = "resident_id"  # resident ID number with check character
    INDUSTRY = "industry"  # GB/T 4754-2017 class code (letter + up to 4 digits, shipped table)
    DISTRICT = "district"  # six-digit administrative division code


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    level: Level
    description: str
    required: bool = True
    check: Check | None = None
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    protect: Protect | None = None
    # Protect only when another column of the row has this value, e.g. ("owner_type", "person").
    protect_if: tuple[str, str] | None = None


@dataclass(frozen=True)
class Contract:
    name: str
    title: str
    provider: str  # who supplies it (bureau / bank / operator)
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_by: str | None = None  # a MONTH or DATE/TIMESTAMP column; lake partitions by its month
    sort_by: tuple[str, ...] = ()
    registers_parties: bool = False  # also upserts organisations into the operational store
    references: dict[str, str] = field(default_factory=dict)  # column -> "dataset.column" must exist
    mirrors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # extra sorted copies in the lake

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, kind: Kind, level: Level, description: str, **kw: object) -> Column:
    return Column(name, kind, level, description, **kw)  # type: ignore[arg-type]


S, N, D, DT, TS, B, M = Kind.STRING, Kind.INT, Kind.DECIMAL, Kind.DATE, Kind.TIMESTAMP, Kind.BOOL, Kind.MONTH
PUB, INT, SEN, PER = Level.PUBLIC, Level.INTERNAL, Level.SENSITIVE, Level.PERSONAL

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
CHAIN_SEGMENTS = ("materials", "panels", "modules", "devices", "dealers", "upstream", "core", "downstream")

ENTERPRISES = Contract(
    name="enterprises",
    title="企业登记信息 / Business registration",
    provider="市场监督管理局 / market regulation bureau",
    columns=(
        _c("uscc", S, PUB, "统一社会信用代码 / unified social credit code", check=Check.USCC),
        _c("name", S, PUB, "企业名称 / registered name"),
        _c("industry_code", S, PUB, "国民经济行业分类 GB/T 4754-2017 class", check=Check.INDUSTRY),
        _c("district_code", S, PUB, "行政区划代码 / district code", check=Check.DISTRICT),
        _c("registered_capital", D, PUB, "注册资本（元）/ registered capital, yuan", min_value=0),
        _c("established_on", DT, PUB, "成立日期 / date established"),
        _c("address", S, INT, "注册地址 / registered address"),
        _c("phone", S, SEN, "联系电话 / contact phone", required=False),
        _c(
            "legal_rep_id",
            S,
            PER,
            "法定代表人身份证号 / legal representative's resident ID",
            check=Check.RESIDENT_ID,
            protect=Protect.TOKEN,
        ),
        _c(
            "legal_rep_name",
            S,
            PER,
            "法定代表人姓名 / legal representative's name",
            protect=Protect.MASK_NAME,
        ),
        _c("status", S, PUB, "登记状态 / registration status", choices=("active", "revoked", "cancelled")),
    ),
    key=("uscc",),
    registers_parties=True,
)

CHAIN_MEMBERS = Contract(
    name="chain_members",
    title="产业链成员 / Industrial-chain membership",
    provider="经济和信息化委员会 / economy and IT commission",
    columns=(
        _c("chain_code", S, PUB, "产业链代码 / chain code, e.g. new_display"),
        _c("chain_name", S, PUB, "产业链名称 / chain name"),
        _c("segment", S, PUB, "环节 / segment", choices=CHAIN_SEGMENTS),
        _c("uscc", S, PUB, "企业统一社会信用代码 / member enterprise", check=Check.USCC),
        _c("is_core", B, PUB, "是否链主/核心企业 / core enterprise of the chain"),
    ),
    key=("chain_code", "uscc"),
    references={"uscc": "enterprises.uscc"},
)

SHAREHOLDERS = Contract(
    name="shareholders",
    title="股东信息 / Shareholders",
    provider="市场监督管理局 / market regulation bureau",
    columns=(
        _c("uscc", S, PUB, "被投资企业 / enterprise", check=Check.USCC),
        _c("holder_type", S, PUB, "股东类型 / holder type", choices=("person", "enterprise")),
        _c(
            "holder_id",
            S,
            PER,
            "股东证件号（身份证号或统一社会信用代码）/ holder's ID or USCC",
            protect=Protect.TOKEN,
            protect_if=("holder_type", "person"),
        ),
        _c(
            "holder_name",
            S,
            PER,
            "股东名称 / holder's name",
            protect=Protect.MASK_NAME,
            protect_if=("holder_type", "person"),
        ),
        _c("share_ratio", D, PUB, "持股比例（%）/ share in percent", min_value=0),
    ),
    key=("uscc", "holder_id"),
    references={"uscc": "enterprises.uscc"},
)

TAX_MONTHLY = Contract(
    name="tax_monthly",
    title="月度纳税 / Monthly tax",
    provider="税务局 / tax bureau",
    columns=(
        _c("uscc", S, PUB, "纳税人 / taxpayer", check=Check.USCC),
        _c("period", M, PUB, "所属期 / tax period YYYY-MM"),
        _c("sales_declared", D, SEN, "申报销售额（元）/ declared sales, yuan", min_value=0),
        _c("tax_paid", D, SEN, "实缴税额（元）/ tax paid, yuan", min_value=0),
    ),
    key=("uscc", "period"),
    partition_by="period",
    sort_by=("uscc", "period"),
    references={"uscc": "enterprises.uscc"},
)

HEADCOUNT_MONTHLY = Contract(
    name="headcount_monthly",
    title="社保与公积金缴存人数 / Social insurance and provident fund head-count",
    provider="人力社保局、住房公积金管理中心 / social insurance bureau, provident fund centre",
    columns=(
        _c("uscc", S, PUB, "单位 / employer", check=Check.USCC),
        _c("period", M, PUB, "缴费月份 / month YYYY-MM"),
        _c("social_insurance_count", N, INT, "社保参保人数 / insured employees", min_value=0),
        _c("provident_fund_count", N, INT, "公积金缴存人数 / provident-fund contributors", min_value=0),
        _c("provident_fund_amount", D, SEN, "公积金缴存额（元）/ provident fund paid, yuan", min_value=0),
    ),
    key=("uscc", "period"),
    partition_by="period",
    sort_by=("uscc", "period"),
    references={"uscc": "enterprises.uscc"},
)

PATENTS = Contract(
    name="patents",
    title="知识产权 / Patents",
    provider="知识产权局 / intellectual property office",
    columns=(
        _c("patent_no", S, PUB, "专利号 / patent number"),
        _c("uscc", S, PUB, "专利权人 / holder", check=Check.USCC),
        _c("kind", S, PUB, "类型 / kind", choices=("invention", "utility_model", "design")),
        _c("title", S, PUB, "名称 / title"),
        _c("filed_on", DT, PUB, "申请日 / filing date"),
        _c("granted_on", DT, PUB, "授权日 / grant date", required=False),
    ),
    key=("patent_no",),
    references={"uscc": "enterprises.uscc"},
)

JUDICIAL = Contract(
    name="judicial",
    title="司法信息 / Judicial records",
    provider="法院 / courts",
    columns=(
        _c("case_no", S, PUB, "案号 / case number"),
        _c("uscc", S, PUB, "当事企业 / party enterprise", check=Check.USCC),
        _c("role", S, PUB, "诉讼地位 / role", choices=("plaintiff", "defendant", "executed")),
        _c(
            "case_type",
            S,
            PUB,
            "案由 / case type",
            choices=("contract", "loan", "labor", "ip", "enforcement"),
        ),
        _c("filed_on", DT, PUB, "立案日期 / filed on"),
        _c("amount", D, INT, "标的金额（元）/ amount at stake, yuan", min_value=0),
        _c("status", S, PUB, "状态 / status", choices=("open", "closed")),
    ),
    key=("case_no", "uscc"),
    references={"uscc": "enterprises.uscc"},
)

BANKS = Contract(
    name="banks",
    title="银行机构 / Bank head offices, branches and outlets",
    provider="金融监管局 / financial regulator",
    columns=(
        _c("org_code", S, PUB, "金融机构编码 / institution code"),
        _c("name", S, PUB, "机构名称 / name"),
        _c("level", S, PUB, "层级 / level", choices=("head_office", "branch", "outlet")),
        _c("parent_code", S, PUB, "上级机构编码 / parent institution", required=False),
        _c("district_code", S, PUB, "行政区划代码 / district code", check=Check.DISTRICT),
        _c("uscc", S, PUB, "统一社会信用代码 / USCC", check=Check.USCC, required=False),
    ),
    key=("org_code",),
    registers_parties=True,
    references={"parent_code": "banks.org_code"},
)

CUSTOMER_MANAGERS = Contract(
    name="customer_managers",
    title="客户经理 / Customer managers",
    provider="银行 / banks",
    columns=(
        _c("staff_id", S, INT, "员工号 / staff id"),
        _c(
            "org_code",
            S,
            PUB,
            "所属网点或支行 / outlet or branch",
        ),
        _c("name", S, PER, "姓名 / name", protect=Protect.MASK_NAME),
        _c("phone", S, SEN, "手机号 / mobile phone"),
    ),
    key=("staff_id",),
    references={"org_code": "banks.org_code"},
)

INSTITUTIONS = Contract(
    name="institutions",
    title="其他机构 / Insurers, hospitals, pharmaceutical companies, bureaus",
    provider="金融监管局、卫健委 / regulator, health commission",
    columns=(
        _c("org_code", S, PUB, "机构编码 / institution code"),
        _c("name", S, PUB, "机构名称 / name"),
        _c("kind", S, PUB, "类别 / kind", choices=("insurer", "hospital", "pharma", "bureau")),
        _c("district_code", S, PUB, "行政区划代码 / district code", check=Check.DISTRICT),
        _c("uscc", S, PUB, "统一社会信用代码 / USCC", check=Check.USCC, required=False),
        _c(
            "hospital_grade",
            S,
            PUB,
            "医院等级 / hospital grade",
            required=False,
            choices=("3A", "3B", "2A", "2B", "1A", "other"),
        ),
        _c("in_prepayment", B, PUB, "是否纳入预付金机制 / in the insurer prepayment scheme", required=False),
    ),
    key=("org_code",),
    registers_parties=True,
)

ACCOUNTS = Contract(
    name="accounts",
    title="银行账户 / Bank accounts",
    provider="银行 / banks",
    columns=(
        _c("account_no", S, SEN, "账号 / account number"),
        _c("bank_code", S, PUB, "开户机构编码 / bank branch or outlet code"),
        _c(
            "owner_type",
            S,
            INT,
            "户主类型 / owner type",
            choices=("enterprise", "person", "bank", "processor"),
        ),
        _c(
            "owner_id",
            S,
            PER,
            "户主证件（统一社会信用代码或身份证号）/ owner's USCC or resident ID",
            protect=Protect.TOKEN,
            protect_if=("owner_type", "person"),
        ),
        _c(
            "owner_name",
            S,
            SEN,
            "户名 / account name",
            protect=Protect.MASK_NAME,
            protect_if=("owner_type", "person"),
        ),
        _c("category", S, INT, "账户类别 / account category", choices=ACCOUNT_CATEGORIES),
        _c("opened_on", DT, INT, "开户日期 / opened on"),
        _c("currency", S, PUB, "币种 / currency", choices=("CNY",)),
    ),
    key=("account_no",),
    sort_by=("account_no",),
    references={"bank_code": "banks.org_code"},
)

TRANSFERS = Contract(
    name="transfers",
    title="交易流水 / Account-to-account transfers",
    provider="银行 / banks",
    columns=(
        _c("txn_id", S, INT, "交易流水号 / transaction id"),
        _c("ts", TS, INT, "交易时间 / time (Asia/Shanghai unless an offset is given)"),
        _c("from_account", S, SEN, "付款账号 / payer account"),
        _c("to_account", S, SEN, "收款账号 / payee account"),
        _c("amount", D, SEN, "金额（元）/ amount, yuan", min_value=0.01),
        _c("currency", S, PUB, "币种 / currency", choices=("CNY",)),
        _c("channel", S, INT, "渠道 / channel", choices=("counter", "online", "mobile", "batch", "internal")),
        _c("memo", S, SEN, "摘要 / memo", required=False),
    ),
    key=("txn_id",),
    partition_by="ts",
    sort_by=("from_account", "ts"),
    references={"from_account": "accounts.account_no", "to_account": "accounts.account_no"},
    mirrors={"transfers_by_counterparty": ("to_account", "ts")},
)

LOANS = Contract(
    name="loans",
    title="贷款发放 / Loan disbursements",
    provider="银行 / banks",
    columns=(
        _c("loan_id", S, INT, "借据号 / loan id"),
        _c("bank_code", S, PUB, "放款机构编码 / lending branch code"),
        _c("borrower_uscc", S, PUB, "借款企业 / borrower", check=Check.USCC),
        _c("disbursement_account", S, SEN, "放款账号 / disbursement account"),
        _c("amount", D, SEN, "放款金额（元）/ amount, yuan", min_value=0.01),
        _c("disbursed_at", TS, INT, "放款时间 / disbursed at"),
        _c("term_months", N, INT, "期限（月）/ term in months", min_value=1),
        _c(
            "declared_purpose",
            S,
            INT,
            "申报用途 / declared purpose",
            choices=("working_capital", "equipment", "construction", "trade", "rnd", "other"),
        ),
    ),
    key=("loan_id",),
    partition_by="disbursed_at",
    sort_by=("bank_code", "disbursed_at"),
    references={"bank_code": "banks.org_code", "disbursement_account": "accounts.account_no"},
)

CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in (
        ENTERPRISES,
        CHAIN_MEMBERS,
        SHAREHOLDERS,
        TAX_MONTHLY,
        HEADCOUNT_MONTHLY,
        PATENTS,
        JUDICIAL,
        BANKS,
        CUSTOMER_MANAGERS,
        INSTITUTIONS,
        ACCOUNTS,
        TRANSFERS,
        LOANS,
    )
}

# The order a whole region is loaded in: referenced datasets first.
LOAD_ORDER: tuple[str, ...] = (
    "banks",
    "institutions",
    "enterprises",
    "customer_managers",
    "chain_members",
    "shareholders",
    "tax_monthly",
    "headcount_monthly",
    "patents",
    "judicial",
    "accounts",
    "loans",
    "transfers",
)
