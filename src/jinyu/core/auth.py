"""Identity and access primitives: roles, permissions, the Principal every request resolves to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from jinyu.core.errors import PermissionDenied


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    BANK_HEAD_OFFICE = "bank_head_office"
    BANK_BRANCH = "bank_branch"
    BANK_OUTLET = "bank_outlet"
    INSURER = "insurer"
    HOSPITAL = "hospital"
    PHARMACY = "pharmacy"  # 定点零售药店: settles designated-pharmacy purchases (med_type 41)
    PHARMA = "pharma"
    BUREAU = "bureau"
    REGULATOR = "regulator"
    OPERATOR = "operator"


class Role(StrEnum):
    REGULATOR_ANALYST = "regulator_analyst"
    REGULATOR_SUPERVISOR = "regulator_supervisor"
    BANK_HQ_RISK = "bank_hq_risk"
    BANK_BRANCH_OFFICER = "bank_branch_officer"
    INSURER_STAFF = "insurer_staff"
    HOSPITAL_SYSTEM = "hospital_system"
    PHARMACY_SYSTEM = "pharmacy_system"
    ENTERPRISE_ADMIN = "enterprise_admin"
    DATA_PROVIDER = "data_provider"
    PLATFORM_ADMIN = "platform_admin"
    CUSTOMER_MANAGER = "customer_manager"  # 客户经理: a bank outlet's person handling financing work orders
    FINANCIAL_CONSULTANT = "financial_consultant"  # 金融顾问: reads the orders of the enterprises they serve


class Perm(StrEnum):
    ORG_READ = "org.read"
    ORG_READ_ALL = "org.read_all"
    ORG_MANAGE = "org.manage"
    USER_READ = "user.read"
    USER_MANAGE = "user.manage"
    ENTERPRISE_REGISTER = "enterprise.register"
    ENTERPRISE_REVIEW = "enterprise.review"
    CONSENT_GRANT = "consent.grant"
    CONSENT_READ = "consent.read"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    DATASET_READ = "dataset.read"
    INGEST_RUN = "ingest.run"
    INGEST_READ = "ingest.read"
    ACCOUNT_READ = "banking.account.read"
    GOVDATA_READ = "govdata.read"
    RISK_QUERY = "risk.query"
    RISK_STATS = "risk.stats"
    RISK_MATRIX_READ = "risk.matrix.read"  # the purpose x use matrix in force and its versions
    RISK_MATRIX_WRITE = "risk.matrix.write"  # store a new version of it (regulator supervisors)
    CLAIM_SETTLE = "claim.settle"
    CLAIM_READ = "claim.read"
    CLAIM_MANAGE = "claim.manage"
    CLAIM_REPORT = "claim.report"
    POLICY_APPROVE = "policy.approve"
    KEYS_READ = "keys.read"  # pseudonym key versions and rotation state (never key material)
    # Old pseudonym tokens (earlier exports, reports) forward to the current version: the roles shown tokens
    KEYS_TRANSLATE = "keys.translate"
    KEYS_ROTATE = "keys.rotate"  # roll out a new pseudonym key version (`jinyu keys rotate`, operators)
    CREDIT_CARD_READ = "credit.card.read"
    GOVERNANCE_READ = "governance.read"  # quality report and remediation items of the own organisation
    GOVERNANCE_READ_ALL = "governance.read_all"  # every provider's
    GOVERNANCE_MANAGE = "governance.manage"  # rules, checks, assigning and verifying remediation
    REMEDIATION_RESPOND = "governance.remediation.respond"  # a provider answers its own items
    CHAIN_READ = "chain.read"
    CHAIN_PORTRAIT = "chain.portrait"
    CHAIN_DEFINE = "chain.define"
    FINANCING_READ = "financing.read"
    FINANCING_DEMAND = "financing.demand"
    FINANCING_HANDLE = "financing.handle"
    FINANCING_ASSIGN = "financing.assign"
    FINANCING_SUPERVISE = "financing.supervise"
    FINANCING_GUIDANCE_ACK = "financing.guidance_ack"
    FINANCING_MANAGE = "financing.manage"
    JOINT_READ = "joint.read"  # joint jobs and models: the regulator all, a bank those it is party to
    JOINT_DECLARE = "joint.declare"  # register a job the regulator signed
    JOINT_ACCEPT = "joint.accept"  # a bank head office accepts its job and files its signed report
    # File the hub's (host party's) signed acceptance: a duty apart from declaring the job (regulator supervisors;
    # and never the user who declared that job, jointmodel.platform.accept_host)
    JOINT_HOST_ACCEPT = "joint.host_accept"


_EVERYONE = {Perm.ORG_READ, Perm.USER_READ, Perm.DATASET_READ}

# Which role may do what. Scoping to the caller's tenant happens in each repository's readable().
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.REGULATOR_ANALYST: frozenset(
        _EVERYONE
        | {Perm.KEYS_TRANSLATE}
        | {Perm.ORG_READ_ALL, Perm.AUDIT_READ, Perm.AUDIT_VERIFY, Perm.INGEST_READ, Perm.CONSENT_READ}
        | {Perm.GOVDATA_READ, Perm.RISK_STATS, Perm.CLAIM_REPORT}
        | {Perm.CREDIT_CARD_READ}
        | {Perm.GOVERNANCE_READ, Perm.GOVERNANCE_READ_ALL}
        | {Perm.CHAIN_READ, Perm.CHAIN_PORTRAIT}
        | {Perm.FINANCING_READ, Perm.FINANCING_SUPERVISE}
        | {Perm.RISK_MATRIX_READ}
        | {Perm.JOINT_READ, Perm.JOINT_DECLARE}
    ),
    Role.REGULATOR_SUPERVISOR: frozenset(
        _EVERYONE
        | {Perm.KEYS_TRANSLATE}
        | {Perm.ORG_READ_ALL, Perm.AUDIT_READ, Perm.AUDIT_VERIFY, Perm.INGEST_READ, Perm.ENTERPRISE_REVIEW}
        | {Perm.CONSENT_READ, Perm.GOVDATA_READ, Perm.RISK_STATS, Perm.CLAIM_REPORT}
        | {Perm.POLICY_APPROVE, Perm.KEYS_READ}
        | {Perm.CREDIT_CARD_READ}
        | {Perm.GOVERNANCE_READ, Perm.GOVERNANCE_READ_ALL, Perm.GOVERNANCE_MANAGE}
        | {Perm.CHAIN_READ, Perm.CHAIN_PORTRAIT, Perm.CHAIN_DEFINE}
        | {Perm.FINANCING_READ, Perm.FINANCING_SUPERVISE}
        | {Perm.RISK_MATRIX_READ, Perm.RISK_MATRIX_WRITE}
        | {Perm.JOINT_READ, Perm.JOINT_DECLARE, Perm.JOINT_HOST_ACCEPT}
    ),
    Role.BANK_HQ_RISK: frozenset(
        _EVERYONE
        | {Perm.KEYS_TRANSLATE}
        | {Perm.CONSENT_READ, Perm.ACCOUNT_READ, Perm.GOVDATA_READ, Perm.RISK_QUERY}
        | {Perm.CREDIT_CARD_READ}
        | {Perm.CHAIN_PORTRAIT}
        | {Perm.FINANCING_READ, Perm.FINANCING_HANDLE, Perm.FINANCING_ASSIGN, Perm.FINANCING_GUIDANCE_ACK}
        | {Perm.RISK_MATRIX_READ}
        | {Perm.JOINT_READ, Perm.JOINT_ACCEPT}
    ),
    Role.BANK_BRANCH_OFFICER: frozenset(
        _EVERYONE
        | {Perm.KEYS_TRANSLATE}
        | {Perm.CONSENT_READ, Perm.ACCOUNT_READ, Perm.GOVDATA_READ, Perm.RISK_QUERY}
        | {Perm.CREDIT_CARD_READ}
        | {Perm.CHAIN_PORTRAIT}
        | {Perm.FINANCING_READ, Perm.FINANCING_HANDLE, Perm.FINANCING_ASSIGN}
        | {Perm.RISK_MATRIX_READ}
    ),
    Role.INSURER_STAFF: frozenset(
        _EVERYONE | {Perm.KEYS_TRANSLATE} | {Perm.CLAIM_READ, Perm.CLAIM_MANAGE, Perm.CLAIM_REPORT}
    ),
    Role.HOSPITAL_SYSTEM: frozenset(_EVERYONE | {Perm.KEYS_TRANSLATE} | {Perm.CLAIM_SETTLE, Perm.CLAIM_READ}),
    Role.PHARMACY_SYSTEM: frozenset(_EVERYONE | {Perm.KEYS_TRANSLATE} | {Perm.CLAIM_SETTLE, Perm.CLAIM_READ}),
    Role.ENTERPRISE_ADMIN: frozenset(
        _EVERYONE
        | {Perm.KEYS_TRANSLATE}
        | {Perm.ENTERPRISE_REGISTER, Perm.CONSENT_GRANT, Perm.CONSENT_READ, Perm.ACCOUNT_READ}
        | {Perm.GOVDATA_READ, Perm.CREDIT_CARD_READ}
        | {Perm.GOVDATA_READ, Perm.FINANCING_READ, Perm.FINANCING_DEMAND}
    ),
    Role.DATA_PROVIDER: frozenset(
        _EVERYONE | {Perm.INGEST_RUN, Perm.INGEST_READ} | {Perm.GOVERNANCE_READ, Perm.REMEDIATION_RESPOND}
    ),
    Role.PLATFORM_ADMIN: frozenset(
        _EVERYONE
        | {Perm.ORG_READ_ALL, Perm.ORG_MANAGE, Perm.USER_MANAGE, Perm.ENTERPRISE_REVIEW}
        | {Perm.INGEST_RUN, Perm.INGEST_READ}
        | {Perm.GOVERNANCE_READ, Perm.GOVERNANCE_READ_ALL, Perm.GOVERNANCE_MANAGE}
        | {Perm.INGEST_RUN, Perm.INGEST_READ, Perm.FINANCING_READ, Perm.FINANCING_MANAGE}
        | {Perm.KEYS_READ, Perm.KEYS_ROTATE}
    ),
    Role.CUSTOMER_MANAGER: frozenset(_EVERYONE | {Perm.FINANCING_READ, Perm.FINANCING_HANDLE}),
    Role.FINANCIAL_CONSULTANT: frozenset(_EVERYONE | {Perm.FINANCING_READ}),
}

# Which organisation kinds a role may be given to.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.REGULATOR_ANALYST: frozenset({OrgKind.REGULATOR}),
    Role.REGULATOR_SUPERVISOR: frozenset({OrgKind.REGULATOR}),
    Role.BANK_HQ_RISK: frozenset({OrgKind.BANK_HEAD_OFFICE}),
    Role.BANK_BRANCH_OFFICER: frozenset({OrgKind.BANK_BRANCH, OrgKind.BANK_OUTLET}),
    Role.INSURER_STAFF: frozenset({OrgKind.INSURER}),
    Role.HOSPITAL_SYSTEM: frozenset({OrgKind.HOSPITAL}),
    Role.PHARMACY_SYSTEM: frozenset({OrgKind.PHARMACY}),
    Role.ENTERPRISE_ADMIN: frozenset({OrgKind.ENTERPRISE}),
    # Providers of the datasets' `provided_by` kinds; what each may send is the contract's rule (ingest.scope).
    Role.DATA_PROVIDER: frozenset(
        {OrgKind.BUREAU, OrgKind.OPERATOR, OrgKind.BANK_HEAD_OFFICE, OrgKind.BANK_BRANCH}
        | {OrgKind.BANK_OUTLET, OrgKind.INSURER, OrgKind.HOSPITAL}
    ),
    Role.PLATFORM_ADMIN: frozenset({OrgKind.OPERATOR}),
    Role.CUSTOMER_MANAGER: frozenset({OrgKind.BANK_OUTLET}),
    # Consultants are appointed by the platform or seconded by a bank branch; they read by assignment only.
    Role.FINANCIAL_CONSULTANT: frozenset({OrgKind.OPERATOR, OrgKind.BANK_BRANCH}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or a service account, its organisation, tenant and roles.

    `tenant_id` is the root of the caller's organisation tree (a bank's head office); `org_path` is the
    materialized path of the caller's own organisation, so a branch sees its own subtree only.
    """

    subject_id: str
    username: str
    org_id: str
    org_kind: OrgKind
    tenant_id: str
    org_path: str
    roles: frozenset[Role]
    is_service: bool = False
    perms: frozenset[Perm] = field(default=frozenset())

    def __post_init__(self) -> None:
        if not self.perms:
            merged: set[Perm] = set()
            for role in self.roles:
                merged |= ROLE_PERMISSIONS[role]
            object.__setattr__(self, "perms", frozenset(merged))

    def has(self, perm: Perm) -> bool:
        return perm in self.perms

    def require(self, perm: Perm) -> None:
        if perm not in self.perms:
            raise PermissionDenied(detail=f"需要权限 / requires permission {perm.value}")

    @property
    def sees_everything(self) -> bool:
        return Perm.ORG_READ_ALL in self.perms


SYSTEM = Principal(
    subject_id="system",
    username="system",
    org_id="system",
    org_kind=OrgKind.OPERATOR,
    tenant_id="system",
    org_path="/",
    roles=frozenset({Role.PLATFORM_ADMIN}),
    is_service=True,
)
