"""Console text in Chinese (the default) and English, and the formats people read: yuan with thousands
separators, Asia/Shanghai times, ratios in percent."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from jinyu.core.clock import local

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

# key -> (中文, English). Keys missing here render as the key itself, which the page-walk test catches.
TEXT: dict[str, tuple[str, str]] = {
    "app": ("金渝 · 金融数字化枢纽", "Jinyu · digital-finance hub"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "bad_credentials": ("用户名或密码错误", "Wrong username or password"),
    "locked": ("登录失败次数过多，账户暂时锁定，请稍后再试", "Too many failed logins: try again later"),
    "session_expired": ("会话已过期，请重新登录", "Your session has expired: log in again"),
    "csrf": ("表单已过期，请刷新页面后重试", "The form has expired: reload the page and try again"),
    "overview": ("概览", "Overview"),
    "risk": ("资金流风险", "Fund-flow risk"),
    "claims": ("理赔统计", "Claims"),
    "settlements": ("结算与预付金", "Settlements and prepaid funds"),
    "audit": ("审计", "Audit"),
    "consents": ("数据授权", "Consents"),
    "loan_check": ("贷款资金核查", "Loan fund check"),
    "statements": ("对公流水核验", "Statement verification"),
    "statement_file": ("对账单文件（CSV 或 camt.053）", "Statement file (CSV or camt.053)"),
    "verify_statement": ("核验", "Verify"),
    "period": ("期间", "Period"),
    "match_rate": ("匹配率（笔数）", "Match rate (lines)"),
    "fabricated": ("虚构", "Fabricated"),
    "hidden": ("隐藏", "Hidden"),
    "altered": ("篡改", "Altered"),
    "where": ("位置", "Where"),
    "amount": ("金额（元）", "Amount (yuan)"),
    "counterparty": ("对方", "Counterparty"),
    "changes": ("变动", "Changed"),
    "stated": ("对账单所载", "Stated"),
    "in_ledger": ("账本所载", "In the ledger"),
    "api_docs": ("API 文档", "API docs"),
    "role": ("角色", "Role"),
    "org": ("机构", "Organisation"),
    "from_month": ("起始月份", "From month"),
    "to_month": ("截止月份", "To month"),
    "month": ("月份", "Month"),
    "bank": ("银行", "Bank"),
    "kind": ("类型", "Kind"),
    "inquiries": ("查询次数", "Inquiries"),
    "risky": ("发现风险", "Risky"),
    "risky_amount": ("风险金额（元）", "Risky amount (yuan)"),
    "query": ("查询", "Search"),
    "no_rows": ("暂无数据", "Nothing to show"),
    "by": ("分组", "Group by"),
    "by_insurer": ("保险公司", "Insurer"),
    "by_hospital": ("医院", "Hospital"),
    "by_liability": ("责任", "Liability"),
    "by_month": ("月份", "Month"),
    "by_product": ("产品", "Product"),
    "count": ("件数", "Count"),
    "payout": ("赔付金额（元）", "Payout (yuan)"),
    "premium": ("保费（元）", "Premium (yuan)"),
    "loss_ratio": ("赔付率（%）", "Loss ratio (%)"),
    "total": ("合计", "Total"),
    "claims_paid": ("已赔付", "Claims paid"),
    "inquiries_total": ("核查查询", "Inquiries"),
    "risky_found": ("发现风险贷款", "Risky loans found"),
    "audit_status": ("审计检查点", "Audit checkpoints"),
    "verify": ("校验审计链", "Verify the chain"),
    "verified_ok": ("校验通过", "Verified"),
    "verified_bad": ("校验未通过", "Verification failed"),
    "checked": ("已校验条数", "Entries checked"),
    "action": ("动作", "Action"),
    "actor": ("操作者", "Actor"),
    "outcome": ("结果", "Outcome"),
    "time": ("时间（北京时间）", "Time (Asia/Shanghai)"),
    "subject": ("对象", "Subject"),
    "older": ("更早", "Older"),
    "grantee": ("被授权银行", "Bank authorized"),
    "scopes": ("数据范围", "Data scopes"),
    "purpose": ("用途", "Purpose"),
    "valid_until": ("有效期至", "Valid until"),
    "state": ("状态", "State"),
    "grant": ("授权", "Grant"),
    "revoke": ("撤销", "Revoke"),
    "reason": ("原因", "Reason"),
    "granted": ("已授权", "Granted"),
    "revoked": ("已撤销", "Revoked"),
    "state_active": ("有效", "active"),
    "state_revoked": ("已撤销", "revoked"),
    "scope_registration": ("工商登记", "registration"),
    "scope_tax": ("纳税", "tax"),
    "scope_headcount": ("社保与公积金", "headcount"),
    "scope_patents": ("专利", "patents"),
    "scope_judicial": ("司法", "judicial"),
    "scope_accounts": ("账户", "accounts"),
    "scope_statements": ("对公流水", "statements"),
    "purpose_credit_assessment": ("授信评估", "credit assessment"),
    "purpose_loan_review": ("贷款审查", "loan review"),
    "purpose_post_loan_monitoring": ("贷后监测", "post-loan monitoring"),
    "purpose_statement_verification": ("流水核验", "statement verification"),
    "purpose_financing_matchmaking": ("融资对接", "financing matchmaking"),
    "status": ("状态", "Status"),
    "business_date": ("业务日期", "Business date"),
    "medfee": ("医疗费用（元）", "Medical fees (yuan)"),
    "balances": ("预付金余额（元）", "Prepaid balances (yuan)"),
    "alerts": ("余额预警", "Balance alerts"),
    "reconciliations": ("日对账结果", "Daily reconciliation"),
    "their_total": ("医院报送（元，笔）", "Hospital's figures (yuan, count)"),
    "our_total": ("平台记录（元，笔）", "Hub's figures (yuan, count)"),
    "discrepancies": ("差异", "Discrepancies"),
    "book": ("预付金账簿", "Prepaid book"),
    "year": ("年度", "Year"),
    "threshold": ("预警线（元）", "Alert threshold (yuan)"),
    "message": ("说明", "Message"),
    "loan_id": ("借据号", "Loan id"),
    "check": ("核查", "Check"),
    "return_flow": ("资金回流", "Return flow"),
    "misuse": ("资金挪用", "Misuse"),
    "verdict": ("结论", "Verdict"),
    "returned": ("回流金额", "Returned"),
    "returned_share": ("回流占比", "Share returned"),
    "loan_amount": ("贷款金额", "Loan amount"),
    "evidence": ("资金路径（证据）", "The money's path (evidence)"),
    "hops": ("跳", "hops"),
    "forbidden": ("您的角色无权访问此页面", "Your role may not open this page"),
    "not_found": ("未找到，或不属于您的机构", "Not found, or not your organisation's"),
    "error": ("出错了", "Something went wrong"),
    "welcome": ("欢迎", "Welcome"),
    "your_pages": ("您可以使用的功能", "What you can do here"),
    "settlement_count": ("结算笔数", "Settlements"),
    "open_alerts": ("未处理预警", "Open alerts"),
    "grants_active": ("有效授权", "Active grants"),
    "registration": ("实名注册", "Real-name registration"),
    "register": ("提交实名注册", "Register"),
    "register_hint": (
        "法定代表人身份证号仅用于与登记机关信息核对，平台只保存其脱敏形式与密钥化标识",
        "The representative's ID is only checked against the registry; the hub keeps it masked and keyed",
    ),
    "uscc": ("统一社会信用代码", "Unified social credit code"),
    "legal_rep": ("法定代表人", "Legal representative"),
    "legal_rep_name": ("法定代表人姓名", "Legal representative's name"),
    "legal_rep_id": ("法定代表人身份证号", "Legal representative's resident ID"),
    "reg_pending": ("待审核", "pending review"),
    "reg_verified": ("已核验", "verified"),
    "reg_suspended": ("已暂停", "suspended"),
    "reg_rejected": ("已驳回", "rejected"),
    "data_access": ("谁查看了我的数据", "Who looked at my data"),
    "card_views": ("信用信息名片查看记录", "Credit card views"),
    "data_reads": ("其他机构读取我的数据", "Other reads of my data"),
    "viewer_org": ("查看机构", "Viewer's organisation"),
    "basis": ("访问依据", "Basis"),
    "basis_own": ("本企业", "own"),
    "basis_regulator": ("监管职责", "regulator's mandate"),
    "basis_grant": ("授权", "grant"),
    "sections": ("板块", "Sections"),
    "version": ("快照版本", "Snapshot version"),
    "scope_ip": ("知识产权", "intellectual property"),
    "scope_penalties": ("行政处罚", "administrative penalties"),
    "card_sections": ("信用信息名片板块", "Credit card sections"),
    "other_scopes": ("其他数据", "Other data"),
    "credit_card": ("信用信息名片", "Credit card"),
    "snapshot_hash": ("快照哈希，可在授信决定中引用", "Snapshot hash, to cite in a credit decision"),
    "as_of": ("数据截至", "Data as of"),
    "no_data": ("暂无数据（来源未覆盖）", "No data (source does not cover it)"),
    "not_shown": ("未获授权的板块", "Sections no grant of yours covers"),
    "batch": ("批量核查", "Batch check"),
    "batch_hint": (
        "核查本行期间内发放的全部贷款（期间最长一年）；每次运行或下载均记为一次核查并留痕",
        "Checks every loan the bank disbursed in the period (at most a year); each run or download is "
        "one audited inquiry",
    ),
    "from_date": ("放款日起", "Disbursed from"),
    "to_date": ("放款日止", "Disbursed to"),
    "run_batch": ("运行核查", "Run"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "loans": ("贷款笔数", "Loans"),
    "borrower": ("借款人", "Borrower"),
    "disbursed_at": ("放款时间", "Disbursed"),
    "misused": ("挪用金额", "Misused"),
    "inquiry_ref": ("查询编号", "Inquiry reference"),
    "verdict_risky": ("有风险", "risky"),
    "verdict_attention": ("关注", "attention"),
    "verdict_clean": ("正常", "clean"),
    "inquiries_history": ("核查记录", "Inquiry history"),
    "kind_statement": ("流水核验", "statement"),
    "kind_return_flow": ("资金回流", "return flow"),
    "kind_misuse": ("资金挪用", "misuse"),
    "kind_batch": ("批量核查", "batch"),
}


def translate(key: str, lang: str) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def yuan(amount: Decimal | int | None) -> str:
    """¥1,234,567.89 — two decimals (fen), thousands separators; '—' for no value."""
    if amount is None:
        return "—"
    return f"¥{Decimal(amount).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def number(value: int | Decimal | None) -> str:
    return "—" if value is None else f"{value:,}"


def percent(ratio: Decimal | None) -> str:
    """A ratio (0.8523) as percent with two decimals (85.23%)."""
    if ratio is None:
        return "—"
    return f"{(Decimal(ratio) * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def shanghai(value: dt.datetime | dt.date | None) -> str:
    """UTC instants shown in Asia/Shanghai; dates as they are."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return local(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
