"""Supplementary medical insurance (惠民保) datasets: who is insured, and the inpatient visits they settle.

Column names and meanings follow the national medical-security settlement record (setlinfo), as hospitals'
systems send it, so a visit in the lake and a settlement in the claim engine read alike. Residents' ID numbers
are tokenized in the same person space as every other resident ID the hub takes in, so an insured person
joins the legal representatives, shareholders and account holders of the foundation datasets.

Diagnoses, pre-existing conditions, drugs and the money of a stay are health data: sensitive personal
information under PIPL, hence `sensitive` (shown masked unless the role and a grant allow it).

Not expressible in the contracts (they check one cell at a time, or one cell against another column's
value): the settlement identities medfee_sumamt = fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt +
inscp_scp_amt = the funds + acct_pay + psn_cash_pay, and that a special drug amount comes with its code. The
claim engine checks them when a hospital settles (`jinyu.claim.rules`).
"""

from __future__ import annotations

from jinyu.core.auth import OrgKind
from jinyu.governance.contracts.base import (
    DT,
    INT,
    PER,
    PUB,
    SEN,
    TS,
    B,
    Check,
    Column,
    Contract,
    D,
    N,
    Protect,
    S,
    col,
)


def _yuan(name: str, description: str, required: bool = True) -> Column:
    """A settlement amount: yuan with fen, never negative, health data."""
    return col(name, D, SEN, description, min_value=0, required=required)


CLAIM_INSURED = Contract(
    name="claim_insured",
    title="惠民保参保人员 / Supplementary medical insurance: insured persons",
    provider="保险公司 / insurers",
    columns=(
        col(
            "person_id",
            S,
            PER,
            "参保人身份证号 / insured person's resident ID",
            check=Check.RESIDENT_ID,
            protect=Protect.TOKEN,
        ),
        col("product_code", S, PUB, "产品代码 / product code, e.g. CQ-YKB-2024"),
        col("policy_year", N, PUB, "保单年度 / policy year", min_value=2000),
        col(
            "pre_existing",
            S,
            SEN,
            "既往症 ICD-10 编码或前缀，分号分隔 / pre-existing conditions, ICD-10 codes or prefixes, ';'-separated",
            required=False,
        ),
        col("premium", D, INT, "实缴保费（元）/ premium paid, yuan", min_value=0),
        col("enrolled_on", DT, INT, "参保日期 / enrolled on"),
    ),
    key=("person_id", "product_code"),
    partition_by="enrolled_on",
    sort_by=("person_id", "product_code"),
    provided_by=frozenset({OrgKind.INSURER}),
)

CLAIM_VISITS = Contract(
    name="claim_visits",
    title="住院就诊与医保结算 / Inpatient visits with their basic medical insurance settlement",
    provider="定点医院 / designated hospitals",
    columns=(
        col("hospital_code", S, PUB, "医院机构编码 / hospital's institution code"),
        col("mdtrt_id", S, INT, "就诊ID / visit (medical treatment) id"),
        col("setl_id", S, INT, "结算ID / settlement id"),
        col(
            "person_id",
            S,
            PER,
            "患者身份证号 / patient's resident ID",
            check=Check.RESIDENT_ID,
            protect=Protect.TOKEN,
        ),
        col("setl_time", TS, INT, "结算时间 / settled at (Asia/Shanghai unless an offset is given)"),
        col("dise_codg", S, SEN, "主诊断 ICD-10 / main diagnosis, ICD-10"),
        _yuan(
            "medfee_sumamt",
            "医疗费总额（元），等于后四项之和 / total medical cost, yuan; the sum of the next four columns",
        ),
        _yuan("fulamt_ownpay_amt", "全自费金额（元）/ out-of-list, yuan"),
        _yuan("overlmt_selfpay", "超限价自费（元）/ over-limit self-pay, yuan"),
        _yuan("preselfpay_amt", "先行自付（元）/ pre-self-pay, yuan"),
        _yuan("inscp_scp_amt", "符合政策范围金额（元）/ in-list amount, yuan"),
        _yuan("hifp_pay", "统筹基金支出（元）/ BMI pooled fund, yuan"),
        _yuan("hifmi_pay", "大病保险（元）/ serious-illness insurance, yuan"),
        _yuan("hifob_pay", "大额医疗补助（元）/ large-amount subsidy, yuan"),
        _yuan("maf_pay", "医疗救助（元）/ medical assistance, yuan"),
        _yuan("acct_pay", "个人账户（元）/ personal account, yuan"),
        _yuan("psn_cash_pay", "个人现金（元）/ patient cash, yuan"),
        col("bmi_settled", B, INT, "是否经本地医保结算 / settled through local basic medical insurance"),
        col(
            "special_drug_code",
            S,
            SEN,
            "特药代码（ATC）/ special drug, ATC code",
            required=False,
        ),
        _yuan("special_drug_amount", "特药金额（元）/ special drug amount, yuan", required=False),
    ),
    key=("hospital_code", "mdtrt_id", "setl_id"),
    partition_by="setl_time",
    sort_by=("hospital_code", "setl_time"),
    references={"hospital_code": "institutions.org_code"},
    provided_by=frozenset({OrgKind.HOSPITAL}),
    owner_column="hospital_code",
)


CLAIMS: tuple[Contract, ...] = (CLAIM_INSURED, CLAIM_VISITS)

# After the foundation: visits name hospitals (institutions).
CLAIMS_ORDER: tuple[str, ...] = ("claim_insured", "claim_visits")
