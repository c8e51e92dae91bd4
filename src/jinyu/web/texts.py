"""More console text (key -> (中文, English)), merged into `jinyu.web.i18n.TEXT`: the settlements page (the
states of a settlement and of a daily reconciliation, what each reconciliation finding means) and the bank
picker of the enterprise's forms (`jinyu.web.pages.bankpick`)."""

from __future__ import annotations

CLAIM_TEXT: dict[str, tuple[str, str]] = {
    "settlements_intro": (
        "医院的信息系统（HIS）在病人出院时经 API 即时结算（POST /api/v1/claims/settlements），每天报送日对账文件；"
        "这里是结算结果、预付金账簿余额与预警、日对账结果。",
        "The hospital's information system settles each discharge over the API at once (POST "
        "/api/v1/claims/settlements) and sends a reconciliation file each day; here are the settlements, the "
        "prepaid books' balances and alerts, and the reconciliation results.",
    ),
    "settlements_empty": (
        "尚无结算：医院系统经 API 提交出院结算后，这里逐笔显示。",
        "No settlements yet: each discharge the hospital's system settles over the API is listed here.",
    ),
    "no_threshold": ("未设", "none"),
    "visit": ("就诊号 / 结算号", "Visit / settlement no."),
    "insured": ("参保人", "Insured"),
    "findings": ("对账明细", "Findings"),
    "our_amount": ("平台金额", "Hub's amount"),
    "their_amount": ("医院金额", "Hospital's amount"),
    "corrected": ("已自动更正", "Corrected"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "settle_pending": ("待医院确认", "pending"),
    "settle_settled": ("已结算", "settled"),
    "settle_cancelled": ("已撤销", "cancelled"),
    "settle_voided": ("已作废", "voided"),
    "settle_deferred": ("延期（出院后理赔）", "deferred"),
    "settle_transferred": ("已转出院后理赔", "transferred"),
    "run_matched": ("一致", "matched"),
    "run_corrected": ("已自动更正", "corrected"),
    "run_discrepancies": ("有差异待核实", "discrepancies"),
    "finding_confirmed_pending": ("待确认结算按医院文件确认", "pending settlement confirmed by the file"),
    "finding_voided_pending": (
        "待确认结算作废（医院文件无此笔）",
        "pending settlement voided (not in the file)",
    ),
    "finding_reversed": ("医院已撤销，平台冲正", "cancelled by the hospital, reversed"),
    "finding_ours_only": ("仅平台有记录", "on the hub only"),
    "finding_theirs_only": ("仅医院有记录", "in the hospital's file only"),
    "finding_amount_mismatch": ("金额不一致", "amounts differ"),
    "finding_status_mismatch": ("状态不一致", "states differ"),
}

BANK_TEXT: dict[str, tuple[str, str]] = {
    "bank_search": ("查找银行", "Find a bank"),
    "bank_search_hint": ("银行、支行名称或机构编码", "bank or branch name, or code"),
    "filter": ("筛选", "Filter"),
    "show_all_banks": ("显示全部银行", "Show every bank"),
    "bank_pick_hint": (
        "按银行分组：总行在前，其下为分行、支行；您开户的银行排在最前。授权的对象是整家银行："
        "选总行或其任一分支机构，授权都覆盖该银行的全部机构。",
        "Grouped by bank: the head office first, then its branches and outlets; the banks where you have "
        "accounts come first. A grant goes to the whole bank: choosing its head office or any of its branches "
        "covers all of them.",
    ),
    "your_bank": ("您的开户行", "your bank"),
    "your_banks": ("您开户的银行（列在最前）", "Banks where you have accounts (listed first)"),
    "no_bank_matches": ("没有名称或编码含此内容的银行", "No bank's name or code contains this"),
}

# the roles as the header names them (jinyu.core.auth.Role); the code stays in the element's title
ROLE_TEXT: dict[str, tuple[str, str]] = {
    "role_regulator_analyst": ("监管分析员", "regulator's analyst"),
    "role_regulator_supervisor": ("监管审核员", "regulator's supervisor"),
    "role_bank_hq_risk": ("银行总行风控", "bank head office risk officer"),
    "role_bank_branch_officer": ("银行分支机构经办", "bank branch officer"),
    "role_insurer_staff": ("保险公司理赔人员", "insurer's claims staff"),
    "role_hospital_system": ("医院结算", "hospital settlement"),
    "role_pharmacy_system": ("药店结算", "pharmacy settlement"),
    "role_enterprise_admin": ("企业管理员", "enterprise administrator"),
    "role_data_provider": ("数据提供方", "data provider"),
    "role_platform_admin": ("平台管理员", "platform administrator"),
    "role_customer_manager": ("客户经理", "customer manager"),
    "role_financial_consultant": ("金融顾问", "financial consultant"),
}
