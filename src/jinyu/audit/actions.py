"""What each audit action means, Chinese first with English: the one table the console's audit search shows and
docs/audit.md's "Actions" tables repeat (`tests/audit/test_action_meanings.py` checks that every action the code
records has a meaning here, that nothing here is stale, and that the docs say the same)."""

from __future__ import annotations

MEANINGS: dict[str, str] = {
    # audit
    "audit.checkpoint": "签署审计链检查点 / signed a checkpoint of the audit chain",
    "audit.checkpoint.list": "查看审计检查点 / listed the audit checkpoints",
    "audit.reads_of_org": (
        "查看他方对本机构数据的读取记录 / listed other organisations' reads of an organisation's data"
    ),
    "audit.search": "检索审计记录 / searched the audit trail",
    "audit.verify": "校验审计哈希链 / verified the audit hash chain",
    # auth
    "auth.credential.rejected": "凭据被拒（令牌或密钥无效） / a credential was refused (bad token or key)",
    "auth.login": "登录（成功或失败） / a login (succeeded or failed)",
    "auth.session_renewed": "控制台会话续期 / a console session was renewed",
    # banking
    "banking.account.list": "查看企业账户 / listed an enterprise's accounts",
    # chain
    "chain.contagion.read": "查看产业链风险传染测算 / read a chain's contagion case",
    "chain.definition.edit": "修改产业链定义 / edited a chain's definition",
    "chain.definition.history": "查看产业链定义的版本 / read a chain definition's versions",
    "chain.definition.read": "查看产业链定义 / read a chain's definition",
    "chain.external_flows.read": "查看产业链与链外的资金往来 / read a chain's flows to and from outside it",
    "chain.flows.read": "查看产业链环节间资金流 / read money between a chain's segments",
    "chain.gaps.read": "查看产业链延链补链强链分析 / read a chain's gaps (extend, supplement, strengthen)",
    "chain.health.read": "查看链上企业上下游健康度 / read a member's suppliers' and dealers' health",
    "chain.list": "查看产业链列表 / listed the industrial chains",
    "chain.loans.read": "查看产业链贷款 / read the loans to a chain",
    "chain.members.list": "查看产业链成员 / listed a chain's members",
    "chain.network.build": "构建产业链供应网络 / built the chains' supply network",
    "chain.network.read": "查看产业链核心企业与网络 / read a chain's network and core enterprises",
    "chain.portraits.export": "导出产业链企业画像 / exported chain members' portraits",
    "chain.read": "查看一条产业链 / read one industrial chain",
    "chain.scorecard.read": "查看产业链评分卡 / read a chain's scorecard",
    # claim
    "claim.eligibility.read": "查询参保资格 / checked a person's eligibility",
    "claim.enrollment.create": "登记参保（一人，或名单中至多 1,000 人） / enrolled a person (or up to 1,000 of a list)",
    "claim.enrollment.list": "查看参保名单 / listed enrolments",
    "claim.enrollment.status": "变更参保状态 / changed an enrolment's status",
    "claim.ledger.book_create": "开设预付金账簿 / opened a prepaid book",
    "claim.ledger.clawback": "预付金追回记账 / posted a clawback to a prepaid book",
    "claim.ledger.deposit": "预付金存入记账 / posted a deposit to a prepaid book",
    "claim.ledger.period_settlement": "预付金期间结算记账 / posted a period settlement to a prepaid book",
    "claim.ledger.top_up": "预付金补足记账 / posted a top-up to a prepaid book",
    "claim.post_discharge.pay": "出院后理赔支付 / paid a post-discharge claim",
    "claim.post_discharge.replay": (
        "出院后理赔重复提交（原样返回） / a post-discharge claim sent again (answered as before)"
    ),
    "claim.prepaid.report": "查看预付金余额报表 / read the prepaid balances report",
    "claim.product.activate": "启用保险产品 / activated an insurance product",
    "claim.product.create": "创建保险产品 / created an insurance product",
    "claim.reconciliation.run": "运行每日对账 / ran the daily reconciliation",
    "claim.report.concentration": "查看理赔集中度报表 / read the claims concentration report",
    "claim.report.read": "查看理赔统计报表 / read a claims report",
    "claim.settlement.cancel": "撤销结算 / cancelled a settlement",
    "claim.settlement.confirm": "确认结算 / confirmed a settlement",
    "claim.settlement.export_fhir": "以 FHIR 导出结算 / exported a settlement as FHIR",
    "claim.settlement.list": "查看结算列表 / listed settlements",
    "claim.settlement.read": "查看一笔结算 / read a settlement",
    "claim.settlement.replay": "结算重复提交（原样返回） / a settlement sent again (answered as before)",
    "claim.settlement.settle": "一站式即时结算 / settled a claim at discharge",
    # consent
    "consent.grant": "企业授权机构使用其数据 / an enterprise granted an organisation use of its data",
    "consent.list": "查看数据授权 / listed consents",
    "consent.read": "查看一项数据授权 / read a consent",
    "consent.revoke": "撤销数据授权 / revoked a consent",
    # credit
    "credit.card.view": "查看企业信用信息名片 / viewed an enterprise's credit card",
    "credit.snapshot.batch": "批量生成信用名片快照 / built credit card snapshots in a batch",
    "credit.snapshot.list": "查看信用名片快照 / listed credit card snapshots",
    "credit.view.list": "查看信用名片被查看记录 / listed the views of a credit card",
    # financing
    "financing.chain_chief.set": "设定产业链链长 / set a chain's chief",
    "financing.consultant.assign": "指派金融顾问 / assigned a financial consultant",
    "financing.demand.post": "企业提交融资需求 / an enterprise posted a financing demand",
    "financing.demand.replay": "融资需求重复提交（原样返回） / a financing demand sent again (answered as before)",
    "financing.expert.assign": "指派专家 / assigned an expert",
    "financing.expert.availability": "设置专家可约时间 / set an expert's availability",
    "financing.expert.create": "登记专家 / registered an expert",
    "financing.guidance.acknowledge": "确认收到窗口指导 / acknowledged guidance",
    "financing.guidance.follow_up": "反馈窗口指导落实情况 / reported on guidance",
    "financing.guidance.list": "查看窗口指导 / listed guidance",
    "financing.guidance.read": "查看一条窗口指导 / read guidance",
    "financing.guidance.send": "发送窗口指导 / sent guidance",
    "financing.indicators.read": "查看融资服务指标 / read the financing indicators",
    "financing.lake.export": "工单快照写入数据湖 / exported work orders to the lake",
    "financing.order.accept": "银行受理工单 / a bank accepted a work order",
    "financing.order.approve": "银行审批通过工单 / a bank approved a work order",
    "financing.order.assign": "工单分派到网点和客户经理 / assigned a work order to an outlet and manager",
    "financing.order.close": "关闭工单 / closed a work order",
    "financing.order.contact": "银行联系企业 / a bank contacted the enterprise",
    "financing.order.disburse": "银行放款 / a bank disbursed",
    "financing.order.dispatch": "工单派发给银行 / dispatched a work order to a bank",
    "financing.order.list": "查看工单列表 / listed work orders",
    "financing.order.rate": "企业评价服务 / the enterprise rated the service",
    "financing.order.read": "查看一张工单 / read a work order",
    "financing.order.redispatch": "工单改派他行 / redispatched a work order to another bank",
    "financing.order.reject": "银行拒绝工单 / a bank rejected a work order",
    "financing.order.review": "银行审查工单 / a bank reviewed a work order",
    "financing.product.create": "创建融资产品 / created a financing product",
    "financing.product.list": "查看融资产品 / listed financing products",
    "financing.product.update": "修改融资产品 / updated a financing product",
    "financing.webhook.set": "设置工单通知地址 / set the work orders' webhook",
    # govdata
    "govdata.summary.read": "查看企业政务数据摘要 / read an enterprise's government data summary",
    # governance
    "governance.check": "运行数据质量检查 / ran a data quality check",
    "governance.remediation": "整改事项状态变更 / a remediation item changed status",
    "governance.rule.put": "新增或修改质量规则 / put a data quality rule",
    "governance.rule.retire": "停用质量规则 / retired a data quality rule",
    # http
    "http.delete": "DELETE 请求被拒或未找到 / a DELETE refused (403) or not found (404)",
    "http.get": "GET 请求被拒或未找到 / a GET refused (403) or not found (404)",
    "http.patch": "PATCH 请求被拒或未找到 / a PATCH refused (403) or not found (404)",
    "http.post": "POST 请求被拒或未找到 / a POST refused (403) or not found (404)",
    "http.put": "PUT 请求被拒或未找到 / a PUT refused (403) or not found (404)",
    # ingest
    "ingest.load": "数据入湖 / loaded data into the lake",
    "ingest.quarantine.open": "查看被隔离的入湖数据 / opened a load's quarantined rows",
    # joint
    "joint.job.accept": "受理联合建模任务 / accepted a joint-modelling job",
    "joint.job.declare": "申报联合建模任务 / declared a joint-modelling job",
    "joint.job.list": "查看联合建模任务 / listed joint-modelling jobs",
    "joint.job.read": "查看一项联合建模任务 / read a joint-modelling job",
    "joint.job.report": "报告联合建模结果 / reported a joint-modelling job's result",
    "joint.model.list": "查看联合模型版本 / listed joint model versions",
    "joint.model.register": "登记联合模型版本 / registered a joint model version",
    # keys
    "keys.rotate": "轮换去标识化密钥 / rotated a pseudonymisation key",
    "keys.translate": "旧令牌换算为新令牌 / translated tokens to the new key",
    # party
    "party.org.create": "创建机构 / created an organisation",
    "party.org.upsert_registry": "从登记名录导入机构 / imported organisations from the registry",
    "party.registration.list": "查看实名注册申请 / listed registrations",
    "party.registration.read": "查看一项实名注册 / read a registration",
    "party.registration.transition": (
        "实名注册状态变更（提交、核验、驳回） / a registration changed state (submitted, verified, rejected)"
    ),
    "party.service_account.create": "创建服务账号 / created a service account",
    "party.service_account.list": "查看服务账号 / listed service accounts",
    "party.service_account.reactivate": "恢复服务账号 / reactivated a service account",
    "party.service_account.revoke_key": "吊销服务账号密钥 / revoked a service account's key",
    "party.service_account.rotate_key": "轮换服务账号密钥 / rotated a service account's key",
    "party.service_account.suspend": "暂停服务账号 / suspended a service account",
    "party.user.create": "创建用户 / created a user",
    "party.user.list": "查看用户 / listed users",
    "party.user.password_change": "用户修改密码 / a user changed their password",
    "party.user.password_reset": "重置用户密码 / reset a user's password",
    "party.user.reactivate": "恢复用户 / reactivated a user",
    "party.user.revoke_tokens": "吊销用户全部令牌 / revoked all of a user's tokens",
    "party.user.suspend": "暂停用户 / suspended a user",
    # policy
    "policy.approval.create": "批准授权读取高敏感级别数据 / approved a grant for a higher sensitivity level",
    "policy.approval.list": "查看敏感级别审批 / listed level approvals",
    "policy.approval.revoke": "撤销敏感级别审批 / revoked a level approval",
    "policy.extract": "按分级策略导出数据集 / extracted a dataset under the classification policy",
    # risk
    "risk.batch.list": "查看已保存的批量核查 / listed stored batch checks",
    "risk.batch.read": "重新打开已保存的批量核查 / reopened a stored batch check",
    "risk.batch.store": "保存批量核查结果 / stored a batch check",
    "risk.inquiry.list": "查看核查记录 / listed the inquiry history",
    "risk.purpose_matrix.update": "修改贷款用途规则表 / updated the loan purpose matrix",
    "risk.statement.verify": "核验企业提供的对公流水 / verified a statement an enterprise presented",
    "risk.tracing.batch": "批量核查贷款资金 / checked loans in a batch",
    "risk.tracing.misuse": "核查贷款资金挪用 / checked a loan for misuse",
    "risk.tracing.return_flow": "核查贷款资金回流 / checked a loan's return flow",
}


def meaning(action: str) -> str | None:
    """`中文 / English` for a recorded action; None for an action the table does not know (an old entry)."""
    return MEANINGS.get(action)
