"""Datasets the credit information business card (信用信息名片) adds: registration changes, tax credit
ratings, trademarks and copyrights, the dishonest-debtor list, administrative penalties, and each bureau's
coverage of each enterprise (so that "no data" is told apart from "none")."""

from __future__ import annotations

from jinyu.core.auth import OrgKind
from jinyu.governance.contracts.base import DT, INT, PUB, B, Check, Contract, D, N, Protect, S, col

BUREAUS = frozenset({OrgKind.BUREAU})
_USCC = {"uscc": "enterprises.uscc"}
CHANGE_ITEMS = ("name", "registered_capital", "address", "industry", "legal_rep", "shareholder", "status")
TAX_RATINGS = ("A", "B", "M", "C", "D")
# The sources a card section reads; `source_coverage.source` names one of them.
CARD_SOURCES = ("registration", "tax", "headcount", "ip", "judicial", "penalties")

REGISTRATION_CHANGES = Contract(
    name="registration_changes",
    title="登记变更 / Registration changes",
    provider="市场监督管理局 / market regulation bureau",
    columns=(
        col("uscc", S, PUB, "企业 / enterprise", check=Check.USCC),
        col("changed_on", DT, PUB, "变更日期 / date of the change"),
        col("item", S, PUB, "变更事项 / item changed", choices=CHANGE_ITEMS),
        col(
            "before_value",
            S,
            INT,
            "变更前 / value before (法定代表人变更时为掩码姓名 / masked name for a legal_rep change)",
            required=False,
            protect=Protect.MASK_NAME,
            protect_if=("item", "legal_rep"),
        ),
        col(
            "after_value",
            S,
            INT,
            "变更后 / value after (法定代表人变更时为掩码姓名 / masked name for a legal_rep change)",
            protect=Protect.MASK_NAME,
            protect_if=("item", "legal_rep"),
        ),
    ),
    key=("uscc", "changed_on", "item"),
    references=_USCC,
    provided_by=BUREAUS,
)

TAX_CREDIT_RATINGS = Contract(
    name="tax_credit_ratings",
    title="纳税信用等级 / Tax credit ratings",
    provider="税务局 / tax bureau",
    columns=(
        col("uscc", S, PUB, "纳税人 / taxpayer", check=Check.USCC),
        col("year", N, PUB, "评价年度 / year rated", min_value=1990),
        col("rating", S, PUB, "纳税信用等级 / rating A/B/M/C/D", choices=TAX_RATINGS),
        col("rated_on", DT, PUB, "评价发布日期 / published on"),
    ),
    key=("uscc", "year"),
    references=_USCC,
    provided_by=BUREAUS,
)

TRADEMARKS = Contract(
    name="trademarks",
    title="注册商标 / Trademarks",
    provider="知识产权局 / intellectual property office",
    columns=(
        col("reg_no", S, PUB, "注册号或申请号 / registration or application number"),
        col("uscc", S, PUB, "商标注册人 / holder", check=Check.USCC),
        col("nice_class", N, PUB, "尼斯分类 / Nice class 1–45", min_value=1),
        col("mark_name", S, PUB, "商标名称 / mark"),
        col("applied_on", DT, PUB, "申请日 / applied on"),
        col("registered_on", DT, PUB, "注册日 / registered on (空：审查中 / empty: pending)", required=False),
    ),
    key=("reg_no",),
    references=_USCC,
    provided_by=BUREAUS,
)

COPYRIGHTS = Contract(
    name="copyrights",
    title="著作权登记 / Copyright registrations",
    provider="版权局 / copyright office",
    columns=(
        col("reg_no", S, PUB, "登记号 / registration number"),
        col("uscc", S, PUB, "著作权人 / holder", check=Check.USCC),
        col("kind", S, PUB, "类型 / kind", choices=("software", "work")),
        col("title", S, PUB, "作品名称 / title"),
        col("registered_on", DT, PUB, "登记日 / registered on"),
    ),
    key=("reg_no",),
    references=_USCC,
    provided_by=BUREAUS,
)

DISHONEST_DEBTORS = Contract(
    name="dishonest_debtors",
    title="失信被执行人 / Dishonest judgment debtors",
    provider="法院 / courts",
    columns=(
        col("case_no", S, PUB, "执行案号 / enforcement case number"),
        col("uscc", S, PUB, "被执行企业 / debtor", check=Check.USCC),
        col("court", S, PUB, "执行法院 / court"),
        col("amount", D, PUB, "未履行金额（元）/ obligation unperformed, yuan", min_value=0),
        col("listed_on", DT, PUB, "列入日期 / listed on"),
        col(
            "removed_on",
            DT,
            PUB,
            "移出日期 / removed on (空：仍在名单 / empty: still listed)",
            required=False,
        ),
    ),
    key=("case_no", "uscc"),
    references=_USCC,
    provided_by=BUREAUS,
)

ADMIN_PENALTIES = Contract(
    name="admin_penalties",
    title="行政处罚 / Administrative penalties",
    provider="各执法部门 / enforcement authorities",
    columns=(
        col("decision_no", S, PUB, "处罚决定书文号 / decision number"),
        col("uscc", S, PUB, "被处罚企业 / enterprise", check=Check.USCC),
        col("authority", S, PUB, "处罚机关 / authority"),
        col(
            "penalty_type",
            S,
            PUB,
            "处罚种类 / kind",
            choices=("warning", "fine", "confiscation", "suspension", "license_revoked"),
        ),
        col("amount", D, PUB, "罚没金额（元）/ fine or confiscation, yuan", min_value=0),
        col("decided_on", DT, PUB, "决定日期 / decided on"),
        col("reason", S, PUB, "违法事由 / reason"),
    ),
    key=("decision_no",),
    references=_USCC,
    provided_by=BUREAUS,
)

SOURCE_COVERAGE = Contract(
    name="source_coverage",
    title="数据来源覆盖 / Source coverage",
    provider="各数据提供部门 / each providing bureau",
    columns=(
        col("source", S, PUB, "数据来源（名片板块）/ source, i.e. card section", choices=CARD_SOURCES),
        col("uscc", S, PUB, "企业 / enterprise", check=Check.USCC),
        col("bureau", S, PUB, "提供部门 / providing bureau"),
        col("as_of", DT, PUB, "数据截至日期 / data as of"),
        col("covered", B, PUB, "是否纳入该部门管理 / the bureau holds records of the enterprise"),
    ),
    key=("source", "uscc"),
    references=_USCC,
    provided_by=BUREAUS,
)

CREDIT: tuple[Contract, ...] = (
    REGISTRATION_CHANGES,
    TAX_CREDIT_RATINGS,
    TRADEMARKS,
    COPYRIGHTS,
    DISHONEST_DEBTORS,
    ADMIN_PENALTIES,
    SOURCE_COVERAGE,
)
CREDIT_ORDER: tuple[str, ...] = tuple(c.name for c in CREDIT)
