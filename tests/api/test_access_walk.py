"""A generic walk of every endpoint with every role: 401 without credentials, 403 without the permission,
never 401/403 with it, and 404 for another tenant's object."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jinyu.core.auth import ROLE_ORG_KINDS, ROLE_PERMISSIONS, OrgKind, Perm, Role
from tests.fixtures.auth import login, make_org, make_user

# Every endpoint under /api/v1 with the permission it declares. The test fails when an endpoint is missing here.
DECLARED: dict[tuple[str, str], Perm | None] = {
    ("post", "/api/v1/auth/token"): None,
    ("get", "/api/v1/me"): Perm.ORG_READ,
    ("get", "/api/v1/orgs"): Perm.ORG_READ,
    ("post", "/api/v1/orgs"): Perm.ORG_MANAGE,
    ("get", "/api/v1/orgs/{org_id}"): Perm.ORG_READ,
    ("get", "/api/v1/users"): Perm.USER_READ,
    ("post", "/api/v1/users"): Perm.USER_MANAGE,
    ("post", "/api/v1/service-accounts"): Perm.USER_MANAGE,
    ("get", "/api/v1/service-accounts"): Perm.USER_READ,
    ("patch", "/api/v1/service-accounts/{account_id}"): Perm.USER_MANAGE,
    ("post", "/api/v1/service-accounts/{account_id}/revoke-key"): Perm.USER_MANAGE,
    ("post", "/api/v1/service-accounts/{account_id}/rotate-key"): Perm.USER_MANAGE,
    ("patch", "/api/v1/users/{user_id}"): Perm.USER_MANAGE,
    ("post", "/api/v1/users/{user_id}/revoke-tokens"): Perm.USER_MANAGE,
    ("put", "/api/v1/users/{user_id}/password"): Perm.USER_MANAGE,
    ("post", "/api/v1/me/password"): Perm.ORG_READ,
    ("post", "/api/v1/me/revoke-tokens"): Perm.ORG_READ,
    ("post", "/api/v1/registrations"): Perm.ENTERPRISE_REGISTER,
    ("get", "/api/v1/registrations"): Perm.ORG_READ,
    ("get", "/api/v1/registrations/{registration_id}"): Perm.ORG_READ,
    ("post", "/api/v1/registrations/{registration_id}/decision"): Perm.ENTERPRISE_REVIEW,
    ("post", "/api/v1/consents"): Perm.CONSENT_GRANT,
    ("get", "/api/v1/consents"): Perm.CONSENT_READ,
    ("get", "/api/v1/consents/{grant_id}"): Perm.CONSENT_READ,
    ("post", "/api/v1/consents/{grant_id}/revoke"): Perm.CONSENT_GRANT,
    ("post", "/api/v1/consents/{grant_id}/approvals"): Perm.POLICY_APPROVE,
    ("get", "/api/v1/consents/{grant_id}/approvals"): Perm.CONSENT_READ,
    ("post", "/api/v1/consents/{grant_id}/approvals/{approval_id}/revoke"): Perm.POLICY_APPROVE,
    ("post", "/api/v1/extracts"): Perm.GOVERNANCE_READ_ALL,
    ("get", "/api/v1/keys/pseudonym"): Perm.KEYS_READ,
    ("post", "/api/v1/keys/translate"): Perm.KEYS_TRANSLATE,
    ("get", "/api/v1/audit/verify"): Perm.AUDIT_VERIFY,
    ("get", "/api/v1/audit/entries"): Perm.AUDIT_READ,
    ("get", "/api/v1/audit/checkpoints"): Perm.AUDIT_VERIFY,
    ("get", "/api/v1/datasets"): Perm.DATASET_READ,
    ("get", "/api/v1/datasets/{dataset}"): Perm.DATASET_READ,
    ("post", "/api/v1/ingest/{dataset}"): Perm.INGEST_RUN,
    ("get", "/api/v1/ingest/loads"): Perm.INGEST_READ,
    ("get", "/api/v1/ingest/loads/{load_id}"): Perm.INGEST_READ,
    ("get", "/api/v1/ingest/loads/{load_id}/quarantine"): Perm.INGEST_RUN,
    ("get", "/api/v1/enterprises/{uscc}/gov-summary"): Perm.GOVDATA_READ,
    ("get", "/api/v1/banking/accounts"): Perm.ACCOUNT_READ,
    ("get", "/api/v1/credit/cards/{uscc}"): Perm.CREDIT_CARD_READ,
    ("get", "/api/v1/credit/cards/{uscc}/print.html"): Perm.CREDIT_CARD_READ,
    ("get", "/api/v1/credit/cards/{uscc}/print.pdf"): Perm.CREDIT_CARD_READ,
    ("get", "/api/v1/credit/cards/{uscc}/snapshots"): Perm.CREDIT_CARD_READ,
    ("get", "/api/v1/credit/cards/{uscc}/snapshots/{version}"): Perm.CREDIT_CARD_READ,
    ("get", "/api/v1/credit/cards/{uscc}/views"): Perm.CREDIT_CARD_READ,
    ("get", "/api/v1/risk/inquiries/stats"): Perm.RISK_STATS,
    ("get", "/api/v1/risk/loans/{loan_id}/return-flow"): Perm.RISK_QUERY,
    ("post", "/api/v1/risk/loans/{loan_id}/return-flow"): Perm.RISK_QUERY,
    ("get", "/api/v1/risk/loans/{loan_id}/misuse"): Perm.RISK_QUERY,
    ("post", "/api/v1/risk/loans/{loan_id}/misuse"): Perm.RISK_QUERY,
    ("post", "/api/v1/risk/batches"): Perm.RISK_QUERY,
    ("get", "/api/v1/risk/batches"): Perm.RISK_QUERY,
    ("get", "/api/v1/risk/batches/{batch_id}"): Perm.RISK_QUERY,
    ("get", "/api/v1/risk/batches/{batch_id}/csv"): Perm.RISK_QUERY,
    ("get", "/api/v1/risk/purpose-matrix"): Perm.RISK_MATRIX_READ,
    ("put", "/api/v1/risk/purpose-matrix"): Perm.RISK_MATRIX_WRITE,
    ("post", "/api/v1/claims/products"): Perm.CLAIM_MANAGE,
    ("get", "/api/v1/claims/products"): Perm.CLAIM_READ,
    ("get", "/api/v1/claims/products/{product_id}"): Perm.CLAIM_READ,
    ("post", "/api/v1/claims/products/{product_id}/activate"): Perm.CLAIM_MANAGE,
    ("post", "/api/v1/claims/enrollments"): Perm.CLAIM_MANAGE,
    ("get", "/api/v1/claims/enrollments"): Perm.CLAIM_READ,
    ("post", "/api/v1/claims/enrollments/{enrollment_id}/status"): Perm.CLAIM_MANAGE,
    ("post", "/api/v1/claims/eligibility"): Perm.CLAIM_READ,
    ("post", "/api/v1/claims/settlements"): Perm.CLAIM_SETTLE,
    ("get", "/api/v1/claims/settlements"): Perm.CLAIM_READ,
    ("get", "/api/v1/claims/settlements/{settlement_id}"): Perm.CLAIM_READ,
    ("post", "/api/v1/claims/settlements/{settlement_id}/confirm"): Perm.CLAIM_SETTLE,
    ("post", "/api/v1/claims/settlements/{settlement_id}/cancel"): Perm.CLAIM_SETTLE,
    ("post", "/api/v1/claims/settlements/{settlement_id}/post-discharge"): Perm.CLAIM_MANAGE,
    ("get", "/api/v1/claims/settlements/{settlement_id}/fhir"): Perm.CLAIM_READ,
    ("post", "/api/v1/claims/post-discharge"): Perm.CLAIM_MANAGE,
    ("post", "/api/v1/claims/ledger/books"): Perm.CLAIM_MANAGE,
    ("get", "/api/v1/claims/ledger/books"): Perm.CLAIM_READ,
    ("get", "/api/v1/claims/ledger/books/{book_id}"): Perm.CLAIM_READ,
    ("post", "/api/v1/claims/ledger/books/{book_id}/entries"): Perm.CLAIM_MANAGE,
    ("get", "/api/v1/claims/ledger/books/{book_id}/entries"): Perm.CLAIM_READ,
    ("get", "/api/v1/claims/alerts"): Perm.CLAIM_READ,
    ("post", "/api/v1/claims/reconciliations"): Perm.CLAIM_SETTLE,
    ("get", "/api/v1/claims/reconciliations"): Perm.CLAIM_READ,
    ("get", "/api/v1/claims/reconciliations/{run_id}"): Perm.CLAIM_READ,
    ("get", "/api/v1/claims/reports/payouts"): Perm.CLAIM_REPORT,
    ("get", "/api/v1/claims/reports/concentration"): Perm.CLAIM_REPORT,
    ("post", "/api/v1/risk/statements/verify"): Perm.RISK_QUERY,
    ("get", "/api/v1/governance/providers"): Perm.GOVERNANCE_READ,
    ("get", "/api/v1/governance/contracts"): Perm.GOVERNANCE_READ,
    ("get", "/api/v1/governance/contracts/{dataset}"): Perm.GOVERNANCE_READ,
    ("get", "/api/v1/governance/rules"): Perm.GOVERNANCE_READ,
    ("get", "/api/v1/governance/rules/{code}"): Perm.GOVERNANCE_READ,
    ("put", "/api/v1/governance/rules/{code}"): Perm.GOVERNANCE_MANAGE,
    ("post", "/api/v1/governance/rules/{code}/retire"): Perm.GOVERNANCE_MANAGE,
    ("post", "/api/v1/governance/checks"): Perm.GOVERNANCE_MANAGE,
    ("get", "/api/v1/governance/report"): Perm.GOVERNANCE_READ,
    ("get", "/api/v1/governance/report/chart"): Perm.GOVERNANCE_READ,
    ("get", "/api/v1/governance/remediation"): Perm.GOVERNANCE_READ,
    ("get", "/api/v1/governance/remediation/{item_id}"): Perm.GOVERNANCE_READ,
    ("get", "/api/v1/governance/remediation/{item_id}/events"): Perm.GOVERNANCE_READ,
    ("post", "/api/v1/governance/remediation/{item_id}/assign"): Perm.GOVERNANCE_MANAGE,
    ("post", "/api/v1/governance/remediation/{item_id}/respond"): Perm.REMEDIATION_RESPOND,
    ("get", "/api/v1/chains"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/members"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/flows"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/external-flows"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/gaps"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/network"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/members/{uscc}/counterparties"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/members/{uscc}/contagion"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/loans"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/portraits"): Perm.CHAIN_PORTRAIT,
    ("get", "/api/v1/chains/{code}/scorecard"): Perm.CHAIN_READ,
    ("get", "/api/v1/chains/{code}/definition"): Perm.CHAIN_READ,
    ("put", "/api/v1/chains/{code}/definition"): Perm.CHAIN_DEFINE,
    ("get", "/api/v1/chains/{code}/definition/versions"): Perm.CHAIN_READ,
    ("put", "/api/v1/chains/{code}/members/{uscc}/segment"): Perm.CHAIN_DEFINE,
    ("post", "/api/v1/financing/demands"): Perm.FINANCING_DEMAND,
    ("get", "/api/v1/financing/orders"): Perm.FINANCING_READ,
    ("get", "/api/v1/financing/orders/{order_id}"): Perm.FINANCING_READ,
    ("post", "/api/v1/financing/orders/{order_id}/assignment"): Perm.FINANCING_ASSIGN,
    ("post", "/api/v1/financing/orders/{order_id}/transitions"): Perm.FINANCING_HANDLE,
    ("post", "/api/v1/financing/orders/{order_id}/redispatch"): Perm.FINANCING_DEMAND,
    ("post", "/api/v1/financing/orders/{order_id}/rating"): Perm.FINANCING_DEMAND,
    ("get", "/api/v1/financing/refusal-reasons"): Perm.FINANCING_READ,
    ("get", "/api/v1/financing/indicators"): Perm.FINANCING_READ,
    ("post", "/api/v1/financing/guidance"): Perm.FINANCING_SUPERVISE,
    ("get", "/api/v1/financing/guidance"): Perm.FINANCING_READ,
    ("get", "/api/v1/financing/guidance/{notice_id}"): Perm.FINANCING_READ,
    ("post", "/api/v1/financing/guidance/{notice_id}/acknowledgement"): Perm.FINANCING_GUIDANCE_ACK,
    ("post", "/api/v1/financing/guidance/{notice_id}/follow-up"): Perm.FINANCING_SUPERVISE,
    ("put", "/api/v1/financing/chain-chiefs"): Perm.FINANCING_MANAGE,
    ("get", "/api/v1/financing/chain-chiefs"): Perm.FINANCING_READ,
    ("post", "/api/v1/financing/consultant-assignments"): Perm.FINANCING_MANAGE,
    ("post", "/api/v1/financing/experts"): Perm.FINANCING_MANAGE,
    ("get", "/api/v1/financing/experts"): Perm.FINANCING_READ,
    ("post", "/api/v1/financing/experts/{expert_id}/availability"): Perm.FINANCING_MANAGE,
    ("post", "/api/v1/financing/orders/{order_id}/experts"): Perm.FINANCING_ASSIGN,
    ("get", "/api/v1/financing/orders/{order_id}/experts"): Perm.FINANCING_READ,
    ("get", "/api/v1/financing/products"): Perm.FINANCING_READ,
    ("post", "/api/v1/financing/products"): Perm.FINANCING_ASSIGN,
    ("put", "/api/v1/financing/products/{product_id}"): Perm.FINANCING_ASSIGN,
    ("post", "/api/v1/joint/jobs"): Perm.JOINT_DECLARE,
    ("get", "/api/v1/joint/jobs"): Perm.JOINT_READ,
    ("get", "/api/v1/joint/jobs/{job_id}"): Perm.JOINT_READ,
    ("post", "/api/v1/joint/jobs/{job_id}/acceptance"): Perm.JOINT_ACCEPT,
    ("post", "/api/v1/joint/jobs/{job_id}/host-acceptance"): Perm.JOINT_HOST_ACCEPT,
    ("post", "/api/v1/joint/jobs/{job_id}/report"): Perm.JOINT_ACCEPT,
    ("get", "/api/v1/joint/models"): Perm.JOINT_READ,
}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return sorted((m, p) for p, ops in paths.items() if p.startswith("/api/v1") for m in ops)


def test_every_endpoint_declares_a_permission(client: TestClient) -> None:
    assert set(_routes(client)) == set(DECLARED)


@pytest.fixture
def tokens(session: Session, client: TestClient) -> dict[Role, dict[str, str]]:
    kinds = {
        OrgKind.BANK_HEAD_OFFICE: make_org(session, OrgKind.BANK_HEAD_OFFICE),
        OrgKind.REGULATOR: make_org(session, OrgKind.REGULATOR),
        OrgKind.OPERATOR: make_org(session, OrgKind.OPERATOR),
        OrgKind.ENTERPRISE: make_org(session, OrgKind.ENTERPRISE),
        OrgKind.INSURER: make_org(session, OrgKind.INSURER),
        OrgKind.HOSPITAL: make_org(session, OrgKind.HOSPITAL),
        OrgKind.PHARMACY: make_org(session, OrgKind.PHARMACY),
        OrgKind.BUREAU: make_org(session, OrgKind.BUREAU),
    }
    kinds[OrgKind.BANK_BRANCH] = make_org(
        session, OrgKind.BANK_BRANCH, parent=kinds[OrgKind.BANK_HEAD_OFFICE]
    )
    kinds[OrgKind.BANK_OUTLET] = make_org(session, OrgKind.BANK_OUTLET, parent=kinds[OrgKind.BANK_BRANCH])
    out = {}
    for role in Role:
        kind = next(k for k in ROLE_ORG_KINDS[role] if k in kinds)
        user = make_user(session, kinds[kind], role)
        session.commit()
        out[role] = login(client, user.username)
    return out


def _fill(path: str, foreign_id: str) -> str:
    return re.sub(r"\{uscc\}", "91500000MA0000001X", re.sub(r"\{[a-z_]+\}", foreign_id, path))


def test_walk_every_endpoint_with_every_role(
    client: TestClient, session: Session, tokens: dict[Role, dict[str, str]]
) -> None:
    foreign = make_org(session, OrgKind.BANK_HEAD_OFFICE)  # no caller's tenant owns it
    session.commit()
    failures = []
    for method, path in _routes(client):
        perm = DECLARED[(method, path)]
        if perm is None:
            continue
        url = _fill(path, foreign.id)
        anonymous = client.request(method, url, json={})
        if anonymous.status_code != 401:
            failures.append(f"{method} {path} anonymous → {anonymous.status_code}")
        for role, headers in tokens.items():
            status = client.request(method, url, headers=headers, json={}).status_code
            allowed = perm in ROLE_PERMISSIONS[role]
            if not allowed and status != 403:
                failures.append(f"{method} {path} {role} without {perm} → {status}")
            if allowed and status == 401:
                failures.append(f"{method} {path} {role} → 401")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/v1/orgs/{id}", Role.BANK_HQ_RISK),
        ("/api/v1/orgs/{id}", Role.ENTERPRISE_ADMIN),
        ("/api/v1/consents/{id}", Role.BANK_BRANCH_OFFICER),
        ("/api/v1/registrations/{id}", Role.ENTERPRISE_ADMIN),
        ("/api/v1/ingest/loads/{id}", Role.DATA_PROVIDER),
        ("/api/v1/ingest/loads/{id}/quarantine", Role.DATA_PROVIDER),
        ("/api/v1/ingest/loads/{id}/quarantine", Role.PLATFORM_ADMIN),
        ("/api/v1/financing/orders/{id}", Role.BANK_HQ_RISK),
        ("/api/v1/financing/orders/{id}", Role.CUSTOMER_MANAGER),
        ("/api/v1/financing/orders/{id}", Role.FINANCIAL_CONSULTANT),
        ("/api/v1/financing/guidance/{id}", Role.BANK_HQ_RISK),
    ],
)
def test_other_tenants_objects_answer_404(
    client: TestClient, session: Session, tokens: dict[Role, dict[str, str]], path: str, role: Role
) -> None:
    foreign = make_org(session, OrgKind.BANK_HEAD_OFFICE)
    session.commit()
    resp = client.get(path.replace("{id}", foreign.id), headers=tokens[role])
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["status"] == 404
