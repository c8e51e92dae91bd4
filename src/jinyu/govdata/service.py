"""Government data about enterprises, read for a caller entitled to it (own, regulator, or a bank with consent)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from jinyu.analytics import Engine
from jinyu.audit import service as audit
from jinyu.consent import service as consent
from jinyu.consent.rules import Purpose, Scope
from jinyu.core.auth import Perm, Principal
from jinyu.core.clock import SHANGHAI
from jinyu.core.ids import validate_uscc
from jinyu.core.privacy import Keys
from jinyu.govdata import queries
from jinyu.govdata.errors import EnterpriseNotFound
from jinyu.govdata.schemas import GovSummary
from jinyu.governance.policy import service as policy
from jinyu.governance.policy.protect import Reader, protect
from jinyu.governance.policy.protect import version as policy_version
from jinyu.party import service as party

SUMMARY_SCOPES = (Scope.REGISTRATION, Scope.TAX, Scope.HEADCOUNT, Scope.PATENTS, Scope.JUDICIAL)


def _bases(session: Session, principal: Principal, org_id: str, purpose: Purpose) -> dict[Scope, str]:
    return {
        scope: consent.require_consent(session, principal, org_id, scope, purpose) for scope in SUMMARY_SCOPES
    }


def enterprise_summary(
    session: Session,
    principal: Principal,
    engine: Engine,
    pseudonym_key: Keys,
    uscc: str,
    as_of_month: str | None,
    purpose: Purpose,
) -> GovSummary:
    principal.require(Perm.GOVDATA_READ)
    code = validate_uscc(uscc)
    org = party.find_enterprise(session, code)
    if org is None:
        raise EnterpriseNotFound(detail=code)
    month = as_of_month or dt.datetime.now(SHANGHAI).strftime("%Y-%m")
    # A refusal (no consent) is audited by the HTTP boundary in its own transaction.
    bases = _bases(session, principal, org.id, purpose)
    basis = ",".join(sorted(set(bases.values())))
    # Tax detail is level 5: a bank sees it only under a tax grant carrying a supervisor's level-5 approval.
    level, approval_id = policy.approved_level(session, [bases[Scope.TAX]])
    reader = Reader(principal, pseudonym_key, approved_level=level, purpose=purpose.value)
    row = queries.gov_summary(engine, code, month)
    shown = protect(GovSummary(**row, name=org.name, basis=basis), reader)
    audit.record(
        session,
        principal,
        action="govdata.summary.read",
        subject_type="enterprise",
        subject_ids=[org.id],
        purpose=purpose.value,
        detail={
            "basis": basis,
            "as_of_month": month,
            "approval_id": approval_id,
            "policy_version": policy_version(),
            "withheld": sorted(reader.withheld),
        },
    )
    return shown
