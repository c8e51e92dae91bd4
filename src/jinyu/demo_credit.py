"""Demo credit cards: enterprises register with their real names and authorise the demo bank to see their
whole card, so `jinyu credit card <USCC> --as-user bank_risk` shows a full card at once.

Every enterprise whose statement ships with the region takes part — except the demo enterprise of user
`enterprise`, which is left unregistered so that it can be tried as a new user would (register, grant, revoke).
Each registers the way an enterprise does on the platform — its legal representative's ID (from the region's
registry file) is checked against the registry's token, which verifies it at once — and grants the demo bank's
head office (so its branches too) all six card sections for credit assessment, for a year. The tax section
is level-5 data: the demo regulator's supervisor records a level-5 approval on each grant (for 89 days, within
the 90 allowed), so the bank reads the tax detail too (docs/data-security.md, "Level approvals").
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.orm import Session

from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.consent.schemas import GrantCreate
from jinyu.core.auth import Principal, Role
from jinyu.core.clock import utcnow
from jinyu.core.privacy import Keys
from jinyu.demo_claims import acting
from jinyu.governance.policy import service as policy
from jinyu.governance.policy.schemas import ApprovalCreate
from jinyu.party import service as party
from jinyu.party.schemas import RegistrationSubmit

CARD_SCOPES = [Scope.REGISTRATION, Scope.TAX, Scope.HEADCOUNT, Scope.IP, Scope.JUDICIAL, Scope.PENALTIES]


def card_enterprises(region: Path, demo_enterprise_uscc: str) -> list[str]:
    usccs: set[str] = set()
    labels = region / "statements" / "statements_labels.csv"
    if labels.exists():
        with labels.open(encoding="utf-8") as fh:
            usccs = {row["enterprise_uscc"] for row in csv.DictReader(fh)}
    return sorted(usccs - {demo_enterprise_uscc})


def _registry(region: Path, usccs: Iterable[str]) -> dict[str, tuple[str, str]]:
    wanted = set(usccs)
    with (region / "enterprises.csv").open(encoding="utf-8") as fh:
        return {
            row["uscc"]: (row["legal_rep_id"], row["legal_rep_name"])
            for row in csv.DictReader(fh)
            if row["uscc"] in wanted
        }


def grant_cards(
    session: Session,
    region: Path,
    bank_org_id: str,
    usccs: list[str],
    pseudonym_key: Keys,
    supervisor: Principal,
) -> list[str]:
    """Register, grant and approve level 5 for each enterprise; returns those that now show the demo bank a
    full card."""
    registry = _registry(region, usccs)
    grant = GrantCreate(
        grantee_org_id=bank_org_id,
        scopes=CARD_SCOPES,
        purpose=Purpose.CREDIT_ASSESSMENT,
        valid_until=utcnow() + dt.timedelta(days=365),
    )
    approval = ApprovalCreate(
        level=5,
        reason="演示：授信评估需纳税明细 / demo: tax detail for credit assessment",
        valid_until=utcnow() + dt.timedelta(days=89),
    )
    shared: list[str] = []
    for uscc in usccs:
        org = party.find_enterprise(session, uscc)
        if org is None or uscc not in registry:
            continue
        admin = acting(org, Role.ENTERPRISE_ADMIN)
        if not party.registration_verified(session, org.id):
            rep_id, rep_name = registry[uscc]
            data = RegistrationSubmit(legal_rep_id=SecretStr(rep_id), legal_rep_name=rep_name)
            party.submit_registration(session, admin, data, pseudonym_key)
        made = consent.grant(session, admin, grant)
        policy.approve(session, supervisor, made.id, approval)
        shared.append(uscc)
    return shared
