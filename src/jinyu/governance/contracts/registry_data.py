"""Foundation datasets from the registry and the government bureaus: enterprises, chain members, shareholders,
tax, head-count, patents and judicial records."""

from __future__ import annotations

from jinyu.core.privacy import PHONE_DOMAIN
from jinyu.governance.contracts.base import (
    DT,
    INT,
    PER,
    PUB,
    SEN,
    B,
    Check,
    Contract,
    D,
    M,
    N,
    Protect,
    S,
    col,
)
from jinyu.governance.contracts.org_kinds import BUREAUS

CHAIN_SEGMENTS = ("materials", "panels", "modules", "devices", "dealers", "upstream", "core", "downstream")

ENTERPRISES = Contract(
    name="enterprises",
    title="企业登记信息 / Business registration",
    provider="市场监督管理局 / market regulation bureau",
    columns=(
        col("uscc", S, PUB, "统一社会信用代码 / unified social credit code", check=Check.USCC),
        col("name", S, PUB, "企业名称 / registered name"),
        col("industry_code", S, PUB, "国民经济行业分类 GB/T 4754-2017 class", check=Check.INDUSTRY),
        col("district_code", S, PUB, "行政区划代码 / district code", check=Check.DISTRICT),
        col("registered_capital", D, PUB, "注册资本（元）/ registered capital, yuan", min_value=0),
        col("established_on", DT, PUB, "成立日期 / date established"),
        col("address", S, INT, "注册地址 / registered address"),
        col(
            "phone",
            S,
            SEN,
            "联系电话 / contact phone",
            required=False,
            protect=Protect.TOKEN,
            token_domain=PHONE_DOMAIN,
        ),
        col(
            "legal_rep_id",
            S,
            PER,
            "法定代表人身份证号 / legal representative's resident ID",
            check=Check.RESIDENT_ID,
            protect=Protect.TOKEN,
        ),
        col(
            "legal_rep_name",
            S,
            PER,
            "法定代表人姓名 / legal representative's name",
            protect=Protect.MASK_NAME,
        ),
        col("status", S, PUB, "登记状态 / registration status", choices=("active", "revoked", "cancelled")),
    ),
    key=("uscc",),
    registers_parties=True,
    provided_by=BUREAUS,
    hashed=("uscc",),
)

CHAIN_MEMBERS = Contract(
    name="chain_members",
    title="产业链成员 / Industrial-chain membership",
    provider="经济和信息化委员会 / economy and IT commission",
    columns=(
        col("chain_code", S, PUB, "产业链代码 / chain code, e.g. new_display"),
        col("chain_name", S, PUB, "产业链名称 / chain name"),
        col("segment", S, PUB, "环节 / segment", choices=CHAIN_SEGMENTS),
        col("uscc", S, PUB, "企业统一社会信用代码 / member enterprise", check=Check.USCC),
        col("is_core", B, PUB, "是否链主/核心企业 / core enterprise of the chain"),
    ),
    key=("chain_code", "uscc"),
    references={"uscc": "enterprises.uscc"},
    provided_by=BUREAUS,
    hashed=("uscc",),
)

SHAREHOLDERS = Contract(
    name="shareholders",
    title="股东信息 / Shareholders",
    provider="市场监督管理局 / market regulation bureau",
    columns=(
        col("uscc", S, PUB, "被投资企业 / enterprise", check=Check.USCC),
        col("holder_type", S, PUB, "股东类型 / holder type", choices=("person", "enterprise")),
        col(
            "holder_id",
            S,
            PER,
            "股东证件号（身份证号或统一社会信用代码）/ holder's ID or USCC",
            protect=Protect.TOKEN,
            protect_if=("holder_type", "person"),
        ),
        col(
            "holder_name",
            S,
            PER,
            "股东名称 / holder's name",
            protect=Protect.MASK_NAME,
            protect_if=("holder_type", "person"),
        ),
        col("share_ratio", D, PUB, "持股比例（%）/ share in percent", min_value=0),
    ),
    key=("uscc", "holder_id"),
    references={"uscc": "enterprises.uscc"},
    provided_by=BUREAUS,
)

TAX_MONTHLY = Contract(
    name="tax_monthly",
    title="月度纳税 / Monthly tax",
    provider="税务局 / tax bureau",
    columns=(
        col("uscc", S, PUB, "纳税人 / taxpayer", check=Check.USCC),
        col("period", M, PUB, "所属期 / tax period YYYY-MM"),
        col("sales_declared", D, SEN, "申报销售额（元）/ declared sales, yuan", min_value=0),
        col("tax_paid", D, SEN, "实缴税额（元）/ tax paid, yuan", min_value=0),
    ),
    key=("uscc", "period"),
    partition_by="period",
    sort_by=("uscc", "period"),
    references={"uscc": "enterprises.uscc"},
    provided_by=BUREAUS,
    hashed=("uscc",),
)

HEADCOUNT_MONTHLY = Contract(
    name="headcount_monthly",
    title="社保与公积金缴存人数 / Social insurance and provident fund head-count",
    provider="人力社保局、住房公积金管理中心 / social insurance bureau, provident fund centre",
    columns=(
        col("uscc", S, PUB, "单位 / employer", check=Check.USCC),
        col("period", M, PUB, "缴费月份 / month YYYY-MM"),
        col("social_insurance_count", N, INT, "社保参保人数 / insured employees", min_value=0),
        col("provident_fund_count", N, INT, "公积金缴存人数 / provident-fund contributors", min_value=0),
        col("provident_fund_amount", D, SEN, "公积金缴存额（元）/ provident fund paid, yuan", min_value=0),
    ),
    key=("uscc", "period"),
    partition_by="period",
    sort_by=("uscc", "period"),
    references={"uscc": "enterprises.uscc"},
    provided_by=BUREAUS,
)

PATENTS = Contract(
    name="patents",
    title="知识产权 / Patents",
    provider="知识产权局 / intellectual property office",
    columns=(
        col("patent_no", S, PUB, "专利号 / patent number"),
        col("uscc", S, PUB, "专利权人 / holder", check=Check.USCC),
        col("kind", S, PUB, "类型 / kind", choices=("invention", "utility_model", "design")),
        col("title", S, PUB, "名称 / title"),
        col("filed_on", DT, PUB, "申请日 / filing date"),
        col("granted_on", DT, PUB, "授权日 / grant date", required=False),
    ),
    key=("patent_no",),
    references={"uscc": "enterprises.uscc"},
    provided_by=BUREAUS,
)

JUDICIAL = Contract(
    name="judicial",
    title="司法信息 / Judicial records",
    provider="法院 / courts",
    columns=(
        col("case_no", S, PUB, "案号 / case number"),
        col("uscc", S, PUB, "当事企业 / party enterprise", check=Check.USCC),
        col("role", S, PUB, "诉讼地位 / role", choices=("plaintiff", "defendant", "executed")),
        col(
            "case_type",
            S,
            PUB,
            "案由 / case type",
            choices=("contract", "loan", "labor", "ip", "enforcement"),
        ),
        col("filed_on", DT, PUB, "立案日期 / filed on"),
        col("amount", D, INT, "标的金额（元）/ amount at stake, yuan", min_value=0),
        col("status", S, PUB, "状态 / status", choices=("open", "closed")),
    ),
    key=("case_no", "uscc"),
    references={"uscc": "enterprises.uscc"},
    provided_by=BUREAUS,
)
